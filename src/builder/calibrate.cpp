#include "builder/calibrate.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "calib/batch_dir.h"
#include "calib/calib_cache.h"
#include "calib/collector.h"
#include "calib/thresholds.h"
#include "core/errors.h"
#include "engine/engine_file.h"
#include "kiln/calibrator.h"
#include "kiln/engine.h"
#include "kiln/kiln.h"

namespace kiln::builder {

std::string hex_digest(const std::vector<uint8_t>& bytes) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(XXH3_64bits(bytes.data(), bytes.size())));
  return buf;
}

namespace {

void log(const BuilderConfig& c, LogSeverity s, const std::string& m) {
  if (c.logger) c.logger->log(s, m);
}

// The INT8 scale convention of the cache (TensorRT's): amax / 127.
constexpr float kCacheLevels = 127.f;

Result<std::map<std::string, float>> from_cache(const CalibrationContext& ctx,
                                                CalibrationReport& report) {
  const Int8Calibration& c = ctx.config.calibration;
  KILN_ASSIGN_OR_RETURN(calib::CacheData cache, calib::load_cache(c.cache_path));
  KILN_RETURN_IF_ERROR(calib::check_cache(cache, ctx.model_key, ctx.tensors));
  std::map<std::string, float> amax;
  for (const std::string& t : ctx.tensors) {
    const float a = cache.scales.at(t) * kCacheLevels;
    amax[t] = a;
    report.tensors.push_back({t, a, 0.0, 0.0});
  }
  for (const std::string& t : ctx.optional_tensors)
    if (auto it = cache.scales.find(t); it != cache.scales.end() && amax.count(t) == 0)
      amax[t] = it->second * kCacheLevels;
  report.from_cache = true;
  report.algorithm = calib::algorithm_name(cache.algorithm);
  report.samples = static_cast<int64_t>(cache.samples);
  return amax;
}

// The inputs' names, dtypes and allowed dims under profile 0.
std::vector<calib::InputSpec> input_specs(const Engine& e) {
  std::vector<calib::InputSpec> out;
  for (const TensorInfo& t : e.io_tensors()) {
    if (t.mode != TensorIOMode::kInput) continue;
    calib::InputSpec s{t.name, t.dtype, t.shape, t.shape};
    if (Result<ShapeRangeSpec> r = e.profile_shape(0, t.name); r.ok()) {
      s.min_dims = r->min;
      s.max_dims = r->max;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

Result<std::map<std::string, float>> calibrate(const CalibrationContext& ctx,
                                               CalibrationReport& report) {
  const Int8Calibration& c = ctx.config.calibration;
  report = {};
  if (c.calibrator == nullptr) return from_cache(ctx, report);
  KILN_ASSIGN_OR_RETURN(const calib::Algorithm algo, calib::parse_algorithm(c.algorithm));
  if (algo == calib::Algorithm::kPercentile)
    KILN_RETURN_IF_ERROR(calib::check_percentile(c.percentile));

  // An FP32 engine of the optimized graph as it is (no passes, no timing): its layers produce
  // exactly the tensors the INT8 layers will read.
  engine::EngineData shell;
  shell.layers.resize(ctx.optimized.graph->num_nodes());
  KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> copy_bytes,
                        engine::write_engine(shell, ctx.optimized));
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<ir::Model> copy,
                        engine::read_engine_model({copy_bytes.data(), copy_bytes.size()}));
  std::unique_ptr<Network> net = Network::adopt(std::move(copy));
  BuilderConfig fp32;
  fp32.device = ctx.config.device;
  fp32.profiles = ctx.config.profiles;
  fp32.optimization_level = 0;
  fp32.autotune = false;
  fp32.pack_weights = false;
  fp32.allowed_tactics = ctx.config.allowed_tactics;
  Builder b;
  Result<std::vector<uint8_t>> bytes = b.build_serialized(*net, fp32);
  if (!bytes.ok())
    return Status(bytes.status().code(), str("building the FP32 engine that calibration runs: ",
                                             bytes.status().message()));
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<Engine> engine, Engine::deserialize(*bytes));
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<ExecutionContext> run, engine->create_context());
  const std::vector<calib::InputSpec> specs = input_specs(*engine);

  const std::set<std::string> wanted(ctx.tensors.begin(), ctx.tensors.end());
  std::set<std::string> optional(ctx.optional_tensors.begin(), ctx.optional_tensors.end());
  for (const std::string& t : ctx.tensors) optional.erase(t);
  calib::Collector collector, optional_collector;
  size_t batch_index = 0;
  run->set_tensor_observer([&](const std::string& name, const Tensor& t, int) -> Status {
    if (wanted.count(name) != 0) return collector.add(name, t, batch_index);
    // NaN/Inf here also reaches a needed tensor (or the outputs); nothing to report twice.
    if (optional.count(name) != 0) (void)optional_collector.add(name, t, batch_index);
    return Status::Ok();
  });

  c.calibrator->reset();
  int64_t samples = 0;
  for (;; ++batch_index) {
    KILN_ASSIGN_OR_RETURN(auto batch, c.calibrator->next_batch());
    if (!batch) break;
    KILN_RETURN_IF_ERROR(calib::validate_batch(*batch, specs, batch_index));
    for (const auto& [name, tensor] : *batch) KILN_RETURN_IF_ERROR(run->set_input(name, tensor));
    Status s = run->execute();
    if (!s.ok()) return s;
    if (!batch->empty() && !batch->front().second.shape().empty())
      samples += batch->front().second.shape()[0];
    if (ctx.config.progress) ctx.config.progress("calibrate", 0);  // batches: count unknown
  }
  if (batch_index == 0)
    return err(Code::kCalibNoData, "the calibrator gave no batch")
        .with_fix("give a directory or calibrator with representative input batches");
  KILN_ASSIGN_OR_RETURN(std::optional<std::string> warning,
                        calib::check_sample_count(static_cast<size_t>(samples),
                                                  static_cast<size_t>(c.min_samples), c.strict));
  if (warning) log(ctx.config, LogSeverity::kWarning, *warning);

  KILN_ASSIGN_OR_RETURN(auto ranges, collector.ranges(algo, c.percentile));
  std::map<std::string, float> amax;
  calib::CacheData cache;
  cache.kiln_version = kiln::version();
  cache.algorithm = algo;
  cache.percentile = c.percentile;
  cache.model_key = ctx.model_key;
  cache.samples = static_cast<size_t>(samples);
  for (const std::string& t : ctx.tensors) {
    auto it = ranges.find(t);
    if (it == ranges.end()) continue;  // never produced by a run (e.g. a branch not taken)
    amax[t] = it->second.amax;
    cache.scales[t] = it->second.amax / kCacheLevels;
    const bool u8 = ctx.unsigned_tensors.count(t) != 0;
    report.tensors.push_back({t, it->second.amax, it->second.saturation,
                              u8 ? it->second.sqnr_db_unsigned : it->second.sqnr_db});
  }
  if (!optional.empty()) {
    Result<decltype(ranges)> extra = optional_collector.ranges(algo, c.percentile);
    if (extra.ok()) {
      for (const auto& [t, r] : *extra) {
        amax[t] = r.amax;
        cache.scales[t] = r.amax / kCacheLevels;
      }
    } else {
      log(ctx.config, LogSeverity::kVerbose,
          "int8: residuals left float32 (no usable range): " + extra.status().message());
    }
  }
  std::stable_sort(report.tensors.begin(), report.tensors.end(),
                   [](const CalibratedTensor& x, const CalibratedTensor& y) {
                     return x.saturation > y.saturation;
                   });
  report.algorithm = calib::algorithm_name(algo);
  report.samples = samples;
  report.batches = static_cast<int64_t>(batch_index);
  if (!c.cache_path.empty()) KILN_RETURN_IF_ERROR(calib::save_cache(c.cache_path, cache));
  return amax;
}

}  // namespace kiln::builder
