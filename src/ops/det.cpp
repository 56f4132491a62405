// Det: determinants of a batch of square matrices.
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using ir::AttrType;

// Gaussian elimination with partial pivoting in double: the row swaps flip the sign, the
// determinant is the product of the pivots. Pivoting on the largest magnitude keeps the
// elimination stable; an all-zero column means the matrix is singular (determinant 0, which is
// exact, not a rounding artefact).
double determinant(std::vector<double>& a, int64_t m) {
  double det = 1.0;
  for (int64_t col = 0; col < m; ++col) {
    int64_t pivot = col;
    for (int64_t r = col + 1; r < m; ++r)
      if (std::fabs(a[r * m + col]) > std::fabs(a[pivot * m + col])) pivot = r;
    const double p = a[pivot * m + col];
    // NaN pivots fall through so the NaN propagates into the result, as LAPACK's does.
    if (p == 0.0) return 0.0;
    if (pivot != col) {
      for (int64_t c = 0; c < m; ++c) std::swap(a[col * m + c], a[pivot * m + c]);
      det = -det;
    }
    det *= p;
    for (int64_t r = col + 1; r < m; ++r) {
      const double f = a[r * m + col] / p;
      if (f == 0.0) continue;
      for (int64_t c = col; c < m; ++c) a[r * m + c] -= f * a[col * m + c];
    }
  }
  return det;
}

Status det_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "Det";
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op, "X"));
  const std::vector<int64_t>& shape = x->shape();
  if (shape.size() < 2)
    return err(Code::kInvalidArgument, op, " input ", shape_str(shape),
               " must have rank >= 2 (matrices in the last two dims)");
  const int64_t m = shape[shape.size() - 1];
  if (shape[shape.size() - 2] != m)
    return err(Code::kIncompatibleShapes, op, " input ", shape_str(shape),
               " must end in square matrices, got ", shape[shape.size() - 2], "x", m);
  const std::vector<int64_t> out_shape(shape.begin(), shape.end() - 2);
  int64_t batch = 1;
  for (int64_t d : out_shape) batch *= d;
  return dispatch_float(x->dtype(), op, [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), out_shape));
    const T* src = x->data_as<T>();
    T* dst = y->data_as<T>();
    std::vector<double> a(static_cast<size_t>(m * m));
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t i = 0; i < m * m; ++i)
        a[static_cast<size_t>(i)] =
            static_cast<double>(static_cast<compute_t<T>>(src[b * m * m + i]));
      // The empty product: a 0x0 matrix has determinant 1 (NumPy agrees).
      dst[b] = static_cast<T>(static_cast<compute_t<T>>(determinant(a, m)));
    }
    return Status::Ok();
  });
}

// The batch dims: X [..., M, M] -> [...].
Status det_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  if (!x.rank_known()) {
    ctx.set_output_shape(0, x);
    return Status::Ok();
  }
  if (x.rank() < 2 || !unify_dim(x[x.rank() - 1], x[x.rank() - 2]))
    return err(Code::kIncompatibleShapes, "Det input ", x.to_string(),
               " must end in a square matrix [..., M, M]");
  ctx.set_output_shape(0, Dims(std::vector<Dim>(x.dims().begin(), x.dims().end() - 2)));
  return Status::Ok();
}

}  // namespace

void register_det(OpRegistry& registry) {
  // Det-22 only adds bfloat16 and lies above kiln's opset range.
  registry.add(OpSchema("Det", 11)
                   .input("X", "T")
                   .output("Y", "T")
                   .types("T", type_sets::ieee_floats())
                   .fusion(FusionKind::kOpaque)
                   .kernel(det_kernel)
                   .infer(det_infer));
}

}  // namespace kiln::ops
