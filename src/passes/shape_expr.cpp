#include "passes/shape_expr.h"

#include <cmath>

#include "ops/kernel_util.h"
#include "passes/patterns.h"

namespace kiln::passes {

namespace {

constexpr int kMaxDepth = 32;
constexpr size_t kMaxElements = 16;

using Terms = std::vector<DimExpr>;

std::optional<Terms> resolve(const ir::Value* v, int depth);

DimExpr plain(DimTerm t) {
  return DimExpr{t, std::nullopt};
}

// Integer contents of a constant input (all plain constants), e.g. Slice starts or Gather
// indices.
std::optional<std::vector<int64_t>> const_ints(const ir::Value* v, int depth) {
  std::optional<Terms> t = resolve(v, depth);
  if (!t) return std::nullopt;
  std::vector<int64_t> out;
  for (const DimExpr& e : *t) {
    if (!e.term.is_const || e.minus) return std::nullopt;
    out.push_back(e.term.value);
  }
  return out;
}

// ONNX Slice bounds for one axis of length n, step 1: [start, end) after clamping.
std::pair<int64_t, int64_t> slice_bounds(int64_t start, int64_t end, int64_t n) {
  auto clamp = [n](int64_t i) {
    if (i < 0) i = i < -n ? 0 : i + n;
    return i > n ? n : i;
  };
  return {clamp(start), clamp(end)};
}

std::optional<Terms> resolve_slice(const ir::Node& p, int depth) {
  std::optional<Terms> data = resolve(p.input(0), depth);
  if (!data) return std::nullopt;
  std::vector<int64_t> starts, ends, axes = {0}, steps = {1};
  if (p.opset() > 0 && p.opset() < 10) {
    starts = attr_ints(p, "starts");
    ends = attr_ints(p, "ends");
    axes = attr_ints(p, "axes", {0});
  } else {
    std::optional<std::vector<int64_t>> s = const_ints(p.input(1), depth);
    std::optional<std::vector<int64_t>> e = const_ints(p.input(2), depth);
    if (!s || !e) return std::nullopt;
    starts = *s;
    ends = *e;
    if (p.input(3) != nullptr) {
      std::optional<std::vector<int64_t>> a = const_ints(p.input(3), depth);
      if (!a) return std::nullopt;
      axes = *a;
    }
    if (p.input(4) != nullptr) {
      std::optional<std::vector<int64_t>> st = const_ints(p.input(4), depth);
      if (!st) return std::nullopt;
      steps = *st;
    }
  }
  if (starts.size() != 1 || ends.size() != 1 || axes.size() != 1 || steps.size() != 1 ||
      (axes[0] != 0 && axes[0] != -1) || steps[0] != 1)
    return std::nullopt;
  const auto [b, e] = slice_bounds(starts[0], ends[0], static_cast<int64_t>(data->size()));
  if (e <= b) return Terms{};
  return Terms(data->begin() + b, data->begin() + e);
}

std::optional<Terms> resolve(const ir::Value* v, int depth) {
  if (v == nullptr || depth > kMaxDepth) return std::nullopt;
  if (const Tensor* t = constant_value(v)) {
    if ((t->dtype() != DataType::kInt64 && t->dtype() != DataType::kInt32) || t->rank() > 1 ||
        static_cast<size_t>(t->numel()) > kMaxElements)
      return std::nullopt;
    Result<std::vector<int64_t>> ints = ops::read_int_values(*t, "shape");
    if (!ints.ok()) return std::nullopt;
    Terms out;
    for (int64_t x : *ints) out.push_back(plain(DimTerm::constant(x)));
    return out;
  }
  const ir::Node* p = v->producer();
  if (p == nullptr || !p->domain().empty() || p->output(0) != v) return std::nullopt;
  const std::string& op = p->op_type();
  ++depth;
  if (op == "Shape") {
    const ir::Value* of = p->input(0);
    if (of == nullptr || !of->type.shape.rank_known()) return std::nullopt;
    const int64_t rank = static_cast<int64_t>(of->type.shape.rank());
    const auto [b, e] = slice_bounds(attr_int(*p, "start", 0), attr_int(*p, "end", rank), rank);
    if (static_cast<size_t>(rank) > kMaxElements) return std::nullopt;
    Terms out;
    for (int64_t i = b; i < e; ++i) out.push_back(plain(DimTerm::dim_of(of, i)));
    return out;
  }
  if (op == "Identity") return resolve(p->input(0), depth);
  if (op == "Cast") {
    const int64_t to = attr_int(*p, "to", 0);
    if (to != static_cast<int64_t>(DataType::kInt64) &&
        to != static_cast<int64_t>(DataType::kInt32))
      return std::nullopt;
    return resolve(p->input(0), depth);
  }
  if (op == "Squeeze" || op == "Unsqueeze") {
    // Only between a scalar and a one-element vector: the element is unchanged.
    std::optional<Terms> in = resolve(p->input(0), depth);
    if (!in || in->size() != 1) return std::nullopt;
    return in;
  }
  if (op == "Gather") {
    if (attr_int(*p, "axis", 0) != 0) return std::nullopt;
    std::optional<Terms> data = resolve(p->input(0), depth);
    std::optional<std::vector<int64_t>> idx = const_ints(p->input(1), depth);
    if (!data || !idx) return std::nullopt;
    const int64_t n = static_cast<int64_t>(data->size());
    Terms out;
    for (int64_t i : *idx) {
      if (i < -n || i >= n) return std::nullopt;
      out.push_back((*data)[static_cast<size_t>(i < 0 ? i + n : i)]);
    }
    return out;
  }
  if (op == "Slice") return resolve_slice(*p, depth);
  if (op == "Concat") {
    const int64_t axis = attr_int(*p, "axis", 0);
    if (axis != 0 && axis != -1) return std::nullopt;
    Terms out;
    for (const ir::Value* in : p->inputs()) {
      std::optional<Terms> part = resolve(in, depth);
      if (!part) return std::nullopt;
      out.insert(out.end(), part->begin(), part->end());
    }
    if (out.size() > kMaxElements) return std::nullopt;
    return out;
  }
  if (op == "Sub" || op == "Add") {
    std::optional<Terms> a = resolve(p->input(0), depth);
    std::optional<Terms> b = resolve(p->input(1), depth);
    if (!a || !b || a->size() != 1 || b->size() != 1 || (*a)[0].minus || (*b)[0].minus)
      return std::nullopt;
    const DimTerm x = (*a)[0].term, y = (*b)[0].term;
    if (y.is_const && y.value == 0) return a;
    if (op == "Add") {
      if (x.is_const && x.value == 0) return b;
      if (x.is_const && y.is_const) return Terms{plain(DimTerm::constant(x.value + y.value))};
      return std::nullopt;
    }
    if (x.is_const && y.is_const) return Terms{plain(DimTerm::constant(x.value - y.value))};
    return Terms{DimExpr{x, y}};
  }
  return std::nullopt;
}

std::optional<double> evaluate(const ir::Value* v, int depth) {
  if (v == nullptr || depth > kMaxDepth) return std::nullopt;
  if (std::optional<double> c = scalar_constant(v)) return c;
  const ir::Node* p = v->producer();
  if (p == nullptr || !p->domain().empty() || p->output(0) != v) return std::nullopt;
  const std::string& op = p->op_type();
  ++depth;
  if (op == "ConstantOfShape") {
    std::optional<std::vector<int64_t>> shape = const_ints(p->input(0), depth);
    if (!shape) return std::nullopt;
    int64_t n = 1;
    for (int64_t d : *shape) n *= d;
    if (n != 1) return std::nullopt;
    const ir::Attribute* value = p->attr("value");
    if (value == nullptr) return 0.0;  // the default is a float32 zero
    if (value->type != ir::AttrType::kTensor || value->t.numel() != 1) return std::nullopt;
    double out = 0;
    Status s = ops::dispatch_numeric(value->t.dtype(), "value", [&]<typename T>() -> Status {
      out = static_cast<double>(static_cast<ops::compute_t<T>>(value->t.data_as<T>()[0]));
      return Status::Ok();
    });
    if (!s.ok()) return std::nullopt;
    return out;
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow") {
    std::optional<double> a = evaluate(p->input(0), depth);
    std::optional<double> b = evaluate(p->input(1), depth);
    if (!a || !b) return std::nullopt;
    if (op == "Add") return *a + *b;
    if (op == "Sub") return *a - *b;
    if (op == "Mul") return *a * *b;
    if (op == "Div") return *b == 0 ? std::nullopt : std::optional<double>(*a / *b);
    return std::pow(*a, *b);
  }
  if (op == "Sqrt" || op == "Reciprocal" || op == "Neg") {
    std::optional<double> a = evaluate(p->input(0), depth);
    if (!a) return std::nullopt;
    if (op == "Sqrt") return *a < 0 ? std::nullopt : std::optional<double>(std::sqrt(*a));
    if (op == "Reciprocal") return *a == 0 ? std::nullopt : std::optional<double>(1.0 / *a);
    return -*a;
  }
  if (op == "Identity" || op == "Squeeze" || op == "Unsqueeze" || op == "Reshape" ||
      op == "Flatten")
    return evaluate(p->input(0), depth);
  if (op == "Cast") {
    std::optional<double> a = evaluate(p->input(0), depth);
    if (!a) return std::nullopt;
    const DataType to = static_cast<DataType>(attr_int(*p, "to", 0));
    if (to == DataType::kFloat32) return static_cast<double>(static_cast<float>(*a));
    if (to == DataType::kFloat64 || to == DataType::kFloat16 || to == DataType::kBFloat16) return a;
    if (!data_type_info(to).is_float && std::isfinite(*a)) return std::trunc(*a);
    return std::nullopt;
  }
  std::optional<Terms> t = resolve(v, depth);
  if (!t || t->size() != 1 || (*t)[0].minus) return std::nullopt;
  const Dim d = (*t)[0].term.dim();
  if (!d.is_static()) return std::nullopt;
  return static_cast<double>(d.value);
}

}  // namespace

Dim DimTerm::dim() const {
  if (is_const) return value >= 0 ? Dim::fixed(value) : Dim::unknown();
  const Dims& s = of->type.shape;
  if (!s.rank_known() || axis < 0 || static_cast<size_t>(axis) >= s.rank()) return Dim::unknown();
  return s[static_cast<size_t>(axis)];
}

std::optional<std::vector<DimExpr>> resolve_ints(const ir::Value* v) {
  return resolve(v, 0);
}

std::optional<DimExpr> resolve_int(const ir::Value* v) {
  std::optional<Terms> t = resolve(v, 0);
  if (!t || t->size() != 1) return std::nullopt;
  return (*t)[0];
}

bool same_size(const DimTerm& a, const Dim& b) {
  const Dim d = a.dim();
  if (d.is_static() && b.is_static()) return d.value == b.value;
  return d.is_symbolic() && b.is_symbolic() && d.symbol == b.symbol;
}

bool same_size(const DimTerm& t, const ir::Value* v, size_t axis) {
  if (!t.is_const && t.of == v && t.axis == static_cast<int64_t>(axis)) return true;
  const Dims& s = v->type.shape;
  return s.rank_known() && axis < s.rank() && same_size(t, s[axis]);
}

std::optional<double> evaluate_scalar(const ir::Value* v) {
  return evaluate(v, 0);
}

}  // namespace kiln::passes
