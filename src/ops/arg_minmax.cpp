// ArgMax, ArgMin: index of the extreme value along one axis.
#include <cmath>
#include <utility>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/op_schema.h"
#include "ops/reduction_util.h"

namespace kiln::ops {

namespace {

// NaN counts as the extreme in both directions (NumPy's argmax/argmin return the first NaN), so
// a NaN in the data is reported rather than silently skipped.
template <typename C>
bool beats(C a, C b, bool is_max) {
  if constexpr (std::is_floating_point_v<C>) {
    if (std::isnan(b)) return false;
    if (std::isnan(a)) return true;
  }
  return is_max ? a > b : a < b;
}

template <typename C>
bool ties(C a, C b) {
  if constexpr (std::is_floating_point_v<C>)
    if (std::isnan(a) && std::isnan(b)) return true;
  return a == b;
}

Status run_arg(KernelContext& ctx, bool is_max) {
  const char* name = is_max ? "ArgMax" : "ArgMin";
  const Tensor* x = ctx.input(0);
  if (x == nullptr) return err(Code::kInvalidArgument, name, " needs its data input");
  const int64_t rank = static_cast<int64_t>(x->rank());
  if (rank == 0)
    return err(Code::kInvalidArgument, name, " needs an input of rank >= 1, got a scalar");
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(ctx.attr_int("axis"), rank, name));
  const bool keepdims = ctx.attr_int("keepdims", 1) != 0;
  // Revisions before 12 have no select_last_index; the attribute then reads as 0.
  const bool last = ctx.since() >= 12 && ctx.attr_int("select_last_index") != 0;
  const auto& shape = x->shape();
  const size_t ax = static_cast<size_t>(axis);
  const int64_t outer = dims_product(shape, 0, ax), n = shape[ax],
                inner = dims_product(shape, ax + 1, shape.size());
  std::vector<int64_t> out_shape;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i != ax)
      out_shape.push_back(shape[i]);
    else if (keepdims)
      out_shape.push_back(1);
  }
  if (n == 0 && outer * inner > 0)
    return err(Code::kInvalidArgument, name, " of an empty axis ", axis, " (input shape ",
               shape_string(shape), ") has no answer");
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, DataType::kInt64, out_shape));
  int64_t* out = y->data_as<int64_t>();
  return dispatch_numeric(x->dtype(), name, [&]<typename T>() -> Status {
    using C = compute_t<T>;
    const T* in = x->data_as<T>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const T* p = in + o * n * inner + i;
        int64_t best_k = 0;
        C best = static_cast<C>(p[0]);
        for (int64_t k = 1; k < n; ++k) {
          const C v = static_cast<C>(p[k * inner]);
          if (beats(v, best, is_max) || (last && ties(v, best))) {
            best = v;
            best_k = k;
          }
        }
        out[o * inner + i] = best_k;
      }
    }
    return Status::Ok();
  });
}

Status arg_infer(InferContext& ctx) {
  const Dims& in = ctx.input_shape(0);
  const bool keep = ctx.attr_int("keepdims", 1) == 1;
  if (!in.rank_known()) {
    ctx.set_output_shape(0, in);
    return Status::Ok();
  }
  KILN_ASSIGN_OR_RETURN(
      const int64_t axis,
      infer_axis(ctx.attr_int("axis", 0), static_cast<int64_t>(in.rank()), ctx.node().op_type()));
  std::vector<Dim> out = in.dims();
  if (keep)
    out[axis] = Dim::fixed(1);
  else
    out.erase(out.begin() + axis);
  ctx.set_output_shape(0, Dims(std::move(out)));
  return Status::Ok();
}

}  // namespace

void register_arg_minmax(OpRegistry& registry) {
  using D = DataType;
  auto numeric_no_bf16 = type_sets::ints();
  numeric_no_bf16.insert(numeric_no_bf16.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
  // Revision 11 allows negative axis; 12 adds select_last_index; 13 adds bfloat16.
  for (const char* name : {"ArgMax", "ArgMin"}) {
    const bool is_max = name[3] == 'M' && name[4] == 'a';
    for (int64_t since : {1, 11, 12, 13}) {
      OpSchema s(name, since);
      s.input("data", "T")
          .output("reduced", "I")
          .types("T", since < 13 ? numeric_no_bf16 : type_sets::numeric())
          .types("I", {D::kInt64})
          .attr("axis", ir::AttrType::kInt, int64_t{0})
          .attr_int_enum("keepdims", 1, {0, 1});
      if (since >= 12) s.attr_int_enum("select_last_index", 0, {0, 1});
      s.fusion(FusionKind::kReduction).kernel([is_max](KernelContext& ctx) {
        return run_arg(ctx, is_max);
      });
      s.infer(arg_infer);
      registry.add(std::move(s));
    }
  }
}

}  // namespace kiln::ops
