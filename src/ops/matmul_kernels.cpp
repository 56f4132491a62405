// Reference kernels of MatMul (NumPy matmul: batch dims broadcast, 1-D operands promoted),
// Gemm, MatMulInteger and QLinearMatMul. Every product goes through the blocked GEMM of
// nn_kernels.h on operands converted (when needed) to the accumulation type.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ops/nn_kernels.h"

namespace kiln::ops {

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  return Dims::of(s).to_string();
}

// How a matmul of shapes a and b decomposes: out = batch x [M] x [N], with the batch dims of
// a and b broadcast against each other.
struct MatMulShape {
  int64_t m = 0, k = 0, n = 0;
  std::vector<int64_t> batch_a, batch_b, batch, out;
  int64_t batch_size = 1;
};

Result<MatMulShape> matmul_shape(const std::vector<int64_t>& as, const std::vector<int64_t>& bs,
                                 std::string_view op) {
  if (as.empty() || bs.empty())
    return err(Code::kInvalidArgument, op, " operands must have rank >= 1, got ", shape_str(as),
               " and ", shape_str(bs));
  const std::vector<int64_t> a2 = as.size() == 1 ? std::vector<int64_t>{1, as[0]} : as;
  const std::vector<int64_t> b2 = bs.size() == 1 ? std::vector<int64_t>{bs[0], 1} : bs;
  MatMulShape s;
  s.m = a2[a2.size() - 2];
  s.k = a2.back();
  s.n = b2.back();
  if (b2[b2.size() - 2] != s.k)
    return err(Code::kIncompatibleShapes, op, " cannot multiply ", shape_str(as), " by ",
               shape_str(bs), ": inner dimensions ", s.k, " and ", b2[b2.size() - 2], " differ");
  s.batch_a.assign(a2.begin(), a2.end() - 2);
  s.batch_b.assign(b2.begin(), b2.end() - 2);
  KILN_ASSIGN_OR_RETURN(s.batch, broadcast_shapes({s.batch_a, s.batch_b}, op));
  s.out = s.batch;
  if (as.size() > 1) s.out.push_back(s.m);
  if (bs.size() > 1) s.out.push_back(s.n);
  KILN_RETURN_IF_ERROR(output_numel(s.out, op).status());
  for (int64_t d : s.batch) s.batch_size *= d;
  return s;
}

// y[batch] += a[batch_a(batch)] * b[batch_b(batch)]; y is zeroed by the caller.
template <typename Acc>
void batched_matmul(const MatMulShape& s, const Acc* a, const Acc* b, Acc* y) {
  const BroadcastIndexer ia(s.batch_a, s.batch), ib(s.batch_b, s.batch);
  for (int64_t i = 0; i < s.batch_size; ++i)
    gemm_accumulate<Acc>(s.m, s.n, s.k, a + ia(i) * s.m * s.k, s.k, b + ib(i) * s.k * s.n, s.n,
                         y + i * s.m * s.n, s.n);
}

template <typename To, typename From>
std::vector<To> convert_all(const From* p, int64_t n) {
  std::vector<To> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<To>(p[i]);
  return out;
}

// op(X) as a contiguous rows x cols Acc matrix; X is stored rows x cols, or cols x rows when
// transposed.
template <typename Acc, typename T>
std::vector<Acc> materialize(const T* x, int64_t rows, int64_t cols, bool transposed) {
  std::vector<Acc> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[r * cols + c] = static_cast<Acc>(transposed ? x[c * rows + r] : x[r * cols + c]);
  return out;
}

// Converts a double to an integer type, truncating toward zero (NumPy's astype) and saturating
// instead of the undefined behaviour of an out-of-range cast.
template <typename T>
T saturating_trunc(double v) {
  if (std::isnan(v)) return T(0);
  const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
  const double hi = static_cast<double>(std::numeric_limits<T>::max());
  if (v <= lo) return std::numeric_limits<T>::lowest();
  if (v >= hi) return std::numeric_limits<T>::max();
  return static_cast<T>(v);
}

// ---- integer operands ------------------------------------------------------------------------

// A zero point (or scale) of an integer matmul: one value, one per row of A (per column of B)
// as a vector of `count`, or, for N-d operands, a tensor of the operand's batch dims with the
// reduced dim 1 (`full_shape`).
enum class ParamKind { kScalar, kVector, kFull };

Result<ParamKind> param_kind(const Tensor* t, std::string_view op, std::string_view name,
                             int64_t count, const std::vector<int64_t>& full_shape) {
  if (t == nullptr || t->numel() == 1) return ParamKind::kScalar;
  if (t->rank() == 1 && t->numel() == count) return ParamKind::kVector;
  if (!full_shape.empty() && t->shape() == full_shape) return ParamKind::kFull;
  // a's parameters go per row, b's and y's per column.
  return err(Code::kIncompatibleShapes, op, " ", name, " ", shape_str(t->shape()),
             " must be a scalar or have ", count, " elements (one per ",
             name[0] == 'a' ? "row of a" : "column of the result", ")");
}

// A - a_zero_point as uint32 (wrapping int32); a is [..., M, K], the zero point per row.
template <typename T>
std::vector<uint32_t> shift_rows(const T* a, int64_t numel, int64_t m, int64_t k, const Tensor* zp,
                                 ParamKind kind) {
  std::vector<uint32_t> out(static_cast<size_t>(numel));
  const std::vector<int32_t> zps = params_as_int(zp);
  for (int64_t i = 0; i < numel; ++i) {
    const int64_t row = k == 0 ? 0 : i / k;
    const int64_t zi = kind == ParamKind::kScalar ? 0 : kind == ParamKind::kVector ? row % m : row;
    const int32_t z = zps[zi];
    out[i] = static_cast<uint32_t>(static_cast<int32_t>(a[i]) - z);
  }
  return out;
}

// B - b_zero_point as uint32; b is [..., K, N], the zero point per column (and batch).
template <typename T>
std::vector<uint32_t> shift_cols(const T* b, int64_t numel, int64_t k, int64_t n, const Tensor* zp,
                                 ParamKind kind) {
  std::vector<uint32_t> out(static_cast<size_t>(numel));
  const std::vector<int32_t> zps = params_as_int(zp);
  for (int64_t i = 0; i < numel; ++i) {
    const int64_t col = i % n, batch = i / (k * n);
    const int64_t zi = kind == ParamKind::kScalar   ? 0
                       : kind == ParamKind::kVector ? col
                                                    : batch * n + col;
    const int32_t z = zps[zi];
    out[i] = static_cast<uint32_t>(static_cast<int32_t>(b[i]) - z);
  }
  return out;
}

std::vector<int64_t> with_last(std::vector<int64_t> s, size_t from_end, int64_t v) {
  if (s.size() >= from_end) s[s.size() - from_end] = v;
  return s;
}

// The int32 product (a - a_zp) x (b - b_zp) of two int8/uint8 operands, as uint32.
Result<std::vector<uint32_t>> integer_matmul(const MatMulShape& s, const Tensor& a,
                                             const Tensor* a_zp, ParamKind a_kind, const Tensor& b,
                                             const Tensor* b_zp, ParamKind b_kind,
                                             std::string_view op) {
  std::vector<uint32_t> a32, b32;
  KILN_RETURN_IF_ERROR(dispatch_int8(a.dtype(), op, "A", [&]<typename T>() -> Status {
    a32 = shift_rows(a.data_as<T>(), a.numel(), s.m, s.k, a_zp, a_kind);
    return Status::Ok();
  }));
  KILN_RETURN_IF_ERROR(dispatch_int8(b.dtype(), op, "B", [&]<typename T>() -> Status {
    b32 = shift_cols(b.data_as<T>(), b.numel(), s.k, s.n, b_zp, b_kind);
    return Status::Ok();
  }));
  std::vector<uint32_t> y(static_cast<size_t>(s.batch_size * s.m * s.n), 0u);
  batched_matmul<uint32_t>(s, a32.data(), b32.data(), y.data());
  return y;
}

Status check_zp_type(std::string_view op, std::string_view name, const Tensor* zp,
                     const Tensor& of) {
  if (zp != nullptr && zp->dtype() != of.dtype())
    return err(Code::kInvalidArgument, op, " ", name, " is ", data_type_name(zp->dtype()),
               " but its operand is ", data_type_name(of.dtype()));
  return Status::Ok();
}

}  // namespace

Status matmul_kernel(KernelContext& ctx) {
  const Tensor* a = ctx.input(0);
  const Tensor* b = ctx.input(1);
  if (a == nullptr || b == nullptr)
    return err(Code::kInvalidArgument, "MatMul needs inputs A and B");
  if (a->dtype() != b->dtype())
    return err(Code::kInvalidArgument,
               "MatMul operands differ in type: ", data_type_name(a->dtype()), " and ",
               data_type_name(b->dtype()));
  KILN_ASSIGN_OR_RETURN(const MatMulShape s, matmul_shape(a->shape(), b->shape(), "MatMul"));
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, a->dtype(), s.out));
  return dispatch_numeric(a->dtype(), "MatMul", [&]<typename T>() -> Status {
    if constexpr (std::is_same_v<T, bool>) {
      return err(Code::kTypeUnsupported, "MatMul has no reference kernel for bool");
    } else {
      using Acc = gemm_acc_t<T>;
      if constexpr (std::is_same_v<T, Acc>) {
        batched_matmul<Acc>(s, a->data_as<T>(), b->data_as<T>(), y->data_as<T>());
      } else {
        const std::vector<Acc> ac = convert_all<Acc>(a->data_as<T>(), a->numel());
        const std::vector<Acc> bc = convert_all<Acc>(b->data_as<T>(), b->numel());
        std::vector<Acc> yc(static_cast<size_t>(y->numel()), Acc(0));
        batched_matmul<Acc>(s, ac.data(), bc.data(), yc.data());
        T* yp = y->data_as<T>();
        for (int64_t i = 0; i < y->numel(); ++i) yp[i] = static_cast<T>(yc[i]);
      }
      return Status::Ok();
    }
  });
}

Status gemm_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "Gemm";
  const Tensor* a = ctx.input(0);
  const Tensor* b = ctx.input(1);
  const Tensor* c = ctx.input(2);
  if (a == nullptr || b == nullptr) return err(Code::kInvalidArgument, op, " needs inputs A and B");
  if (c == nullptr && ctx.since() < 11)
    return err(Code::kInvalidArgument, op, "-", ctx.since(), " needs input C (optional from 11)");
  if (a->rank() != 2 || b->rank() != 2)
    return err(Code::kInvalidArgument, op, " operands must be matrices, got ",
               shape_str(a->shape()), " and ", shape_str(b->shape()));
  for (const Tensor* t : {b, c})
    if (t != nullptr && t->dtype() != a->dtype())
      return err(Code::kInvalidArgument, op, " inputs differ in type: ", data_type_name(a->dtype()),
                 " and ", data_type_name(t->dtype()));
  const bool ta = ctx.attr_int("transA", 0) != 0, tb = ctx.attr_int("transB", 0) != 0;
  const int64_t m = a->shape()[ta ? 1 : 0], k = a->shape()[ta ? 0 : 1];
  const int64_t kb = b->shape()[tb ? 1 : 0], n = b->shape()[tb ? 0 : 1];
  if (k != kb)
    return err(Code::kIncompatibleShapes, op, " cannot multiply A ", shape_str(a->shape()),
               (ta ? " (transposed)" : ""), " by B ", shape_str(b->shape()),
               (tb ? " (transposed)" : ""), ": inner dimensions ", k, " and ", kb, " differ");
  const std::vector<int64_t> out = {m, n};
  if (c != nullptr) {
    KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> bc, broadcast_shapes({c->shape(), out}, op));
    if (bc != out || c->rank() > 2)
      return err(Code::kIncompatibleShapes, op, " C ", shape_str(c->shape()),
                 " does not broadcast to the result shape ", shape_str(out));
  }
  KILN_RETURN_IF_ERROR(output_numel(out, op).status());
  const float alpha = ctx.attr_float("alpha", 1.0f), beta = ctx.attr_float("beta", 1.0f);
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, a->dtype(), out));
  return dispatch_numeric(a->dtype(), op, [&]<typename T>() -> Status {
    if constexpr (std::is_same_v<T, bool>) {
      return err(Code::kTypeUnsupported, op, " has no reference kernel for bool");
    } else {
      using Acc = gemm_acc_t<T>;
      std::vector<Acc> abuf, bbuf, acc(static_cast<size_t>(m * n), Acc(0));
      const Acc* ap = nullptr;
      const Acc* bp = nullptr;
      if constexpr (std::is_same_v<T, Acc>) {
        if (!ta) ap = a->data_as<T>();
        if (!tb) bp = b->data_as<T>();
      }
      if (ap == nullptr) ap = (abuf = materialize<Acc>(a->data_as<T>(), m, k, ta)).data();
      if (bp == nullptr) bp = (bbuf = materialize<Acc>(b->data_as<T>(), k, n, tb)).data();
      gemm_accumulate<Acc>(m, n, k, ap, k, bp, n, acc.data(), n);
      const bool use_c = c != nullptr && beta != 0.0f;  // beta = 0 ignores C (even NaN)
      const BroadcastIndexer ci(use_c ? c->shape() : out, out);
      const T* cp = use_c ? c->data_as<T>() : nullptr;
      T* yp = y->data_as<T>();
      for (int64_t i = 0; i < m * n; ++i) {
        if constexpr (is_float_v<T>) {
          using F = compute_t<T>;
          F v = static_cast<F>(alpha) * acc[i];
          if (use_c) v += static_cast<F>(beta) * static_cast<F>(cp[ci(i)]);
          yp[i] = T(v);
        } else if (alpha == 1.0f && (beta == 1.0f || !use_c)) {
          // Exact (wrapping) integer arithmetic for the common unscaled case.
          yp[i] = static_cast<T>(acc[i] + (use_c ? static_cast<Acc>(cp[ci(i)]) : Acc(0)));
        } else {
          double v = static_cast<double>(alpha) * static_cast<double>(static_cast<T>(acc[i]));
          if (use_c) v += static_cast<double>(beta) * static_cast<double>(cp[ci(i)]);
          yp[i] = saturating_trunc<T>(v);
        }
      }
      return Status::Ok();
    }
  });
}

Status matmul_integer_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "MatMulInteger";
  const Tensor* a = ctx.input(0);
  const Tensor* b = ctx.input(1);
  const Tensor* a_zp = ctx.input(2);
  const Tensor* b_zp = ctx.input(3);
  if (a == nullptr || b == nullptr) return err(Code::kInvalidArgument, op, " needs inputs A and B");
  KILN_ASSIGN_OR_RETURN(const MatMulShape s, matmul_shape(a->shape(), b->shape(), op));
  KILN_RETURN_IF_ERROR(check_zp_type(op, "a_zero_point", a_zp, *a));
  KILN_RETURN_IF_ERROR(check_zp_type(op, "b_zero_point", b_zp, *b));
  const std::vector<int64_t> a_full =
      a->rank() >= 2 ? with_last(a->shape(), 1, 1) : std::vector<int64_t>{};
  const std::vector<int64_t> b_full =
      b->rank() >= 2 ? with_last(b->shape(), 2, 1) : std::vector<int64_t>{};
  KILN_ASSIGN_OR_RETURN(const ParamKind ak, param_kind(a_zp, op, "a_zero_point", s.m, a_full));
  KILN_ASSIGN_OR_RETURN(const ParamKind bk, param_kind(b_zp, op, "b_zero_point", s.n, b_full));
  KILN_ASSIGN_OR_RETURN(const std::vector<uint32_t> acc,
                        integer_matmul(s, *a, a_zp, ak, *b, b_zp, bk, op));
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, DataType::kInt32, s.out));
  int32_t* yp = y->data_as<int32_t>();
  for (size_t i = 0; i < acc.size(); ++i) yp[i] = static_cast<int32_t>(acc[i]);
  return Status::Ok();
}

Status qlinear_matmul_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "QLinearMatMul";
  const Tensor* a = ctx.input(0);
  const Tensor* a_scale = ctx.input(1);
  const Tensor* a_zp = ctx.input(2);
  const Tensor* b = ctx.input(3);
  const Tensor* b_scale = ctx.input(4);
  const Tensor* b_zp = ctx.input(5);
  const Tensor* y_scale = ctx.input(6);
  const Tensor* y_zp = ctx.input(7);
  if (!a || !a_scale || !a_zp || !b || !b_scale || !b_zp || !y_scale || !y_zp)
    return err(Code::kInvalidArgument, op, " needs its eight inputs a, a_scale, a_zero_point, b, ",
               "b_scale, b_zero_point, y_scale, y_zero_point");
  KILN_ASSIGN_OR_RETURN(const MatMulShape s, matmul_shape(a->shape(), b->shape(), op));
  KILN_RETURN_IF_ERROR(check_zp_type(op, "a_zero_point", a_zp, *a));
  KILN_RETURN_IF_ERROR(check_zp_type(op, "b_zero_point", b_zp, *b));
  for (const Tensor* t : {a_scale, b_scale, y_scale})
    if (!is_scale_type(t->dtype()))
      return err(Code::kTypeUnsupported, op, " scales must be float, not ",
                 data_type_name(t->dtype()));
  // Scales and zero points are per tensor, per row of a, or per column of b and y.
  KILN_ASSIGN_OR_RETURN(const ParamKind ask, param_kind(a_scale, op, "a_scale", s.m, {}));
  KILN_ASSIGN_OR_RETURN(const ParamKind azk, param_kind(a_zp, op, "a_zero_point", s.m, {}));
  KILN_ASSIGN_OR_RETURN(const ParamKind bsk, param_kind(b_scale, op, "b_scale", s.n, {}));
  KILN_ASSIGN_OR_RETURN(const ParamKind bzk, param_kind(b_zp, op, "b_zero_point", s.n, {}));
  KILN_ASSIGN_OR_RETURN(const ParamKind ysk, param_kind(y_scale, op, "y_scale", s.n, {}));
  KILN_ASSIGN_OR_RETURN(const ParamKind yzk, param_kind(y_zp, op, "y_zero_point", s.n, {}));
  KILN_ASSIGN_OR_RETURN(const std::vector<uint32_t> acc,
                        integer_matmul(s, *a, a_zp, azk, *b, b_zp, bzk, op));
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, y_zp->dtype(), s.out));
  return dispatch_int8(y_zp->dtype(), op, "y_zero_point", [&]<typename Y>() -> Status {
    double lo = 0, hi = 0;
    quant_range(y_zp->dtype(), lo, hi);
    Y* yp = y->data_as<Y>();
    const int64_t rows = s.batch_size * s.m;
    const std::vector<float> a_s = params_as_float(a_scale), b_s = params_as_float(b_scale);
    const std::vector<float> y_s = params_as_float(y_scale);
    const std::vector<int32_t> y_z = params_as_int(y_zp);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t m = r % std::max<int64_t>(s.m, 1);
      const float as = a_s[ask == ParamKind::kScalar ? 0 : m];
      for (int64_t j = 0; j < s.n; ++j) {
        const float bs = b_s[bsk == ParamKind::kScalar ? 0 : j];
        const float ys = y_s[ysk == ParamKind::kScalar ? 0 : j];
        const double yz = y_z[yzk == ParamKind::kScalar ? 0 : j];
        // Multiplier formed in float like ONNX's reference; rounded after adding the zero point.
        const double mult = static_cast<double>(as * bs / ys);
        const int32_t v = static_cast<int32_t>(acc[r * s.n + j]);
        const double q = std::nearbyint(static_cast<double>(v) * mult + yz);
        yp[r * s.n + j] = static_cast<Y>(std::isnan(q) ? yz : std::clamp(q, lo, hi));
      }
    }
    return Status::Ok();
  });
}

}  // namespace kiln::ops
