// `kiln inspect MODEL.engine [--json] [--layers]`: what an engine holds — build options,
// target, I/O tensors, profiles with memory plans, and every layer with the ONNX nodes it came
// from, its precision and tactic. Works on engines built for other machines too (it says
// whether this one can run it).
#include <cmath>
#include <cstdio>

#include "backends/backend.h"
#include "core/errors.h"
#include "engine/engine_file.h"
#include "tools/commands.h"
#include "tools/output.h"

namespace kiln::tools {
namespace {

struct InspectArgs {
  std::string engine;
  bool json = false;
  bool all_layers = false;
};

nlohmann::json shape_json(const ir::ValueType& t) {
  if (!t.shape.rank_known()) return nullptr;
  nlohmann::json dims = nlohmann::json::array();
  for (size_t i = 0; i < t.shape.rank(); ++i) {
    const Dim& d = t.shape[i];
    if (d.is_static())
      dims.push_back(d.value);
    else
      dims.push_back(d.is_symbolic() ? nlohmann::json(d.symbol) : nlohmann::json(nullptr));
  }
  return dims;
}

std::string mb(uint64_t bytes) {
  return str(static_cast<double>(bytes) / 1e6, " MB");
}

int run_inspect(const InspectArgs& a) {
  auto file = engine::MappedFile::open(a.engine);
  if (!file.ok()) return fail(file.status());
  const engine::ByteSpan span = (*file)->bytes();
  auto data = engine::read_engine_any_target(span);
  if (!data.ok()) return fail(data.status());
  auto model = engine::read_engine_model(span);
  if (!model.ok()) return fail(model.status());
  const ir::Graph& g = *(*model)->graph;
  const std::vector<std::string> missing =
      engine::missing_capabilities(data->target, engine::host_fingerprint());

  nlohmann::json j;
  j["engine"] = a.engine;
  j["bytes"] = span.size;
  j["format_version"] = data->format_version;
  j["kiln_version"] = data->kiln_version;
  j["built_on"] = data->built_on.to_string();
  j["target"] = data->target.to_string();
  j["runs_here"] = missing.empty();
  j["missing_here"] = missing;
  nlohmann::json options = nlohmann::json::parse(data->build_options, nullptr, false);
  j["build_options"] = options.is_discarded() ? nlohmann::json(data->build_options) : options;
  nlohmann::json io = nlohmann::json::array();
  for (const ir::Value* v : g.inputs())
    if (!v->is_initializer())
      io.push_back({{"name", v->name()},
                    {"mode", "input"},
                    {"dtype", data_type_name(v->type.dtype)},
                    {"shape", shape_json(v->type)}});
  for (const ir::Value* v : g.outputs())
    io.push_back({{"name", v->name()},
                  {"mode", "output"},
                  {"dtype", data_type_name(v->type.dtype)},
                  {"shape", shape_json(v->type)}});
  j["io"] = io;
  uint64_t weight_bytes = 0, packed_bytes = 0;
  for (const ir::Value* v : g.initializers()) weight_bytes += v->initializer()->nbytes();
  for (const engine::Layer& l : data->layers)
    for (const std::string& name : l.packed)
      if (const ir::Value* v = g.find(name)) packed_bytes += v->initializer()->nbytes();
  j["weight_bytes"] = weight_bytes;
  j["packed_weight_bytes"] = packed_bytes;  // part of weight_bytes

  nlohmann::json profiles = nlohmann::json::array();
  for (const engine::ProfilePlan& p : data->profiles) {
    nlohmann::json inputs = nlohmann::json::object();
    for (const auto& [name, r] : p.inputs)
      inputs[name] = {{"min", r.min}, {"opt", r.opt}, {"max", r.max}};
    size_t dynamic = 0, inplace = 0;
    for (const engine::TensorSlot& s : p.slots) {
      dynamic += s.dynamic;
      inplace += !s.inplace_of.empty();
    }
    profiles.push_back({{"inputs", inputs},
                        {"memory",
                         {{"arena_bytes", p.arena_bytes},
                          {"naive_bytes", p.naive_bytes},
                          {"lower_bound_bytes", p.lower_bound_bytes},
                          {"planned_tensors", p.slots.size() - dynamic},
                          {"in_place_tensors", inplace},
                          {"dynamic_tensors", dynamic}}}});
  }
  j["profiles"] = profiles;
  if (!profiles.empty()) j["memory"] = profiles[0]["memory"];

  nlohmann::json layers = nlohmann::json::array();
  const std::vector<ir::Node*> nodes = g.nodes();
  std::map<std::string, int> tactic_count;
  for (size_t i = 0; i < nodes.size() && i < data->layers.size(); ++i) {
    const ir::Node& n = *nodes[i];
    const engine::Layer& l = data->layers[i];
    nlohmann::json ins = nlohmann::json::array(), outs = nlohmann::json::array();
    for (const ir::Value* v : n.inputs()) ins.push_back(v ? v->name() : "");
    for (const ir::Value* v : n.outputs()) outs.push_back(v ? v->name() : "");
    nlohmann::json out_shapes = nlohmann::json::array();
    nlohmann::json out_types = nlohmann::json::array();
    for (const ir::Value* v : n.outputs()) {
      out_shapes.push_back(v ? shape_json(v->type) : nullptr);
      out_types.push_back(v ? std::string(data_type_name(v->type.dtype)) : "");
    }
    // The tactic's own reading of its params: the implementation the autotuner picked.
    std::string variant;
    if (!l.params.empty()) {
      Result<backends::Device*> dev = backends::device_for(DeviceKind::kCpu);
      const backends::Tactic* t = dev.ok() ? (*dev)->find_tactic(l.tactic) : nullptr;
      variant = t != nullptr ? t->describe(l.params) : str(l.params.size(), " bytes of params");
    }
    // A conv/linear layer the INT8 tactics could not run (or that was pinned / never
    // calibrated) is an FP32 fallback of an INT8 build: users must see those.
    const bool int8_capable =
        n.domain() == "kiln" &&
        (n.op_type() == "FusedConv" || n.op_type() == "FusedMatMul" || n.op_type() == "FusedGemm");
    layers.push_back({{"index", i},
                      {"int8_capable", int8_capable},
                      {"name", n.name()},
                      {"type", n.op_type()},
                      {"domain", n.domain()},
                      {"precision", l.precision},
                      {"tactic", l.tactic},
                      {"variant", variant},
                      {"packed", l.packed},
                      {"fused_from", l.fused_from},
                      {"onnx_node_index", n.index()},
                      {"inputs", ins},
                      {"outputs", outs},
                      {"output_shapes", out_shapes},
                      {"output_dtypes", out_types}});
    ++tactic_count[l.tactic];
  }
  j["layers"] = layers;

  if (a.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  std::printf("engine %s (%s, format %u, kiln %s)\n", a.engine.c_str(), mb(span.size).c_str(),
              data->format_version, data->kiln_version.c_str());
  std::printf(
      "  target:   %s\n  built on: %s\n  this machine: %s\n", data->target.to_string().c_str(),
      data->built_on.to_string().c_str(),
      missing.empty() ? "can run it" : str("cannot run it (missing ", missing.size(), ")").c_str());
  nlohmann::json shown_options = j["build_options"];
  nlohmann::json calib, qdq;
  if (shown_options.is_object() && shown_options.contains("int8_calibration")) {
    calib = shown_options["int8_calibration"];
    shown_options.erase("int8_calibration");
  }
  if (shown_options.is_object() && shown_options.contains("explicit_quantization")) {
    qdq = shown_options["explicit_quantization"];
    shown_options.erase("explicit_quantization");
  }
  std::printf("  build options: %s\n", shown_options.dump().c_str());
  const nlohmann::json precision_flags =
      shown_options.is_object() ? shown_options.value("precision", nlohmann::json::object())
                                : nlohmann::json::object();
  if (precision_flags.value("bf16", false)) {
    int bf16 = 0, capable_fp32 = 0;
    for (const auto& l : layers) {
      if (l["precision"] == "bf16")
        ++bf16;
      else if (l["precision"] == "fp32" && l["int8_capable"].get<bool>())
        ++capable_fp32;
    }
    std::printf(
        "  bf16: %d layer(s) compute in BF16 (bfloat16 inputs and weights, FP32 "
        "accumulation and output); %d conv/linear layer(s) kept FP32 (faster, pinned or "
        "no native kernel); all other layers FP32\n",
        bf16, capable_fp32);
  }
  if (precision_flags.value("fp16", false)) {
    int fp16 = 0;
    for (const auto& l : layers) fp16 += l["precision"] == "fp16-weights" ? 1 : 0;
    std::printf(
        "  fp16: %d layer(s) store float16 weights (conv/linear weights, embedding tables) and "
        "compute in FP32 (FP16 storage: no native FP16 arithmetic on x86 before AVX512-FP16); "
        "activations FP32\n",
        fp16);
  }
  if (qdq.is_object()) {
    int int8 = 0;
    for (const auto& l : layers) int8 += l["precision"] == "int8" ? 1 : 0;
    std::printf(
        "  explicit quantization (Q/DQ): %d layer(s) INT8 with the model's scales; %d weight "
        "DequantizeLinear folded; %d activation DequantizeLinear run as written (FP32)\n",
        calib.is_object() ? qdq.value("annotated_layers", 0) : int8, qdq.value("folded_weights", 0),
        qdq.value("kept_dequantize", 0));
    for (const auto& why : qdq.value("kept_reasons", nlohmann::json::array()))
      std::printf("    kept %s\n", why.get<std::string>().c_str());
  }
  if (calib.is_object() || qdq.is_object()) {
    std::vector<std::string> fallback;
    int int8 = 0, chained = 0;
    for (const auto& l : layers) {
      if (l["precision"] == "int8") {
        ++int8;
        chained += l["output_dtypes"].size() == 1 && l["output_dtypes"][0] == "uint8" ? 1 : 0;
      } else if (l["int8_capable"].get<bool>())
        fallback.push_back(l["name"].get<std::string>());
    }
    std::printf(
        "  int8: %d layer(s); scales %s\n", int8,
        !calib.is_object() ? "from the model's Q/DQ nodes"
        : calib.value("from_cache", false)
            ? "from a calibration cache"
            : str(calib.value("algorithm", std::string()), " calibration, ",
                  calib.value("samples", 0), " samples in ", calib.value("batches", 0), " batches")
                  .c_str());
    if (chained > 0)
      std::printf(
          "    %d of them hand their output to INT8 layers as uint8 (requantized in the "
          "epilogue; shown as \"int8>u8\" below)\n",
          chained);
    const nlohmann::json ts = calib.is_object() ? calib.value("tensors", nlohmann::json::array())
                                                : nlohmann::json::array();
    for (size_t k = 0; k < ts.size() && k < 5 && !calib.value("from_cache", false); ++k)
      std::printf("    saturation %.4f%% of '%s' (range %.4g)\n",
                  ts[k].value("saturation", 0.0) * 100, ts[k].value("name", std::string()).c_str(),
                  ts[k].value("amax", 0.0));
    const nlohmann::json errs = calib.is_object() ? calib.value("layers", nlohmann::json::array())
                                                  : nlohmann::json::array();
    auto db = [](const nlohmann::json& v) { return v.is_number() ? v.get<double>() : INFINITY; };
    for (size_t k = 0; k < errs.size() && k < 5; ++k)
      std::printf(
          "    quantization error: SQNR %.1f dB in '%s' (input '%s' %.1f dB, weights "
          "%.1f dB)%s\n",
          db(errs[k]["sqnr_db"]), errs[k].value("layer", std::string()).c_str(),
          errs[k].value("tensor", std::string()).c_str(), db(errs[k]["input_sqnr_db"]),
          db(errs[k]["weight_sqnr_db"]),
          errs[k].value("kept_fp32", false) ? ", kept FP32 (--int8-min-sqnr)" : "");
    if (!fallback.empty()) {
      std::string names;
      for (size_t k = 0; k < fallback.size() && k < 8; ++k) names += (k ? ", " : "") + fallback[k];
      std::printf("    fp32 fallback: %zu conv/linear layer(s): %s%s\n", fallback.size(),
                  names.c_str(), fallback.size() > 8 ? ", …" : "");
    }
  }
  std::printf("  weights: %s in %zu tensors", mb(weight_bytes).c_str(), g.initializers().size());
  if (packed_bytes > 0)
    std::printf(" (%s of them packed at build time for their kernels)", mb(packed_bytes).c_str());
  std::printf("\n");
  for (const auto& t : io)
    std::printf("  %-6s %s: %s%s\n", t["mode"].get<std::string>().c_str(),
                t["name"].get<std::string>().c_str(), t["dtype"].get<std::string>().c_str(),
                t["shape"].dump().c_str());
  for (size_t i = 0; i < data->profiles.size(); ++i) {
    const engine::ProfilePlan& p = data->profiles[i];
    std::printf("  profile %zu:", i);
    for (const auto& [name, r] : p.inputs)
      std::printf(" %s %s..%s", name.c_str(), Dims::of(r.min).to_string().c_str(),
                  Dims::of(r.max).to_string().c_str());
    std::printf(
        "\n    memory: arena %s, liveness lower bound %s (arena/bound %.3f), without "
        "reuse %s\n",
        mb(p.arena_bytes).c_str(), mb(p.lower_bound_bytes).c_str(),
        p.lower_bound_bytes
            ? static_cast<double>(p.arena_bytes) / static_cast<double>(p.lower_bound_bytes)
            : 1.0,
        mb(p.naive_bytes).c_str());
  }
  std::printf("  layers: %zu (", layers.size());
  bool first = true;
  for (const auto& [t, c] : tactic_count) {
    std::printf("%s%s %d", first ? "" : ", ", t.c_str(), c);
    first = false;
  }
  std::printf(")\n");
  const size_t shown = a.all_layers ? layers.size() : std::min<size_t>(layers.size(), 20);
  for (size_t i = 0; i < shown; ++i) {
    const auto& l = layers[i];
    const std::string variant = l["variant"].get<std::string>();
    const std::string tactic = l["tactic"].get<std::string>() +
                               (variant.empty() ? "" : " " + variant) +
                               (l["packed"].empty() ? "" : " [packed]");
    std::string precision = l["precision"].get<std::string>();
    if (precision == "int8" && l["output_dtypes"].size() == 1 && l["output_dtypes"][0] == "uint8")
      precision = "int8>u8";
    std::printf("  %4zu %-28s %-18s %-7s %-36s <- %s\n", i,
                l["name"].get<std::string>().substr(0, 28).c_str(),
                l["type"].get<std::string>().c_str(), precision.c_str(), tactic.c_str(),
                l["fused_from"].dump().c_str());
  }
  if (shown < layers.size())
    std::printf("  … %zu more (--layers shows all, --json gives everything)\n",
                layers.size() - shown);
  return kExitOk;
}

}  // namespace

Runner add_inspect(CLI::App& app) {
  auto a = std::make_shared<InspectArgs>();
  CLI::App* cmd =
      app.add_subcommand("inspect",
                         "Show an engine's layers (fused-from nodes, precision, tactic), profiles, "
                         "memory plan, target and build options.");
  cmd->add_option("engine", a->engine, "Engine file (.engine)")->required();
  cmd->add_flag("--json", a->json, "Print everything as JSON");
  cmd->add_flag("--layers", a->all_layers, "List every layer (default: the first 20)");
  return [a] { return run_inspect(*a); };
}

}  // namespace kiln::tools
