// `kiln bench MODEL.engine|MODEL.onnx [--shapes …] [--warmup MS] [--duration S]
// [--iterations N] [--threads N] [--json]`: trtexec-style timing. An ONNX model is built in
// memory first (same flags as kiln build for shapes). Each thread owns one execution context
// on the one shared engine; latency percentiles are over every run of every thread.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "core/errors.h"
#include "kiln/engine.h"
#include "tools/commands.h"
#include "tools/output.h"
#include "tools/shape_spec.h"
#include "tools/tensor_files.h"

namespace kiln::tools {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchArgs {
  std::string model;
  std::vector<std::string> shapes, min_shapes, opt_shapes, max_shapes, inputs;
  double warmup_ms = 200;
  double duration_s = 3;
  int64_t iterations = 20;
  int threads = 1;
  int intra_op_threads = 0;
  int profile = 0;
  bool json = false;
  bool dump_profile = false;
};

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  // Nearest rank, as trtexec reports.
  const size_t rank =
      static_cast<size_t>(std::ceil(q / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

struct Load {
  std::shared_ptr<Engine> engine;
  double build_ms = 0, load_ms = 0;
};

Result<Load> load_engine(const BenchArgs& a) {
  Load out;
  if (is_engine_file(a.model)) {
    const auto t = Clock::now();
    KILN_ASSIGN_OR_RETURN(out.engine, Engine::load(a.model));
    out.load_ms = ms_since(t);
    return out;
  }
  const auto t = Clock::now();
  KILN_ASSIGN_OR_RETURN(auto network, Network::from_onnx_file(a.model));
  BuilderConfig config;
  KILN_ASSIGN_OR_RETURN(config.profiles, profiles_from_options(a.shapes, a.min_shapes, a.opt_shapes,
                                                               a.max_shapes, {}));
  KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, Builder().build_serialized(*network, config));
  out.build_ms = ms_since(t);
  const auto t2 = Clock::now();
  KILN_ASSIGN_OR_RETURN(out.engine, Engine::deserialize(bytes));
  out.load_ms = ms_since(t2);
  return out;
}

// Shapes to run with: --shapes when given (engines: must fit the profile), else the profile's
// opt shapes.
Result<ShapeMap> run_shapes(const BenchArgs& a, Engine& e) {
  KILN_ASSIGN_OR_RETURN(ShapeMap given, parse_shape_specs(a.shapes, "--shapes"));
  ShapeMap out;
  for (const TensorInfo& t : e.io_tensors()) {
    if (t.mode != TensorIOMode::kInput) continue;
    auto it = given.find(t.name);
    if (it != given.end()) {
      out[t.name] = it->second;
      continue;
    }
    KILN_ASSIGN_OR_RETURN(ShapeRangeSpec r, e.profile_shape(a.profile, t.name));
    out[t.name] = r.opt;
  }
  return out;
}

int run_bench(const BenchArgs& a) {
  if (a.threads < 1 || a.threads > 256)
    return fail(err(Code::kInvalidOption, "--threads ", a.threads, " is outside 1..256"));
  if (a.duration_s < 0 || a.warmup_ms < 0 || a.iterations < 1)
    return fail(
        err(Code::kInvalidOption, "--duration/--warmup must be >= 0 and --iterations >= 1"));
  auto loaded = load_engine(a);
  if (!loaded.ok()) return fail(loaded.status());
  Engine& engine = *loaded->engine;
  engine.set_intra_op_threads(a.intra_op_threads);

  auto shapes = run_shapes(a, engine);
  if (!shapes.ok()) return fail(shapes.status());
  auto given = read_input_options(a.inputs);
  if (!given.ok()) return fail(given.status());
  std::map<std::string, Tensor> feeds = std::move(given).value();
  uint64_t seed = 1;
  for (const TensorInfo& t : engine.io_tensors()) {
    if (t.mode != TensorIOMode::kInput || feeds.count(t.name)) continue;
    auto x = synthetic_tensor(t.dtype, shapes->at(t.name), seed++);
    if (!x.ok()) return fail(x.status());
    feeds[t.name] = std::move(x).value();
  }

  // Contexts are created up front (and timed: the cost a server pays per concurrent slot).
  std::vector<std::unique_ptr<ExecutionContext>> contexts;
  double context_ms = 0;
  for (int i = 0; i < a.threads; ++i) {
    const auto t = Clock::now();
    auto ctx = engine.create_context();
    if (!ctx.ok()) return fail(ctx.status());
    if (i == 0) context_ms = ms_since(t);
    Status s = (*ctx)->set_profile(a.profile);
    for (const auto& [name, x] : feeds)
      if (s.ok()) s = (*ctx)->set_input(name, x);
    if (!s.ok()) return fail(s);
    contexts.push_back(std::move(ctx).value());
  }
  // The first run separately: it pays for page faults of weights and arena.
  const auto tf = Clock::now();
  if (Status s = contexts[0]->execute(); !s.ok()) return fail(s);
  const double first_ms = ms_since(tf);

  std::vector<std::vector<double>> lat(a.threads);
  std::vector<Status> errors(a.threads);
  const auto warm_end = Clock::now() + std::chrono::duration<double, std::milli>(a.warmup_ms);
  auto worker = [&](int i) {
    ExecutionContext& ctx = *contexts[i];
    while (Clock::now() < warm_end)
      if (Status s = ctx.execute(); !s.ok()) {
        errors[i] = s;
        return;
      }
    const auto start = Clock::now();
    const auto stop = start + std::chrono::duration<double>(a.duration_s);
    while (static_cast<int64_t>(lat[i].size()) < a.iterations || Clock::now() < stop) {
      const auto t = Clock::now();
      if (Status s = ctx.execute(); !s.ok()) {
        errors[i] = s;
        return;
      }
      lat[i].push_back(ms_since(t));
    }
  };
  const auto wall_start = Clock::now();
  std::vector<std::thread> pool;
  for (int i = 0; i < a.threads; ++i) pool.emplace_back(worker, i);
  for (std::thread& t : pool) t.join();
  const double wall_ms = ms_since(wall_start) - a.warmup_ms;
  for (const Status& s : errors)
    if (!s.ok()) return fail(s);

  std::vector<double> all;
  for (const auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  const std::vector<double> samples = all;  // in run order (per context)
  std::sort(all.begin(), all.end());
  double sum = 0;
  for (double v : all) sum += v;
  const double mean = all.empty() ? 0 : sum / static_cast<double>(all.size());
  const double qps = wall_ms > 0 ? static_cast<double>(all.size()) / (wall_ms / 1000.0) : 0;
  nlohmann::json latency = {{"min", all.front()},
                            {"mean", mean},
                            {"median", percentile(all, 50)},
                            {"p90", percentile(all, 90)},
                            {"p95", percentile(all, 95)},
                            {"p99", percentile(all, 99)},
                            {"max", all.back()}};
  // Per-layer times from separate runs, so the probes do not weigh on the latencies above.
  std::vector<ExecutionContext::LayerTime> layers;
  if (a.dump_profile) {
    contexts[0]->set_profiling(true);
    for (int64_t r = 0; r < a.iterations; ++r)
      if (Status s = contexts[0]->execute(); !s.ok()) return fail(s);
    layers = contexts[0]->layer_profile();
    contexts[0]->set_profiling(false);
  }
  nlohmann::json profile_json = nlohmann::json::array();
  double layers_total = 0;
  for (const auto& l : layers) {
    const double per_run = l.runs > 0 ? l.total_ms / static_cast<double>(l.runs) : 0;
    layers_total += per_run;
    profile_json.push_back({{"name", l.name}, {"op", l.op}, {"tactic", l.tactic}, {"ms", per_run}});
  }
  nlohmann::json shapes_json = nlohmann::json::object();
  for (const auto& [n, s] : *shapes) shapes_json[n] = s;
  nlohmann::json j = {{"model", a.model},
                      {"latency_ms", latency},
                      {"throughput_qps", qps},
                      {"iterations", all.size()},
                      {"threads", a.threads},
                      {"intra_op_threads", engine.intra_op_threads()},
                      {"samples_ms", samples},
                      {"wall_ms", wall_ms},
                      {"first_run_ms", first_ms},
                      {"load",
                       {{"build_ms", loaded->build_ms},
                        {"engine_load_ms", loaded->load_ms},
                        {"context_create_ms", context_ms},
                        {"load_plus_context_ms", loaded->load_ms + context_ms}}},
                      {"arena_bytes", engine.arena_bytes(a.profile)},
                      {"profile", a.profile},
                      {"shapes", shapes_json}};
  if (a.dump_profile) j["layer_profile"] = profile_json;
  if (a.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  std::printf("model %s, profile %d, shapes %s\n", a.model.c_str(), a.profile,
              shapes_json.dump().c_str());
  if (loaded->build_ms > 0) std::printf("  build (in memory): %.1f ms\n", loaded->build_ms);
  std::printf("  engine load: %.2f ms, context creation: %.3f ms, first run: %.2f ms\n",
              loaded->load_ms, context_ms, first_ms);
  std::printf("  %zu runs on %d thread(s) in %.2f s: throughput %.2f qps\n", all.size(), a.threads,
              wall_ms / 1000.0, qps);
  std::printf(
      "  latency ms: min %.3f  mean %.3f  median %.3f  p90 %.3f  p95 %.3f  p99 %.3f  "
      "max %.3f\n",
      all.front(), mean, percentile(all, 50), percentile(all, 90), percentile(all, 95),
      percentile(all, 99), all.back());
  if (a.dump_profile) {
    std::vector<size_t> order(layers.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t x, size_t y) { return layers[x].total_ms > layers[y].total_ms; });
    std::printf("  layer profile (mean ms per run over %lld runs; sum %.3f ms):\n",
                static_cast<long long>(a.iterations), layers_total);
    for (size_t i : order) {
      const auto& l = layers[i];
      const double ms = l.runs > 0 ? l.total_ms / static_cast<double>(l.runs) : 0;
      std::printf("    %4zu %9.3f %5.1f%%  %-18s %-36s %s\n", i, ms,
                  layers_total > 0 ? 100.0 * ms / layers_total : 0.0, l.op.c_str(),
                  l.tactic.c_str(), l.name.c_str());
    }
  }
  return kExitOk;
}

}  // namespace

Runner add_bench(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Measure latency and throughput of an engine (or an ONNX model, built in memory).");
  cmd->add_option("model", a->model, "Engine file (.engine) or ONNX model (.onnx)")->required();
  cmd->add_option("--shapes", a->shapes,
                  "NAME:AxBxC[,…] input shapes to run (default: the profile's opt shapes; for "
                  "ONNX models also the build shapes)");
  cmd->add_option("--min-shapes", a->min_shapes, "ONNX models: profile min shapes");
  cmd->add_option("--opt-shapes", a->opt_shapes, "ONNX models: profile opt shapes");
  cmd->add_option("--max-shapes", a->max_shapes, "ONNX models: profile max shapes");
  cmd->add_option("--input,-i", a->inputs, "NAME=FILE.npy real input data (default: synthetic)");
  cmd->add_option("--warmup", a->warmup_ms, "Warm-up time per thread, ms (default 200)");
  cmd->add_option("--duration", a->duration_s, "Measured time, s (default 3)");
  cmd->add_option("--iterations", a->iterations, "At least this many runs per thread (default 20)");
  cmd->add_option("--threads", a->threads, "Threads, one execution context each (default 1)");
  cmd->add_flag("--dump-profile", a->dump_profile,
                "Time every layer in --iterations extra runs and list them, slowest first");
  cmd->add_option("--intra-op-threads", a->intra_op_threads,
                  "Threads each run's layers use (default 0 = physical cores)");
  cmd->add_option("--profile", a->profile, "Optimization profile to run under (default 0)");
  cmd->add_flag("--json", a->json, "Print the report as JSON");
  return [a] { return run_bench(*a); };
}

}  // namespace kiln::tools
