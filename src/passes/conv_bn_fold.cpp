// Folds per-channel affine maps that follow a convolution into its weights and bias:
//
//   BatchNormalization(Conv(x, W, b))  → Conv(x, W·f, (b − mean)·f + B),  f = scale/√(var + ε)
//   Mul(Conv(x, W, b), c) / Div(…, c)  → Conv(x, W·c, b·c) / Conv(x, W/c, b/c)
//   Add(Conv(x, W, b), c) / Sub(…, c)  → Conv(x, W, b + c) / Conv(x, W, b − c)
//
// c is a constant with one value per output channel (a scalar, or [C, 1, …] / [1, C, 1, …]
// aligned at the channel dim), so it never enlarges the output. ConvTranspose likewise, where
// output channel m of group g is W[g·Cin/G + i, m − g·M/G, …] for every i. BatchNormalization
// must be in inference mode (only Y read; training_mode 0; is_test 1 before opset 7).
//
// Level 2, not 1: the folded network rounds differently (W·f is rounded once to the weight
// type instead of the conv output being scaled), which level 1's "never changes arithmetic"
// rules out. Folds are computed in double and rounded once; a fold whose result does not stay
// finite in the weight type (float16 overflow) is skipped.
#include <cmath>

#include "passes/conv_matmul_util.h"

namespace kiln::passes {
namespace {

// y' = y * scale[m] + shift[m] over the output channels m.
struct ChannelAffine {
  std::vector<double> scale, shift;
};

struct ConvInfo {
  ir::Node* conv = nullptr;
  bool transposed = false;
  int64_t out_channels = 0;
  size_t out_rank = 0;
};

// The conv producing `v`, if folding into it is possible: v read once, constant W (and b).
std::optional<ConvInfo> conv_producer(ir::Value* v, std::string* why) {
  ir::Node* n = v != nullptr ? v->producer() : nullptr;
  if (n == nullptr || !n->domain().empty() ||
      (n->op_type() != "Conv" && n->op_type() != "ConvTranspose"))
    return std::nullopt;
  if (!single_consumer(v)) {
    *why = n->op_type() + " output is read elsewhere too";
    return std::nullopt;
  }
  const std::optional<std::vector<int64_t>> ws = static_shape(n->input(1));
  if (!is_constant(n->input(1)) || !ws || ws->size() < 3) {
    *why = "the weight is not a constant of rank >= 3";
    return std::nullopt;
  }
  if (n->input(2) != nullptr && !is_constant(n->input(2))) {
    *why = "the bias is not a constant";
    return std::nullopt;
  }
  if (!fusable_float(n->input(1), false) || !same_dtype(n->input(1), v)) {
    *why = "not a float16/32/64 convolution";
    return std::nullopt;
  }
  ConvInfo c;
  c.conv = n;
  c.transposed = n->op_type() == "ConvTranspose";
  c.out_channels = c.transposed ? (*ws)[1] * attr_int(*n, "group", 1) : (*ws)[0];
  c.out_rank = ws->size();
  return c;
}

// One value per output channel from a constant that broadcasts against [N, C, spatial...]
// without enlarging it.
std::optional<std::vector<double>> per_channel(const ir::Value* c, const ConvInfo& info) {
  const std::optional<std::vector<int64_t>> s = static_shape(c);
  const std::optional<std::vector<double>> data = float_constant(c);
  if (!s || !data || s->size() > info.out_rank) return std::nullopt;
  const size_t off = info.out_rank - s->size();
  bool per_channel_dim = false;
  for (size_t i = 0; i < s->size(); ++i) {
    const size_t axis = off + i;
    if ((*s)[i] == 1) continue;
    if (axis != 1 || (*s)[i] != info.out_channels) return std::nullopt;
    per_channel_dim = true;
  }
  std::vector<double> out(static_cast<size_t>(info.out_channels));
  for (size_t m = 0; m < out.size(); ++m) out[m] = per_channel_dim ? (*data)[m] : (*data)[0];
  return out;
}

// Replaces conv + root by one convolution with the affine map folded in.
bool fold(ir::Node& root, const ConvInfo& info, const ChannelAffine& a, Editor& edit,
          std::string* why) {
  ir::Node* conv = info.conv;
  ir::Value* w = conv->input(1);
  ir::Value* b = conv->input(2);
  const Tensor* wt = constant_value(w);
  const std::optional<std::vector<double>> wd = float_constant(w);
  std::optional<std::vector<double>> bd =
      b != nullptr ? float_constant(b) : std::vector<double>(a.scale.size(), 0.0);
  const size_t channels = a.scale.size();
  if (!wd || !bd || bd->size() != channels) {
    *why = "the weight or bias is not a float constant of the expected size";
    return false;
  }
  bool scales = false;
  for (double s : a.scale) scales = scales || s != 1.0;
  std::optional<Tensor> new_w;
  if (scales) {
    std::vector<double> v = *wd;
    const std::vector<int64_t>& ws = wt->shape();
    int64_t inner = 1;
    for (size_t d = 2; d < ws.size(); ++d) inner *= ws[d];
    if (!info.transposed) {
      for (size_t i = 0; i < v.size(); ++i) v[i] *= a.scale[i / static_cast<size_t>(ws[1] * inner)];
    } else {
      // W is [Cin, M/G, k...]; row c belongs to group c / (Cin/G).
      const int64_t group = attr_int(*conv, "group", 1), cin = ws[0], mg = ws[1];
      const int64_t cin_g = group > 0 ? cin / group : cin;
      for (int64_t c = 0; c < cin; ++c)
        for (int64_t j = 0; j < mg; ++j) {
          const double s = a.scale[static_cast<size_t>((c / cin_g) * mg + j)];
          for (int64_t k = 0; k < inner; ++k) v[static_cast<size_t>((c * mg + j) * inner + k)] *= s;
        }
    }
    new_w = float_tensor(wt->dtype(), ws, v);
    if (!new_w) {
      *why =
          "the folded weight does not stay finite in " + std::string(data_type_name(wt->dtype()));
      return false;
    }
  }
  std::vector<double> nb(channels);
  for (size_t m = 0; m < channels; ++m) nb[m] = (*bd)[m] * a.scale[m] + a.shift[m];
  std::optional<Tensor> new_b = float_tensor(wt->dtype(), {static_cast<int64_t>(channels)}, nb);
  if (!new_b) {
    *why = "the folded bias does not stay finite";
    return false;
  }
  ir::Value* fw = new_w ? constant_for(edit, w, conv, std::move(*new_w), w->name() + "_folded") : w;
  ir::Value* fb = constant_for(edit, b, conv, std::move(*new_b),
                               (b != nullptr ? b->name() : conv->name() + "_bias") + "_folded");
  std::vector<ir::Value*> operands;
  for (ir::Value* v : root.inputs()) operands.push_back(v);
  edit.replace({conv, &root}, &root, conv->op_type(), "", {conv->input(0), fw, fb},
               copy_attrs(*conv), conv->opset());
  for (const ir::Value* v : {w, b}) drop_unread_constant(edit, v);
  for (const ir::Value* v : operands) drop_unread_constant(edit, v);
  return true;
}

bool fold_batch_norm(ir::Node& bn, Editor& edit, PassContext&, std::string* why) {
  if (bn.op_type() != "BatchNormalization" || !bn.domain().empty()) return false;
  std::optional<ConvInfo> info = conv_producer(bn.input(0), why);
  if (!info) return false;
  for (size_t i = 1; i < bn.outputs().size(); ++i) {
    const ir::Value* o = bn.output(i);
    if (o != nullptr && (!o->consumers().empty() || o->is_graph_output())) {
      *why = "a training statistics output is read";
      return false;
    }
  }
  if (attr_int(bn, "training_mode", 0) != 0 ||
      (bn.opset() < 7 && attr_int(bn, "is_test", 0) == 0) || attr_int(bn, "spatial", 1) != 1) {
    *why = "not in inference mode with per-channel statistics";
    return false;
  }
  std::vector<std::vector<double>> p;
  for (size_t i = 1; i <= 4; ++i) {
    const std::optional<std::vector<double>> v = float_constant(bn.input(i));
    if (!v || static_cast<int64_t>(v->size()) != info->out_channels) {
      *why = "scale, B, mean and var must be constants with one value per channel";
      return false;
    }
    p.push_back(*v);
  }
  const double eps = attr_float(bn, "epsilon", 1e-5f);
  ChannelAffine a;
  for (size_t m = 0; m < p[0].size(); ++m) {
    const double f = p[0][m] / std::sqrt(p[3][m] + eps);
    a.scale.push_back(f);
    a.shift.push_back(p[1][m] - p[2][m] * f);
  }
  return fold(bn, *info, a, edit, why);
}

// Mul / Div / Add / Sub of the conv output by a per-channel constant.
bool fold_elementwise(ir::Node& n, Editor& edit, PassContext&, std::string* why) {
  const std::string& op = n.op_type();
  if (!n.domain().empty() || n.inputs().size() != 2 ||
      (op != "Mul" && op != "Div" && op != "Add" && op != "Sub"))
    return false;
  const bool commutes = op == "Mul" || op == "Add";
  for (size_t i : {0, 1}) {
    if (i == 1 && !commutes) break;
    std::string inner;
    std::optional<ConvInfo> info = conv_producer(n.input(i), &inner);
    if (!info) {
      if (why->empty()) *why = inner;
      continue;
    }
    const ir::Value* c = n.input(1 - i);
    if (!same_dtype(c, n.input(i))) continue;
    std::optional<std::vector<double>> v = per_channel(c, *info);
    if (!v) {
      *why = "the other operand is not a constant with one value per output channel";
      continue;
    }
    ChannelAffine a;
    a.scale.assign(v->size(), 1.0);
    a.shift.assign(v->size(), 0.0);
    for (size_t m = 0; m < v->size(); ++m) {
      const double x = (*v)[m];
      if (op == "Mul") a.scale[m] = x;
      if (op == "Div") {
        if (x == 0.0) {
          *why = "division by zero";
          return false;
        }
        a.scale[m] = 1.0 / x;
      }
      if (op == "Add") a.shift[m] = x;
      if (op == "Sub") a.shift[m] = -x;
    }
    why->clear();
    return fold(n, *info, a, edit, why);
  }
  return false;
}

}  // namespace

std::unique_ptr<Pass> make_conv_bn_fold() {
  return std::make_unique<RewritePass>(
      "conv_bn_fold", std::vector<Rewrite>{
                          {"Conv+BatchNormalization", 2,
                           [](ir::Node& n, Editor& e, PassContext& c, std::string* why) {
                             return fold_batch_norm(n, e, c, why);
                           }},
                          {"Conv+per-channel Mul/Div/Add/Sub", 1,
                           [](ir::Node& n, Editor& e, PassContext& c, std::string* why) {
                             return fold_elementwise(n, e, c, why);
                           }},
                      });
}

}  // namespace kiln::passes
