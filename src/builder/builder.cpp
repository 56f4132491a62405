// Builder: validates the configuration and profiles (every problem at once), picks a tactic
// per layer on the target device, plans activation memory per profile at its max shapes, and
// writes the engine.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "backends/backend.h"
#include "builder/autotune.h"
#include "builder/calibrate.h"
#include "builder/explicit_quant.h"
#include "builder/memory_planner.h"
#include "builder/profiles.h"
#include "builder/quantize.h"
#include "builder/requantize.h"
#include "builder/timing_cache.h"
#include "core/errors.h"
#include "engine/engine_file.h"
#include "kiln/kiln.h"
#include "ops/shape_inference.h"
#include "passes/pass_manager.h"

namespace kiln {
namespace {

using builder::InputRanges;

std::string precision_of(const ir::Node& n) {
  const ir::Value* out = n.output(0);
  if (out == nullptr) return "none";
  switch (out->type.dtype) {
    case DataType::kFloat32:
      return "fp32";
    case DataType::kFloat16:
      return "fp16";
    case DataType::kBFloat16:
      return "bf16";
    case DataType::kFloat64:
      return "fp64";
    case DataType::kInt8:
      return "int8";
    case DataType::kUInt8:
      return "uint8";
    case DataType::kUndefined:
      return "unknown";
    default:
      return data_type_name(out->type.dtype);
  }
}

// JSON has no infinity (a tensor or weights that quantize exactly).
nlohmann::json finite_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json options_json(const BuilderConfig& c) {
  nlohmann::json profiles = nlohmann::json::array();
  for (const OptimizationProfile& p : c.profiles) {
    nlohmann::json inputs = nlohmann::json::object();
    for (const auto& [name, r] : p.shapes())
      inputs[name] = {{"min", r.min}, {"opt", r.opt}, {"max", r.max}};
    profiles.push_back(inputs);
  }
  return {{"device", device_kind_name(c.device)},
          {"precision",
           {{"fp16", c.precision.fp16}, {"bf16", c.precision.bf16}, {"int8", c.precision.int8}}},
          {"workspace_bytes", c.workspace_bytes},
          {"optimization_level", c.optimization_level},
          {"timing_cache", c.timing_cache_path},
          {"autotune", c.autotune},
          {"pack_weights", c.pack_weights},
          {"layer_precisions", c.layer_precisions},
          {"profiles", profiles}};
}

std::optional<uint64_t> planned_bytes(const ir::Value& v) {
  const std::optional<uint64_t> b = v.type.static_bytes();
  return b && *b != UINT64_MAX ? b : std::nullopt;  // an overflowing size is planned dynamic
}

class Build {
 public:
  Build(const Network& net, const BuilderConfig& cfg, BuildSummary& summary)
      : net_(net), cfg_(cfg), summary_(summary) {}

  Result<std::vector<uint8_t>> run() {
    validate();
    if (!problems_.empty()) return fail();
    phase("optimize", 0);
    Status o = optimize();
    if (!o.ok()) return report(o);
    if (cfg_.precision.int8 || !explicit_.layers.empty()) {
      phase("calibrate", 0);
      Status q = quantize();
      if (!q.ok()) return report(q);
      if (cfg_.calibration.chain) chain_int8();
      phase("calibrate", 1);
    }
    // After calibration (which measures the FP32 model), before tactics are packed.
    if (cfg_.precision.fp16) {
      for (const ir::Node* n :
           builder::store_fp16_weights(*optimized_, pinned_, data_.half_initializers))
        fp16_layers_.insert(n);
      log(LogSeverity::kInfo,
          str("fp16: ", fp16_layers_.size(),
              " layer(s) (conv/linear, embedding lookups) store their weights as float16 and "
              "compute in FP32 (no native FP16 arithmetic on this CPU)"));
    }
    // After calibration, whose FP32 engine must not pick BF16 kernels.
    if (cfg_.precision.bf16) {
      const int n = builder::allow_bf16(*optimized_, pinned_);
      log(LogSeverity::kInfo, str("bf16: ", n,
                                  " conv/linear layer(s) may run BF16; the "
                                  "autotuner picks BF16 or FP32 per layer"));
    }
    phase("select tactics", 0);
    select_tactics();
    if (!problems_.empty()) return fail();
    // The planner works on private copies of the graph (shape inference annotates values),
    // decoded from a first serialization without plans.
    KILN_ASSIGN_OR_RETURN(draft_, engine::write_engine(data_, model()));
    for (size_t p = 0; p < ranges_.ranges.size(); ++p) {
      phase("plan memory", static_cast<double>(p) / static_cast<double>(ranges_.ranges.size()));
      plan_profile(p);
    }
    if (!problems_.empty()) return fail();
    phase("plan memory", 1);
    nlohmann::json options = options_json(cfg_);
    if (cfg_.precision.int8) {
      const CalibrationReport& r = summary_.calibration;
      nlohmann::json tensors = nlohmann::json::array();
      for (const CalibratedTensor& t : r.tensors)
        tensors.push_back({{"name", t.name},
                           {"amax", t.amax},
                           {"saturation", t.saturation},
                           {"sqnr_db", finite_or_null(t.sqnr_db)}});
      nlohmann::json errors = nlohmann::json::array();
      for (const LayerQuantError& e : r.layers)
        errors.push_back({{"layer", e.layer},
                          {"tensor", e.tensor},
                          {"input_sqnr_db", finite_or_null(e.input_sqnr_db)},
                          {"weight_sqnr_db", finite_or_null(e.weight_sqnr_db)},
                          {"sqnr_db", finite_or_null(e.sqnr_db)},
                          {"kept_fp32", e.kept_fp32}});
      options["int8_calibration"] = {{"algorithm", r.algorithm},
                                     {"from_cache", r.from_cache},
                                     {"samples", r.samples},
                                     {"batches", r.batches},
                                     {"int8_layers", summary_.int8_layers},
                                     {"int8_chained", summary_.int8_chained},
                                     {"tensors", tensors},
                                     {"min_sqnr_db", cfg_.calibration.min_sqnr_db},
                                     {"layers", errors}};
    }
    if (!explicit_.empty())
      options["explicit_quantization"] = {
          {"folded_weights", explicit_.folded_weights}, {"absorbed_inputs", explicit_.absorbed},
          {"kept_dequantize", explicit_.kept},          {"kept_reasons", explicit_.why_kept},
          {"annotated_layers", explicit_layers_},       {"int8_layers", summary_.int8_layers},
          {"int8_chained", summary_.int8_chained}};
    data_.build_options = options.dump();
    phase("serialize", 0);
    KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, engine::write_engine(data_, model()));
    phase("serialize", 1);
    if (!cfg_.timing_cache_path.empty()) {
      Status s = cache_.save(cfg_.timing_cache_path);
      if (!s.ok()) return report(s);
    }
    log(LogSeverity::kInfo, str("built engine: ", data_.layers.size(), " layers, ",
                                data_.profiles.size(), " profile(s), ", bytes.size(), " bytes"));
    return bytes;
  }

 private:
  const ir::Model& model() const { return *optimized_; }

  // The optimizer works on a private copy of the network's model (a Network can be built many
  // times with different options); the copy's weights are views into copy_bytes_.
  Status optimize() {
    engine::EngineData shell;
    shell.layers.resize(net_.model().graph->num_nodes());
    KILN_ASSIGN_OR_RETURN(copy_bytes_, engine::write_engine(shell, net_.model()));
    KILN_ASSIGN_OR_RETURN(optimized_,
                          engine::read_engine_model({copy_bytes_.data(), copy_bytes_.size()}));
    // Explicit quantization first: Q/DQ pairs between a layer and its producer would keep the
    // optimizer from fusing them. Level 0 runs the graph as imported, pairs included.
    if (cfg_.optimization_level >= 1 && builder::has_qdq(*optimized_->graph)) {
      explicit_ = builder::absorb_qdq(*optimized_);
      log(LogSeverity::kInfo, str("explicit quantization: ", explicit_.folded_weights,
                                  " weight DequantizeLinear(s) folded, ", explicit_.absorbed,
                                  " layer input(s) take their Q/DQ scale, ", explicit_.kept,
                                  " activation DequantizeLinear(s) run as written"));
      for (const std::string& why : explicit_.why_kept)
        log(LogSeverity::kVerbose, "explicit quantization: kept " + why);
    }
    passes::OptimizeOptions o;
    o.level = cfg_.optimization_level;
    o.disabled = cfg_.disabled_passes;
    o.dump_dir = cfg_.dump_ir_dir;
    o.logger = cfg_.logger;
    KILN_ASSIGN_OR_RETURN(passes::OptimizeReport r, passes::optimize(*optimized_, o));
    // Values new nodes produce get their types from the same inference the planner uses.
    std::vector<Status> found;
    ops::infer_shapes(*optimized_->graph, {}, found);
    for (const Status& s : found)
      if (s.severity() == Severity::kError)
        return err(Code::kInternal,
                   "after optimization the graph does not type-check: ", s.message())
            .with_fix(
                "rebuild with --opt-level 0 or --disable-pass for the pass that made the "
                "node (--dump-ir DIR shows each pass's result), and report the model");
    summary_.nodes = r.nodes_before;
    summary_.layers = r.nodes_after;
    summary_.passes = r.counts;
    summary_.text = r.summary();
    log(LogSeverity::kInfo, "optimizer: " + summary_.text);
    phase("optimize", 1);
    return Status::Ok();
  }

  void phase(std::string_view name, double fraction) {
    if (cfg_.progress) cfg_.progress(name, fraction);
  }
  void log(LogSeverity s, const std::string& m) {
    if (cfg_.logger) cfg_.logger->log(s, m);
  }
  Status report(Status s) {
    if (cfg_.error_recorder) cfg_.error_recorder->report(s);
    log(LogSeverity::kError, s.to_string());
    return s;
  }
  Status fail() {
    for (size_t i = 1; i < problems_.size(); ++i) report(problems_[i]);
    return report(problems_.front());
  }

  void validate() {
    if (cfg_.optimization_level < 0 || cfg_.optimization_level > 3)
      problems_.push_back(err(Code::kInvalidOption, "optimization level ", cfg_.optimization_level,
                              " is outside 0..3"));
    Result<backends::Device*> d = backends::device_for(cfg_.device);
    if (!d.ok())
      problems_.push_back(d.status());
    else
      device_ = *d;
    for (const std::string& spec : cfg_.layer_precisions) {
      Result<builder::LayerPrecision> lp = builder::parse_layer_precision(spec);
      if (!lp.ok())
        problems_.push_back(lp.status());
      else
        pinned_.push_back(*lp);
    }
    if (cfg_.precision.int8) {
      const Int8Calibration& c = cfg_.calibration;
      // A Q/DQ model carries its own scales (layers without them then stay fp32).
      if (c.calibrator == nullptr && c.cache_path.empty() && !builder::has_qdq(*net_.model().graph))
        problems_.push_back(
            err(Code::kCalibNoData, "--int8 needs calibration data or a calibration cache")
                .with_fix("give --calib DIR (.npy batches of representative inputs) or "
                          "--calib-cache FILE from an earlier calibration of this model"));
    }
    if (!cfg_.timing_cache_path.empty()) {
      Status s = cache_.load(cfg_.timing_cache_path);
      if (!s.ok()) problems_.push_back(s);
    }
    ranges_ = builder::resolve_profiles(*net_.model().graph, cfg_.profiles, problems_);
    for (const std::string& name : cfg_.disabled_passes)
      if (passes::find_pass(name) == nullptr)
        problems_.push_back(err(Code::kInvalidOption, "--disable-pass '", name,
                                "' names no optimizer pass (`kiln passes` lists them)"));
  }

  // INT8: the layers that can run it get the calibrated scale of their input (from the
  // calibrator, or the calibration cache), which makes the INT8 tactics candidates for them.
  Status quantize() {
    std::vector<builder::Int8Layer> layers = builder::int8_candidates(*optimized_, pinned_);
    if (!explicit_.layers.empty()) layers = annotate_explicit(std::move(layers));
    const Int8Calibration& c = cfg_.calibration;
    if (!cfg_.precision.int8 || (c.calibrator == nullptr && c.cache_path.empty())) {
      if (!layers.empty())
        log(LogSeverity::kInfo, str("explicit quantization: ", layers.size(),
                                    " conv/linear layer(s) without a Q/DQ scale stay fp32",
                                    cfg_.precision.int8 ? " (no calibration data)" : ""));
      return Status::Ok();
    }
    layers = builder::calibration_candidates(std::move(layers), pinned_);
    if (layers.empty()) {
      log(LogSeverity::kWarning, "--int8: no layer of this model can run INT8; all stay fp32");
      return Status::Ok();
    }
    std::vector<std::string> tensors;
    for (const builder::Int8Layer& l : layers)
      if (std::find(tensors.begin(), tensors.end(), l.input) == tensors.end())
        tensors.push_back(l.input);
    builder::CalibrationContext ctx{*optimized_, tensors, {}, {}, cfg_, model_key()};
    // Residuals: an INT8 chain may hand them over quantized.
    for (const builder::Int8Layer& l : layers)
      if (cfg_.calibration.chain && !l.residual.empty()) ctx.optional_tensors.push_back(l.residual);
    for (const builder::Int8Layer& l : layers) {
      if (l.non_negative) ctx.unsigned_tensors.insert(l.input);
      if (!l.residual.empty() && l.residual_non_negative) ctx.unsigned_tensors.insert(l.residual);
    }
    using Ranges = std::map<std::string, float>;
    KILN_ASSIGN_OR_RETURN(Ranges amax, builder::calibrate(ctx, summary_.calibration));
    layers = rank_quantization_error(std::move(layers), amax);
    const int annotated = builder::annotate_int8(layers, amax);
    const CalibrationReport& r = summary_.calibration;
    log(LogSeverity::kInfo,
        str("int8: ", annotated, " of ", layers.size(), " candidate layer(s) calibrated (",
            r.from_cache ? "from the cache " + cfg_.calibration.cache_path
                         : str(r.algorithm, ", ", r.samples, " samples in ", r.batches, " batches"),
            ")"));
    for (size_t i = 0; i < r.tensors.size() && i < 5; ++i)
      log(LogSeverity::kInfo, str("int8: saturation ", r.tensors[i].saturation * 100, "% of '",
                                  r.tensors[i].name, "' (range ", r.tensors[i].amax, ")"));
    return Status::Ok();
  }

  // INT8 layers feeding INT8 layers hand over uint8 (builder/requantize.cpp).
  void chain_int8() {
    auto runs_int8 = [this](const ir::Node& n) {
      const ops::OpSchema* schema = ops::OpRegistry::builtin().find(
          n.domain(), n.op_type(), ops::effective_opset(n.domain(), n.opset()));
      if (schema == nullptr || device_ == nullptr) return false;
      for (const backends::Tactic* t : device_->tactics())
        if (t->name().ends_with(".int8") && allowed(*t) && t->supports(n, *schema)) return true;
      return false;
    };
    summary_.int8_chained = builder::chain_int8(*optimized_->graph, runs_int8);
    if (summary_.int8_chained > 0)
      log(LogSeverity::kInfo, str("int8: ", summary_.int8_chained,
                                  " layer output(s) requantized to uint8 in the epilogue (read "
                                  "only by INT8 layers)"));
  }

  // The calibration report's per-layer quantization error (input from its histogram, weights
  // exactly), largest first; returns the layers that may run INT8: those at or above
  // --int8-min-sqnr. A cache has no histograms: no ranking, every layer may.
  std::vector<builder::Int8Layer> rank_quantization_error(
      std::vector<builder::Int8Layer> layers, const std::map<std::string, float>& amax) {
    CalibrationReport& r = summary_.calibration;
    if (r.from_cache) return layers;
    std::map<std::string, double> input_sqnr;
    for (const CalibratedTensor& t : r.tensors) input_sqnr[t.name] = t.sqnr_db;
    const double floor_db = cfg_.calibration.min_sqnr_db;
    std::vector<builder::Int8Layer> keep;
    for (const builder::Int8Layer& l : layers) {
      auto it = input_sqnr.find(l.input);
      if (it == input_sqnr.end() || amax.count(l.input) == 0) {
        keep.push_back(l);
        continue;
      }
      LayerQuantError e{l.node->name(), l.input, it->second, builder::weight_sqnr_db(*l.node)};
      // Noise-to-signal ratios add: 10^(-sqnr/10) each.
      e.sqnr_db = -10 * std::log10(std::pow(10.0, -e.input_sqnr_db / 10) +
                                   std::pow(10.0, -e.weight_sqnr_db / 10));
      e.kept_fp32 = floor_db > 0 && e.sqnr_db < floor_db;
      if (!e.kept_fp32) keep.push_back(l);
      r.layers.push_back(std::move(e));
    }
    std::stable_sort(
        r.layers.begin(), r.layers.end(),
        [](const LayerQuantError& a, const LayerQuantError& b) { return a.sqnr_db < b.sqnr_db; });
    int kept = 0;
    for (const LayerQuantError& e : r.layers) kept += e.kept_fp32 ? 1 : 0;
    for (size_t i = 0; i < r.layers.size() && i < 5; ++i)
      log(LogSeverity::kInfo,
          str("int8: quantization error: layer '", r.layers[i].layer, "' SQNR ",
              fixed(r.layers[i].sqnr_db), " dB (input '", r.layers[i].tensor, "' ",
              fixed(r.layers[i].input_sqnr_db), " dB, weights ", fixed(r.layers[i].weight_sqnr_db),
              " dB)", r.layers[i].kept_fp32 ? ": kept FP32" : ""));
    if (floor_db > 0)
      log(LogSeverity::kInfo, str("int8: ", kept, " layer(s) below --int8-min-sqnr ",
                                  fixed(floor_db), " dB stay FP32"));
    return keep;
  }

  static std::string fixed(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
  }

  // Layers whose input has a Q/DQ scale get it (and the model's weight scales where they still
  // apply); returns the others.
  std::vector<builder::Int8Layer> annotate_explicit(std::vector<builder::Int8Layer> layers) {
    std::vector<builder::Int8Layer> rest;
    int annotated = 0, own_weights = 0;
    for (const builder::Int8Layer& l : layers) {
      const builder::ExplicitScales::Activation* a =
          builder::explicit_activation(explicit_, *l.node);
      if (a == nullptr) {
        rest.push_back(l);
        continue;
      }
      l.node->set_attr(ir::Attribute::make_float("int8_x_scale", a->scale));
      l.node->set_attr(ir::Attribute::make_int("int8_x_unsigned", a->is_unsigned ? 1 : 0));
      if (a->zero_point != 0)
        l.node->set_attr(ir::Attribute::make_int("int8_x_zero_point", a->zero_point));
      const ir::Attribute* tb = l.node->attr("transB");
      const int64_t axis =
          l.node->op_type() == "FusedConv" ? 0 : (tb != nullptr && tb->i != 0 ? 0 : 1);
      std::vector<float> ws = builder::explicit_weight_scales(explicit_, *l.node->input(1), axis);
      if (ws.empty())
        ++own_weights;
      else
        l.node->set_attr(ir::Attribute::make_floats("int8_w_scales", std::move(ws)));
      ++annotated;
    }
    explicit_layers_ = annotated;
    log(LogSeverity::kInfo,
        str("explicit quantization: ", annotated, " layer(s) INT8 with the model's scales",
            own_weights > 0 ? str(" (", own_weights,
                                  " quantize their weights with their own per-channel scales: "
                                  "the model's were per-tensor on another axis or rewritten "
                                  "by the optimizer)")
                            : std::string()));
    return rest;
  }

  // Identifies the model a calibration cache belongs to: its graph and weights as imported.
  std::string model_key() const { return builder::hex_digest(copy_bytes_); }

  bool allowed(const backends::Tactic& t) const {
    if (cfg_.allowed_tactics.empty()) return true;
    for (const std::string& a : cfg_.allowed_tactics)
      if (t.name().substr(0, a.size()) == a) return true;
    return false;
  }

  // A copy of the optimized graph whose values carry profile 0's opt shapes: what the
  // autotuner times kernels at. nullptr when it cannot be made (then no timing).
  std::unique_ptr<ir::Model> model_at_opt() {
    engine::EngineData shell;
    shell.layers.resize(model().graph->num_nodes());
    Result<std::vector<uint8_t>> bytes = engine::write_engine(shell, model());
    if (!bytes.ok() || ranges_.ranges.empty()) {
      log(LogSeverity::kWarning,
          "autotune: no opt-shape copy of the graph (" +
              (bytes.ok() ? std::string("no profile") : bytes.status().to_string()) +
              "); tactics are chosen without timing");
      return nullptr;
    }
    opt_bytes_ = std::move(bytes).value();
    Result<std::unique_ptr<ir::Model>> copy =
        engine::read_engine_model({opt_bytes_.data(), opt_bytes_.size()});
    if (!copy.ok()) {
      log(LogSeverity::kWarning, "autotune: " + copy.status().to_string());
      return nullptr;
    }
    ir::Graph& g = *(*copy)->graph;
    for (size_t k = 0; k < ranges_.inputs.size(); ++k)
      if (ir::Value* v = g.find(ranges_.inputs[k]->name()))
        v->type.shape = Dims::of(ranges_.ranges[0][k].opt);
    std::vector<Status> found;
    ops::infer_shapes(g, {}, found);
    return std::move(copy).value();
  }

  void select_tactics() {
    const std::vector<ir::Node*> nodes = model().graph->nodes();
    const bool timing = cfg_.autotune && cfg_.optimization_level >= 1;
    std::unique_ptr<ir::Model> at_opt = timing || cfg_.pack_weights ? model_at_opt() : nullptr;
    const std::vector<ir::Node*> opt_nodes =
        at_opt ? at_opt->graph->nodes() : std::vector<ir::Node*>{};
    std::vector<std::string> features;
    int timed_layers = 0, cached_layers = 0, timed_runs = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < nodes.size(); ++i) {
      const ir::Node& n = *nodes[i];
      const ops::OpSchema* schema = ops::OpRegistry::builtin().find(
          n.domain(), n.op_type(), ops::effective_opset(n.domain(), n.opset()));
      std::vector<const backends::Tactic*> usable;
      if (schema != nullptr)
        for (const backends::Tactic* t : device_->tactics()) {
          if (!allowed(*t) || !t->supports(n, *schema)) continue;
          if (cfg_.workspace_bytes > 0 && t->workspace_bytes(n) > cfg_.workspace_bytes) continue;
          usable.push_back(t);
        }
      if (usable.empty()) {
        problems_.push_back(err(Code::kNoKernel, "no ", device_kind_name(cfg_.device),
                                " tactic implements ", n.op_type(), " at opset ", n.opset(),
                                cfg_.workspace_bytes > 0 ? " within the workspace limit" : "",
                                cfg_.allowed_tactics.empty() ? "" : " among the allowed tactics")
                                .with_node(n.ref()));
        continue;
      }
      // The reference tactic is the fallback, not a candidate, when a faster one exists.
      if (usable.size() > 1 && usable.back()->name() == "cpu.reference") usable.pop_back();
      const ir::Node& at = i < opt_nodes.size() ? *opt_nodes[i] : n;
      builder::TacticChoice c =
          builder::choose_tactic(at, *schema, usable, timing && !opt_nodes.empty(), cache_);
      if (c.timed > 0) ++timed_layers;
      if (c.candidates > 1 && c.timed == 0) ++cached_layers;
      timed_runs += c.timed;
      const backends::Tactic* chosen = c.tactic;
      tactics_.push_back(chosen);
      schemas_.push_back(schema);
      for (const std::string& f : chosen->required_features()) features.push_back(f);
      engine::Layer layer;
      layer.tactic = std::string(chosen->name());
      layer.params = c.variant.params;
      layer.precision = precision_of(n);
      // Counted by what the kernel computes: a QuantizeLinear run as written outputs int8
      // but is no INT8 layer.
      const std::string_view tactic = chosen->name();
      if (tactic.ends_with(".int8")) {
        layer.precision = "int8";
        ++summary_.int8_layers;
      }
      if (tactic.ends_with(".bf16")) {
        layer.precision = "bf16";
        ++summary_.bf16_layers;
      } else if (fp16_layers_.count(&n) != 0 && layer.precision == "fp32") {
        layer.precision = "fp16-weights";
        ++summary_.fp16_layers;
      }
      layer.fused_from = n.origins();
      // A packed float32 copy of float16-stored weights would undo the saving: those are
      // packed when the engine loads.
      if (cfg_.pack_weights && i < opt_nodes.size() && layer.precision != "fp16-weights")
        pack(i, *chosen, at, *schema, layer);
      if (c.candidates > 1)
        log(LogSeverity::kVerbose,
            str("layer ", i, " ", n.name(), ": ", chosen->name(),
                c.variant.label.empty() ? "" : " " + c.variant.label, " of ", c.candidates,
                " candidates", c.ms >= 0 ? str(", ", c.ms, " ms") : std::string()));
      data_.layers.push_back(std::move(layer));
      phase("select tactics", static_cast<double>(i + 1) / static_cast<double>(nodes.size()));
    }
    device_->run_finished();  // the timing runs' workers must not outlive the build
    if (cfg_.precision.bf16 && summary_.bf16_layers == 0)
      log(LogSeverity::kWarning,
          "--bf16: no layer runs BF16 (the CPU has no native BF16 — AVX512-BF16 — or FP32 was "
          "faster for every layer)");
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (timing)
      log(LogSeverity::kInfo,
          str("autotune: ", timed_layers, " layer(s) timed (", timed_runs, " candidate kernels), ",
              cached_layers, " from the timing cache, in ", secs, " s"));
    summary_.timed_layers = timed_layers;
    summary_.cached_layers = cached_layers;
    summary_.tuning_seconds = secs;
    if (summary_.packed_layers > 0)
      log(LogSeverity::kInfo, str("packed the weights of ", summary_.packed_layers, " layer(s) (",
                                  summary_.packed_bytes / 1000000.0, " MB) into the engine"));
    std::sort(features.begin(), features.end());
    features.erase(std::unique(features.begin(), features.end()), features.end());
    data_.kiln_version = kiln::version();
    data_.built_on = engine::host_fingerprint();
    data_.target.device = device_kind_name(cfg_.device);
    data_.target.arch = data_.built_on.arch;
    data_.target.features = features;
  }

  // The layer's constants packed by its tactic at the opt shapes, added to the engine's main
  // graph as uint8 initializers the layer names. A tactic that cannot pack leaves the layer to
  // pack at load (the engine still runs; only loading is slower), so it is a warning.
  void pack(size_t i, const backends::Tactic& t, const ir::Node& at, const ops::OpSchema& schema,
            engine::Layer& layer) {
    Result<std::vector<backends::Tactic::PackedConstant>> packed = t.pack(at, schema, layer.params);
    if (!packed.ok()) {
      log(LogSeverity::kWarning, str("layer ", i, " (", at.name(),
                                     "): weights not packed at build "
                                     "time, the engine packs them at load: ",
                                     packed.status().to_string()));
      return;
    }
    ir::Graph& g = *optimized_->graph;
    for (backends::Tactic::PackedConstant& c : *packed) {
      std::string name = str("kiln.packed/", i, "/", c.tag);
      for (int k = 1; g.find(name) != nullptr; ++k)
        name = str("kiln.packed/", i, "/", c.tag, ".", k);
      const uint64_t bytes = c.data.nbytes();
      Result<ir::Value*> v = g.add_initializer(name, std::move(c.data));
      if (!v.ok()) {
        problems_.push_back(v.status());
        return;
      }
      layer.packed.push_back(name);
      summary_.packed_bytes += bytes;
    }
    if (!layer.packed.empty()) ++summary_.packed_layers;
  }

  // Shapes at the profile's max (what the arena is sized for) and min (so a range that breaks
  // some node at its small end is refused now, not at run time).
  void plan_profile(size_t p) {
    const engine::ByteSpan span{draft_.data(), draft_.size()};
    std::unique_ptr<ir::Model> at_max;
    for (int end = 0; end < 2; ++end) {
      Result<std::unique_ptr<ir::Model>> copy = engine::read_engine_model(span);
      if (!copy.ok()) {
        problems_.push_back(copy.status());
        return;
      }
      ir::Graph& g = *(*copy)->graph;
      for (size_t k = 0; k < ranges_.inputs.size(); ++k) {
        const engine::ShapeRange& r = ranges_.ranges[p][k];
        if (ir::Value* v = g.find(ranges_.inputs[k]->name()))
          v->type.shape = Dims::of(end == 0 ? r.max : r.min);
      }
      std::vector<Status> found;
      ops::infer_shapes(g, {}, found);
      for (const Status& s : found) {
        if (s.severity() != Severity::kError) continue;
        Status wrapped(s.code(), str("at the ", end == 0 ? "max" : "min", " shapes of profile ", p,
                                     ": ", s.message()));
        if (s.node() != nullptr) wrapped.with_node(*s.node());
        wrapped.with_fix(
            "change the profile's range so every node accepts its shapes (kiln check "
            "--shapes shows how sizes propagate), or fix the model");
        problems_.push_back(std::move(wrapped));
      }
      if (end == 0) at_max = std::move(copy).value();
    }
    const ir::Graph& g = *at_max->graph;
    std::unordered_map<const ir::Node*, size_t> index;
    const std::vector<ir::Node*> nodes = g.nodes();
    for (size_t i = 0; i < nodes.size(); ++i) index[nodes[i]] = i;
    builder::GraphMemoryPlan plan = builder::plan_graph_memory(
        g, [](const ir::Value& v) { return planned_bytes(v); },
        [&](const ir::Node& n, size_t input) {
          const size_t i = index.at(&n);
          return tactics_[i]->allows_inplace(n, *schemas_[i], input);
        },
        engine::kArenaAlignment);
    engine::ProfilePlan out;
    for (size_t k = 0; k < ranges_.inputs.size(); ++k)
      out.inputs.emplace_back(ranges_.inputs[k]->name(), ranges_.ranges[p][k]);
    out.arena_bytes = plan.arena_bytes;
    out.naive_bytes = plan.naive_bytes;
    out.lower_bound_bytes = plan.lower_bound_bytes;
    for (const auto& s : plan.slots)
      out.slots.push_back({s.value->name(), s.offset, s.bytes,
                           s.inplace_of ? s.inplace_of->name() : std::string(), false});
    for (const ir::Value* v : plan.dynamic) out.slots.push_back({v->name(), 0, 0, "", true});
    data_.profiles.push_back(std::move(out));
  }

  const Network& net_;
  const BuilderConfig& cfg_;
  std::vector<builder::LayerPrecision> pinned_;
  BuildSummary& summary_;
  std::vector<uint8_t> copy_bytes_;
  std::unique_ptr<ir::Model> optimized_;
  builder::ExplicitScales explicit_;       // what the model's Q/DQ pairs said (explicit_quant.h)
  int explicit_layers_ = 0;                // layers annotated from them
  std::set<const ir::Node*> fp16_layers_;  // layers whose weights the engine stores as float16
  std::vector<Status> problems_;
  backends::Device* device_ = nullptr;
  InputRanges ranges_;
  builder::TimingCache cache_;
  engine::EngineData data_;
  std::vector<const backends::Tactic*> tactics_;
  std::vector<const ops::OpSchema*> schemas_;
  std::vector<uint8_t> draft_;
  std::vector<uint8_t> opt_bytes_;
};

}  // namespace

Result<std::vector<uint8_t>> Builder::build_serialized(const Network& network,
                                                       const BuilderConfig& config) {
  summary_ = {};
  return Build(network, config, summary_).run();
}

}  // namespace kiln
