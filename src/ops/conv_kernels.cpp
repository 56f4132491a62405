// Reference kernels of Conv and ConvTranspose: im2col (col2im for the transpose) into a
// bounded scratch buffer, then the blocked GEMM of nn_kernels.h; plus the sliding-window helpers
// (read_window, window_output_sizes) the pools share.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "ops/conv_util.h"

namespace kiln::ops {

namespace conv_detail {

// The checks Conv-like ops and ConvTranspose share: X and W ranks, group, kernel_shape.
Status check_conv_shapes(const KernelContext& ctx, std::string_view op,
                         const std::vector<int64_t>& xs, const std::vector<int64_t>& ws,
                         int64_t& group) {
  if (xs.size() < 3)
    return err(Code::kInvalidArgument, op, " input X must have rank >= 3 (N, C, spatial...), got ",
               shape_str(xs));
  if (ws.size() != xs.size())
    return err(Code::kIncompatibleShapes, op, " weight W ", shape_str(ws),
               " must have the rank of X ", shape_str(xs));
  group = ctx.attr_int("group", 1);
  if (group < 1) return err(Code::kInvalidArgument, op, " group must be >= 1, got ", group);
  std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
  std::vector<int64_t> ks_attr = ctx.attr_ints("kernel_shape");
  if (!ks_attr.empty() && ks_attr != kernel)
    return err(Code::kIncompatibleShapes, op, " kernel_shape ", list_str(ks_attr),
               " does not match the spatial dims of W ", shape_str(ws));
  return Status::Ok();
}

Result<ConvGeometry> conv_geometry(const KernelContext& ctx, std::string_view op,
                                   const std::vector<int64_t>& xs, const std::vector<int64_t>& ws) {
  ConvGeometry g;
  KILN_RETURN_IF_ERROR(check_conv_shapes(ctx, op, xs, ws, g.group));
  g.batch = xs[0];
  g.in_ch = xs[1];
  g.out_ch = ws[0];
  if (ws[1] * g.group != g.in_ch)
    return err(Code::kIncompatibleShapes, op, " X ", shape_str(xs), " has ", g.in_ch,
               " channels but W ", shape_str(ws), " with group ", g.group, " expects ",
               ws[1] * g.group);
  if (g.out_ch % g.group != 0)
    return err(Code::kIncompatibleShapes, op, " W ", shape_str(ws), " has ", g.out_ch,
               " output channels, not divisible by group ", g.group);
  g.in.assign(xs.begin() + 2, xs.end());
  KILN_ASSIGN_OR_RETURN(g.win,
                        read_window(ctx, op, std::vector<int64_t>(ws.begin() + 2, ws.end()), true));
  KILN_ASSIGN_OR_RETURN(g.out, window_output_sizes(ctx, op, g.in, g.win, false));
  KILN_RETURN_IF_ERROR(output_numel(g.out_shape(), op).status());
  g.in_size = product(g.in);
  g.out_size = product(g.out);
  g.kernel_size = product(g.win.kernel);
  return g;
}

}  // namespace conv_detail

using namespace conv_detail;  // NOLINT: this file is the other half of conv_util.h

namespace {

template <typename To, typename From>
std::vector<To> convert_all(const From* p, int64_t n) {
  std::vector<To> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<To>(p[i]);
  return out;
}

Status check_bias(std::string_view op, const Tensor* b, int64_t channels, DataType dtype) {
  if (b == nullptr) return Status::Ok();
  if (b->shape() != std::vector<int64_t>{channels})
    return err(Code::kIncompatibleShapes, op, " bias B must have shape [", channels,
               "] (one per output channel), got ", shape_str(b->shape()));
  if (b->dtype() != dtype)
    return err(Code::kInvalidArgument, op, " bias B is ", data_type_name(b->dtype()),
               " but must be ", data_type_name(dtype));
  return Status::Ok();
}

// Adds bias[m] to every element of channel m and stores the Acc result into the T output.
template <typename T, typename Acc>
void finish_float_output(Tensor& y, Acc* acc, const Tensor* b, int64_t batch, int64_t channels,
                         int64_t plane) {
  if (b != nullptr) {
    const T* bp = b->data_as<T>();
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t m = 0; m < channels; ++m) {
        const Acc bv = static_cast<Acc>(bp[m]);
        Acc* row = acc + (n * channels + m) * plane;
        for (int64_t i = 0; i < plane; ++i) row[i] += bv;
      }
  }
  if constexpr (!std::is_same_v<T, Acc>) {
    T* out = y.data_as<T>();
    for (int64_t i = 0; i < y.numel(); ++i) out[i] = T(acc[i]);
  }
}

template <typename T>
Status run_conv(KernelContext& ctx, const ConvGeometry& g, const Tensor& x, const Tensor& w,
                const Tensor* b) {
  using Acc = compute_t<T>;
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), g.out_shape()));
  std::vector<Acc> w_buf, y_buf;
  const Acc* wp = nullptr;
  Acc* yp = nullptr;
  if constexpr (std::is_same_v<T, Acc>) {
    wp = w.data_as<T>();
    yp = y->data_as<T>();
  } else {
    w_buf = convert_all<Acc>(w.data_as<T>(), w.numel());
    wp = w_buf.data();
    y_buf.assign(static_cast<size_t>(y->numel()), Acc(0));
    yp = y_buf.data();
  }
  conv_forward<Acc>(g, x.data_as<T>(), wp, yp, [](T v) { return static_cast<Acc>(v); });
  finish_float_output<T, Acc>(*y, yp, b, g.batch, g.out_ch, g.out_size);
  return Status::Ok();
}

Status check_same_type(std::string_view op, const Tensor& x, const Tensor& other,
                       std::string_view name) {
  if (other.dtype() != x.dtype())
    return err(Code::kInvalidArgument, op, " input ", name, " is ", data_type_name(other.dtype()),
               " but X is ", data_type_name(x.dtype()));
  return Status::Ok();
}

// SAME_UPPER; revision 11 reverses this (SAME_UPPER: smaller half at the begin).
void split_padding(int64_t total, bool same_upper, int64_t since, int64_t& begin, int64_t& end) {
  const bool begin_small = since >= 11 ? same_upper : !same_upper;
  const int64_t small = floor_div2(total);
  begin = begin_small ? small : total - small;
  end = total - begin;
}

Result<ConvGeometry> conv_transpose_geometry(const KernelContext& ctx,
                                             const std::vector<int64_t>& xs,
                                             const std::vector<int64_t>& ws) {
  constexpr std::string_view op = "ConvTranspose";
  ConvGeometry g;
  KILN_RETURN_IF_ERROR(check_conv_shapes(ctx, op, xs, ws, g.group));
  g.batch = xs[0];
  g.in_ch = xs[1];
  if (ws[0] != g.in_ch)
    return err(Code::kIncompatibleShapes, op, " X ", shape_str(xs), " has ", g.in_ch,
               " channels but W ", shape_str(ws), " has ", ws[0], " in its first dim");
  if (g.in_ch % g.group != 0)
    return err(Code::kIncompatibleShapes, op, " X has ", g.in_ch,
               " channels, not divisible by group ", g.group);
  g.out_ch = ws[1] * g.group;
  g.in.assign(xs.begin() + 2, xs.end());
  const size_t nd = g.in.size();
  KILN_ASSIGN_OR_RETURN(g.win,
                        read_window(ctx, op, std::vector<int64_t>(ws.begin() + 2, ws.end()), true));
  std::vector<int64_t> out_pad = ctx.attr_ints("output_padding");
  if (out_pad.empty()) out_pad.assign(nd, 0);
  if (out_pad.size() != nd)
    return err(Code::kInvalidArgument, op, " output_padding ", list_str(out_pad), " must have ", nd,
               " values (one per spatial dim)");
  std::vector<int64_t> out_shape = ctx.attr_ints("output_shape");
  if (out_shape.size() == nd + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
  if (!out_shape.empty() && out_shape.size() != nd)
    return err(Code::kInvalidArgument, op, " output_shape ", list_str(out_shape), " must have ", nd,
               " spatial values");
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  if (!same && auto_pad != "NOTSET" && auto_pad != "VALID")
    return err(Code::kInvalidArgument, op, " auto_pad '", auto_pad, "' is not one of NOTSET, ",
               "SAME_UPPER, SAME_LOWER, VALID");
  g.out.resize(nd);
  for (size_t d = 0; d < nd; ++d) {
    if (out_pad[d] < 0)
      return err(Code::kInvalidArgument, op, " output_padding ", list_str(out_pad),
                 " must not be negative");
    const int64_t full = g.win.strides[d] * (g.in[d] - 1) + out_pad[d] + g.win.dilated(d);
    if (!out_shape.empty() || same) {
      const int64_t target = !out_shape.empty() ? out_shape[d] : g.in[d] * g.win.strides[d];
      split_padding(full - target, auto_pad == "SAME_UPPER", ctx.since(), g.win.pad_begin[d],
                    g.win.pad_end[d]);
    } else if (auto_pad == "VALID") {
      g.win.pad_begin[d] = g.win.pad_end[d] = 0;
    }
    g.out[d] = full - g.win.pad_begin[d] - g.win.pad_end[d];
    if (g.out[d] < 0)
      return err(Code::kIncompatibleShapes, op, " output spatial dim ", d, " would be ", g.out[d],
                 " for input ", shape_str(xs), " and kernel ", shape_str(ws));
  }
  KILN_RETURN_IF_ERROR(output_numel(g.out_shape(), op).status());
  g.in_size = product(g.in);
  g.out_size = product(g.out);
  g.kernel_size = product(g.win.kernel);
  return g;
}

// Y[m, p * stride + kernel offset kf] += col[(m * ks + kf) * cols + p - p0] for the input
// positions [p0, p1) of one image and group (contributions outside Y are cropped).
template <typename Acc>
void col2im(const ConvGeometry& g, const OffsetTable& t, const std::vector<int64_t>& out_stride,
            const Acc* col, int64_t p0, int64_t p1, Acc* yg) {
  const size_t nd = g.nd();
  const int64_t mg = g.out_ch / g.group, ks = g.kernel_size, sl = g.win.strides[nd - 1];
  for (int64_t m = 0; m < mg; ++m) {
    Acc* ym = yg + m * g.out_size;
    for (int64_t kf = 0; kf < ks; ++kf) {
      const Acc* src = col + (m * ks + kf) * (p1 - p0);
      const int64_t lo = t.lo[kf * nd + nd - 1], hi = t.hi[kf * nd + nd - 1];
      for_row_segments(g.in, p0, p1, [&](const std::vector<int64_t>& q, int64_t ja, int64_t jb) {
        int64_t base = 0;
        const Acc* seg = src;
        src += jb - ja;
        if (!row_base(g.win, t, kf, q, out_stride, base)) return;
        const int64_t h = std::clamp(hi, ja, jb);
        for (int64_t j = std::clamp(lo, ja, h); j < h; ++j) ym[base + j * sl] += seg[j - ja];
      });
    }
  }
}

// Y[n, group] += col2im(W_g^T * X[n, group]), in chunks of input positions that bound the
// scratch buffer. wt holds each group's W transposed to [(M/group) * kernel_size, C/group].
template <typename Acc>
void conv_transpose_forward(const ConvGeometry& g, const Acc* x, const Acc* wt, Acc* y) {
  const int64_t cg = g.in_ch / g.group, mg = g.out_ch / g.group, rows = mg * g.kernel_size;
  if (g.in_size == 0 || rows == 0 || cg == 0 || g.out_size == 0) return;
  const OffsetTable t = offset_table(g.win, g.out, g.in);
  const std::vector<int64_t> out_stride = strides_of(g.out);
  const int64_t chunk = std::clamp<int64_t>(kColBudget / rows, 1, g.in_size);
  std::vector<Acc> col(static_cast<size_t>(rows * chunk));
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t grp = 0; grp < g.group; ++grp) {
      const Acc* xg = x + (n * g.in_ch + grp * cg) * g.in_size;
      const Acc* wg = wt + grp * rows * cg;
      Acc* yg = y + (n * g.out_ch + grp * mg) * g.out_size;
      for (int64_t p0 = 0; p0 < g.in_size; p0 += chunk) {
        const int64_t p1 = std::min(g.in_size, p0 + chunk), cols = p1 - p0;
        std::fill(col.begin(), col.begin() + rows * cols, Acc(0));
        gemm_accumulate<Acc>(rows, cols, cg, wg, cg, xg + p0, g.in_size, col.data(), cols);
        col2im(g, t, out_stride, col.data(), p0, p1, yg);
      }
    }
  }
}

template <typename T>
Status run_conv_transpose(KernelContext& ctx, const ConvGeometry& g, const Tensor& x,
                          const Tensor& w, const Tensor* b) {
  using Acc = compute_t<T>;
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), g.out_shape()));
  const int64_t cg = g.in_ch / g.group, rows = g.out_ch / g.group * g.kernel_size;
  // W is [C, M/group, k...] = per group a [C/group, rows] matrix; the GEMM wants it transposed.
  std::vector<Acc> wt(static_cast<size_t>(w.numel()));
  const T* wp = w.data_as<T>();
  for (int64_t grp = 0; grp < g.group; ++grp)
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t r = 0; r < rows; ++r)
        wt[(grp * rows + r) * cg + c] = static_cast<Acc>(wp[(grp * cg + c) * rows + r]);
  std::vector<Acc> x_buf, y_buf;
  const Acc* xp = nullptr;
  Acc* yp = nullptr;
  if constexpr (std::is_same_v<T, Acc>) {
    xp = x.data_as<T>();
    yp = y->data_as<T>();
  } else {
    x_buf = convert_all<Acc>(x.data_as<T>(), x.numel());
    xp = x_buf.data();
    y_buf.assign(static_cast<size_t>(y->numel()), Acc(0));
    yp = y_buf.data();
  }
  conv_transpose_forward<Acc>(g, xp, wt.data(), yp);
  finish_float_output<T, Acc>(*y, yp, b, g.batch, g.out_ch, g.out_size);
  return Status::Ok();
}

}  // namespace

// ---- shared window helpers ---------------------------------------------------------------------

Result<Window> read_window(const NodeAttrs& ctx, std::string_view op, std::vector<int64_t> kernel,
                           bool has_dilations) {
  const size_t nd = kernel.size();
  Window w;
  w.kernel = std::move(kernel);
  for (int64_t k : w.kernel)
    if (k <= 0)
      return err(Code::kInvalidArgument, op, " kernel shape ", list_str(w.kernel),
                 " must be positive");
  auto read = [&](std::string_view name, size_t count, int64_t fallback) {
    std::vector<int64_t> v = ctx.attr_ints(name);
    if (v.empty()) v.assign(count, fallback);
    return v;
  };
  w.strides = read("strides", nd, 1);
  w.dilations = has_dilations ? read("dilations", nd, 1) : std::vector<int64_t>(nd, 1);
  const std::vector<int64_t> pads = read("pads", 2 * nd, 0);
  if (w.strides.size() != nd || w.dilations.size() != nd)
    return err(Code::kInvalidArgument, op, " strides ", list_str(w.strides), " and dilations ",
               list_str(w.dilations), " must have ", nd, " values (one per spatial dim)");
  if (pads.size() != 2 * nd)
    return err(Code::kInvalidArgument, op, " pads ", list_str(pads), " must have ", 2 * nd,
               " values (begin and end per spatial dim)");
  // Far beyond any real window; keeps the size arithmetic below clear of overflow.
  constexpr int64_t kLimit = int64_t{1} << 31;
  for (int64_t v : w.kernel)
    if (v > kLimit)
      return err(Code::kInvalidArgument, op, " kernel shape ", list_str(w.kernel),
                 " is out of range");
  for (const std::vector<int64_t>* list :
       {&std::as_const(w.strides), &std::as_const(w.dilations), &pads})
    for (int64_t v : *list)
      if (v > kLimit)
        return err(Code::kInvalidArgument, op, " strides ", list_str(w.strides), ", dilations ",
                   list_str(w.dilations), " or pads ", list_str(pads), " out of range (> 2^31)");
  for (size_t d = 0; d < nd; ++d) {
    if (w.strides[d] < 1 || w.dilations[d] < 1)
      return err(Code::kInvalidArgument, op, " strides ", list_str(w.strides), " and dilations ",
                 list_str(w.dilations), " must be positive");
    if (pads[d] < 0 || pads[d + nd] < 0)
      return err(Code::kInvalidArgument, op, " pads ", list_str(pads), " must not be negative");
  }
  w.pad_begin.assign(pads.begin(), pads.begin() + static_cast<int64_t>(nd));
  w.pad_end.assign(pads.begin() + static_cast<int64_t>(nd), pads.end());
  return w;
}

Result<std::vector<int64_t>> window_output_sizes(const NodeAttrs& ctx, std::string_view op,
                                                 const std::vector<int64_t>& in, Window& w,
                                                 bool ceil_mode) {
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  if (!same && auto_pad != "NOTSET" && auto_pad != "VALID")
    return err(Code::kInvalidArgument, op, " auto_pad '", auto_pad, "' is not one of NOTSET, ",
               "SAME_UPPER, SAME_LOWER, VALID");
  std::vector<int64_t> out(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    const int64_t s = w.strides[d], dk = w.dilated(d);
    if (same) {
      out[d] = (in[d] + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out[d] - 1) * s + dk - in[d]);
      const int64_t small = total / 2;
      w.pad_begin[d] = auto_pad == "SAME_UPPER" ? small : total - small;
      w.pad_end[d] = total - w.pad_begin[d];
      continue;
    }
    if (auto_pad == "VALID") w.pad_begin[d] = w.pad_end[d] = 0;
    const int64_t numer = in[d] + w.pad_begin[d] + w.pad_end[d] - dk;
    if (numer < 0)
      return err(Code::kIncompatibleShapes, op, " spatial dim ", d, " of size ", in[d],
                 " with pads ", w.pad_begin[d], "+", w.pad_end[d],
                 " is smaller than the (dilated) kernel extent ", dk);
    out[d] = numer / s + 1;
    if (ceil_mode) {
      out[d] = (numer + s - 1) / s + 1;
      if ((out[d] - 1) * s >= in[d] + w.pad_begin[d]) --out[d];
    }
  }
  return out;
}

// ---- kernels
// -------------------------------------------------------------------------------------

Status conv_kernel(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* w = ctx.input(1);
  const Tensor* b = ctx.input(2);
  if (x == nullptr || w == nullptr) return err(Code::kInvalidArgument, "Conv needs inputs X and W");
  KILN_RETURN_IF_ERROR(check_same_type("Conv", *x, *w, "W"));
  KILN_ASSIGN_OR_RETURN(const ConvGeometry g, conv_geometry(ctx, "Conv", x->shape(), w->shape()));
  KILN_RETURN_IF_ERROR(check_bias("Conv", b, g.out_ch, x->dtype()));
  return dispatch_float(x->dtype(), "Conv",
                        [&]<typename T>() -> Status { return run_conv<T>(ctx, g, *x, *w, b); });
}

Status conv_transpose_kernel(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  const Tensor* w = ctx.input(1);
  const Tensor* b = ctx.input(2);
  if (x == nullptr || w == nullptr)
    return err(Code::kInvalidArgument, "ConvTranspose needs inputs X and W");
  KILN_RETURN_IF_ERROR(check_same_type("ConvTranspose", *x, *w, "W"));
  KILN_ASSIGN_OR_RETURN(const ConvGeometry g, conv_transpose_geometry(ctx, x->shape(), w->shape()));
  KILN_RETURN_IF_ERROR(check_bias("ConvTranspose", b, g.out_ch, x->dtype()));
  return dispatch_float(x->dtype(), "ConvTranspose", [&]<typename T>() -> Status {
    return run_conv_transpose<T>(ctx, g, *x, *w, b);
  });
}

}  // namespace kiln::ops

namespace kiln::ops {

Result<std::vector<Dim>> infer_window_dims(const NodeAttrs& ctx, std::string_view op,
                                           const std::vector<Dim>& in, std::vector<int64_t> kernel,
                                           bool has_dilations, bool ceil_mode) {
  KILN_ASSIGN_OR_RETURN(Window w, read_window(ctx, op, std::move(kernel), has_dilations));
  if (w.kernel.size() != in.size())
    return err(Code::kIncompatibleShapes, op, " has ", w.kernel.size(),
               " kernel dims but the input has ", in.size(), " spatial dims");
  // Unknown sizes stand in as a size no window exceeds; their results are dropped again.
  constexpr int64_t kStandIn = int64_t{1} << 40;
  std::vector<int64_t> sizes;
  for (const Dim& d : in) sizes.push_back(d.is_static() ? d.value : kStandIn);
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> out,
                        window_output_sizes(ctx, op, sizes, w, ceil_mode));
  std::vector<Dim> dims;
  for (size_t d = 0; d < in.size(); ++d) {
    if (in[d].is_static()) {
      dims.push_back(Dim::fixed(out[d]));
    } else if (w.strides[d] == 1 && w.pad_begin[d] + w.pad_end[d] + 1 == w.dilated(d)) {
      dims.push_back(in[d]);  // a size-preserving window keeps the symbol
    } else {
      dims.push_back(Dim::unknown());
    }
  }
  return dims;
}

}  // namespace kiln::ops
