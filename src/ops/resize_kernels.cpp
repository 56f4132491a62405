// Reference kernels of Resize (10, 11, 13, 18, 19) and Upsample (7, 9), following ONNX's
// reference implementation: each output coordinate maps back to an input coordinate by the
// coordinate_transformation_mode, then nearest picks one input element (an exact gather) while
// linear and cubic (optionally antialiased) interpolate separably, one axis at a time.
//
// Upsample and Resize-10 predate the coordinate attributes: they use "asymmetric" coordinates
// and, for nearest, floor when upsampling and ceil when downsampling, as ONNX Runtime does.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ops/nn_kernels.h"
#include "ops/resize_plan.h"

namespace kiln::ops {

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  return Dims::of(s).to_string();
}

template <typename T>
std::string list_str(const std::vector<T>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + str(v[i]);
  return s + "]";
}


// A computed output length as int64: NaN (0 * inf) is 0, and anything beyond the tensor limit
// saturates there, so the size check refuses it instead of an undefined conversion.
int64_t to_size(double v) {
  if (!(v >= 0)) return 0;
  return v > static_cast<double>(kMaxOutputElements) ? kMaxOutputElements + 1
                                                     : static_cast<int64_t>(v);
}

// floor(scale * size), multiplied in float as ONNX Runtime does: a float32 scale of 1.4 turns
// 5 into 7 (the exporter's intent), where the exact product 6.99999988 would give 6.
int64_t scaled_size(float scale, int64_t size) {
  return to_size(std::floor(scale * static_cast<float>(size)));
}

// Scales of the pre-11 forms: one per axis, from the attribute (Upsample-7) or input 1;
// Upsample-1 has only height_scale and width_scale, for an NCHW input.
Status legacy_spec(const KernelContext& ctx, std::string_view op, const Tensor& x, ResizeSpec& s) {
  s.mode = ctx.attr_string("mode", "nearest");
  const bool upsample1 = op == "Upsample" && ctx.since() < 7;
  // Upsample-1's "bilinear" is what 7 calls "linear" (ONNX's 6-to-7 converter carries the
  // mode over and only moves the two scales into `scales`).
  if (upsample1 && s.mode == "bilinear") s.mode = "linear";
  if (s.mode != "nearest" && s.mode != "linear")
    return err(Code::kInvalidArgument, op, " mode '", s.mode, "' is not nearest or ",
               upsample1 ? "bilinear" : "linear");
  std::vector<double> scales;
  if (upsample1) {
    if (x.rank() != 4)
      return err(Code::kInvalidArgument, "Upsample-1 needs a 4-D NCHW input X, got ",
                 shape_str(x.shape()));
    scales = {1.0, 1.0, ctx.attr_float("height_scale"), ctx.attr_float("width_scale")};
  } else if (op == "Upsample" && ctx.since() < 9) {
    for (float f : ctx.attr_floats("scales")) scales.push_back(f);
  } else {
    const Tensor* t = ctx.input(1);
    if (t == nullptr || t->dtype() != DataType::kFloat32)
      return err(Code::kInvalidArgument, op, " needs a float32 scales input");
    for (int64_t i = 0; i < t->numel(); ++i) scales.push_back(t->data_as<float>()[i]);
  }
  if (scales.size() != x.rank())
    return err(Code::kInvalidArgument, op, " scales ", list_str(scales), " must have ", x.rank(),
               " values (one per axis of X ", shape_str(x.shape()), ")");
  for (double v : scales)
    if (!(v > 0) || (op == "Upsample" && v < 1))
      return err(Code::kInvalidArgument, op, " scales ", list_str(scales), " must be ",
                 op == "Upsample" ? ">= 1" : "positive");
  s.scales = scales;
  s.out.resize(x.rank());
  for (size_t d = 0; d < x.rank(); ++d)
    s.out[d] = scaled_size(static_cast<float>(scales[d]), s.in[d]);
  return Status::Ok();
}

Result<std::vector<double>> read_doubles(const Tensor& t, std::string_view what) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  Status s = dispatch_float(t.dtype(), what, [&]<typename T>() -> Status {
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(t.data_as<T>()[i]);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return v;
}

// Resize 11+: roi, scales or sizes (one of the two), axes and the aspect-ratio policy.
}  // namespace

Status resize_spec(const KernelContext& ctx, const Tensor& x, ResizeSpec& s) {
  constexpr std::string_view op = "Resize";
  const int64_t since = ctx.since();
  const size_t rank = x.rank();
  if (rank == 0) return err(Code::kInvalidArgument, op, " needs X of rank >= 1, not a scalar");
  s.mode = ctx.attr_string("mode", "nearest");
  s.coord = ctx.attr_string("coordinate_transformation_mode", "half_pixel");
  s.nearest_mode = ctx.attr_string("nearest_mode", "round_prefer_floor");
  s.cubic_a = ctx.attr_float("cubic_coeff_a", -0.75f);
  s.exclude_outside = ctx.attr_int("exclude_outside", 0) != 0;
  s.extrapolation = ctx.attr_float("extrapolation_value", 0.0f);
  s.antialias = since >= 18 && ctx.attr_int("antialias", 0) != 0;
  if (s.mode != "nearest" && s.mode != "linear" && s.mode != "cubic")
    return err(Code::kInvalidArgument, op, " mode '", s.mode, "' is not nearest, linear or cubic");
  static const char* const kCoords[] = {
      "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
      "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  if (std::find(std::begin(kCoords), std::end(kCoords), s.coord) == std::end(kCoords))
    return err(Code::kInvalidArgument, op, " coordinate_transformation_mode '", s.coord,
               "' is not supported");
  if (s.mode == "nearest" && s.nearest_mode != "round_prefer_floor" &&
      s.nearest_mode != "round_prefer_ceil" && s.nearest_mode != "floor" &&
      s.nearest_mode != "ceil")
    return err(Code::kInvalidArgument, op, " nearest_mode '", s.nearest_mode, "' is not supported");

  std::vector<int64_t> axes;
  if (since >= 18 && ctx.has_attr("axes")) {
    for (int64_t a : ctx.attr_ints("axes")) {
      KILN_ASSIGN_OR_RETURN(const int64_t n, normalize_axis(a, static_cast<int64_t>(rank), op));
      if (std::find(axes.begin(), axes.end(), n) != axes.end())
        return err(Code::kInvalidArgument, op, " axes ", list_str(ctx.attr_ints("axes")),
                   " repeat axis ", n);
      axes.push_back(n);
    }
  } else {
    for (size_t d = 0; d < rank; ++d) axes.push_back(static_cast<int64_t>(d));
  }
  const size_t na = axes.size();

  const Tensor* roi = ctx.input(1);
  const Tensor* scales_t = ctx.input(2);
  const Tensor* sizes_t = ctx.input(3);
  const bool has_scales = scales_t != nullptr && scales_t->numel() > 0;
  const bool has_sizes = sizes_t != nullptr && sizes_t->numel() > 0;
  if (has_scales == has_sizes)
    return err(Code::kInvalidArgument, op, " needs exactly one of scales and sizes (",
               has_scales ? "both were given" : "neither was given", ")");

  s.scales.assign(rank, 1.0);
  s.out = s.in;
  if (has_scales) {
    if (scales_t->dtype() != DataType::kFloat32)
      return err(Code::kTypeUnsupported, op, " scales must be float32, not ",
                 data_type_name(scales_t->dtype()));
    const float* sp = scales_t->data_as<float>();
    std::vector<float> sv(sp, sp + scales_t->numel());
    if (sv.size() != na)
      return err(Code::kInvalidArgument, op, " scales ", list_str(sv), " must have ", na,
                 " values (one per resized axis of X ", shape_str(s.in), ")");
    for (size_t i = 0; i < na; ++i) {
      if (!(sv[i] > 0))
        return err(Code::kInvalidArgument, op, " scales ", list_str(sv), " must be positive");
      const size_t d = static_cast<size_t>(axes[i]);
      s.scales[d] = sv[i];
      s.out[d] = scaled_size(sv[i], s.in[d]);
    }
  } else {
    KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> sizes,
                          read_int_values(*sizes_t, "Resize sizes"));
    if (sizes.size() != na)
      return err(Code::kInvalidArgument, op, " sizes ", list_str(sizes), " must have ", na,
                 " values (one per resized axis of X ", shape_str(s.in), ")");
    for (size_t i = 0; i < na; ++i) {
      const size_t d = static_cast<size_t>(axes[i]);
      if (sizes[i] < 0)
        return err(Code::kInvalidArgument, op, " sizes ", list_str(sizes), " must not be negative");
      if (s.in[d] == 0 && sizes[i] > 0)
        return err(Code::kIncompatibleShapes, op, " cannot resize empty axis ", d, " of X ",
                   shape_str(s.in), " to size ", sizes[i]);
      s.out[d] = sizes[i];
      s.scales[d] = s.in[d] == 0 ? 1.0 : static_cast<double>(sizes[i]) / s.in[d];
    }
    const std::string policy = since >= 18 ? ctx.attr_string("keep_aspect_ratio_policy", "stretch")
                                           : std::string("stretch");
    if (policy != "stretch") {
      if (policy != "not_larger" && policy != "not_smaller")
        return err(Code::kInvalidArgument, op, " keep_aspect_ratio_policy '", policy,
                   "' is not stretch, not_larger or not_smaller");
      double scale = s.scales[static_cast<size_t>(axes[0])];
      for (int64_t a : axes)
        scale = policy == "not_larger" ? std::min(scale, s.scales[static_cast<size_t>(a)])
                                       : std::max(scale, s.scales[static_cast<size_t>(a)]);
      for (int64_t a : axes) {
        const size_t d = static_cast<size_t>(a);
        s.scales[d] = scale;
        s.out[d] = to_size(scale * static_cast<double>(s.in[d]) + 0.5);
      }
    }
  }

  s.roi_start.assign(rank, 0.0);
  s.roi_end.assign(rank, 1.0);
  if (s.coord == "tf_crop_and_resize") {
    if (roi == nullptr || roi->numel() == 0)
      return err(Code::kInvalidArgument, op, " tf_crop_and_resize needs the roi input");
    KILN_ASSIGN_OR_RETURN(const std::vector<double> r, read_doubles(*roi, "Resize roi"));
    if (r.size() != 2 * na)
      return err(Code::kInvalidArgument, op, " roi ", list_str(r), " must have ", 2 * na,
                 " values (starts then ends of the resized axes)");
    for (size_t i = 0; i < na; ++i) {
      s.roi_start[static_cast<size_t>(axes[i])] = r[i];
      s.roi_end[static_cast<size_t>(axes[i])] = r[na + i];
    }
  }
  return Status::Ok();
}

namespace {

// ---- per-axis plans ----------------------------------------------------------------------------


double original_coord(const ResizeSpec& s, size_t d, int64_t j) {
  const double x = static_cast<double>(j), in = static_cast<double>(s.in[d]);
  const double scale = s.scales[d];
  // ONNX's reference uses the unrounded scale * input length here, not the integer output.
  const double out_w = scale * in;
  const std::string& c = s.coord;
  if (c == "asymmetric") return x / scale;
  if (c == "align_corners") return out_w == 1 ? 0.0 : x * (in - 1) / (out_w - 1);
  if (c == "pytorch_half_pixel") return out_w == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
  if (c == "tf_half_pixel_for_nn") return (x + 0.5) / scale;
  if (c == "half_pixel_symmetric") {
    const double adjustment = static_cast<double>(s.out[d]) / out_w;
    const double offset = in / 2 * (1 - adjustment);
    return offset + (x + 0.5) / scale - 0.5;
  }
  if (c == "tf_crop_and_resize") {
    const double r0 = s.roi_start[d], r1 = s.roi_end[d];
    const double x_ori =
        out_w == 1 ? (r1 - r0) * (in - 1) / 2 : x * (r1 - r0) * (in - 1) / (out_w - 1);
    return x_ori + r0 * (in - 1);
  }
  return (x + 0.5) / scale - 0.5;  // half_pixel
}

double cubic_weight(double x, double a) {
  x = std::fabs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0.0;
}

// Coefficients of the taps at base + first + i, i in [0, n), for fractional position `ratio`
// in (0, 1] past `base`.
void coefficients(const ResizeSpec& s, double scale, double ratio, std::vector<double>& c,
                  int64_t& first) {
  c.clear();
  if (s.mode == "linear" && !s.antialias) {
    first = 0;
    c = {1 - ratio, ratio};
    return;
  }
  const double a = s.cubic_a;
  if (s.mode == "cubic" && !s.antialias) {
    first = -1;
    c = {((a * (ratio + 1) - 5 * a) * (ratio + 1) + 8 * a) * (ratio + 1) - 4 * a,
         ((a + 2) * ratio - (a + 3)) * ratio * ratio + 1,
         ((a + 2) * (1 - ratio) - (a + 3)) * (1 - ratio) * (1 - ratio) + 1,
         ((a * (2 - ratio) - 5 * a) * (2 - ratio) + 8 * a) * (2 - ratio) - 4 * a};
    return;
  }
  // Antialias stretches the filter by 1 / scale when downsampling.
  const double sc = std::min(scale, 1.0);
  const bool linear = s.mode == "linear";
  first = static_cast<int64_t>(std::floor((linear ? -1.0 : -2.0) / sc)) + 1;
  const int64_t n = 2 - 2 * first;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double arg = (static_cast<double>(first + i) - ratio) * sc;
    const double v = linear ? std::clamp(1 - std::fabs(arg), 0.0, 1.0) : cubic_weight(arg, a);
    c.push_back(v);
    sum += v;
  }
  for (double& v : c) v /= sum;
}

}  // namespace

AxisPlan axis_plan(const ResizeSpec& s, size_t d) {
  AxisPlan p;
  const int64_t in = s.in[d], out = s.out[d];
  const bool crop = s.coord == "tf_crop_and_resize";
  p.identity =
      std::fabs(s.scales[d] - 1.0) <= 1e-9 && out == in &&
      (!crop || (std::fabs(s.roi_start[d]) <= 1e-9 && std::fabs(s.roi_end[d] - 1) <= 1e-9));
  if (p.identity || in == 0) return p;
  const bool nearest = s.mode == "nearest";
  p.extrapolate.assign(static_cast<size_t>(out), 0);
  if (nearest) p.nearest.resize(static_cast<size_t>(out));
  std::vector<double> c;
  for (int64_t j = 0; j < out; ++j) {
    // Only an absurd roi takes x_ori far outside; clamping it keeps the int conversion defined
    // without changing any result (indices clamp to the edges anyway).
    const double x_raw = original_coord(s, d, j);
    const bool outside = crop && !(x_raw >= 0 && x_raw <= static_cast<double>(in - 1));
    const double x_ori = std::isnan(x_raw) ? 0.0 : std::clamp(x_raw, -1e12, 1e12);
    p.extrapolate[j] = outside;
    // The reference prefers the pixel left of x_ori: an integral x_ori has ratio 1 from x - 1.
    const double fl = std::floor(x_ori);
    const bool integral = x_ori == fl;
    const double ratio = integral ? 1.0 : x_ori - fl;
    const int64_t base = static_cast<int64_t>(fl) - (integral ? 1 : 0);
    if (nearest) {
      int64_t pick;
      const std::string& m = s.nearest_mode;
      if (m == "legacy")
        pick =
            s.scales[d] < 1 ? static_cast<int64_t>(std::ceil(x_ori)) : static_cast<int64_t>(x_ori);
      else
        pick = base + ((integral || m == "ceil" || (m == "round_prefer_floor" && ratio > 0.5) ||
                        (m == "round_prefer_ceil" && ratio >= 0.5))
                           ? 1
                           : 0);
      p.nearest[j] = outside ? -1 : std::clamp<int64_t>(pick, 0, in - 1);
      continue;
    }
    int64_t first = 0;
    coefficients(s, s.scales[d], ratio, c, first);
    if (j == 0) {
      p.taps = static_cast<int64_t>(c.size());
      p.idx.resize(static_cast<size_t>(out * p.taps));
      p.w.resize(p.idx.size());
    }
    double sum = 0;
    for (int64_t i = 0; i < p.taps; ++i) {
      const int64_t at = base + first + i;
      if (s.exclude_outside && (at < 0 || at >= in)) c[i] = 0;
      sum += c[i];
    }
    for (int64_t i = 0; i < p.taps; ++i) {
      p.idx[j * p.taps + i] = std::clamp<int64_t>(base + first + i, 0, in - 1);
      p.w[j * p.taps + i] = s.exclude_outside ? c[i] / (sum == 0 ? 1.0 : sum) : c[i];
    }
  }
  return p;
}

namespace {

// A double result stored as T: integers round half to even and saturate (ONNX's reference).
template <typename T>
T store(double v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0;
  } else if constexpr (std::is_integral_v<T>) {
    if (std::isnan(v)) return T(0);
    const double r = std::nearbyint(v);
    const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
    const double hi = static_cast<double>(std::numeric_limits<T>::max());
    if (r <= lo) return std::numeric_limits<T>::lowest();
    if (r >= hi) return std::numeric_limits<T>::max();
    return static_cast<T>(r);
  } else {
    return T(static_cast<compute_t<T>>(v));
  }
}

// Nearest: y[j...] = x[source(j)...], with -1 sources giving the extrapolation value.
template <typename T>
void gather_nearest(const T* x, T* y, const ResizeSpec& s, const std::vector<AxisPlan>& plans,
                    T extrap) {
  const size_t rank = s.in.size();
  const std::vector<int64_t> in_stride = strides_of(s.in);
  int64_t k = 0;
  auto rec = [&](auto& self, size_t d, int64_t offset, bool outside) -> void {
    const AxisPlan& p = plans[d];
    for (int64_t j = 0; j < s.out[d]; ++j) {
      const int64_t i = p.identity ? j : p.nearest[j];
      const bool out = outside || i < 0;
      const int64_t at = offset + std::max<int64_t>(i, 0) * in_stride[d];
      if (d + 1 == rank)
        y[k++] = out ? extrap : x[at];
      else
        self(self, d + 1, at, out);
    }
  };
  if (rank == 0)
    y[0] = x[0];
  else
    rec(rec, 0, 0, false);
}

// Resizes axis `d` of `src` (shape `shape`) into dst; shape[d] becomes out.
template <typename Acc>
void resize_axis(const std::vector<Acc>& src, std::vector<Acc>& dst, std::vector<int64_t>& shape,
                 size_t d, const AxisPlan& p, int64_t out, Acc extrap) {
  int64_t outer = 1, inner = 1;
  for (size_t i = 0; i < d; ++i) outer *= shape[i];
  for (size_t i = d + 1; i < shape.size(); ++i) inner *= shape[i];
  const int64_t in = shape[d];
  dst.assign(static_cast<size_t>(outer * out * inner), Acc(0));
  std::vector<Acc> w(p.w.begin(), p.w.end());
  for (int64_t o = 0; o < outer; ++o) {
    const Acc* s = src.data() + o * in * inner;
    for (int64_t j = 0; j < out; ++j) {
      Acc* t = dst.data() + (o * out + j) * inner;
      if (p.extrapolate[j]) {
        std::fill(t, t + inner, extrap);
        continue;
      }
      const int64_t* ix = &p.idx[j * p.taps];
      const Acc* wj = &w[j * p.taps];
      if (inner == 1) {
        Acc acc = 0;
        for (int64_t i = 0; i < p.taps; ++i) acc += wj[i] * s[ix[i]];
        t[0] = acc;
        continue;
      }
      for (int64_t i = 0; i < p.taps; ++i) {
        const Acc wi = wj[i];
        const Acc* row = s + ix[i] * inner;
        for (int64_t e = 0; e < inner; ++e) t[e] += wi * row[e];
      }
    }
  }
  shape[d] = out;
}

Status run_resize(KernelContext& ctx, std::string_view op, const Tensor& x, const ResizeSpec& s) {
  KILN_RETURN_IF_ERROR(output_numel(s.out, op).status());
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), s.out));
  if (y->numel() == 0) return Status::Ok();
  std::vector<AxisPlan> plans;
  for (size_t d = 0; d < s.in.size(); ++d) plans.push_back(axis_plan(s, d));
  return dispatch_numeric(x.dtype(), op, [&]<typename T>() -> Status {
    const T* xp = x.data_as<T>();
    T* yp = y->data_as<T>();
    if (s.mode == "nearest") {
      gather_nearest<T>(xp, yp, s, plans, store<T>(s.extrapolation));
      return Status::Ok();
    }
    if constexpr (std::is_same_v<T, bool>) {
      return err(Code::kTypeUnsupported, op, " ", s.mode, " interpolation needs numbers, not bool");
    } else {
      // float for 32- and 16-bit floats, double for float64 and integers.
      using Acc = std::conditional_t<is_float_v<T> && !std::is_same_v<T, double>, float, double>;
      std::vector<Acc> cur(static_cast<size_t>(x.numel())), next;
      for (int64_t i = 0; i < x.numel(); ++i) cur[i] = static_cast<Acc>(xp[i]);
      std::vector<int64_t> shape = s.in;
      for (size_t d = 0; d < shape.size(); ++d) {
        if (plans[d].identity) continue;
        resize_axis<Acc>(cur, next, shape, d, plans[d], s.out[d],
                         static_cast<Acc>(s.extrapolation));
        cur.swap(next);
      }
      for (int64_t i = 0; i < y->numel(); ++i) yp[i] = store<T>(static_cast<double>(cur[i]));
      return Status::Ok();
    }
  });
}

}  // namespace

Status resize_kernel(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (x == nullptr) return err(Code::kInvalidArgument, "Resize needs input X");
  ResizeSpec s;
  s.in = x->shape();
  if (ctx.since() < 11)
    KILN_RETURN_IF_ERROR(legacy_spec(ctx, "Resize", *x, s));
  else
    KILN_RETURN_IF_ERROR(resize_spec(ctx, *x, s));
  return run_resize(ctx, "Resize", *x, s);
}

Status upsample_kernel(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (x == nullptr) return err(Code::kInvalidArgument, "Upsample needs input X");
  ResizeSpec s;
  s.in = x->shape();
  KILN_RETURN_IF_ERROR(legacy_spec(ctx, "Upsample", *x, s));
  return run_resize(ctx, "Upsample", *x, s);
}

}  // namespace kiln::ops
