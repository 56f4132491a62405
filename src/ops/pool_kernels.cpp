// Reference kernels of the pools: MaxPool (with Indices), AveragePool, LpPool, their Global*
// forms and MaxUnpool. A window's valid taps along each spatial dim form a contiguous range of
// kernel positions, precomputed per output index; a window visits their N-d product.
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

int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

// One window along one dim: taps at start + k * dilation for k in [lo, hi) are inside the
// input; `padded` taps (from k = 0) lie inside the input plus its explicit padding.
struct Taps {
  int64_t start = 0, lo = 0, hi = 0, padded = 0;
};

struct PoolPlan {
  int64_t planes = 0, in_size = 0, out_size = 0;
  std::vector<int64_t> in, out, dilations, in_stride, col_stride;
  std::vector<std::vector<Taps>> taps;  // [dim][output index]
  size_t nd() const { return in.size(); }
  std::vector<int64_t> out_shape(const std::vector<int64_t>& xs) const {
    std::vector<int64_t> s = {xs[0], xs[1]};
    s.insert(s.end(), out.begin(), out.end());
    return s;
  }
};

Result<PoolPlan> pool_plan(const KernelContext& ctx, std::string_view op,
                           const std::vector<int64_t>& xs, bool has_dilations, bool has_ceil) {
  if (xs.size() < 3)
    return err(Code::kInvalidArgument, op, " input X must have rank >= 3 (N, C, spatial...), got ",
               shape_str(xs));
  const std::vector<int64_t> kernel = ctx.attr_ints("kernel_shape");
  if (kernel.size() != xs.size() - 2)
    return err(Code::kIncompatibleShapes, op, " kernel_shape ", shape_str(kernel),
               " must have one value per spatial dim of X ", shape_str(xs));
  KILN_ASSIGN_OR_RETURN(Window w, read_window(ctx, op, kernel, has_dilations));
  const int64_t ceil_mode = has_ceil ? ctx.attr_int("ceil_mode", 0) : 0;
  if (ceil_mode != 0 && ceil_mode != 1)
    return err(Code::kInvalidArgument, op, " ceil_mode must be 0 or 1, got ", ceil_mode);
  const size_t nd = kernel.size();
  for (size_t d = 0; d < nd; ++d)
    if (w.pad_begin[d] >= w.dilated(d) || w.pad_end[d] >= w.dilated(d))
      return err(Code::kInvalidArgument, op, " pads [", w.pad_begin[d], ", ", w.pad_end[d],
                 "] of spatial dim ", d, " must be smaller than the kernel extent ", w.dilated(d));
  PoolPlan p;
  p.in.assign(xs.begin() + 2, xs.end());
  KILN_ASSIGN_OR_RETURN(p.out, window_output_sizes(ctx, op, p.in, w, ceil_mode == 1));
  KILN_RETURN_IF_ERROR(output_numel(p.out_shape(xs), op).status());
  p.planes = xs[0] * xs[1];
  p.in_size = product(p.in);
  p.out_size = product(p.out);
  p.dilations = w.dilations;
  p.in_stride = strides_of(p.in);
  p.col_stride.assign(nd, 1);  // column-major strides for storage_order 1
  for (size_t d = 1; d < nd; ++d) p.col_stride[d] = p.col_stride[d - 1] * p.in[d - 1];
  p.taps.resize(nd);
  for (size_t d = 0; d < nd; ++d) {
    p.taps[d].resize(static_cast<size_t>(p.out[d]));
    for (int64_t o = 0; o < p.out[d]; ++o) {
      Taps& t = p.taps[d][o];
      t.start = o * w.strides[d] - w.pad_begin[d];
      valid_range(t.start, w.dilations[d], p.in[d], w.kernel[d], t.lo, t.hi);
      int64_t plo = 0;
      valid_range(t.start + w.pad_begin[d], w.dilations[d], p.in[d] + w.pad_begin[d] + w.pad_end[d],
                  w.kernel[d], plo, t.padded);
      t.padded -= plo;
    }
  }
  return p;
}

// Calls f(row_major_offset, column_major_offset) for every in-input tap of the window at
// output coordinates oc, dims d.. (offsets within one N, C plane).
template <typename F>
void visit_taps(const PoolPlan& p, const std::vector<int64_t>& oc, size_t d, int64_t row,
                int64_t col, F& f) {
  const Taps& t = p.taps[d][oc[d]];
  const int64_t dil = p.dilations[d];
  for (int64_t k = t.lo; k < t.hi; ++k) {
    const int64_t i = t.start + k * dil;
    if (d + 1 == p.nd())
      f(row + i, col + i * p.col_stride[d]);
    else
      visit_taps(p, oc, d + 1, row + i * p.in_stride[d], col + i * p.col_stride[d], f);
  }
}

// Runs body(plane, output_flat_index, output_coords) over every output element.
template <typename F>
void for_each_output(const PoolPlan& p, F&& body) {
  std::vector<int64_t> oc(p.nd(), 0);
  for (int64_t plane = 0; plane < p.planes; ++plane) {
    std::fill(oc.begin(), oc.end(), 0);
    for (int64_t o = 0; o < p.out_size; ++o) {
      body(plane, o, oc);
      for (size_t d = p.nd(); d-- > 0;) {
        if (++oc[d] < p.out[d]) break;
        oc[d] = 0;
      }
    }
  }
}

// Number of in-input taps (or taps inside input plus padding) of the window at oc.
int64_t tap_count(const PoolPlan& p, const std::vector<int64_t>& oc, bool include_pad) {
  int64_t n = 1;
  for (size_t d = 0; d < p.nd(); ++d) {
    const Taps& t = p.taps[d][oc[d]];
    n *= include_pad ? t.padded : t.hi - t.lo;
  }
  return n;
}

const Tensor* require_x(const KernelContext& ctx, std::string_view op, Status& s) {
  const Tensor* x = ctx.input(0);
  if (x == nullptr) s = err(Code::kInvalidArgument, op, " needs input X");
  return x;
}

// |v|^p and its inverse for LpPool; p = 1 and 2 avoid pow.
double lp_term(double v, double p) {
  const double a = std::fabs(v);
  return p == 1 ? a : p == 2 ? a * a : std::pow(a, p);
}
double lp_root(double sum, double p) {
  return p == 1 ? sum : p == 2 ? std::sqrt(sum) : std::pow(sum, 1.0 / p);
}

// p is an int from revision 2 on; revision 1 of LpPool and GlobalLpPool took a float.
Result<double> read_p(const KernelContext& ctx, std::string_view op) {
  if (ctx.since() < 2) {
    const float p = ctx.attr_float("p", 2.0f);
    if (!(p >= 1.0f) || std::isinf(p))
      return err(Code::kInvalidArgument, op, "-1 p must be a finite value >= 1, got ", p);
    return static_cast<double>(p);
  }
  const int64_t p = ctx.attr_int("p", 2);
  if (p < 1) return err(Code::kInvalidArgument, op, " p must be >= 1, got ", p);
  return static_cast<double>(p);
}

// Shape [N, C, 1, ...] of a global pool and the size of each reduced plane.
Result<std::vector<int64_t>> global_shape(const Tensor& x, std::string_view op) {
  if (x.rank() < 2)
    return err(Code::kInvalidArgument, op, " input X must have rank >= 2 (N, C, spatial...), got ",
               shape_str(x.shape()));
  std::vector<int64_t> s = x.shape();
  std::fill(s.begin() + 2, s.end(), 1);
  return s;
}

// Applies reduce(plane_pointer, plane_size) -> value to every N, C plane of x.
template <typename F>
Status global_pool(KernelContext& ctx, std::string_view op, F reduce) {
  Status s;
  const Tensor* x = require_x(ctx, op, s);
  if (x == nullptr) return s;
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> shape, global_shape(*x, op));
  const int64_t planes = shape[0] * shape[1];
  const int64_t size = planes == 0 ? 0 : x->numel() / planes;
  if (size == 0 && planes > 0 && op == "GlobalMaxPool")
    return err(Code::kInvalidArgument, op, " cannot take the max over empty spatial dims of X ",
               shape_str(x->shape()));
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), shape));
  return dispatch_float(x->dtype(), op, [&]<typename T>() -> Status {
    const T* xp = x->data_as<T>();
    T* yp = y->data_as<T>();
    for (int64_t i = 0; i < planes; ++i) yp[i] = T(reduce(xp + i * size, size));
    return Status::Ok();
  });
}

}  // namespace

Status max_pool_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "MaxPool";
  Status s;
  const Tensor* x = require_x(ctx, op, s);
  if (x == nullptr) return s;
  const int64_t since = ctx.since();
  KILN_ASSIGN_OR_RETURN(const PoolPlan p, pool_plan(ctx, op, x->shape(), since >= 10, since >= 10));
  const int64_t order = since >= 8 ? ctx.attr_int("storage_order", 0) : 0;
  if (order != 0 && order != 1)
    return err(Code::kInvalidArgument, op, " storage_order must be 0 or 1, got ", order);
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), p.out_shape(x->shape())));
  int64_t* ind = nullptr;
  if (since >= 8 && ctx.wants_output(1)) {
    KILN_ASSIGN_OR_RETURN(Tensor * it,
                          ctx.allocate_output(1, DataType::kInt64, p.out_shape(x->shape())));
    ind = it->data_as<int64_t>();
  }
  return dispatch_numeric(x->dtype(), op, [&]<typename T>() -> Status {
    if constexpr (std::is_same_v<T, bool>) {
      return err(Code::kTypeUnsupported, op, " has no reference kernel for bool");
    } else {
      const T* xp = x->data_as<T>();
      T* yp = y->data_as<T>();
      for_each_output(p, [&](int64_t plane, int64_t o, const std::vector<int64_t>& oc) {
        const T* xplane = xp + plane * p.in_size;
        // The first tap seeds the max and only a strictly greater value replaces it (ONNX's
        // reference and ONNX Runtime agree): ties keep the first index.
        bool any = false;
        T best{};
        int64_t best_row = -1, best_col = -1;
        auto tap = [&](int64_t row, int64_t col) {
          const T v = xplane[row];
          if (!any || v > best) {
            best = v;
            best_row = row;
            best_col = col;
            any = true;
          }
        };
        visit_taps(p, oc, 0, 0, 0, tap);
        yp[plane * p.out_size + o] = any ? best : T{};
        if (ind != nullptr)
          ind[plane * p.out_size + o] =
              any ? plane * p.in_size + (order == 0 ? best_row : best_col) : -1;
      });
      return Status::Ok();
    }
  });
}

Status average_pool_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "AveragePool";
  Status s;
  const Tensor* x = require_x(ctx, op, s);
  if (x == nullptr) return s;
  const int64_t since = ctx.since();
  KILN_ASSIGN_OR_RETURN(const PoolPlan p, pool_plan(ctx, op, x->shape(), since >= 19, since >= 10));
  const int64_t include_pad = ctx.attr_int("count_include_pad", 0);
  if (include_pad != 0 && include_pad != 1)
    return err(Code::kInvalidArgument, op, " count_include_pad must be 0 or 1, got ", include_pad);
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), p.out_shape(x->shape())));
  return dispatch_float(x->dtype(), op, [&]<typename T>() -> Status {
    const T* xp = x->data_as<T>();
    T* yp = y->data_as<T>();
    for_each_output(p, [&](int64_t plane, int64_t o, const std::vector<int64_t>& oc) {
      const T* xplane = xp + plane * p.in_size;
      double sum = 0;
      auto tap = [&](int64_t row, int64_t) { sum += static_cast<double>(xplane[row]); };
      visit_taps(p, oc, 0, 0, 0, tap);
      // A window without taps averages nothing: NaN, like ONNX's reference.
      const int64_t n = tap_count(p, oc, include_pad == 1);
      yp[plane * p.out_size + o] =
          T(static_cast<compute_t<T>>(n > 0 ? sum / static_cast<double>(n) : std::nan("")));
    });
    return Status::Ok();
  });
}

Status lp_pool_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "LpPool";
  Status s;
  const Tensor* x = require_x(ctx, op, s);
  if (x == nullptr) return s;
  const int64_t since = ctx.since();
  // LpPool-1's schema leaves kernel_shape optional, but there is no window without it.
  if (!ctx.has_attr("kernel_shape"))
    return err(Code::kInvalidArgument, op, "-", since, " needs attribute 'kernel_shape'");
  KILN_ASSIGN_OR_RETURN(const PoolPlan p, pool_plan(ctx, op, x->shape(), since >= 18, since >= 18));
  KILN_ASSIGN_OR_RETURN(const double pw, read_p(ctx, op));
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), p.out_shape(x->shape())));
  return dispatch_float(x->dtype(), op, [&]<typename T>() -> Status {
    const T* xp = x->data_as<T>();
    T* yp = y->data_as<T>();
    for_each_output(p, [&](int64_t plane, int64_t o, const std::vector<int64_t>& oc) {
      const T* xplane = xp + plane * p.in_size;
      double sum = 0;  // padding contributes |0|^p = 0
      auto tap = [&](int64_t row, int64_t) {
        sum += lp_term(static_cast<double>(xplane[row]), pw);
      };
      visit_taps(p, oc, 0, 0, 0, tap);
      yp[plane * p.out_size + o] = T(static_cast<compute_t<T>>(lp_root(sum, pw)));
    });
    return Status::Ok();
  });
}

Status global_average_pool_kernel(KernelContext& ctx) {
  return global_pool(ctx, "GlobalAveragePool", []<typename T>(const T* v, int64_t n) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(v[i]);
    return static_cast<compute_t<T>>(n > 0 ? sum / static_cast<double>(n) : std::nan(""));
  });
}

Status global_max_pool_kernel(KernelContext& ctx) {
  return global_pool(ctx, "GlobalMaxPool", []<typename T>(const T* v, int64_t n) {
    compute_t<T> best = static_cast<compute_t<T>>(v[0]);
    for (int64_t i = 1; i < n; ++i) {
      const compute_t<T> c = static_cast<compute_t<T>>(v[i]);
      if (c > best) best = c;
    }
    return best;
  });
}

Status global_lp_pool_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const double pw, read_p(ctx, "GlobalLpPool"));
  return global_pool(ctx, "GlobalLpPool", [pw]<typename T>(const T* v, int64_t n) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += lp_term(static_cast<double>(v[i]), pw);
    return static_cast<compute_t<T>>(lp_root(sum, pw));
  });
}

Status max_unpool_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "MaxUnpool";
  const Tensor* x = ctx.input(0);
  const Tensor* ind = ctx.input(1);
  const Tensor* shape_in = ctx.input(2);
  if (x == nullptr || ind == nullptr)
    return err(Code::kInvalidArgument, op, " needs inputs X and I");
  const std::vector<int64_t>& xs = x->shape();
  if (xs.size() < 3)
    return err(Code::kInvalidArgument, op, " input X must have rank >= 3 (N, C, spatial...), got ",
               shape_str(xs));
  if (ind->shape() != xs)
    return err(Code::kIncompatibleShapes, op, " indices I ", shape_str(ind->shape()),
               " must have the shape of X ", shape_str(xs));
  if (ind->dtype() != DataType::kInt64)
    return err(Code::kTypeUnsupported, op, " indices I must be int64, not ",
               data_type_name(ind->dtype()));
  const std::vector<int64_t> kernel = ctx.attr_ints("kernel_shape");
  if (kernel.size() != xs.size() - 2)
    return err(Code::kIncompatibleShapes, op, " kernel_shape ", shape_str(kernel),
               " must have one value per spatial dim of X ", shape_str(xs));
  KILN_ASSIGN_OR_RETURN(const Window w, read_window(ctx, op, kernel, false));
  // Indices address the unpooled tensor of the inferred shape; a larger output_shape (the shape
  // MaxPool ran on, when it dropped trailing rows) pads it with zeros at the end of each dim.
  std::vector<int64_t> inferred = {xs[0], xs[1]};
  for (size_t d = 0; d < kernel.size(); ++d)
    inferred.push_back((xs[d + 2] - 1) * w.strides[d] - w.pad_begin[d] - w.pad_end[d] + kernel[d]);
  std::vector<int64_t> out = inferred;
  if (shape_in != nullptr) {
    KILN_ASSIGN_OR_RETURN(out, read_int_values(*shape_in, "MaxUnpool output_shape"));
    bool fits = out.size() == xs.size() && out[0] == xs[0] && out[1] == xs[1];
    for (size_t d = 2; fits && d < out.size(); ++d) fits = out[d] >= inferred[d];
    if (!fits)
      return err(Code::kIncompatibleShapes, op, " output_shape ", shape_str(out),
                 " must keep N and C of X ", shape_str(xs), " and be at least the unpooled shape ",
                 shape_str(inferred));
  }
  KILN_ASSIGN_OR_RETURN(const int64_t total, output_numel(inferred, op));
  KILN_RETURN_IF_ERROR(output_numel(out, op).status());
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), out));
  const int64_t* ip = ind->data_as<int64_t>();
  for (int64_t i = 0; i < x->numel(); ++i)
    if (ip[i] < 0 || ip[i] >= total)
      return err(Code::kIndexOutOfRange, op, " index ", ip[i], " at position ", i,
                 " is outside the unpooled shape ", shape_str(inferred), " (valid: 0..", total - 1,
                 ")");
  // Flat index in the inferred shape -> flat index in the output.
  const std::vector<int64_t> in_strides = strides_of(inferred), out_strides = strides_of(out);
  auto place = [&](int64_t flat) {
    int64_t o = 0;
    for (size_t d = 0; d < inferred.size(); ++d) {
      o += flat / in_strides[d] * out_strides[d];
      flat %= in_strides[d];
    }
    return o;
  };
  return dispatch_float(x->dtype(), op, [&]<typename T>() -> Status {
    const T* xp = x->data_as<T>();
    T* yp = y->data_as<T>();
    for (int64_t i = 0; i < x->numel(); ++i) yp[out == inferred ? ip[i] : place(ip[i])] = xp[i];
    return Status::Ok();
  });
}

}  // namespace kiln::ops
