// `kiln compare MODEL.onnx (--engine E | build flags) [--input NAME=FILE …] [--atol A --rtol R]
// [--per-layer] [--json]` (polygraphy run --onnxrt --trt habits): runs the FP32 reference (the
// reference interpreter on the ONNX model) and the engine on the same inputs and reports, per
// output, max abs / rel error, mean abs error, cosine similarity and pass/fail
// (|engine - ref| <= atol + rtol * |ref| everywhere). --per-layer taps every layer output of
// the engine (ExecutionContext::set_tensor_observer) and every value of the reference
// (interp::RunOptions::on_value) in one run each, compares those with the same name and shape,
// and names the first layer beyond tolerance: where an INT8 / reduced-precision engine starts
// to go wrong. No bisection is needed: one run of each sees every tensor.
#include <cmath>
#include <cstdio>
#include <map>

#include "calib/batch_dir.h"
#include "core/errors.h"
#include "interp/interpreter.h"
#include "kiln/builder.h"
#include "kiln/engine.h"
#include "onnx_import/importer.h"
#include "tools/commands.h"
#include "tools/output.h"
#include "tools/shape_spec.h"
#include "tools/tensor_files.h"

namespace kiln::tools {
namespace {

struct CompareArgs {
  std::string model, engine, calib_dir, calib_cache, calib_algo = "entropy";
  std::vector<std::string> inputs, shapes, layer_precisions;
  bool int8 = false, bf16 = false, fp16 = false, no_autotune = false, per_layer = false,
       json = false;
  double atol = 1e-4, rtol = 1e-4;
  uint64_t seed = 1;
};

struct Diff {
  double max_abs = 0, max_rel = 0, mean_abs = 0, cosine = 1;
  bool pass = true;
  int64_t failing = 0;  // elements beyond tolerance
};

// Float32 only (the tensors reduced precision changes); other types: bit equality.
Diff diff(const Tensor& got, const Tensor& want, double atol, double rtol) {
  Diff d;
  if (got.dtype() != want.dtype() || got.shape() != want.shape()) {
    d.pass = false;
    d.cosine = 0;
    d.failing = want.numel();
    return d;
  }
  if (got.dtype() != DataType::kFloat32) {
    d.pass = got.nbytes() == want.nbytes() &&
             (got.nbytes() == 0 || std::memcmp(got.data(), want.data(), got.nbytes()) == 0);
    d.failing = d.pass ? 0 : want.numel();
    return d;
  }
  const float* g = got.data_as<float>();
  const float* w = want.data_as<float>();
  double sum = 0, gw = 0, gg = 0, ww = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    const double a = g[i], b = w[i];
    const double e = std::fabs(a - b);
    const bool same = (std::isnan(a) && std::isnan(b)) || a == b;
    if (!same && !(e <= atol + rtol * std::fabs(b))) ++d.failing;
    if (same) continue;
    d.max_abs = std::max(d.max_abs, e);
    d.max_rel = std::max(d.max_rel, e / std::max(std::fabs(b), 1e-12));
    sum += e;
    gw += a * b;
    gg += a * a;
    ww += b * b;
  }
  d.mean_abs = want.numel() > 0 ? sum / static_cast<double>(want.numel()) : 0;
  // Cosine over all elements (equal ones included).
  gw = gg = ww = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    gw += static_cast<double>(g[i]) * w[i];
    gg += static_cast<double>(g[i]) * g[i];
    ww += static_cast<double>(w[i]) * w[i];
  }
  d.cosine = gg > 0 && ww > 0 ? gw / std::sqrt(gg * ww) : (gg == ww ? 1.0 : 0.0);
  d.pass = d.failing == 0;
  return d;
}

nlohmann::json to_json(const Diff& d) {
  return {{"max_abs", d.max_abs}, {"max_rel", d.max_rel}, {"mean_abs", d.mean_abs},
          {"cosine", d.cosine},   {"pass", d.pass},       {"failing_elements", d.failing}};
}

Result<Tensor> deep_copy(const Tensor& t) {
  KILN_ASSIGN_OR_RETURN(Tensor c, Tensor::allocate(t.dtype(), t.shape()));
  if (t.nbytes() > 0) std::memcpy(c.data(), t.data(), t.nbytes());
  return c;
}

// [N, C, spatial…] float32 -> [N, spatial…, C].
Result<Tensor> to_channels_last(const Tensor& t) {
  const std::vector<int64_t>& s = t.shape();
  if (s.size() < 3) return err(Code::kInvalidArgument, "rank below 3");
  int64_t spatial = 1;
  for (size_t i = 2; i < s.size(); ++i) spatial *= s[i];
  std::vector<int64_t> out = {s[0]};
  out.insert(out.end(), s.begin() + 2, s.end());
  out.push_back(s[1]);
  KILN_ASSIGN_OR_RETURN(Tensor r, Tensor::allocate(DataType::kFloat32, out));
  const float* src = t.data_as<float>();
  float* dst = r.data_as<float>();
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t c = 0; c < s[1]; ++c)
      for (int64_t p = 0; p < spatial; ++p)
        dst[(n * spatial + p) * s[1] + c] = src[(n * s[1] + c) * spatial + p];
  return r;
}

Result<std::vector<uint8_t>> build_engine(const CompareArgs& a) {
  KILN_ASSIGN_OR_RETURN(auto net, Network::from_onnx_file(a.model));
  BuilderConfig config;
  config.precision = {a.fp16, a.bf16, a.int8};
  config.layer_precisions = a.layer_precisions;
  config.autotune = !a.no_autotune;
  config.calibration.cache_path = a.calib_cache;
  config.calibration.algorithm = a.calib_algo;
  KILN_ASSIGN_OR_RETURN(config.profiles, profiles_from_options(a.shapes, {}, {}, {}, {}));
  std::unique_ptr<calib::DirCalibrator> calibrator;
  if (!a.calib_dir.empty()) {
    std::vector<std::string> names;
    for (const Network::Input& in : net->inputs()) names.push_back(in.name);
    KILN_ASSIGN_OR_RETURN(calibrator, calib::DirCalibrator::open(a.calib_dir, names));
    config.calibration.calibrator = calibrator.get();
  }
  return Builder().build_serialized(*net, config);
}

int run_compare(const CompareArgs& a) {
  // The engine: given, or built here from the model with the flags given.
  std::shared_ptr<Engine> engine;
  if (!a.engine.empty()) {
    auto e = Engine::load(a.engine);
    if (!e.ok()) return fail(e.status());
    engine = *e;
  } else {
    auto bytes = build_engine(a);
    if (!bytes.ok()) return fail(bytes.status());
    auto e = Engine::deserialize(*bytes);
    if (!e.ok()) return fail(e.status());
    engine = *e;
  }
  auto ctx = engine->create_context();
  if (!ctx.ok()) return fail(ctx.status());

  // Inputs: files given, else deterministic synthetic ones at profile 0's opt shapes.
  auto given = read_input_options(a.inputs);
  if (!given.ok()) return fail(given.status());
  interp::TensorMap inputs = std::move(given).value();
  uint64_t seed = a.seed;
  for (const TensorInfo& t : engine->io_tensors()) {
    if (t.mode != TensorIOMode::kInput || inputs.count(t.name)) continue;
    std::vector<int64_t> shape = t.shape;
    if (auto r = engine->profile_shape(0, t.name); r.ok()) shape = r->opt;
    auto x = synthetic_tensor(t.dtype, shape, seed++);
    if (!x.ok()) return fail(x.status());
    inputs[t.name] = std::move(x).value();
  }
  for (const auto& [name, t] : inputs) {
    Status s = (*ctx)->set_input(name, t);
    if (!s.ok()) return fail(s);
  }

  // The engine, tapping every layer output when asked.
  struct Tap {
    Tensor value;
    int layer;
  };
  std::map<std::string, Tap> taps;
  if (a.per_layer)
    (*ctx)->set_tensor_observer([&](const std::string& name, const Tensor& t, int layer) {
      if (layer < 0 || t.dtype() == DataType::kString) return Status::Ok();
      KILN_ASSIGN_OR_RETURN(Tensor c, deep_copy(t));
      taps[name] = {std::move(c), layer};
      return Status::Ok();
    });
  Status ran = (*ctx)->execute();
  if (!ran.ok()) return fail(ran);

  // The reference, comparing values as they are computed.
  auto imported = onnx_import::import_file(a.model, {});
  if (!imported.ok()) return fail(imported.status());
  struct LayerDiff {
    std::string name;
    Diff d;
  };
  std::map<int, LayerDiff> layer_diffs;
  interp::RunOptions opts;
  if (a.per_layer)
    opts.on_value = [&](const ir::Node&, const ir::Value& v, const Tensor& t) {
      auto it = taps.find(v.name());
      if (it != taps.end() && it->second.value.shape() == t.shape() &&
          it->second.value.dtype() == t.dtype()) {
        layer_diffs[it->second.layer] = {v.name(), diff(it->second.value, t, a.atol, a.rtol)};
        return;
      }
      // The layout pass's channels-last copy of the value ("<name>_nhwc"): compare it with the
      // reference transposed the same way.
      it = taps.find(v.name() + "_nhwc");
      if (it == taps.end() || t.dtype() != DataType::kFloat32 ||
          it->second.value.dtype() != t.dtype())
        return;  // fused away: not comparable
      Result<Tensor> nhwc = to_channels_last(t);
      if (!nhwc.ok() || nhwc->shape() != it->second.value.shape()) return;
      layer_diffs[it->second.layer] = {it->first, diff(it->second.value, *nhwc, a.atol, a.rtol)};
    };
  auto ref = interp::run(imported->model, inputs, opts);
  if (!ref.ok()) return fail(ref.status());

  nlohmann::json outs = nlohmann::json::array();
  bool all_pass = true;
  for (const ir::Value* v : imported->model.graph->outputs()) {
    auto got = (*ctx)->output(v->name());
    if (!got.ok()) return fail(got.status());
    const Diff d = diff(*got, ref->at(v->name()), a.atol, a.rtol);
    all_pass = all_pass && d.pass;
    nlohmann::json o = to_json(d);
    o["name"] = v->name();
    outs.push_back(o);
  }
  nlohmann::json layers = nlohmann::json::array();
  nlohmann::json first = nullptr;
  for (const auto& [layer, ld] : layer_diffs) {
    nlohmann::json l = to_json(ld.d);
    l["layer"] = layer;
    l["tensor"] = ld.name;
    layers.push_back(l);
    if (!ld.d.pass && first.is_null()) first = l;
  }
  if (a.json) {
    nlohmann::json j = {{"pass", all_pass}, {"atol", a.atol}, {"rtol", a.rtol}, {"outputs", outs}};
    if (a.per_layer) {
      j["layers"] = layers;
      j["layers_total"] = engine->num_layers();
      j["first_divergence"] = first;
    }
    std::printf("%s\n", j.dump(2).c_str());
    return all_pass ? kExitOk : kExitWarnings;
  }
  std::printf("compare: engine vs FP32 reference (reference kernels), atol %g rtol %g\n", a.atol,
              a.rtol);
  for (const auto& o : outs)
    std::printf("  %-24s max abs %.3g  max rel %.3g  mean abs %.3g  cosine %.6f  %s\n",
                o["name"].get<std::string>().c_str(), o["max_abs"].get<double>(),
                o["max_rel"].get<double>(), o["mean_abs"].get<double>(), o["cosine"].get<double>(),
                o["pass"].get<bool>() ? "PASS" : "FAIL");
  if (a.per_layer) {
    std::printf(
        "per layer: %zu of %zu layer outputs comparable (same name and shape, or its "
        "channels-last copy)\n",
        layers.size(), engine->num_layers());
    if (first.is_null())
      std::printf("  every compared layer within tolerance\n");
    else
      std::printf(
          "  first divergence: layer %d, tensor '%s': max abs %.3g, cosine %.6f, %lld "
          "element(s) beyond tolerance\n",
          first["layer"].get<int>(), first["tensor"].get<std::string>().c_str(),
          first["max_abs"].get<double>(), first["cosine"].get<double>(),
          static_cast<long long>(first["failing_elements"].get<int64_t>()));
  }
  std::printf("%s\n", all_pass ? "PASSED" : "FAILED");
  return all_pass ? kExitOk : kExitWarnings;
}

}  // namespace

Runner add_compare(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "Compare an engine with the FP32 reference on the same inputs (per output; --per-layer "
      "finds the first layer that diverges). Exit 0 = within tolerance, 1 = not.");
  cmd->add_option("model", a->model, "The ONNX model (the reference)")->required();
  cmd->add_option("--engine", a->engine,
                  "Engine to compare (else built from the model with "
                  "the build flags below)");
  cmd->add_option("--input,-i", a->inputs,
                  "NAME=FILE.npy (repeatable); inputs not given are "
                  "synthetic (uniform in [-1, 1]) at the opt shapes")
      ->take_all();
  cmd->add_option("--seed", a->seed, "Seed of the synthetic inputs");
  cmd->add_option("--atol", a->atol, "Absolute tolerance (default 1e-4)");
  cmd->add_option("--rtol", a->rtol, "Relative tolerance (default 1e-4)");
  cmd->add_flag("--per-layer", a->per_layer,
                "Compare every layer output and name the first beyond tolerance");
  cmd->add_flag("--json", a->json, "Machine-readable report");
  cmd->add_option("--shapes", a->shapes, "Build: NAME:AxBxC[,…] input shapes");
  cmd->add_flag("--bf16", a->bf16, "Build: allow BF16 layers");
  cmd->add_flag("--fp16", a->fp16, "Build: float16 weights (FP32 compute on CPUs)");
  cmd->add_flag("--no-autotune", a->no_autotune,
                "Build: first supporting tactic per layer (reduced precision wherever allowed)");
  cmd->add_option("--layer-precision", a->layer_precisions, "Build: PATTERN:PRECISION pins")
      ->take_all();
  cmd->add_flag("--int8", a->int8, "Build: INT8 (with --calib or --calib-cache)");
  cmd->add_option("--calib", a->calib_dir, "Build: calibration batches (.npy directory)");
  cmd->add_option("--calib-cache", a->calib_cache, "Build: calibration cache");
  cmd->add_option("--calib-algo", a->calib_algo, "Build: entropy, minmax, percentile or mse");
  return [a] { return run_compare(*a); };
}

}  // namespace kiln::tools
