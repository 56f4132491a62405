#include "builder/quantize.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "core/errors.h"
#include "core/half.h"
#include "ops/op_schema.h"
#include "passes/rewrite.h"

namespace kiln::builder {

Result<LayerPrecision> parse_layer_precision(const std::string& spec) {
  const size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
    return err(Code::kInvalidOption, "--layer-precision '", spec,
               "' is not PATTERN:PRECISION (e.g. 'conv1:fp32' or '/encoder/*/Softmax*:fp32')");
  LayerPrecision lp{spec.substr(0, colon), spec.substr(colon + 1)};
  if (lp.precision != "fp32" && lp.precision != "fp16" && lp.precision != "bf16" &&
      lp.precision != "int8")
    return err(Code::kInvalidOption, "--layer-precision '", spec, "': precision '", lp.precision,
               "' is not one of fp32, fp16, bf16, int8");
  return lp;
}

bool layer_matches(const ir::Node& n, const std::string& pattern) {
  auto match = [&](const std::string& name) {
    return name == pattern || fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
  };
  if (match(n.name())) return true;
  for (const std::string& o : n.origins())
    if (match(o)) return true;
  return false;
}

namespace {

// Whether a LayerPrecision pins `n` to `precision`.
bool pinned_to(const ir::Node& n, const std::vector<LayerPrecision>& pinned,
               std::string_view precision) {
  for (const LayerPrecision& p : pinned)
    if (p.precision == precision && layer_matches(n, p.pattern)) return true;
  return false;
}

bool is_kiln(const ir::Node& n, std::string_view op) {
  return n.domain() == ops::kKilnDomain && n.op_type() == op;
}

const ir::Attribute* attr(const ir::Node& n, std::string_view name) {
  return n.attr(name);
}

std::string string_attr(const ir::Node& n, std::string_view name) {
  const ir::Attribute* a = attr(n, name);
  return a != nullptr && a->type == ir::AttrType::kString ? a->s : std::string();
}

// The fused activation leaves nothing below zero.
bool activation_non_negative(const ir::Node& n) {
  const std::string act = string_attr(n, "activation");
  if (act == "Relu" || act == "Sigmoid" || act == "HardSigmoid") return true;
  if (act == "Clip") {
    const ir::Attribute* p = attr(n, "activation_params");
    return p != nullptr && !p->floats.empty() && p->floats[0] >= 0;
  }
  return false;
}

bool float32(const ir::Value* v) {
  return v != nullptr && v->type.dtype == DataType::kFloat32;
}

}  // namespace

bool non_negative(const ir::Value& v) {
  // Bounded walk through shape-only and order-preserving ops.
  const ir::Value* cur = &v;
  for (int depth = 0; depth < 64 && cur != nullptr; ++depth) {
    if (const Tensor* init = cur->initializer()) {
      if (init->dtype() != DataType::kFloat32) return false;
      const float* p = init->data_as<float>();
      return std::all_of(p, p + init->numel(), [](float x) { return x >= 0; });
    }
    const ir::Node* n = cur->producer();
    if (n == nullptr) return false;  // a graph input
    const std::string& op = n->op_type();
    if (n->domain() == ops::kKilnDomain) {
      if (op == "FusedConv" || op == "FusedConvTranspose" || op == "FusedGemm" ||
          op == "FusedMatMul" || op == "FusedElementwise")
        return activation_non_negative(*n);
      // The channels-last pass's pooling (max or average: nothing below its input's minimum).
      if (op == "PoolNhwc") {
        cur = n->input(0);
        continue;
      }
      return false;
    }
    if (!n->domain().empty()) return false;
    if (op == "Relu" || op == "Sigmoid" || op == "Softmax" || op == "Abs" || op == "Exp" ||
        op == "HardSigmoid" || op == "Sqrt")
      return true;
    if (op == "Clip") {
      const ir::Value* lo = n->inputs().size() > 1 ? n->input(1) : nullptr;
      if (lo != nullptr && lo->initializer() != nullptr &&
          lo->initializer()->dtype() == DataType::kFloat32 && lo->initializer()->numel() == 1)
        return lo->initializer()->data_as<float>()[0] >= 0;
      const ir::Attribute* a = attr(*n, "min");
      return a != nullptr && a->f >= 0;
    }
    if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" ||
        op == "GlobalMaxPool" || op == "Reshape" || op == "Flatten" || op == "Transpose" ||
        op == "Squeeze" || op == "Unsqueeze" || op == "Resize" || op == "Identity" ||
        op == "Slice" || op == "Gather" || op == "DepthToSpace" || op == "SpaceToDepth") {
      cur = n->input(0);
      continue;
    }
    if (op == "Concat") {
      for (const ir::Value* in : n->inputs())
        if (in == nullptr || !non_negative(*in)) return false;
      return true;
    }
    return false;
  }
  return false;
}

bool constant_f32(const ir::Value* v, std::initializer_list<size_t> ranks) {
  if (v == nullptr || v->initializer() == nullptr ||
      v->initializer()->dtype() != DataType::kFloat32)
    return false;
  for (size_t r : ranks)
    if (v->initializer()->rank() == r) return true;
  return false;
}

namespace {

// A plain ONNX Conv / Gemm / MatMul with constant weights that no fusion claimed (no
// activation followed it) becomes the kiln op that can carry the INT8 annotation; the fused
// op computes exactly the same (activation none) and keeps the node's output values.
void lift_plain_products(ir::Model& model) {
  passes::PassContext ctx(model, nullptr);
  passes::Editor edit(*model.graph, ctx);
  for (ir::Node* n : model.graph->nodes()) {
    if (!n->domain().empty() || n->outputs().size() != 1) continue;
    const std::string& op = n->op_type();
    std::string to;
    std::vector<std::string> drop;
    if (op == "Conv" && constant_f32(n->input(1), {3, 4})) {
      to = "FusedConv";
    } else if (op == "Gemm" && constant_f32(n->input(1), {2})) {
      to = "FusedGemm";
      drop = {"broadcast"};
    } else if (op == "MatMul" && constant_f32(n->input(1), {2})) {
      to = "FusedMatMul";
    } else {
      continue;
    }
    if (n->inputs().size() > 2 && n->input(2) != nullptr && n->input(2)->initializer() == nullptr)
      continue;
    edit.replace({n}, n, to, std::string(ops::kKilnDomain), n->inputs(),
                 passes::copy_attrs(*n, drop));
  }
  // The replacements were appended at the end: restore the topological order (a one-for-one
  // replacement cannot make a cycle; a layer feeding a later one failed the build's graph
  // check without this).
  if (!model.graph->sort_topologically().ok()) std::abort();
}

// Conv / linear layers with constant float32 weights and float32 activations, minus those a
// LayerPrecision pins to another precision than `precision`.
std::vector<ir::Node*> product_layers(ir::Model& model, const std::vector<LayerPrecision>& pinned,
                                      std::string_view precision) {
  lift_plain_products(model);
  ir::Graph& g = *model.graph;
  std::vector<ir::Node*> out;
  for (ir::Node* n : g.nodes()) {
    bool ok = false;
    if (is_kiln(*n, "FusedConv")) {
      const ir::Value* w = n->input(1);
      ok = w != nullptr && w->initializer() != nullptr &&
           w->initializer()->dtype() == DataType::kFloat32 &&
           (w->initializer()->rank() == 3 || w->initializer()->rank() == 4) &&
           (n->input(2) == nullptr || n->input(2)->initializer() != nullptr);
    } else if (is_kiln(*n, "FusedMatMul") || is_kiln(*n, "FusedGemm")) {
      const ir::Value* b = n->input(1);
      ok = b != nullptr && b->initializer() != nullptr &&
           b->initializer()->dtype() == DataType::kFloat32 && b->initializer()->rank() == 2 &&
           (n->inputs().size() < 3 || n->input(2) == nullptr ||
            n->input(2)->initializer() != nullptr);
    }
    if (!ok || !float32(n->input(0)) || n->outputs().size() != 1 || !float32(n->output(0)))
      continue;
    bool keep = true;
    for (const LayerPrecision& p : pinned)
      if (p.precision != precision && layer_matches(*n, p.pattern)) keep = false;
    if (keep) out.push_back(n);
  }
  return out;
}

}  // namespace

std::vector<Int8Layer> int8_candidates(ir::Model& model,
                                       const std::vector<LayerPrecision>& pinned) {
  std::vector<Int8Layer> out;
  for (ir::Node* n : product_layers(model, pinned, "int8")) {
    Int8Layer l{n, n->input(0)->name(), non_negative(*n->input(0)), {}, false};
    const ir::Value* z = is_kiln(*n, "FusedConv") && n->inputs().size() > 3 ? n->input(3) : nullptr;
    if (float32(z) && z->initializer() == nullptr) {
      l.residual = z->name();
      l.residual_non_negative = non_negative(*z);
    }
    out.push_back(std::move(l));
  }
  return out;
}

namespace {

// Whether input 0 of `n` is a graph input, directly or through layout / shape-only ops.
bool reads_graph_input(const ir::Node& n) {
  const ir::Value* v = n.input(0);
  for (int depth = 0; depth < 16 && v != nullptr; ++depth) {
    const ir::Node* p = v->producer();
    if (p == nullptr) return !v->is_initializer();
    const std::string& op = p->op_type();
    if (!p->domain().empty() || (op != "Transpose" && op != "Reshape" && op != "Flatten" &&
                                 op != "Squeeze" && op != "Unsqueeze" && op != "Identity"))
      return false;
    v = p->input(0);
  }
  return false;
}

}  // namespace

std::vector<Int8Layer> calibration_candidates(std::vector<Int8Layer> layers,
                                              const std::vector<LayerPrecision>& pinned) {
  std::vector<Int8Layer> out;
  for (const Int8Layer& l : layers) {
    // A channels-last convolution reading a signed activation runs INT8 only where a pin asks
    // for it. The kernel can (the input shifted into uint8, see dnnl_conv_tactic.cpp), but
    // the signed activations of the CNNs we measured quantize poorly per tensor: PP-OCR rec's
    // HardSwish outputs (19 such layers) took its INT8 engine from reading 99.7% of text
    // lines like FP32 to 91.7% (minmax; entropy ranges made it read nothing). The model's own
    // input (a normalized image) is not such an activation: its first convolution runs INT8.
    const ir::Attribute* cl = l.node->attr("channels_last");
    if (!l.non_negative && is_kiln(*l.node, "FusedConv") && cl != nullptr && cl->i != 0 &&
        !reads_graph_input(*l.node)) {
      if (!pinned_to(*l.node, pinned, "int8")) continue;
    }
    out.push_back(l);
  }
  return out;
}

int allow_bf16(ir::Model& model, const std::vector<LayerPrecision>& pinned) {
  int n = 0;
  for (ir::Node* node : product_layers(model, pinned, "bf16")) {
    // The model's raw input rounded to 8 significant bits is the largest single BF16 error
    // (PP-OCR det: cosine 0.99872 -> 0.99965 when its first conv stays FP32), and the first
    // layer's few input channels gain little from BF16: it stays FP32 unless pinned to bf16.
    if (reads_graph_input(*node)) {
      if (!pinned_to(*node, pinned, "bf16")) continue;
    }
    node->set_attr(ir::Attribute::make_int("bf16", 1));
    ++n;
  }
  return n;
}

double weight_sqnr_db(const ir::Node& layer) {
  const ir::Value* wv = layer.input(1);
  const Tensor* w = wv != nullptr ? wv->initializer() : nullptr;
  if (w == nullptr || w->dtype() != DataType::kFloat32 || w->rank() < 2) return 0;
  // Output channels: axis 0 of conv weights and of transposed (N x K) linear weights, else 1.
  const ir::Attribute* tb = layer.attr("transB");
  const size_t axis = is_kiln(layer, "FusedConv") || (tb != nullptr && tb->i != 0) ? 0 : 1;
  const std::vector<int64_t>& shape = w->shape();
  size_t outer = 1, inner = 1;
  for (size_t i = 0; i < axis; ++i) outer *= static_cast<size_t>(shape[i]);
  for (size_t i = axis + 1; i < shape.size(); ++i) inner *= static_cast<size_t>(shape[i]);
  const size_t channels = static_cast<size_t>(shape[axis]);
  const float* p = w->data_as<float>();
  std::vector<float> scale(channels, 0.f);
  const ir::Attribute* given = layer.attr("int8_w_scales");
  if (given != nullptr && given->floats.size() == channels) {
    scale = given->floats;
  } else {
    for (size_t o = 0; o < outer; ++o)
      for (size_t c = 0; c < channels; ++c)
        for (size_t i = 0; i < inner; ++i)
          scale[c] = std::max(scale[c], std::fabs(p[(o * channels + c) * inner + i]) / 127.f);
  }
  double signal = 0, noise = 0;
  for (size_t o = 0; o < outer; ++o)
    for (size_t c = 0; c < channels; ++c)
      for (size_t i = 0; i < inner; ++i) {
        const double x = p[(o * channels + c) * inner + i];
        const double q =
            scale[c] > 0 ? std::clamp(std::nearbyint(x / scale[c]), -127.0, 127.0) * scale[c] : 0;
        signal += x * x;
        noise += (x - q) * (x - q);
      }
  if (signal == 0) return 0;
  if (noise == 0) return std::numeric_limits<double>::infinity();
  return 10 * std::log10(signal / noise);
}

std::vector<const ir::Node*> store_fp16_weights(ir::Model& model,
                                                const std::vector<LayerPrecision>& pinned,
                                                std::set<std::string>& names) {
  // Conv/linear layers read their weights as input 1; embedding lookups (Gather) their table
  // as input 0.
  std::vector<std::pair<ir::Node*, size_t>> readers;
  for (ir::Node* n : product_layers(model, pinned, "fp16")) readers.push_back({n, 1});
  for (ir::Node* n : model.graph->nodes()) {
    if (!n->domain().empty() || n->op_type() != "Gather" || n->input(0) == nullptr) continue;
    const Tensor* t = n->input(0)->initializer();
    bool keep = t != nullptr && t->dtype() == DataType::kFloat32 && t->numel() >= 4096;
    for (const LayerPrecision& p : pinned)
      if (p.precision != "fp16" && layer_matches(*n, p.pattern)) keep = false;
    if (keep) readers.push_back({n, 0});
  }
  std::set<std::pair<const ir::Node*, size_t>> selected(readers.begin(), readers.end());
  std::vector<const ir::Node*> out;
  for (const auto& [n, slot] : readers) {
    ir::Value* w = n->input(slot);
    const Tensor* t = w->initializer();
    if (names.count(w->name()) != 0) {
      out.push_back(n);
      continue;
    }
    // Every reader of the tensor must be one of those (a shared tensor is rounded for all).
    bool ok = !w->is_graph_output();
    for (const ir::Node* c : w->consumers())
      for (size_t i = 0; i < c->inputs().size(); ++i)
        if (c->input(i) == w) ok = ok && selected.count({c, i}) != 0;
    const float* p = t->data_as<float>();
    for (int64_t i = 0; ok && i < t->numel(); ++i) ok = std::fabs(p[i]) <= 65504.f;
    if (!ok) continue;
    Tensor rounded = Tensor::allocate(DataType::kFloat32, t->shape()).value();
    float* r = rounded.data_as<float>();
    for (int64_t i = 0; i < t->numel(); ++i) r[i] = float_from_half(half_from_float(p[i]));
    model.graph->set_initializer(w, std::move(rounded));
    names.insert(w->name());
    out.push_back(n);
  }
  return out;
}

int annotate_int8(const std::vector<Int8Layer>& layers, const std::map<std::string, float>& amax) {
  int done = 0;
  for (const Int8Layer& l : layers) {
    auto it = amax.find(l.input);
    if (it == amax.end() || !(it->second > 0) || !std::isfinite(it->second)) continue;
    const float scale = it->second / (l.non_negative ? 255.f : 127.f);
    l.node->set_attr(ir::Attribute::make_float("int8_x_scale", scale));
    l.node->set_attr(ir::Attribute::make_int("int8_x_unsigned", l.non_negative ? 1 : 0));
    auto z = l.residual.empty() ? amax.end() : amax.find(l.residual);
    if (z != amax.end() && z->second > 0 && std::isfinite(z->second)) {
      const float zs = z->second / (l.residual_non_negative ? 255.f : 127.f);
      l.node->set_attr(ir::Attribute::make_float("int8_z_scale", zs));
      l.node->set_attr(ir::Attribute::make_int("int8_z_unsigned", l.residual_non_negative ? 1 : 0));
    }
    ++done;
  }
  return done;
}

}  // namespace kiln::builder
