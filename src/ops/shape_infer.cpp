#include "ops/shape_infer.h"

#include <algorithm>

#include "core/errors.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {
const ir::ValueType& unknown_type() {
  static const ir::ValueType t;
  return t;
}

// The IoSpec output/input i falls under (the last one repeats when variadic).
const IoSpec* spec_at(const std::vector<IoSpec>& specs, size_t i) {
  if (specs.empty()) return nullptr;
  if (i < specs.size()) return &specs[i];
  return specs.back().arity == Arity::kVariadic ? &specs.back() : nullptr;
}
}  // namespace

InferContext::InferContext(const ir::Node& node, const OpSchema& schema, const InferState& state)
    : NodeAttrs(node, schema), state_(state), outputs_(node.outputs().size()) {}

const ir::ValueType& InferContext::input_type(size_t i) const {
  const ir::Value* v = node_.input(i);
  return v ? v->type : unknown_type();
}

std::optional<int64_t> InferContext::input_rank(size_t i) const {
  const Dims& d = input_shape(i);
  if (!d.rank_known()) return std::nullopt;
  return static_cast<int64_t>(d.rank());
}

const Tensor* InferContext::input_constant(size_t i) const {
  const ir::Value* v = node_.input(i);
  if (v == nullptr) return nullptr;
  if (v->initializer() != nullptr && !v->is_graph_input()) return v->initializer();
  auto it = state_.constants.find(v);
  return it == state_.constants.end() ? nullptr : it->second;
}

std::optional<DimValues> InferContext::input_values(size_t i) const {
  const ir::Value* v = node_.input(i);
  if (v == nullptr) return std::nullopt;
  auto it = state_.values.find(v);
  if (it != state_.values.end()) return it->second;
  const Tensor* t = input_constant(i);
  if (t == nullptr || t->rank() > 1 || t->numel() > 1024 || t->data() == nullptr)
    return std::nullopt;
  DimValues out;
  for (int64_t k = 0; k < t->numel(); ++k) {
    if (t->dtype() == DataType::kInt64)
      out.push_back(IntValue::of(t->data_as<int64_t>()[k]));
    else if (t->dtype() == DataType::kInt32)
      out.push_back(IntValue::of(t->data_as<int32_t>()[k]));
    else
      return std::nullopt;
  }
  return out;
}

std::optional<std::vector<int64_t>> InferContext::input_ints(size_t i) const {
  const ir::Value* v = node_.input(i);
  if (v == nullptr) return std::nullopt;
  // Constant data directly: negative entries (-1 in Reshape targets) are real values here.
  if (const Tensor* t = input_constant(i);
      t != nullptr && t->rank() <= 1 && t->data() != nullptr && t->numel() <= (1 << 20)) {
    std::vector<int64_t> out;
    for (int64_t k = 0; k < t->numel(); ++k) {
      if (t->dtype() == DataType::kInt64)
        out.push_back(t->data_as<int64_t>()[k]);
      else if (t->dtype() == DataType::kInt32)
        out.push_back(t->data_as<int32_t>()[k]);
      else
        return std::nullopt;
    }
    return out;
  }
  std::optional<DimValues> dv = input_values(i);
  if (!dv) return std::nullopt;
  std::vector<int64_t> out;
  for (const IntValue& d : *dv) {
    if (!d.value) return std::nullopt;
    out.push_back(*d.value);
  }
  return out;
}

DataType InferContext::default_output_dtype(size_t i) const {
  const IoSpec* out = spec_at(schema_.outputs(), i);
  if (out == nullptr) return DataType::kUndefined;
  for (size_t k = 0; k < node_.inputs().size(); ++k) {
    const IoSpec* in = spec_at(schema_.inputs(), k);
    if (in == nullptr || in->type_var != out->type_var || node_.input(k) == nullptr) continue;
    if (in->arity == Arity::kVariadic && !in->homogeneous) continue;
    const DataType t = input_dtype(k);
    if (t != DataType::kUndefined) return t;
  }
  if (const TypeConstraint* tc = schema_.find_types(out->type_var)) {
    if (tc->types.size() == 1) return tc->types.front();
    return DataType::kUndefined;
  }
  return parse_data_type(out->type_var).value_or(DataType::kUndefined);
}

void InferContext::set_output(size_t i, DataType dtype, Dims shape) {
  if (i >= outputs_.size()) return;
  outputs_[i].set = true;
  outputs_[i].type.dtype = dtype;
  outputs_[i].type.shape = std::move(shape);
}

void InferContext::set_output_values(size_t i, DimValues values) {
  if (i < outputs_.size()) outputs_[i].values = std::move(values);
}

// ---- helpers ------------------------------------------------------------------------------------

std::optional<Dim> unify_dim(const Dim& a, const Dim& b) {
  if (a.is_static() && b.is_static()) return a.value == b.value ? std::optional(a) : std::nullopt;
  if (a.is_static()) return a;
  if (b.is_static()) return b;
  if (a.is_symbolic()) return a;
  return b;
}

Result<Dims> broadcast_dims(const std::vector<Dims>& shapes, const std::string& what) {
  size_t rank = 0;
  for (const Dims& s : shapes) {
    if (!s.rank_known()) return Dims::unknown_rank();
    rank = std::max(rank, s.rank());
  }
  std::vector<Dim> out(rank, Dim::fixed(1));
  for (size_t k = 0; k < rank; ++k) {
    bool any_unknown = false;
    std::optional<Dim> acc;  // the non-1 size so far
    for (const Dims& s : shapes) {
      if (s.rank() + k < rank) continue;  // implicit leading 1
      const Dim& d = s[s.rank() - (rank - k)];
      if (d.is_static() && d.value == 1) continue;
      if (!d.is_static() && !d.is_symbolic()) {
        any_unknown = true;
        continue;
      }
      if (!acc) {
        acc = d;
      } else if (acc->is_static() && d.is_static()) {
        if (acc->value != d.value) {
          std::string list;
          for (const Dims& t : shapes) list += (list.empty() ? "" : " and ") + t.to_string();
          return err(Code::kIncompatibleShapes, what, ": shapes ", list,
                     " do not broadcast (dimension ", k, " of the result: ", acc->value, " vs ",
                     d.value, ")");
        }
      } else if (acc->is_static()) {
        // a symbol meeting a static size > 1: the symbol must equal it (or be 1)
      } else if (d.is_static()) {
        acc = d;
      } else if (acc->symbol != d.symbol) {
        acc = Dim::unknown();  // either may be 1
        any_unknown = true;
      }
    }
    if (acc && acc->is_static())
      out[k] = *acc;
    else if (any_unknown || (acc && !acc->is_symbolic()))
      out[k] = Dim::unknown();
    else if (acc)
      out[k] = *acc;
  }
  return Dims(std::move(out));
}

Dim dim_mul(const Dim& a, const Dim& b) {
  if (a.is_static() && b.is_static()) {
    int64_t r = 0;
    if (__builtin_mul_overflow(a.value, b.value, &r)) return Dim::unknown();
    return Dim::fixed(r);
  }
  if (a.is_static() && a.value == 1) return b;
  if (b.is_static() && b.value == 1) return a;
  if ((a.is_static() && a.value == 0) || (b.is_static() && b.value == 0)) return Dim::fixed(0);
  return Dim::unknown();
}

Dim dim_add(const Dim& a, const Dim& b) {
  if (a.is_static() && b.is_static()) {
    int64_t r = 0;
    if (__builtin_add_overflow(a.value, b.value, &r)) return Dim::unknown();
    return Dim::fixed(r);
  }
  if (a.is_static() && a.value == 0) return b;
  if (b.is_static() && b.value == 0) return a;
  return Dim::unknown();
}

Result<int64_t> infer_axis(int64_t axis, int64_t rank, const std::string& what) {
  if (axis < -rank || axis >= rank)
    return err(Code::kIndexOutOfRange, what, ": axis ", axis, " is out of range for rank ", rank,
               " (valid: ", -rank, "..", rank - 1, ")");
  return axis < 0 ? axis + rank : axis;
}

Dims unknown_dims(int64_t rank) {
  // The rank may come from a file-declared size (the length of a shape tensor): past any real
  // rank it is just unknown, and allocates nothing.
  constexpr int64_t kMaxRank = 64;
  if (rank < 0 || rank > kMaxRank) return Dims::unknown_rank();
  return Dims(std::vector<Dim>(static_cast<size_t>(rank), Dim::unknown()));
}

Dims dims_from_values(const DimValues& values) {
  std::vector<Dim> dims;
  for (const IntValue& d : values) dims.push_back(d.dim());
  return Dims(std::move(dims));
}

Dim slice_count(const Dim& dim, int64_t start, int64_t end, int64_t step) {
  if (step == 0) return Dim::unknown();
  if (!dim.is_static()) {
    // Whole-axis slices keep a symbolic size: [0:INT_MAX:1] as exporters write it.
    if (step == 1 && start == 0 && end >= (int64_t{1} << 31)) return dim;
    return Dim::unknown();
  }
  const int64_t n = dim.value;
  if (start < 0) start = start < -n ? 0 : start + n;  // saturating: start may be INT64_MIN
  if (end < 0) end = end < -n ? -1 : end + n;
  int64_t count = 0;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, n);
    end = std::clamp<int64_t>(end, 0, n);
    if (end > start) count = (end - start - 1) / step + 1;
  } else {
    start = std::clamp<int64_t>(start, 0, n - 1);
    end = std::clamp<int64_t>(end, -1, n - 1);
    if (start > end) count = (start - end - 1) / (step == INT64_MIN ? INT64_MAX : -step) + 1;
  }
  return Dim::fixed(count);
}

Status infer_same_as_input(InferContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  return Status::Ok();
}

}  // namespace kiln::ops
