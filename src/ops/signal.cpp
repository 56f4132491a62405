// Signal processing: DFT, STFT, the Hann/Hamming/Blackman windows and MelWeightMatrix.
//
// Complex values travel as a trailing dimension of 2 (real, imaginary); real signals as a
// trailing dimension of 1. Transforms are computed in double: a radix-2 FFT for power-of-two
// lengths and Bluestein's chirp-z algorithm (which reduces any length to a power-of-two FFT)
// otherwise, so every length costs O(n log n) and the results match a direct DFT to rounding.
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "ops/elementwise_util.h"
#include "ops/kernel_util.h"
#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;
using cplx = std::complex<double>;

// The longest transform the reference kernels compute: the scratch buffers of a Bluestein
// transform are 4x the length in complex doubles (1 GiB at this limit).
constexpr int64_t kMaxDftLength = int64_t{1} << 24;

bool is_pow2(int64_t n) {
  return n > 0 && (n & (n - 1)) == 0;
}

// In-place iterative radix-2 FFT; sign -1 computes sum x[t] e^{-2 pi i k t / n}, +1 the
// unnormalized inverse. Twiddles are evaluated directly rather than by repeated multiplication,
// so their error does not grow with n.
void fft_pow2(std::vector<cplx>& a, int sign) {
  const size_t n = a.size();
  for (size_t i = 1, j = 0; i < n; ++i) {  // bit-reversal permutation
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const double step = sign * 2.0 * std::numbers::pi / static_cast<double>(len);
    for (size_t k = 0; k < len / 2; ++k) {
      const cplx w = std::polar(1.0, step * static_cast<double>(k));
      for (size_t start = 0; start < n; start += len) {
        const cplx u = a[start + k], v = a[start + k + len / 2] * w;
        a[start + k] = u + v;
        a[start + k + len / 2] = u - v;
      }
    }
  }
}

// Unnormalized DFT of any length n >= 1 (sign as in fft_pow2).
// Bluestein: with kt = (k^2 + t^2 - (k-t)^2) / 2, X[k] = w[k] * sum_t (x[t] w[t]) conj(w[k-t])
// where w[m] = e^{sign i pi m^2 / n}: a convolution, done by power-of-two FFTs of size >= 2n-1.
void dft_any(std::vector<cplx>& x, int sign) {
  const int64_t n = static_cast<int64_t>(x.size());
  if (is_pow2(n)) return fft_pow2(x, sign);
  std::vector<cplx> w(static_cast<size_t>(n));
  // m^2 mod 2n keeps the chirp's angle small (e^{i pi m^2/n} has period 2n in m^2), so large
  // lengths lose no precision; updated incrementally so it never overflows.
  for (int64_t m = 0, sq = 0; m < n; ++m) {
    w[static_cast<size_t>(m)] =
        std::polar(1.0, sign * std::numbers::pi * static_cast<double>(sq) / static_cast<double>(n));
    sq = (sq + 2 * m + 1) % (2 * n);
  }
  size_t size = 1;
  while (size < static_cast<size_t>(2 * n - 1)) size <<= 1;
  std::vector<cplx> a(size), b(size);
  for (size_t t = 0; t < static_cast<size_t>(n); ++t) a[t] = x[t] * w[t];
  b[0] = std::conj(w[0]);
  for (size_t m = 1; m < static_cast<size_t>(n); ++m) b[m] = b[size - m] = std::conj(w[m]);
  fft_pow2(a, -1);
  fft_pow2(b, -1);
  for (size_t i = 0; i < size; ++i) a[i] *= b[i];
  fft_pow2(a, +1);
  for (size_t k = 0; k < static_cast<size_t>(n); ++k)
    x[k] = w[k] * a[k] / static_cast<double>(size);
}

double load_double(const void* data, int64_t i, DataType dtype) {
  double v = 0;
  (void)dispatch_float(dtype, "signal", [&]<typename T>() -> Status {
    v = static_cast<double>(static_cast<compute_t<T>>(static_cast<const T*>(data)[i]));
    return Status::Ok();
  });
  return v;
}

// A scalar integer input (a single int32/int64 element) as int64.
Result<int64_t> scalar_int(const Tensor& t, std::string_view what) {
  if (t.numel() != 1)
    return err(Code::kInvalidArgument, what, " must be a scalar, got shape ", shape_str(t.shape()));
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> v, read_int_values(t, what));
  return v[0];
}

// The transform of one (batch, position) line: n points of `in` read at `in_off + t * stride`
// (t < avail; zero beyond), complex when in_comps == 2.
struct Line {
  const void* data;
  DataType dtype;
  int64_t in_off, stride, avail, in_comps;
};

std::vector<cplx> read_line(const Line& l, int64_t n) {
  std::vector<cplx> x(static_cast<size_t>(n));
  for (int64_t t = 0; t < std::min(n, l.avail); ++t) {
    const int64_t at = l.in_off + t * l.stride;
    const double re = load_double(l.data, at, l.dtype);
    const double im = l.in_comps == 2 ? load_double(l.data, at + 1, l.dtype) : 0.0;
    x[static_cast<size_t>(t)] = cplx(re, im);
  }
  return x;
}

// ---- DFT --------------------------------------------------------------------------------------

Status dft_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "DFT";
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op, "input"));
  const std::vector<int64_t>& shape = x->shape();
  const int64_t r = static_cast<int64_t>(shape.size());
  if (r < 2)
    return err(Code::kInvalidArgument, op, " input ", shape_str(shape),
               " must have rank >= 2 (signal dims, then 1 for real or 2 for complex values)");
  const int64_t comps = shape.back();
  if (comps != 1 && comps != 2)
    return err(Code::kInvalidArgument, op, " input ", shape_str(shape),
               " must end in a dimension of 1 (real) or 2 (complex), got ", comps);
  // 17 takes the axis as an attribute (default 1, after the batch dim); 20 as an optional
  // scalar input (default -2, the last signal dim).
  int64_t axis = ctx.since() >= 20 ? -2 : ctx.attr_int("axis", 1);
  if (ctx.since() >= 20 && ctx.input(2) != nullptr) {
    KILN_ASSIGN_OR_RETURN(axis, scalar_int(*ctx.input(2), "DFT axis"));
  }
  if (axis < -r || axis > r - 2 || axis == -1)
    return err(Code::kInvalidArgument, op, " axis ", axis, " is out of range for input ",
               shape_str(shape), " (valid: ", -r, "..-2 or 0..", r - 2,
               "; the last dim holds the complex components)");
  if (axis < 0) axis += r;
  const bool inverse = ctx.attr_int("inverse") != 0, onesided = ctx.attr_int("onesided") != 0;
  const int64_t len = shape[static_cast<size_t>(axis)];
  int64_t n = inverse && onesided ? 2 * (len - 1) : len;
  if (ctx.input(1) != nullptr) {
    KILN_ASSIGN_OR_RETURN(n, scalar_int(*ctx.input(1), "DFT dft_length"));
  }
  if (n < 1 || n > kMaxDftLength)
    return err(Code::kInvalidArgument, op, " dft_length ", n, " must be in 1..", kMaxDftLength,
               " (input ", shape_str(shape), ", axis ", axis, ")");
  if (onesided && !inverse && comps != 1)
    return err(Code::kInvalidArgument, op,
               " onesided=1 (a real-to-complex transform) needs real input ending in 1, got ",
               shape_str(shape));
  if (onesided && inverse && comps != 2)
    return err(Code::kInvalidArgument, op,
               " onesided=1 with inverse=1 (a complex-to-real transform) needs complex input "
               "ending in 2, got ",
               shape_str(shape));

  // Output: the axis becomes n (n/2+1 for a one-sided forward transform), the last dim 2
  // (1 for the complex-to-real inverse).
  const int64_t out_len = onesided && !inverse ? n / 2 + 1 : n;
  const int64_t out_comps = onesided && inverse ? 1 : 2;
  std::vector<int64_t> out_shape = shape;
  out_shape[static_cast<size_t>(axis)] = out_len;
  out_shape.back() = out_comps;
  KILN_RETURN_IF_ERROR(check_output_shape(out_shape, op));

  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < r - 1; ++d) inner *= shape[static_cast<size_t>(d)];
  return dispatch_float(x->dtype(), op, [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), out_shape));
    T* dst = y->data_as<T>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const Line line{x->data(),     x->dtype(), (o * len * inner + i) * comps,
                        inner * comps, len,        comps};
        std::vector<cplx> v;
        if (onesided && inverse) {
          // The full spectrum is Hermitian: bins past n/2 mirror the given ones, conjugated.
          const std::vector<cplx> half = read_line(line, n / 2 + 1);
          v.resize(static_cast<size_t>(n));
          for (int64_t k = 0; k < n; ++k)
            v[static_cast<size_t>(k)] = k <= n / 2 ? half[static_cast<size_t>(k)]
                                                   : std::conj(half[static_cast<size_t>(n - k)]);
        } else {
          v = read_line(line, n);
        }
        dft_any(v, inverse ? +1 : -1);
        const double scale = inverse ? 1.0 / static_cast<double>(n) : 1.0;
        for (int64_t k = 0; k < out_len; ++k) {
          const int64_t at = (o * out_len * inner + k * inner + i) * out_comps;
          const cplx c = v[static_cast<size_t>(k)] * scale;
          dst[at] = static_cast<T>(static_cast<compute_t<T>>(c.real()));
          if (out_comps == 2) dst[at + 1] = static_cast<T>(static_cast<compute_t<T>>(c.imag()));
        }
      }
    }
    return Status::Ok();
  });
}

// ---- STFT -------------------------------------------------------------------------------------

Status stft_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "STFT";
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op, "signal"));
  KILN_ASSIGN_OR_RETURN(const Tensor* step_t, required_input(ctx, 1, op, "frame_step"));
  const Tensor* window = ctx.input(2);
  const std::vector<int64_t>& shape = x->shape();
  if (shape.size() != 3 || (shape[2] != 1 && shape[2] != 2))
    return err(Code::kInvalidArgument, op, " signal ", shape_str(shape),
               " must have shape [batch, length, 1] (real) or [batch, length, 2] (complex)");
  const int64_t batch = shape[0], len = shape[1], comps = shape[2];
  KILN_ASSIGN_OR_RETURN(const int64_t step, scalar_int(*step_t, "STFT frame_step"));
  if (step < 1) return err(Code::kInvalidArgument, op, " frame_step ", step, " must be >= 1");
  if (window != nullptr) {
    if (window->rank() != 1)
      return err(Code::kInvalidArgument, op, " window ", shape_str(window->shape()),
                 " must have rank 1");
    if (window->dtype() != x->dtype())
      return err(Code::kTypeUnsupported, op, " window is ", data_type_name(window->dtype()),
                 " but signal is ", data_type_name(x->dtype()));
  }
  // The frame length comes from frame_length, else the window, else the whole signal.
  int64_t n = window != nullptr ? window->shape()[0] : len;
  if (ctx.input(3) != nullptr) {
    KILN_ASSIGN_OR_RETURN(n, scalar_int(*ctx.input(3), "STFT frame_length"));
    if (window != nullptr && window->shape()[0] != n)
      return err(Code::kIncompatibleShapes, op, " window ", shape_str(window->shape()),
                 " must have frame_length ", n, " elements");
  }
  if (n < 1 || n > len || n > kMaxDftLength)
    return err(Code::kInvalidArgument, op, " frame length ", n, " must be in 1..",
               std::min(len, kMaxDftLength), " for signal ", shape_str(shape));
  const bool onesided = ctx.attr_int("onesided", 1) != 0;
  if (onesided && comps == 2)
    return err(Code::kInvalidArgument, op,
               " onesided=1 needs a real signal (ending in 1); complex signal ", shape_str(shape),
               " has no conjugate symmetry");
  const int64_t frames = 1 + (len - n) / step;
  const int64_t bins = onesided ? n / 2 + 1 : n;
  const std::vector<int64_t> out_shape{batch, frames, bins, 2};
  KILN_RETURN_IF_ERROR(check_output_shape(out_shape, op));
  std::vector<double> win(static_cast<size_t>(n), 1.0);
  if (window != nullptr)
    for (int64_t t = 0; t < n; ++t)
      win[static_cast<size_t>(t)] = load_double(window->data(), t, window->dtype());
  return dispatch_float(x->dtype(), op, [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), out_shape));
    T* dst = y->data_as<T>();
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t f = 0; f < frames; ++f) {
        const Line line{x->data(), x->dtype(), (b * len + f * step) * comps, comps, n, comps};
        std::vector<cplx> v = read_line(line, n);
        for (int64_t t = 0; t < n; ++t) v[static_cast<size_t>(t)] *= win[static_cast<size_t>(t)];
        dft_any(v, -1);
        T* row = dst + (b * frames + f) * bins * 2;
        for (int64_t k = 0; k < bins; ++k) {
          row[2 * k] = static_cast<T>(static_cast<compute_t<T>>(v[static_cast<size_t>(k)].real()));
          row[2 * k + 1] =
              static_cast<T>(static_cast<compute_t<T>>(v[static_cast<size_t>(k)].imag()));
        }
      }
    }
    return Status::Ok();
  });
}

// ---- windows and MelWeightMatrix ----------------------------------------------------------------

// The output type an `output_datatype` attribute names, checked against the schema's list.
Result<DataType> output_datatype(const KernelContext& ctx, std::string_view op, const char* var) {
  const int64_t v = ctx.attr_int("output_datatype", 1);
  if (const TypeConstraint* allowed = ctx.schema().find_types(var))
    for (DataType t : allowed->types)
      if (static_cast<int64_t>(t) == v) return t;
  return err(Code::kAttributeValueUnsupported, op, " output_datatype ", v,
             " is not one of the numeric tensor types ONNX allows here");
}

void check_output_datatype(const ir::Node& node, const OpSchema& schema,
                           std::vector<Status>& problems) {
  const ir::Attribute* a = node.attr("output_datatype");
  const std::string var = schema.outputs().empty() ? "" : schema.outputs()[0].type_var;
  const TypeConstraint* allowed = schema.find_types(var);
  if (a == nullptr || allowed == nullptr) return;
  std::string names;
  for (DataType t : allowed->types) {
    if (static_cast<int64_t>(t) == a->i) return;
    names += str(names.empty() ? "" : ", ", static_cast<int>(t), " (", data_type_name(t), ")");
  }
  problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'output_datatype' = ", a->i,
                         " (allowed: ", names, ")"));
}

// Writes values (computed in double) into output 0 as `dtype`, with Cast's conversion rules.
Status write_doubles(KernelContext& ctx, std::string_view op, DataType dtype,
                     std::vector<int64_t> shape, const std::vector<double>& values) {
  return dispatch_numeric(dtype, op, [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, dtype, std::move(shape)));
    T* dst = y->data_as<T>();
    for (size_t i = 0; i < values.size(); ++i) dst[i] = elementwise::convert<T>(values[i]);
    return Status::Ok();
  });
}

// The generalized cosine window a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), with N = size
// (periodic) or size - 1 (symmetric).
Status cosine_window(KernelContext& ctx, std::string_view op, double a0, double a1, double a2) {
  KILN_ASSIGN_OR_RETURN(const Tensor* size_t_, required_input(ctx, 0, op, "size"));
  KILN_ASSIGN_OR_RETURN(const int64_t size, scalar_int(*size_t_, std::string(op) + " size"));
  if (size < 0) return err(Code::kInvalidArgument, op, " size ", size, " must be >= 0");
  KILN_RETURN_IF_ERROR(check_output_shape({size}, op));
  KILN_ASSIGN_OR_RETURN(const DataType dtype, output_datatype(ctx, op, "T2"));
  const bool periodic = ctx.attr_int("periodic", 1) != 0;
  const double denom = static_cast<double>(periodic ? size : size - 1);
  std::vector<double> w(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) {
    // A symmetric window of one point divides 0 by 0; ONNX Runtime and NumPy give NaN.
    if (denom == 0.0) {
      w[static_cast<size_t>(i)] = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    const double phase = 2.0 * std::numbers::pi * static_cast<double>(i) / denom;
    // a0 + a2 first: 0.42 + 0.08 rounds to exactly 0.5, so the Blackman peak is exactly 1 (and
    // an integer output type gets 1, not 0 from 0.9999999999999999).
    w[static_cast<size_t>(i)] = (a0 + a2 * std::cos(2.0 * phase)) - a1 * std::cos(phase);
  }
  return write_doubles(ctx, op, dtype, {size}, w);
}

Status hann_kernel(KernelContext& ctx) {
  return cosine_window(ctx, "HannWindow", 0.5, 0.5, 0.0);
}
// ONNX's Hamming coefficients are the exact 25/46 and 21/46, not the rounded 0.54/0.46.
Status hamming_kernel(KernelContext& ctx) {
  return cosine_window(ctx, "HammingWindow", 25.0 / 46.0, 21.0 / 46.0, 0.0);
}
Status blackman_kernel(KernelContext& ctx) {
  return cosine_window(ctx, "BlackmanWindow", 0.42, 0.5, 0.08);
}

// Triangular filters between num_mel_bins + 2 points spaced evenly on the mel scale
// (mel(f) = 2595 log10(1 + f/700)) from lower_edge_hertz upward, each converted to a spectrogram
// bin floor((dft_length + 1) * f / sample_rate). Follows the ONNX reference and ONNX Runtime,
// which space the points by (mel(upper) - mel(lower)) / (num_mel_bins + 2), so the last point
// stops one step short of upper_edge_hertz.
Status mel_weight_matrix_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "MelWeightMatrix";
  int64_t ints[3];
  const char* names[3] = {"num_mel_bins", "dft_length", "sample_rate"};
  for (size_t i = 0; i < 3; ++i) {
    KILN_ASSIGN_OR_RETURN(const Tensor* t, required_input(ctx, i, op, names[i]));
    KILN_ASSIGN_OR_RETURN(ints[i], scalar_int(*t, str(op, " ", names[i])));
  }
  const int64_t mel_bins = ints[0], dft_length = ints[1], sample_rate = ints[2];
  double edges[2];
  for (size_t i = 0; i < 2; ++i) {
    KILN_ASSIGN_OR_RETURN(
        const Tensor* t,
        required_input(ctx, 3 + i, op, i ? "upper_edge_hertz" : "lower_edge_hertz"));
    KILN_ASSIGN_OR_RETURN(edges[i], read_scalar(*t, i ? "MelWeightMatrix upper_edge_hertz"
                                                      : "MelWeightMatrix lower_edge_hertz"));
  }
  const double lower = edges[0], upper = edges[1];
  if (mel_bins < 0 || dft_length < 1 || sample_rate < 1)
    return err(Code::kInvalidArgument, op,
               " needs num_mel_bins >= 0, dft_length >= 1 and "
               "sample_rate >= 1, got ",
               mel_bins, ", ", dft_length, ", ", sample_rate);
  if (!(lower >= 0.0) || !(upper >= lower) || !std::isfinite(upper))
    return err(Code::kInvalidArgument, op, " needs 0 <= lower_edge_hertz <= upper_edge_hertz, got ",
               lower, " and ", upper);
  const int64_t spec_bins = dft_length / 2 + 1;
  const std::vector<int64_t> out_shape{spec_bins, mel_bins};
  KILN_RETURN_IF_ERROR(check_output_shape(out_shape, op));
  KILN_ASSIGN_OR_RETURN(const DataType dtype, output_datatype(ctx, op, "T3"));

  auto mel = [](double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); };
  const double low_mel = mel(lower),
               step = (mel(upper) - low_mel) / static_cast<double>(mel_bins + 2);
  std::vector<int64_t> points(static_cast<size_t>(mel_bins + 2));
  for (int64_t i = 0; i < mel_bins + 2; ++i) {
    const double hz =
        700.0 * (std::pow(10.0, (low_mel + step * static_cast<double>(i)) / 2595.0) - 1.0);
    const double bin =
        std::floor(static_cast<double>(dft_length + 1) * hz / static_cast<double>(sample_rate));
    // Every point must name a row of the output (the filters are written there).
    if (!(bin >= 0.0) || bin >= static_cast<double>(spec_bins))
      return err(Code::kInvalidArgument, op, " upper_edge_hertz ", upper,
                 " maps past the last spectrogram bin ", spec_bins - 1, " (dft_length ", dft_length,
                 ", sample_rate ", sample_rate, "); it must not exceed about sample_rate / 2");
    points[static_cast<size_t>(i)] = static_cast<int64_t>(bin);
  }
  std::vector<double> w(static_cast<size_t>(spec_bins * mel_bins), 0.0);
  for (int64_t m = 0; m < mel_bins; ++m) {
    const int64_t lo = points[static_cast<size_t>(m)], mid = points[static_cast<size_t>(m + 1)],
                  hi = points[static_cast<size_t>(m + 2)];
    auto at = [&](int64_t row) -> double& { return w[static_cast<size_t>(row * mel_bins + m)]; };
    if (mid == lo) {
      at(mid) = 1.0;
    } else {
      for (int64_t j = lo; j <= mid; ++j)
        at(j) = static_cast<double>(j - lo) / static_cast<double>(mid - lo);
    }
    for (int64_t j = mid; j < hi; ++j)
      at(j) = static_cast<double>(hi - j) / static_cast<double>(hi - mid);
  }
  return write_doubles(ctx, op, dtype, out_shape, w);
}

}  // namespace

void register_signal(OpRegistry& registry) {
  // Transforms read every input element for every output element: opaque.
  for (int64_t since : {17, 20}) {
    OpSchema s("DFT", since);
    s.input("input", "T1").input("dft_length", "T2", Arity::kOptional);
    if (since >= 20) s.input("axis", "tensor(int64)", Arity::kOptional);
    s.output("output", "T1")
        .types("T1", type_sets::floats())
        .types("T2", type_sets::index())
        .attr_int_enum("inverse", 0, {0, 1})
        .attr_int_enum("onesided", 0, {0, 1})
        .fusion(FusionKind::kOpaque)
        .kernel(dft_kernel);
    if (since < 20) s.attr("axis", AttrType::kInt, int64_t{1});
    registry.add(std::move(s));
  }
  registry.add(OpSchema("STFT", 17)
                   .input("signal", "T1")
                   .input("frame_step", "T2")
                   .input("window", "T1", Arity::kOptional)
                   .input("frame_length", "T2", Arity::kOptional)
                   .output("output", "T1")
                   .types("T1", type_sets::floats())
                   .types("T2", type_sets::index())
                   .attr_int_enum("onesided", 1, {0, 1})
                   .fusion(FusionKind::kOpaque)
                   .kernel(stft_kernel));

  // Generators: the output depends only on the (scalar) inputs' values.
  const std::pair<const char*, KernelFn> windows[] = {{"HannWindow", hann_kernel},
                                                      {"HammingWindow", hamming_kernel},
                                                      {"BlackmanWindow", blackman_kernel}};
  for (const auto& [name, fn] : windows) {
    registry.add(OpSchema(name, 17)
                     .input("size", "T1")
                     .output("output", "T2")
                     .types("T1", type_sets::index())
                     .types("T2", type_sets::numeric())
                     .attr_int_enum("periodic", 1, {0, 1})
                     .attr("output_datatype", AttrType::kInt, int64_t{1})
                     .check(check_output_datatype)
                     .fusion(FusionKind::kOpaque)
                     .kernel(fn));
  }
  registry.add(OpSchema("MelWeightMatrix", 17)
                   .input("num_mel_bins", "T1")
                   .input("dft_length", "T1")
                   .input("sample_rate", "T1")
                   .input("lower_edge_hertz", "T2")
                   .input("upper_edge_hertz", "T2")
                   .output("output", "T3")
                   .types("T1", type_sets::index())
                   .types("T2", type_sets::floats())
                   .types("T3", type_sets::numeric())
                   .attr("output_datatype", AttrType::kInt, int64_t{1})
                   .check(check_output_datatype)
                   .fusion(FusionKind::kOpaque)
                   .kernel(mel_weight_matrix_kernel));
}

}  // namespace kiln::ops
