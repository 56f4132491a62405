#include "builder/explicit_quant.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "builder/quantize.h"
#include "core/errors.h"
#include "passes/rewrite.h"

namespace kiln::builder {
namespace {

constexpr size_t kMaxReasons = 8;

bool is_onnx(const ir::Node& n, std::string_view op) {
  return n.domain().empty() && n.op_type() == op;
}

int64_t int_attr(const ir::Node& n, std::string_view name, int64_t fallback) {
  const ir::Attribute* a = n.attr(name);
  return a != nullptr && a->type == ir::AttrType::kInt ? a->i : fallback;
}

const Tensor* constant(const ir::Node& n, size_t i) {
  return i < n.inputs().size() && n.input(i) != nullptr ? n.input(i)->initializer() : nullptr;
}

// Element i of an integer tensor of dtype int8 / uint8 / int32, widened.
int64_t int_at(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kInt8:
      return t.data_as<int8_t>()[i];
    case DataType::kUInt8:
      return t.data_as<uint8_t>()[i];
    default:
      return t.data_as<int32_t>()[i];
  }
}

bool all_zero(const Tensor* zp) {
  if (zp == nullptr) return true;
  for (int64_t i = 0; i < zp->numel(); ++i)
    if (int_at(*zp, i) != 0) return false;
  return true;
}

// A DequantizeLinear of constant weights: (x - zp) * scale as float32, per tensor or along
// one axis. nullopt when it is not one this handles (the node then runs as written).
struct FoldedWeights {
  Tensor values;
  ExplicitScales::Weights scales;
  bool symmetric_int8 = false;
};

std::optional<FoldedWeights> fold_dequantize(const ir::Node& n) {
  const Tensor* x = constant(n, 0);
  const Tensor* s = constant(n, 1);
  const Tensor* zp = constant(n, 2);
  if (x == nullptr || s == nullptr || s->dtype() != DataType::kFloat32) return std::nullopt;
  if (x->dtype() != DataType::kInt8 && x->dtype() != DataType::kUInt8 &&
      x->dtype() != DataType::kInt32)
    return std::nullopt;
  if (n.inputs().size() > 2 && n.input(2) != nullptr &&
      (zp == nullptr || zp->dtype() != x->dtype()))
    return std::nullopt;
  if (int_attr(n, "block_size", 0) != 0 || n.outputs().size() != 1 || n.output(0) == nullptr ||
      n.output(0)->is_graph_output())
    return std::nullopt;
  const int64_t rank = static_cast<int64_t>(x->rank());
  int64_t axis = int_attr(n, "axis", 1);
  if (axis < 0) axis += rank;
  int64_t channels = 1;
  if (s->numel() != 1) {
    if (s->rank() != 1 || axis < 0 || axis >= rank || x->shape()[axis] != s->numel())
      return std::nullopt;
    channels = s->numel();
  }
  if (zp != nullptr && zp->numel() != s->numel()) return std::nullopt;

  Result<Tensor> out = Tensor::allocate(DataType::kFloat32, x->shape());
  if (!out.ok()) return std::nullopt;
  int64_t inner = 1;
  if (channels > 1)
    for (int64_t i = axis + 1; i < rank; ++i) inner *= x->shape()[i];
  const float* scale = s->data_as<float>();
  float* y = out->data_as<float>();
  for (int64_t i = 0; i < x->numel(); ++i) {
    const int64_t c = channels > 1 ? (i / inner) % channels : 0;
    const int64_t z = zp != nullptr ? int_at(*zp, c) : 0;
    y[i] = static_cast<float>(int_at(*x, i) - z) * scale[c];
  }
  FoldedWeights f;
  f.values = std::move(out).value();
  f.scales.scales.assign(scale, scale + s->numel());
  f.scales.axis = channels > 1 ? axis : 0;
  f.symmetric_int8 = x->dtype() == DataType::kInt8 && all_zero(zp);
  return f;
}

// The single float scale and zero point of a per-tensor Q or DQ; nullopt otherwise.
struct PerTensor {
  float scale;
  int64_t zero_point;
  DataType dtype;  // of the quantized side
};

std::optional<PerTensor> per_tensor(const ir::Node& n, DataType quantized_default) {
  const Tensor* s = constant(n, 1);
  const Tensor* zp = constant(n, 2);
  if (s == nullptr || s->dtype() != DataType::kFloat32 || s->numel() != 1) return std::nullopt;
  if (n.inputs().size() > 2 && n.input(2) != nullptr && zp == nullptr) return std::nullopt;
  if (zp != nullptr &&
      (zp->numel() != 1 || (zp->dtype() != DataType::kInt8 && zp->dtype() != DataType::kUInt8)))
    return std::nullopt;
  if (int_attr(n, "block_size", 0) != 0 || int_attr(n, "output_dtype", 0) != 0) return std::nullopt;
  const float scale = s->data_as<float>()[0];
  if (!(scale > 0) || !std::isfinite(scale)) return std::nullopt;
  return PerTensor{scale, zp != nullptr ? int_at(*zp, 0) : 0,
                   zp != nullptr ? zp->dtype() : quantized_default};
}

// A layer an INT8 tactic can run that reads `y` as its input 0 only.
bool int8_layer_input(const ir::Node& n, const ir::Value* y) {
  if (n.inputs().empty() || n.input(0) != y) return false;
  for (size_t i = 1; i < n.inputs().size(); ++i)
    if (n.input(i) == y) return false;
  if (is_onnx(n, "Conv")) return constant_f32(n.input(1), {3, 4});
  if (is_onnx(n, "Gemm")) return int_attr(n, "transA", 0) == 0 && constant_f32(n.input(1), {2});
  if (is_onnx(n, "MatMul")) return constant_f32(n.input(1), {2});
  return false;
}

// clip(x, lo, hi) with the pair's range: [-zp s, (255 - zp) s] for uint8, [-128 s, 127 s]
// for int8.
ir::Value* clip_to_range(int64_t opset, passes::Editor& edit, ir::Value& x,
                         const ExplicitScales::Activation& a, const std::string& origin) {
  const float lo = (a.is_unsigned ? 0.f - a.zero_point : -128.f) * a.scale;
  const float hi = (a.is_unsigned ? 255.f - a.zero_point : 127.f) * a.scale;
  ir::Value* out = edit.new_value(x.name() + "_qdq_range", x.type);
  if (opset < 11) {
    std::vector<ir::Attribute> attrs;
    attrs.push_back(ir::Attribute::make_float("min", lo));
    attrs.push_back(ir::Attribute::make_float("max", hi));
    edit.add_node("Clip", "", {&x}, {out}, std::move(attrs), {origin});
    return out;
  }
  auto scalar = [&](std::string_view base, float v) {
    Tensor t = Tensor::allocate(DataType::kFloat32, {}).value();
    t.data_as<float>()[0] = v;
    return edit.new_constant(str(x.name(), base), std::move(t));
  };
  edit.add_node("Clip", "", {&x, scalar("_qdq_lo", lo), scalar("_qdq_hi", hi)}, {out}, {},
                {origin});
  return out;
}

void keep(ExplicitScales& out, const ir::Node& dq, const std::string& why) {
  ++out.kept;
  if (out.why_kept.size() < kMaxReasons)
    out.why_kept.push_back(str("DequantizeLinear '", dq.name(), "': ", why));
}

}  // namespace

bool has_qdq(const ir::Graph& graph) {
  for (const ir::Node* n : graph.nodes())
    if (is_onnx(*n, "QuantizeLinear") || is_onnx(*n, "DequantizeLinear")) return true;
  return false;
}

ExplicitScales absorb_qdq(ir::Model& model) {
  ir::Graph& graph = *model.graph;
  passes::PassContext ctx(model, nullptr);
  passes::Editor edit(graph, ctx);
  ExplicitScales out;
  // Weights first: the layers behind activation pairs then have constant float weights.
  for (ir::Node* n : graph.nodes()) {
    if (!is_onnx(*n, "DequantizeLinear")) continue;
    std::optional<FoldedWeights> f = fold_dequantize(*n);
    if (!f) continue;
    ir::Value* y = n->output(0);
    graph.remove_node(n);
    y->type.kind = ir::ValueKind::kTensor;
    y->type.dtype = DataType::kFloat32;
    y->type.shape = Dims::of(f->values.shape());
    graph.set_initializer(y, std::move(f->values));
    if (f->symmetric_int8) out.weights[y->name()] = std::move(f->scales);
    ++out.folded_weights;
  }
  for (ir::Node* dq : graph.nodes()) {
    if (!is_onnx(*dq, "DequantizeLinear") || dq->outputs().size() != 1) continue;
    ir::Value* q = dq->input(0);
    ir::Node* qn = q != nullptr ? q->producer() : nullptr;
    if (qn == nullptr || !is_onnx(*qn, "QuantizeLinear")) {
      keep(out, *dq, "its input is not a QuantizeLinear");
      continue;
    }
    ir::Value* x = qn->input(0);
    ir::Value* y = dq->output(0);
    const std::optional<PerTensor> qp = per_tensor(*qn, DataType::kUInt8);
    const std::optional<PerTensor> dp = per_tensor(*dq, qp ? qp->dtype : DataType::kUInt8);
    std::string why;
    if (x == nullptr || x->type.dtype != DataType::kFloat32)
      why = "the quantized tensor is not float32";
    else if (!qp || !dp)
      why = "not one constant per-tensor int8/uint8 scale and zero point";
    else if (qp->scale != dp->scale || qp->zero_point != dp->zero_point || qp->dtype != dp->dtype)
      why = "the QuantizeLinear and DequantizeLinear scales or zero points differ";
    else if (qp->zero_point != 0 && qp->dtype != DataType::kUInt8)
      why = str("int8 zero point ", qp->zero_point,
                " (INT8 layers quantize int8 symmetrically: the pair runs as written, in FP32)");
    if (!why.empty()) {
      keep(out, *dq, why);
      continue;
    }
    const ExplicitScales::Activation a{qp->scale, qp->dtype == DataType::kUInt8,
                                       static_cast<int32_t>(qp->zero_point)};
    std::vector<ir::Node*> layers;
    for (ir::Node* c : y->consumers())
      if (int8_layer_input(*c, y) && (a.zero_point == 0 || is_onnx(*c, "Conv")) &&
          std::find(layers.begin(), layers.end(), c) == layers.end())
        layers.push_back(c);
    if (layers.empty()) {
      keep(out, *dq,
           a.zero_point == 0 ? "no conv / linear layer with constant weights reads it"
                             : str("zero point ", a.zero_point,
                                   " and no convolution with constant weights reads it (the INT8 "
                                   "linear layers quantize symmetrically)"));
      continue;
    }
    // The layers read clip(x) to the pair's range: what the pair computes up to rounding,
    // so a layer that ends up running FP32 (faster, pinned, no INT8 kernel) keeps the pair's
    // clipping — which can be model semantics: QDQ quantizers drop a ReLU (or ReLU6) whose
    // effect the uint8 range already has. The optimizer fuses the Clip into x's producer.
    ir::Value* clipped = clip_to_range(model.default_opset(), edit, *x, a, dq->origins().front());
    for (ir::Node* c : layers) {
      graph.replace_input(c, 0, clipped);
      out.layers[c->origins().front()] = a;
      ++out.absorbed;
    }
    if (y->consumers().empty() && !y->is_graph_output()) {
      graph.remove_node(dq);
      if (q->consumers().empty() && !q->is_graph_output()) graph.remove_node(qn);
    } else {
      keep(out, *dq, "other readers than conv / linear layers still read the pair");
    }
  }
  // The Clips were appended at the end.
  if (!graph.sort_topologically().ok()) std::abort();
  return out;
}

const ExplicitScales::Activation* explicit_activation(const ExplicitScales& scales,
                                                      const ir::Node& layer) {
  for (const std::string& o : layer.origins()) {
    auto it = scales.layers.find(o);
    if (it != scales.layers.end()) return &it->second;
  }
  return nullptr;
}

std::vector<float> explicit_weight_scales(const ExplicitScales& scales, const ir::Value& w,
                                          int64_t axis) {
  auto it = scales.weights.find(w.name());
  const Tensor* t = w.initializer();
  if (it == scales.weights.end() || t == nullptr || t->dtype() != DataType::kFloat32 || axis < 0 ||
      static_cast<size_t>(axis) >= t->rank())
    return {};
  const ExplicitScales::Weights& ws = it->second;
  const int64_t channels = t->shape()[axis];
  if (ws.scales.size() != 1 &&
      (ws.axis != axis || static_cast<int64_t>(ws.scales.size()) != channels))
    return {};
  std::vector<float> per_channel(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c)
    per_channel[c] = ws.scales.size() == 1 ? ws.scales[0] : ws.scales[c];
  int64_t inner = 1;
  for (size_t i = static_cast<size_t>(axis) + 1; i < t->rank(); ++i) inner *= t->shape()[i];
  const float* p = t->data_as<float>();
  for (int64_t i = 0; i < t->numel(); ++i) {
    const float q = p[i] / per_channel[(i / inner) % channels];
    if (!(std::fabs(q) <= 127.5f) || std::fabs(q - std::nearbyint(q)) > 1e-3f) return {};
  }
  return per_channel;
}

}  // namespace kiln::builder
