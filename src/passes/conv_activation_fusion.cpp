// Fuses activations (and the residual add) into the convolution or matrix product before them:
//
//   act(Conv(x, W, b))                → kiln.FusedConv(x, W, b)            {activation}
//   act(ConvTranspose(x, W, b))       → kiln.FusedConvTranspose(x, W, b)   {activation}
//   act(Gemm(a, b, c))                → kiln.FusedGemm(a, b, c)            {activation}
//   act(MatMul(a, b))                 → kiln.FusedMatMul(a, b)             {activation}
//   act(Add(MatMul(a, W), bias))      → kiln.FusedMatMul(a, W, bias)       {activation}
//   act(kiln.Fused*(…) without one)   → the same node with the activation
//   act(Reshape(product))             → Reshape(product with the activation)
//   Add(Conv(x, W, b), z)             → kiln.FusedConv(x, W, b, z)  (residual; z of y's shape)
//
// act is one of match_activation's (conv_matmul_util.h): Relu, Clip, Sigmoid, HardSigmoid,
// HardSwish, LeakyRelu, Tanh, Gelu (ai.onnx-20, as gelu_fusion writes it) and SiLU
// (x * Sigmoid(x)). Exporters without a HardSwish op write x * Clip(x + 3, 0, 6) / 6 (Paddle,
// older PyTorch) or x * HardSigmoid(x) (alpha 1/6): those become one ai.onnx HardSwish first
// (opset 14, or the model's if newer), which then fuses like any activation.
//
// The product's output must be read only by what is fused (single consumer, no graph output).
// The residual z must not be a constant (conv_bn_fold turns a per-channel constant into the
// bias) and must have exactly the conv output's shape (static or the same symbols), so the add
// never broadcasts. FusedConv takes float16/32/64, the matrix products also bfloat16: integer
// products keep their activation.
#include <algorithm>
#include <cmath>

#include "passes/conv_matmul_util.h"

namespace kiln::passes {
namespace {

ir::Node* producer_of(const ir::Value* v, std::string_view op, std::string_view domain = "") {
  ir::Node* p = v != nullptr ? v->producer() : nullptr;
  if (p == nullptr || p->op_type() != op || p->domain() != domain || p->output(0) != v)
    return nullptr;
  return p;
}

// ---- decomposed HardSwish ---------------------------------------------------------------------

// Clip(Add(x, 3), 0, 6) with its inner value read once: returns x.
ir::Value* relu6_of_x_plus_3(ir::Value* v) {
  ir::Node* clip = producer_of(v, "Clip");
  if (clip == nullptr || !single_consumer(v)) return nullptr;
  std::string why;
  const std::optional<ActivationMatch> bounds = match_activation(*clip, &why);
  if (!bounds || bounds->spec.p0 != 0.0 || bounds->spec.p1 != 6.0) return nullptr;
  ir::Value* sum = clip->input(0);
  ir::Node* add = producer_of(sum, "Add");
  if (add == nullptr || !single_consumer(sum) || add->inputs().size() != 2) return nullptr;
  if (is_scalar(add->input(1), 3.0)) return add->input(0);
  if (is_scalar(add->input(0), 3.0)) return add->input(1);
  return nullptr;
}

// Mul(x, relu6(x + 3)) read once: returns x.
ir::Value* x_times_relu6(ir::Value* v) {
  ir::Node* mul = producer_of(v, "Mul");
  if (mul == nullptr || !single_consumer(v) || mul->inputs().size() != 2) return nullptr;
  for (size_t i : {0, 1})
    if (ir::Value* x = relu6_of_x_plus_3(mul->input(1 - i)); x != nullptr && x == mul->input(i))
      return x;
  return nullptr;
}

bool fuse_activation(ir::Node& n, Editor& edit, bool conv_family, std::string* why);

// x * Clip(x + 3, 0, 6) / 6 in the orderings exporters write, or x * HardSigmoid(x) with
// alpha 1/6 and beta 1/2 → HardSwish(x).
bool canonicalize_hard_swish(ir::Node& n, Editor& edit, PassContext& ctx, std::string* why) {
  if (!n.domain().empty() || n.inputs().size() != 2 ||
      (n.op_type() != "Div" && n.op_type() != "Mul"))
    return false;
  ir::Value* x = nullptr;
  if (n.op_type() == "Div") {
    if (is_scalar(n.input(1), 6.0)) x = x_times_relu6(n.input(0));
  } else {
    for (size_t i : {0, 1}) {
      ir::Value* a = n.input(i);
      ir::Value* b = n.input(1 - i);
      if (is_scalar(b, 1.0 / 6.0, 1e-6)) x = x_times_relu6(a);  // (x * relu6(x + 3)) * (1/6)
      if (x == nullptr) {                                       // x * (relu6(x + 3) / 6)
        ir::Node* div = producer_of(b, "Div");
        if (div != nullptr && single_consumer(b) && is_scalar(div->input(1), 6.0) &&
            relu6_of_x_plus_3(div->input(0)) == a)
          x = a;
      }
      if (x == nullptr) {  // x * HardSigmoid(x), alpha 1/6 (as float), beta 1/2
        ir::Node* hs = producer_of(b, "HardSigmoid");
        if (hs != nullptr && single_consumer(b) && hs->input(0) == a &&
            std::fabs(attr_float(*hs, "alpha", 0.2f) - 1.0 / 6.0) < 1e-6 &&
            attr_float(*hs, "beta", 0.5f) == 0.5f)
          x = a;
      }
      if (x != nullptr) break;
    }
  }
  if (x == nullptr) return false;
  if (!fusable_float(x, false) || !same_dtype(x, n.output(0))) {
    *why = "HardSwish takes float16/32/64";
    return false;
  }
  // Every node between x and n (each read once, so the walk from n's inputs finds them all).
  std::vector<ir::Node*> nodes;
  std::vector<ir::Value*> frontier = n.inputs();
  while (!frontier.empty()) {
    ir::Value* v = frontier.back();
    frontier.pop_back();
    if (v == nullptr || v == x || is_constant(v)) continue;
    ir::Node* p = v->producer();
    if (p == nullptr || std::find(nodes.begin(), nodes.end(), p) != nodes.end()) continue;
    nodes.push_back(p);
    for (ir::Value* in : p->inputs()) frontier.push_back(in);
  }
  nodes.push_back(&n);
  std::vector<const ir::Value*> constants;
  for (ir::Node* p : nodes)
    for (const ir::Value* in : p->inputs())
      if (is_constant(in)) constants.push_back(in);
  ir::Node* hs =
      edit.replace(nodes, &n, "HardSwish", "", {x}, {}, std::max<int64_t>(14, ctx.opset()));
  for (const ir::Value* c : constants) drop_unread_constant(edit, c);
  // Into the product at once: by the next round elementwise_fusion may have grouped the
  // HardSwish with what follows it.
  std::string ignored;
  if (fuse_activation(*hs, edit, true, &ignored)) {
    ctx.count("Conv+activation");
  } else if (fuse_activation(*hs, edit, false, &ignored)) {
    ctx.count("Gemm/MatMul+activation");
  }
  return true;
}

// ---- product + activation ---------------------------------------------------------------------

struct Product {
  std::vector<ir::Node*> nodes;  // what the fused node replaces besides the activation
  std::string op;                // kiln op type
  std::vector<ir::Value*> inputs;
  std::vector<ir::Attribute> attrs;
};

// The product computing `x`, as the kiln op that will also apply an activation.
std::optional<Product> product_of(ir::Value* x, bool conv_family, std::string* why) {
  ir::Node* p = x != nullptr ? x->producer() : nullptr;
  if (p == nullptr || p->output(0) != x) return std::nullopt;
  const std::string& op = p->op_type();
  Product r;
  r.nodes = {p};
  r.inputs = p->inputs();
  if (p->domain() == ops::kKilnDomain) {
    const bool is_conv = op == "FusedConv" || op == "FusedConvTranspose";
    const bool is_mm = op == "FusedGemm" || op == "FusedMatMul";
    if ((conv_family ? !is_conv : !is_mm) || !has_no_activation(*p)) return std::nullopt;
    r.op = op;
    r.attrs = copy_attrs(*p, {"activation", "activation_params"});
  } else if (!p->domain().empty()) {
    return std::nullopt;
  } else if (conv_family && (op == "Conv" || op == "ConvTranspose")) {
    r.op = op == "Conv" ? "FusedConv" : "FusedConvTranspose";
    r.attrs = copy_attrs(*p);
  } else if (!conv_family && op == "Gemm") {
    r.op = "FusedGemm";
    r.attrs = copy_attrs(*p, {"broadcast"});
  } else if (!conv_family && op == "MatMul") {
    r.op = "FusedMatMul";
  } else if (!conv_family && op == "Add") {
    std::string inner;
    std::optional<LinearMatch> lin = match_linear(*p, &inner);
    if (!lin) return std::nullopt;
    r.nodes = {lin->matmul, p};
    r.op = "FusedMatMul";
    r.inputs = {lin->matmul->input(0), lin->matmul->input(1), lin->bias};
    r.attrs = copy_attrs(*lin->matmul, {"activation", "activation_params"});
  } else {
    return std::nullopt;
  }
  if (!fusable_float(x, !conv_family)) {
    *why = str("kiln.", r.op, " does not take ", data_type_name(x->type.dtype));
    return std::nullopt;
  }
  return r;
}

std::vector<const ir::Value*> constant_inputs(const std::vector<ir::Node*>& nodes) {
  std::vector<const ir::Value*> out;
  for (const ir::Node* p : nodes)
    for (const ir::Value* in : p->inputs())
      if (is_constant(in)) out.push_back(in);
  return out;
}

std::vector<ir::Attribute> with_activation(std::vector<ir::Attribute> attrs,
                                           const ops::ActivationSpec& spec) {
  for (ir::Attribute& a : activation_attrs(spec)) attrs.push_back(std::move(a));
  return attrs;
}

// A node that only re-labels its input's elements (an activation commutes with it).
bool is_reshape(const ir::Node* n) {
  if (n == nullptr || !n->domain().empty()) return false;
  const std::string& op = n->op_type();
  return op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze";
}

// act(Reshape(product)) → Reshape(product with act): exporters put a Reshape between a Gemm
// and its activation (GPT-2's MLP: Gemm → Reshape → Gelu). The reshape is rebuilt to produce
// what the activation did, so graph outputs keep their names.
bool fuse_through_reshape(const ActivationMatch& act, Editor& edit, bool conv_family,
                          std::string* why) {
  ir::Value* x = act.input;
  ir::Node* r = x->producer();
  if (!is_reshape(r) || r->output(0) != x || !activation_reads_all_of(act, x)) return false;
  ir::Value* y = r->input(0);
  if (y == nullptr || !single_consumer(y)) return false;
  std::optional<Product> prod = product_of(y, conv_family, why);
  if (!prod) return false;
  const std::vector<const ir::Value*> constants = constant_inputs(act.nodes);
  edit.replace(prod->nodes, y->producer(), prod->op, std::string(ops::kKilnDomain), prod->inputs,
               with_activation(std::move(prod->attrs), act.spec));
  std::vector<ir::Node*> old = act.nodes;
  old.push_back(r);
  edit.replace(old, act.root, r->op_type(), "", r->inputs(), copy_attrs(*r), r->opset());
  for (const ir::Value* c : constants) drop_unread_constant(edit, c);
  return true;
}

bool fuse_activation(ir::Node& n, Editor& edit, bool conv_family, std::string* why) {
  std::optional<ActivationMatch> act = match_activation(n, why);
  if (!act) return false;
  std::optional<Product> prod = product_of(act->input, conv_family, why);
  if (!prod) return fuse_through_reshape(*act, edit, conv_family, why);
  if (!activation_reads_all_of(*act, act->input)) {
    *why = "the product is read elsewhere too";
    return false;
  }
  std::vector<ir::Node*> old = prod->nodes;
  old.insert(old.end(), act->nodes.begin(), act->nodes.end());
  const std::vector<const ir::Value*> constants = constant_inputs(act->nodes);
  edit.replace(old, &n, prod->op, std::string(ops::kKilnDomain), prod->inputs,
               with_activation(std::move(prod->attrs), act->spec));
  for (const ir::Value* c : constants) drop_unread_constant(edit, c);
  return true;
}

// ---- residual ---------------------------------------------------------------------------------

// Same rank, every dim static or a named symbol, equal dim by dim.
bool provably_same_shape(const ir::Value* a, const ir::Value* b) {
  const Dims& x = a->type.shape;
  const Dims& y = b->type.shape;
  if (!x.rank_known() || !y.rank_known() || x.rank() != y.rank()) return false;
  for (size_t i = 0; i < x.rank(); ++i)
    if ((!x[i].is_static() && !x[i].is_symbolic()) || !(x[i] == y[i])) return false;
  return true;
}

bool fuse_residual(ir::Node& add, Editor& edit, PassContext&, std::string* why) {
  if (add.op_type() != "Add" || !add.domain().empty() || add.inputs().size() != 2) return false;
  for (size_t i : {0, 1}) {
    ir::Value* y = add.input(i);
    ir::Value* z = add.input(1 - i);
    ir::Node* conv = producer_of(y, "Conv");
    if (conv == nullptr) {
      conv = producer_of(y, "FusedConv", ops::kKilnDomain);
      if (conv != nullptr && (conv->input(3) != nullptr || !has_no_activation(*conv)))
        conv = nullptr;
    }
    if (conv == nullptr) continue;
    if (!single_consumer(y)) {
      *why = "the conv output is read elsewhere too";
      continue;
    }
    if (z == nullptr || z == y || is_constant(z)) {
      *why = "the other operand is a constant (a bias, for conv_bn_fold)";
      continue;
    }
    if (!fusable_float(y, false) || !same_dtype(y, z) || !same_dtype(y, add.output(0))) {
      *why = "not a float16/32/64 add of one type";
      continue;
    }
    if (!provably_same_shape(y, z)) {
      *why = "the other operand does not provably have the conv output's shape";
      continue;
    }
    std::vector<ir::Value*> inputs = {conv->input(0), conv->input(1), conv->input(2), z};
    std::vector<ir::Attribute> attrs = conv->domain().empty()
                                           ? copy_attrs(*conv)
                                           : copy_attrs(*conv, {"activation", "activation_params"});
    edit.replace({conv, &add}, &add, "FusedConv", std::string(ops::kKilnDomain), inputs,
                 std::move(attrs));
    return true;
  }
  return false;
}

}  // namespace

std::unique_ptr<Pass> make_conv_activation_fusion() {
  return std::make_unique<RewritePass>(
      "conv_activation_fusion", std::vector<Rewrite>{
                                    {"HardSwish (decomposed)", 4,
                                     [](ir::Node& n, Editor& e, PassContext& c, std::string* why) {
                                       return canonicalize_hard_swish(n, e, c, why);
                                     }},
                                    {"Conv+activation", 3,
                                     [](ir::Node& n, Editor& e, PassContext&, std::string* why) {
                                       return fuse_activation(n, e, true, why);
                                     }},
                                    {"Gemm/MatMul+activation", 2,
                                     [](ir::Node& n, Editor& e, PassContext&, std::string* why) {
                                       return fuse_activation(n, e, false, why);
                                     }},
                                    {"Conv+residual Add", 1,
                                     [](ir::Node& n, Editor& e, PassContext& c, std::string* why) {
                                       return fuse_residual(n, e, c, why);
                                     }},
                                });
}

}  // namespace kiln::passes
