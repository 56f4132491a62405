#include "passes/shape_values.h"

#include <algorithm>

#include "passes/patterns.h"
#include "passes/simplify_util.h"

namespace kiln::passes {
namespace {

// Shape tensors are short; anything longer is data, not a shape.
constexpr int64_t kMaxElements = 64;
constexpr int kMaxDepth = 64;

bool is_integer(DataType t) {
  return t == DataType::kInt64 || t == DataType::kInt32;
}

// Slice of a length-n list along its only axis (ONNX clamping rules, as the Slice kernel).
std::optional<std::vector<int64_t>> slice_indices(int64_t n, int64_t b, int64_t e, int64_t s) {
  if (s == 0) return std::nullopt;
  if (b < 0) b += n;
  if (e < 0) e += n;
  std::vector<int64_t> out;
  if (n == 0) return out;
  if (s > 0) {
    b = std::clamp<int64_t>(b, 0, n);
    e = std::clamp<int64_t>(e, 0, n);
    for (int64_t i = b; i < e; i += s) out.push_back(i);
  } else {
    b = std::clamp<int64_t>(b, 0, n - 1);
    e = std::clamp<int64_t>(e, -1, n - 1);
    for (int64_t i = b; i > e; i += s) out.push_back(i);
  }
  return out;
}

// A one-element list of axes that names the only axis of a rank-1 result (0 or -1).
bool only_axis_zero(const std::vector<int64_t>& axes) {
  return axes.size() == 1 && (axes[0] == 0 || axes[0] == -1);
}

}  // namespace

bool ShapeContents::known() const {
  return std::all_of(elements.begin(), elements.end(),
                     [](const ShapeElement& e) { return e.value.has_value(); });
}

std::vector<int64_t> ShapeContents::values() const {
  std::vector<int64_t> out;
  for (const ShapeElement& e : elements) out.push_back(e.value.value_or(0));
  return out;
}

const std::optional<ShapeContents>& ShapeTracker::eval(const ir::Value* v) {
  auto it = memo_.find(v);
  if (it != memo_.end()) return it->second;
  ++depth_;
  std::optional<ShapeContents> c = depth_ > kMaxDepth ? std::nullopt : compute(v);
  --depth_;
  return memo_[v] = std::move(c);
}

std::optional<ShapeContents> ShapeTracker::compute(const ir::Value* v) {
  if (v == nullptr) return std::nullopt;
  if (const Tensor* t = constant_value(v)) {
    std::optional<std::vector<int64_t>> ints = constant_ints(v);
    if (!ints || t->numel() > kMaxElements) return std::nullopt;
    ShapeContents c;
    c.scalar = t->rank() == 0;
    for (int64_t x : *ints) c.elements.push_back({x, nullptr, -1});
    return c;
  }
  const ir::Node* p = v->producer();
  if (p == nullptr || !p->domain().empty() || p->output(0) != v) return std::nullopt;
  const std::string& op = p->op_type();
  const int64_t opset = opset_of(*p, ctx_);

  if (op == "Shape") {
    const ir::Value* x = p->input(0);
    if (x == nullptr || !x->type.shape.rank_known()) return std::nullopt;
    const int64_t rank = static_cast<int64_t>(x->type.shape.rank());
    int64_t start = attr_int(*p, "start", 0), end = attr_int(*p, "end", rank);
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, 0, rank);
    ShapeContents c;
    for (int64_t k = start; k < end; ++k) {
      const Dim& d = x->type.shape[static_cast<size_t>(k)];
      if (d.is_static())
        c.elements.push_back({d.value, nullptr, -1});
      else
        c.elements.push_back({std::nullopt, x, k});
    }
    return c;
  }
  if (op == "Size") {
    const ir::Value* x = p->input(0);
    if (x == nullptr || !x->type.shape.rank_known()) return std::nullopt;
    int64_t n = 1;
    for (size_t k = 0; k < x->type.shape.rank(); ++k) {
      const Dim& d = x->type.shape[k];
      if (!d.is_static() || __builtin_mul_overflow(n, d.value, &n)) return std::nullopt;
    }
    ShapeContents c;
    c.scalar = true;
    c.elements.push_back({n, nullptr, -1});
    return c;
  }
  if (op == "Identity") return eval(p->input(0));
  if (op == "Cast") {
    const ir::Attribute* to = p->attr("to");
    if (to == nullptr || to->type != ir::AttrType::kInt ||
        !is_integer(static_cast<DataType>(to->i)))
      return std::nullopt;
    std::optional<ShapeContents> c = eval(p->input(0));
    if (c && static_cast<DataType>(to->i) == DataType::kInt32)
      for (const ShapeElement& e : c->elements)
        if (e.value && (*e.value < INT32_MIN || *e.value > INT32_MAX)) return std::nullopt;
    return c;
  }
  if (op == "Gather") {
    if (attr_int(*p, "axis", 0) != 0 && attr_int(*p, "axis", 0) != -1) return std::nullopt;
    const Tensor* idx = constant_value(p->input(1));
    std::optional<std::vector<int64_t>> ids = constant_ints(p->input(1));
    std::optional<ShapeContents> data = eval(p->input(0));
    if (idx == nullptr || !ids || !data || data->scalar) return std::nullopt;
    const int64_t n = static_cast<int64_t>(data->elements.size());
    ShapeContents c;
    c.scalar = idx->rank() == 0;
    for (int64_t i : *ids) {
      if (i < 0) i += n;
      if (i < 0 || i >= n) return std::nullopt;
      c.elements.push_back(data->elements[static_cast<size_t>(i)]);
    }
    return c;
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    const Axes axes = squeeze_axes(*p, ctx_);
    std::optional<ShapeContents> data = eval(p->input(0));
    if (!axes.known || !data) return std::nullopt;
    if (op == "Unsqueeze") {
      if (!data->scalar || !only_axis_zero(axes.values)) return std::nullopt;
      data->scalar = false;
      return data;
    }
    if (data->scalar || data->elements.size() != 1 ||
        (axes.present && !only_axis_zero(axes.values)))
      return std::nullopt;
    data->scalar = true;
    return data;
  }
  if (op == "Concat") {
    const int64_t axis = attr_int(*p, "axis", 0);
    if (axis != 0 && axis != -1) return std::nullopt;
    ShapeContents c;
    for (const ir::Value* in : p->inputs()) {
      std::optional<ShapeContents> part = eval(in);
      if (!part || part->scalar) return std::nullopt;
      c.elements.insert(c.elements.end(), part->elements.begin(), part->elements.end());
    }
    if (static_cast<int64_t>(c.elements.size()) > kMaxElements) return std::nullopt;
    return c;
  }
  if (op == "Slice") {
    std::optional<std::vector<int64_t>> starts, ends, axes, steps;
    if (opset < 10) {
      starts = attr_ints(*p, "starts");
      ends = attr_ints(*p, "ends");
      if (p->attr("axes") != nullptr) axes = attr_ints(*p, "axes");
    } else {
      starts = constant_ints(p->input(1));
      ends = constant_ints(p->input(2));
      if (p->input(3) != nullptr) {
        axes = constant_ints(p->input(3));
        if (!axes) return std::nullopt;
      }
      if (p->input(4) != nullptr) {
        steps = constant_ints(p->input(4));
        if (!steps) return std::nullopt;
      }
    }
    if (!starts || !ends || starts->size() != 1 || ends->size() != 1) return std::nullopt;
    if (axes && !only_axis_zero(*axes)) return std::nullopt;
    if (steps && steps->size() != 1) return std::nullopt;
    std::optional<ShapeContents> data = eval(p->input(0));
    if (!data || data->scalar) return std::nullopt;
    std::optional<std::vector<int64_t>> picks =
        slice_indices(static_cast<int64_t>(data->elements.size()), (*starts)[0], (*ends)[0],
                      steps ? (*steps)[0] : 1);
    if (!picks) return std::nullopt;
    ShapeContents c;
    for (int64_t i : *picks) c.elements.push_back(data->elements[static_cast<size_t>(i)]);
    return c;
  }
  return std::nullopt;
}

}  // namespace kiln::passes
