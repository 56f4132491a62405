// `kiln build MODEL.onnx -o MODEL.engine [options]`: builds and serializes an engine
// (trtexec --onnx … --saveEngine habits: --shapes / --min-shapes / --opt-shapes / --max-shapes).
#include <chrono>
#include <cstdio>
#include <fstream>

#include "calib/batch_dir.h"
#include "core/errors.h"
#include "engine/engine_file.h"
#include "kiln/builder.h"
#include "tools/commands.h"
#include "tools/output.h"
#include "tools/progress.h"
#include "tools/shape_spec.h"

namespace kiln::tools {
namespace {

struct BuildArgs {
  std::string model, output, device = "cpu", timing_cache;
  bool fp16 = false, bf16 = false, int8 = false, json = false, no_progress = false, verbose = false,
       no_autotune = false, no_pack_weights = false;
  std::vector<std::string> shapes, min_shapes, opt_shapes, max_shapes, profiles, disabled_passes,
      tactics;
  std::string dump_ir;
  // INT8 calibration.
  std::string calib_dir, calib_algo = "entropy", calib_cache;
  double calib_percentile = 99.99;
  int64_t calib_min_samples = 500;
  double int8_min_sqnr = 0;
  bool strict = false, no_int8_chain = false;
  std::vector<std::string> layer_precisions;
  double workspace_mib = 0;
  int opt_level = 3;
};

int kept_low_sqnr(const BuildSummary& s) {
  int n = 0;
  for (const LayerQuantError& e : s.calibration.layers) n += e.kept_fp32 ? 1 : 0;
  return n;
}

Status write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  // Write next to the target and rename: a failed or interrupted build never leaves a
  // half-written engine under the final name.
  const std::string tmp = path + ".partial";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return err(Code::kFileWriteFailed, "cannot create '", tmp, "'");
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) {
      std::remove(tmp.c_str());
      return err(Code::kFileWriteFailed, "writing '", tmp, "' failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return err(Code::kFileWriteFailed, "cannot rename '", tmp, "' to '", path, "'");
  }
  return Status::Ok();
}

int run_build(const BuildArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  BuilderConfig config;
  if (a.device == "cuda")
    config.device = DeviceKind::kCuda;
  else if (a.device != "cpu")
    return fail(err(Code::kInvalidOption, "--device '", a.device, "' is not cpu or cuda"));
  config.precision = {a.fp16, a.bf16, a.int8};
  if (a.workspace_mib < 0)
    return fail(err(Code::kInvalidOption, "--workspace ", a.workspace_mib, " MiB is negative"));
  config.workspace_bytes = static_cast<uint64_t>(a.workspace_mib * 1024.0 * 1024.0);
  config.timing_cache_path = a.timing_cache;
  config.optimization_level = a.opt_level;
  config.disabled_passes = a.disabled_passes;
  config.allowed_tactics = a.tactics;
  config.autotune = !a.no_autotune;
  config.pack_weights = !a.no_pack_weights;
  config.dump_ir_dir = a.dump_ir;
  config.layer_precisions = a.layer_precisions;
  config.calibration.algorithm = a.calib_algo;
  config.calibration.percentile = a.calib_percentile;
  config.calibration.cache_path = a.calib_cache;
  config.calibration.min_samples = a.calib_min_samples;
  config.calibration.min_sqnr_db = a.int8_min_sqnr;
  config.calibration.strict = a.strict;
  config.calibration.chain = !a.no_int8_chain;
  if ((!a.calib_dir.empty() || !a.calib_cache.empty()) && !a.int8)
    return fail(err(Code::kInvalidOption, "--calib / --calib-cache need --int8"));
  auto profiles =
      profiles_from_options(a.shapes, a.min_shapes, a.opt_shapes, a.max_shapes, a.profiles);
  if (!profiles.ok()) return fail(profiles.status());
  config.profiles = std::move(profiles).value();
  StderrLogger logger(a.verbose ? LogSeverity::kVerbose : LogSeverity::kWarning);
  config.logger = &logger;
  ErrorRecorder recorder;
  config.error_recorder = &recorder;
  ProgressBar bar(!a.no_progress && !a.json);
  config.progress = [&bar](std::string_view phase, double f) { bar.update(phase, f); };

  bar.update("parse", 0);
  auto network = Network::from_onnx_file(a.model, &recorder);
  auto print_all = [&](const Status& first) {
    bar.finish();
    for (const Status& s : recorder.errors())
      if (s.to_string() != first.to_string()) std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return fail(first);
  };
  if (!network.ok()) return print_all(network.status());
  std::unique_ptr<calib::DirCalibrator> calibrator;
  if (!a.calib_dir.empty()) {
    std::vector<std::string> inputs;
    for (const Network::Input& in : (*network)->inputs()) inputs.push_back(in.name);
    auto c = calib::DirCalibrator::open(a.calib_dir, inputs);
    if (!c.ok()) return print_all(c.status());
    calibrator = std::move(c).value();
    config.calibration.calibrator = calibrator.get();
  }
  const auto t1 = std::chrono::steady_clock::now();
  recorder.clear();
  // The recorder holds the errors; print each once, below (verbose runs keep the log).
  if (!a.verbose) config.logger = nullptr;
  Builder builder;
  auto bytes = builder.build_serialized(**network, config);
  if (!bytes.ok()) return print_all(bytes.status());
  bar.update("write", 0);
  Status w = write_file(a.output, *bytes);
  bar.finish();
  if (!w.ok()) return fail(w);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double build_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();

  // Report from the engine just written (the same reader users get).
  auto data = engine::read_engine({bytes->data(), bytes->size()}, engine::host_fingerprint());
  if (!data.ok()) return fail(data.status());
  nlohmann::json profs = nlohmann::json::array();
  for (const engine::ProfilePlan& p : data->profiles)
    profs.push_back({{"arena_bytes", p.arena_bytes},
                     {"naive_bytes", p.naive_bytes},
                     {"lower_bound_bytes", p.lower_bound_bytes}});
  if (a.json) {
    std::printf("%s\n",
                nlohmann::json{{"engine", a.output},
                               {"bytes", bytes->size()},
                               {"layers", data->layers.size()},
                               {"onnx_nodes", builder.last_summary().nodes},
                               {"passes", builder.last_summary().passes},
                               {"autotune",
                                {{"timed_layers", builder.last_summary().timed_layers},
                                 {"cached_layers", builder.last_summary().cached_layers},
                                 {"seconds", builder.last_summary().tuning_seconds}}},
                               {"bf16_layers", builder.last_summary().bf16_layers},
                               {"fp16_layers", builder.last_summary().fp16_layers},
                               {"int8",
                                {{"layers", builder.last_summary().int8_layers},
                                 {"algorithm", builder.last_summary().calibration.algorithm},
                                 {"from_cache", builder.last_summary().calibration.from_cache},
                                 {"samples", builder.last_summary().calibration.samples},
                                 {"kept_fp32_low_sqnr", kept_low_sqnr(builder.last_summary())}}},
                               {"packed_weights",
                                {{"layers", builder.last_summary().packed_layers},
                                 {"bytes", builder.last_summary().packed_bytes}}},
                               {"profiles", profs},
                               {"target", data->target.to_string()},
                               {"build_seconds", build_secs},
                               {"total_seconds", secs}}
                    .dump(2)
                    .c_str());
    return kExitOk;
  }
  std::printf("built %s: %zu layers, %zu profile(s), %.1f MB, %.2f s (build %.2f s)\n",
              a.output.c_str(), data->layers.size(), data->profiles.size(),
              static_cast<double>(bytes->size()) / 1e6, secs, build_secs);
  std::printf("  optimizer (level %d): %s\n", a.opt_level, builder.last_summary().text.c_str());
  for (size_t i = 0; i < data->profiles.size(); ++i) {
    const engine::ProfilePlan& p = data->profiles[i];
    std::printf(
        "  profile %zu: activation arena %.2f MB (liveness lower bound %.2f MB, "
        "without reuse %.2f MB)\n",
        i, static_cast<double>(p.arena_bytes) / 1e6, static_cast<double>(p.lower_bound_bytes) / 1e6,
        static_cast<double>(p.naive_bytes) / 1e6);
  }
  const BuildSummary& sum = builder.last_summary();
  if (sum.timed_layers > 0 || sum.cached_layers > 0)
    std::printf("  autotune: %d layer(s) timed, %d from the timing cache, %.2f s\n",
                sum.timed_layers, sum.cached_layers, sum.tuning_seconds);
  if (a.bf16) std::printf("  bf16: %d layer(s)\n", sum.bf16_layers);
  if (a.fp16)
    std::printf(
        "  fp16: %d layer(s) store float16 weights (conv/linear weights, embedding tables; "
        "FP32 compute: no native FP16 arithmetic on this CPU)\n",
        sum.fp16_layers);
  if (sum.int8_layers > 0 && (!a.int8 || (a.calib_dir.empty() && a.calib_cache.empty()))) {
    std::printf("  int8: %d layer(s) (scales from the model's QuantizeLinear/DequantizeLinear)\n",
                sum.int8_layers);
  } else if (a.int8) {
    const CalibrationReport& r = sum.calibration;
    std::printf(
        "  int8: %d layer(s) (%s%s), %d requantizing into INT8 layers\n", sum.int8_layers,
        r.from_cache ? "scales from " : r.algorithm.c_str(),
        r.from_cache ? a.calib_cache.c_str() : str(" calibration, ", r.samples, " samples").c_str(),
        sum.int8_chained);
    for (size_t i = 0; i < r.tensors.size() && i < 3 && !r.from_cache; ++i)
      std::printf("    saturation %.4f%% of '%s' (range %.4g)\n", r.tensors[i].saturation * 100,
                  r.tensors[i].name.c_str(), r.tensors[i].amax);
    for (size_t i = 0; i < r.layers.size() && i < 3; ++i)
      std::printf(
          "    quantization error: SQNR %.1f dB in '%s' (input %.1f dB, weights %.1f dB)%s\n",
          r.layers[i].sqnr_db, r.layers[i].layer.c_str(), r.layers[i].input_sqnr_db,
          r.layers[i].weight_sqnr_db, r.layers[i].kept_fp32 ? ", kept FP32" : "");
    if (a.int8_min_sqnr > 0)
      std::printf("    %d layer(s) below --int8-min-sqnr %.1f dB kept FP32\n", kept_low_sqnr(sum),
                  a.int8_min_sqnr);
  }
  if (sum.packed_layers > 0)
    std::printf("  packed weights: %d layer(s), %.1f MB (blocked for their kernels)\n",
                sum.packed_layers, static_cast<double>(sum.packed_bytes) / 1e6);
  std::printf("  target: %s\n", data->target.to_string().c_str());
  if (a.verbose) {
    // Every layer with the ONNX nodes it computes (kiln inspect --json has the same, and more).
    auto model = engine::read_engine_model({bytes->data(), bytes->size()});
    if (!model.ok()) return fail(model.status());
    const std::vector<ir::Node*> nodes = (*model)->graph->nodes();
    for (size_t i = 0; i < nodes.size() && i < data->layers.size(); ++i) {
      std::string from;
      for (const std::string& o : data->layers[i].fused_from)
        from += (from.empty() ? "" : ", ") + o;
      const ir::Node& n = *nodes[i];
      const std::string op = n.domain().empty() ? n.op_type() : n.domain() + "::" + n.op_type();
      std::printf("  layer %zu %s '%s' <- %s\n", i, op.c_str(), n.name().c_str(), from.c_str());
    }
  }
  return kExitOk;
}

}  // namespace

Runner add_build(CLI::App& app) {
  auto a = std::make_shared<BuildArgs>();
  CLI::App* cmd = app.add_subcommand("build",
                                     "Build an engine from an ONNX model (slow, once) "
                                     "for `kiln run` / `kiln bench` (fast, often).");
  cmd->add_option("model", a->model, "ONNX model file (.onnx)")->required();
  cmd->add_option("--output,-o", a->output, "Engine file to write")->required();
  cmd->add_option("--device", a->device, "cpu (default) or cuda");
  cmd->add_flag("--fp16", a->fp16,
                "FP16 weights: conv/linear weights rounded to and stored as float16 (half the "
                "engine bytes), computed in FP32 on CPUs without native FP16 arithmetic");
  cmd->add_flag("--bf16", a->bf16, "Allow BF16 layers");
  cmd->add_flag("--int8", a->int8,
                "INT8 conv/linear layers, calibrated with --calib DIR or --calib-cache FILE");
  cmd->add_option("--calib", a->calib_dir,
                  "Calibration data: a directory of .npy batches (one file per batch for a "
                  "single-input model; a sub-directory per batch holding INPUT.npy files; or "
                  "manifest.json)");
  cmd->add_option("--calib-algo", a->calib_algo,
                  "entropy (default; KL-divergence threshold), minmax, percentile or mse (the "
                  "range with the least squared quantization error)");
  cmd->add_option("--calib-percentile", a->calib_percentile,
                  "Percentile of |x| kept by --calib-algo percentile (default 99.99)");
  cmd->add_option("--calib-cache", a->calib_cache,
                  "Calibration cache: written after calibrating; without --calib, the scales "
                  "are read from it");
  cmd->add_option("--calib-min-samples", a->calib_min_samples,
                  "Fewer calibration samples than this is a warning (an error with --strict); "
                  "default 500");
  cmd->add_flag("--strict", a->strict, "Treat too few calibration samples as an error");
  cmd->add_flag("--no-int8-chain", a->no_int8_chain,
                "INT8: every layer writes float32 (by default a layer read only by INT8 layers "
                "hands them uint8, requantized in its epilogue); for debugging");
  cmd->add_option("--int8-min-sqnr", a->int8_min_sqnr,
                  "Keep a calibrated layer FP32 when its estimated quantization SQNR (input "
                  "range and weights, in dB; `kiln inspect` lists them) is below this; default "
                  "0: off")
      ->check(CLI::Range(0.0, 200.0));
  cmd->add_option("--layer-precision", a->layer_precisions,
                  "PATTERN:PRECISION, e.g. 'conv1:fp32' or '/head/*:fp32' (glob over layer and "
                  "ONNX node names; repeatable): keep those layers out of INT8");
  cmd->add_option("--shapes", a->shapes, "NAME:AxBxC[,…] fixed input shapes (min = opt = max)");
  cmd->add_option("--min-shapes", a->min_shapes, "NAME:AxBxC[,…] smallest shapes of profile 0");
  cmd->add_option("--opt-shapes", a->opt_shapes,
                  "NAME:AxBxC[,…] shapes profile 0 is tuned for (default: max)");
  cmd->add_option("--max-shapes", a->max_shapes,
                  "NAME:AxBxC[,…] largest shapes of profile 0 (sizes its memory)");
  cmd->add_option("--profile", a->profiles,
                  "NAME:MIN:OPT:MAX[,…] one more optimization profile (repeatable)");
  cmd->add_option("--workspace", a->workspace_mib,
                  "Scratch memory limit per layer, MiB (0 = none)");
  cmd->add_option("--timing-cache", a->timing_cache, "Tactic timing cache file (read + updated)");
  cmd->add_option("--opt-level", a->opt_level,
                  "Optimization level 0-3 (default 3; 0 also skips tactic timing)");
  cmd->add_option("--tactics", a->tactics,
                  "Only these tactics (names or prefixes, e.g. cpu.reference for the reference "
                  "kernels); default all");
  cmd->add_flag("--no-autotune", a->no_autotune,
                "Take each layer's first supporting tactic instead of timing the candidates");
  cmd->add_flag("--no-pack-weights", a->no_pack_weights,
                "Store weights as in the model only (smaller engine); kernels pack them at load");
  cmd->add_option("--disable-pass", a->disabled_passes,
                  "Leave an optimizer pass out (repeatable); `kiln passes` lists them");
  cmd->add_option("--dump-ir", a->dump_ir,
                  "Write the IR before optimization and after every pass that changed it to DIR");
  cmd->add_flag("--json", a->json, "Print a JSON summary");
  cmd->add_flag("--no-progress", a->no_progress, "No progress bar");
  cmd->add_flag("--verbose,-v", a->verbose, "Log every build step");
  return [a] { return run_build(*a); };
}

}  // namespace kiln::tools
