// Softmax, LogSoftmax, Hardmax.
//
// Revisions 1 and 11 coerce the input to 2-D at `axis` ([prod(d<axis), prod(d>=axis)]) and
// normalize over the second dim; revision 13 normalizes along the single `axis`. The results
// differ whenever axis is not the last dim, so both semantics are registered.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/op_schema.h"
#include "ops/reduction_util.h"

namespace kiln::ops {

namespace {

enum class Kind { kSoftmax, kLogSoftmax, kHardmax };

// Normalizes x viewed as [outer, n, inner] along n. The statistics of one outer slice live in
// `inner`-long rows so every inner loop walks contiguous memory.
template <typename T>
void normalize(Kind kind, const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
  std::vector<double> best(static_cast<size_t>(inner)), sum(static_cast<size_t>(inner));
  std::vector<int64_t> arg(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o) {
    const T* in = x + o * n * inner;
    T* out = y + o * n * inner;
    std::fill(best.begin(), best.end(), -INFINITY);
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(arg.begin(), arg.end(), 0);
    // Hardmax marks the first maximum; NaN never compares greater, as in ONNX Runtime.
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i) {
        const double v = to_double(in[k * inner + i]);
        if (k == 0 || v > best[i]) {
          best[i] = v;
          arg[i] = k;
        }
      }
    if (kind == Kind::kHardmax) {
      for (int64_t k = 0; k < n; ++k)
        for (int64_t i = 0; i < inner; ++i) out[k * inner + i] = from_double<T>(arg[i] == k);
      continue;
    }
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i)
        sum[i] += std::exp(to_double(in[k * inner + i]) - best[i]);
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i) {
        const double shifted = to_double(in[k * inner + i]) - best[i];
        out[k * inner + i] = from_double<T>(kind == Kind::kSoftmax ? std::exp(shifted) / sum[i]
                                                                   : shifted - std::log(sum[i]));
      }
  }
}

Status run_softmax(KernelContext& ctx, Kind kind, const char* name) {
  const Tensor* x = ctx.input(0);
  if (x == nullptr) return err(Code::kInvalidArgument, name, " needs its input");
  const int64_t rank = static_cast<int64_t>(x->rank());
  if (rank == 0)
    return err(Code::kInvalidArgument, name, " needs an input of rank >= 1, got a scalar");
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(ctx.attr_int("axis"), rank, name));
  const auto& shape = x->shape();
  const size_t ax = static_cast<size_t>(axis);
  const bool coerce_2d = ctx.since() < 13;
  const int64_t outer = dims_product(shape, 0, ax);
  const int64_t n = coerce_2d ? dims_product(shape, ax, shape.size()) : shape[ax];
  const int64_t inner = coerce_2d ? 1 : dims_product(shape, ax + 1, shape.size());
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), shape));
  return dispatch_float(x->dtype(), name, [&]<typename T>() -> Status {
    normalize<T>(kind, x->data_as<T>(), y->data_as<T>(), outer, n, inner);
    return Status::Ok();
  });
}

}  // namespace

void register_softmax(OpRegistry& registry) {
  using D = DataType;
  const std::vector<DataType> floats_no_bf16 = {D::kFloat16, D::kFloat32, D::kFloat64};
  const struct {
    const char* name;
    Kind kind;
  } ops[] = {
      {"Softmax", Kind::kSoftmax}, {"LogSoftmax", Kind::kLogSoftmax}, {"Hardmax", Kind::kHardmax}};
  for (const auto& op : ops) {
    auto kernel = [kind = op.kind, name = op.name](KernelContext& ctx) {
      return run_softmax(ctx, kind, name);
    };
    for (int64_t since : {1, 11}) {
      registry.add(OpSchema(op.name, since)
                       .input("input", "T")
                       .output("output", "T")
                       .types("T", floats_no_bf16)
                       .attr("axis", ir::AttrType::kInt, int64_t{1})
                       .doc("input coerced to 2-D at axis; normalized over the flattened tail")
                       .fusion(FusionKind::kReduction)
                       .kernel(kernel)
                       .infer(infer_same_as_input));
    }
    registry.add(OpSchema(op.name, 13)
                     .input("input", "T")
                     .output("output", "T")
                     .types("T", type_sets::floats())
                     .attr("axis", ir::AttrType::kInt, int64_t{-1})
                     .doc("normalized along axis")
                     .fusion(FusionKind::kReduction)
                     .kernel(kernel)
                     .infer(infer_same_as_input));
  }
}

}  // namespace kiln::ops
