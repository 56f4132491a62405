#include "passes/conv_matmul_util.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/kernel_util.h"

namespace kiln::passes {

std::optional<std::vector<double>> float_constant(const ir::Value* v) {
  const Tensor* t = constant_value(v);
  if (t == nullptr || !data_type_info(t->dtype()).is_float || t->data() == nullptr)
    return std::nullopt;
  std::vector<double> out(static_cast<size_t>(t->numel()));
  Status s = ops::dispatch_float(t->dtype(), "constant", [&]<typename T>() -> Status {
    const T* p = t->data_as<T>();
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<double>(static_cast<ops::compute_t<T>>(p[i]));
    return Status::Ok();
  });
  if (!s.ok()) return std::nullopt;
  return out;
}

std::optional<Tensor> float_tensor(DataType dtype, std::vector<int64_t> shape,
                                   const std::vector<double>& values) {
  Result<Tensor> t = Tensor::allocate(dtype, std::move(shape));
  if (!t.ok() || static_cast<size_t>(t->numel()) != values.size()) return std::nullopt;
  bool finite = true;
  Status s = ops::dispatch_float(dtype, "fold", [&]<typename T>() -> Status {
    T* p = t->data_as<T>();
    for (size_t i = 0; i < values.size(); ++i) {
      p[i] = T(static_cast<ops::compute_t<T>>(values[i]));
      finite = finite && std::isfinite(static_cast<double>(static_cast<ops::compute_t<T>>(p[i])));
    }
    return Status::Ok();
  });
  if (!s.ok() || !finite) return std::nullopt;
  return std::move(t).value();
}

bool read_only_by(const ir::Value* v, const std::vector<const ir::Node*>& readers) {
  if (v == nullptr || v->is_graph_output() || v->consumers().size() != readers.size()) return false;
  std::vector<const ir::Node*> a(v->consumers().begin(), v->consumers().end()), b = readers;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

ir::Value* constant_for(Editor& edit, ir::Value* old, const ir::Node* reader, Tensor t,
                        std::string_view base) {
  if (old != nullptr && old->graph() == &edit.graph() && old->is_initializer() &&
      !old->is_graph_input() && read_only_by(old, {reader})) {
    old->type.dtype = t.dtype();
    old->type.shape = Dims::of(t.shape());
    edit.graph().set_initializer(old, std::move(t));
    return old;
  }
  return edit.new_constant(base, std::move(t));
}

void drop_unread_constant(Editor& edit, const ir::Value* v) {
  if (v == nullptr || !v->consumers().empty() || v->is_graph_output()) return;
  ir::Node* p = v->producer();
  if (p != nullptr && p->op_type() == "Constant" && p->domain().empty() && !edit.removed(p))
    edit.remove(p);
}

bool fusable_float(const ir::Value* v, bool bf16) {
  if (v == nullptr || !v->type.known()) return false;
  const DataType d = v->type.dtype;
  return d == DataType::kFloat32 || d == DataType::kFloat16 || d == DataType::kFloat64 ||
         (bf16 && d == DataType::kBFloat16);
}

bool is_scalar(const ir::Value* x, double want, double tol) {
  const std::optional<double> v = scalar_constant(x);
  return v && std::fabs(*v - want) <= tol * std::max(1.0, std::fabs(want));
}

namespace {

std::string string_attr(const ir::Node& n, std::string_view name, std::string fallback) {
  const ir::Attribute* a = n.attr(name);
  return a != nullptr && a->type == ir::AttrType::kString ? a->s : fallback;
}

// Clip's bounds: attributes before opset 11, optional constant inputs from 11; an absent bound
// does not clip.
bool clip_bounds(const ir::Node& n, double& lo, double& hi, std::string* why) {
  lo = -std::numeric_limits<double>::infinity();
  hi = std::numeric_limits<double>::infinity();
  if (n.opset() > 0 && n.opset() < 11) {
    if (n.attr("min") != nullptr) lo = attr_float(n, "min", 0.0f);
    if (n.attr("max") != nullptr) hi = attr_float(n, "max", 0.0f);
    return true;
  }
  for (size_t i : {1, 2}) {
    if (n.input(i) == nullptr) continue;
    const std::optional<double> b = scalar_constant(n.input(i));
    if (!b) {
      *why = "a Clip bound is not a one-element constant";
      return false;
    }
    (i == 1 ? lo : hi) = *b;
  }
  return true;
}

// Mul(x, s) with s = Sigmoid(x) or Sigmoid(Mul(x, 1)).
bool match_silu(ir::Node& mul, ActivationMatch& m) {
  if (mul.inputs().size() != 2) return false;
  for (size_t i : {0, 1}) {
    ir::Value* x = mul.input(i);
    ir::Value* s = mul.input(1 - i);
    ir::Node* sig = s != nullptr ? s->producer() : nullptr;
    if (x == nullptr || sig == nullptr || sig->op_type() != "Sigmoid" || !sig->domain().empty() ||
        !single_consumer(s))
      continue;
    ir::Value* y = sig->input(0);
    if (y == x) {
      m.nodes = {&mul, sig};
    } else {
      ir::Node* one = y != nullptr ? y->producer() : nullptr;
      if (one == nullptr || one->op_type() != "Mul" || !one->domain().empty() ||
          !single_consumer(y) || one->inputs().size() != 2)
        continue;
      const bool x_first = one->input(0) == x && is_scalar(one->input(1), 1.0, 0.0);
      const bool x_second = one->input(1) == x && is_scalar(one->input(0), 1.0, 0.0);
      if (!x_first && !x_second) continue;
      m.nodes = {&mul, sig, one};
    }
    m.input = x;
    m.spec.kind = ops::Activation::kSilu;
    return true;
  }
  return false;
}

}  // namespace

std::optional<ActivationMatch> match_activation(ir::Node& root, std::string* why) {
  if (!root.domain().empty() || root.inputs().empty() || root.input(0) == nullptr)
    return std::nullopt;
  using A = ops::Activation;
  ActivationMatch m;
  m.root = &root;
  m.nodes = {&root};
  m.input = root.input(0);
  const std::string& op = root.op_type();
  if (op == "Relu") {
    m.spec.kind = A::kRelu;
  } else if (op == "Sigmoid") {
    m.spec.kind = A::kSigmoid;
  } else if (op == "Tanh") {
    m.spec.kind = A::kTanh;
  } else if (op == "HardSwish") {
    m.spec.kind = A::kHardSwish;
  } else if (op == "HardSigmoid") {
    m.spec = {A::kHardSigmoid, attr_float(root, "alpha", 0.2f), attr_float(root, "beta", 0.5f)};
  } else if (op == "LeakyRelu") {
    m.spec = {A::kLeakyRelu, attr_float(root, "alpha", 0.01f), 0};
  } else if (op == "Gelu") {
    const std::string approximate = string_attr(root, "approximate", "none");
    if (approximate != "none" && approximate != "tanh") {
      *why = "Gelu approximate = \"" + approximate + "\"";
      return std::nullopt;
    }
    m.spec.kind = approximate == "tanh" ? A::kGeluTanh : A::kGelu;
  } else if (op == "Clip") {
    m.spec.kind = A::kClip;
    if (!clip_bounds(root, m.spec.p0, m.spec.p1, why)) return std::nullopt;
  } else if (op == "Mul") {
    if (!match_silu(root, m)) return std::nullopt;
  } else {
    return std::nullopt;
  }
  // The parameters travel as float attributes: they must survive that exactly.
  for (double p : {m.spec.p0, m.spec.p1})
    if (!std::isnan(p) && static_cast<double>(static_cast<float>(p)) != p) {
      *why = "an activation parameter is not exactly a float";
      return std::nullopt;
    }
  return m;
}

bool activation_reads_all_of(const ActivationMatch& m, const ir::Value* x) {
  if (x == nullptr || x->is_graph_output() || x->consumers().empty()) return false;
  for (const ir::Node* c : x->consumers())
    if (std::find(m.nodes.begin(), m.nodes.end(), c) == m.nodes.end()) return false;
  return true;
}

std::vector<ir::Attribute> activation_attrs(const ops::ActivationSpec& spec) {
  std::vector<ir::Attribute> out;
  out.push_back(
      ir::Attribute::make_string("activation", std::string(ops::activation_name(spec.kind))));
  const size_t n = ops::activation_param_count(spec.kind);
  if (n > 0) {
    std::vector<float> params = {static_cast<float>(spec.p0), static_cast<float>(spec.p1)};
    params.resize(n);
    out.push_back(ir::Attribute::make_floats("activation_params", std::move(params)));
  }
  return out;
}

bool has_no_activation(const ir::Node& n) {
  const ir::Attribute* a = n.attr("activation");
  return a == nullptr || (a->type == ir::AttrType::kString && a->s.empty());
}

std::optional<LinearMatch> match_linear(ir::Node& add, std::string* why) {
  if (add.op_type() != "Add" || !add.domain().empty() || add.inputs().size() != 2)
    return std::nullopt;
  std::string reason;
  for (size_t i : {0, 1}) {
    ir::Value* p = add.input(i);
    ir::Value* bias = add.input(1 - i);
    ir::Node* mm = p != nullptr ? p->producer() : nullptr;
    if (mm == nullptr || mm->output(0) != p) continue;
    const bool plain = mm->op_type() == "MatMul" && mm->domain().empty();
    const bool fused = mm->op_type() == "FusedMatMul" && mm->domain() == ops::kKilnDomain &&
                       mm->input(2) == nullptr && has_no_activation(*mm);
    if (!plain && !fused) continue;
    if (!single_consumer(p)) {
      reason = "the product is read elsewhere too";
      continue;
    }
    if (!fusable_float(p, true) || !same_dtype(p, add.output(0))) {
      reason = "not a floating-point product";
      continue;
    }
    if (!is_constant(mm->input(1))) {
      reason = "the weight is not a constant";
      continue;
    }
    const std::optional<std::vector<int64_t>> bs = static_shape(bias);
    const Dims& ps = p->type.shape;
    if (!is_constant(bias) || !bs || !ps.rank_known() || ps.rank() == 0 || bs->size() > ps.rank()) {
      reason = "the addend is not a constant of at most the product's rank";
      continue;
    }
    const Dim& n = ps[ps.rank() - 1];
    int64_t count = 1;
    for (int64_t d : *bs) count *= d;
    const bool last_only =
        bs->empty() || count == 1 || (n.is_static() && bs->back() == n.value && count == n.value);
    if (!last_only) {
      reason = "the addend does not vary along the last dim only";
      continue;
    }
    return LinearMatch{&add, mm, bias};
  }
  if (why != nullptr && !reason.empty()) *why = reason;
  return std::nullopt;
}

}  // namespace kiln::passes
