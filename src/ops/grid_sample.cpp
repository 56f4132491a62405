// GridSample: samples X at the normalized positions a grid gives, with nearest, (N-)linear or
// (N-)cubic interpolation and zeros/border/reflection padding. One N-dimensional kernel serves
// both revisions: 16 (4-D only, modes bilinear/nearest/bicubic) and 20 (any number of spatial
// dims, the same modes renamed linear/nearest/cubic).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
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

// Cubic interpolation visits 4^r neighbours per output element; beyond this many spatial dims
// the work explodes (and no model uses them).
constexpr int64_t kMaxSpatialDims = 6;
// Coordinates further out than this are outside any tensor; clamping them first keeps the
// float-to-integer conversions defined.
constexpr double kFarOut = double(int64_t{1} << 40);

enum class Interp { kNearest, kLinear, kCubic };
enum class Padding { kZeros, kBorder, kReflection };

// Reflects x into [lo, hi] by bouncing off both ends as often as needed.
double reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (range <= 0) return lo;  // a one-pixel dim with align_corners=1
  if (x >= lo && x <= hi) return x;
  const double dx = x < lo ? lo - x : x - hi;
  const double bounces = std::floor(dx / range), rest = dx - bounces * range;
  const bool even = std::fmod(bounces, 2.0) == 0.0;
  if (x < lo) return even ? lo + rest : hi - rest;
  return even ? hi - rest : lo + rest;
}

// Keys' cubic convolution weights (a = -0.75, PyTorch's and ONNX Runtime's choice) for the
// neighbours at -1, 0, +1, +2 of a point t in [0, 1) past the left neighbour.
void cubic_weights(double t, double w[4]) {
  constexpr double a = -0.75;
  auto far = [&](double d) { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a; };  // 1 < d < 2
  auto near = [&](double d) { return ((a + 2) * d - (a + 3)) * d * d + 1; };       // d <= 1
  w[0] = far(t + 1);
  w[1] = near(t);
  w[2] = near(1 - t);
  w[3] = far(2 - t);
}

struct Sampler {
  Interp interp;
  Padding padding;
  bool align_corners;
  std::vector<int64_t> dims;   // spatial input dims, outermost first
  std::vector<double> lo, hi;  // per dim: the coordinate range that counts as inside

  // The integer index a (padded) read uses on dim d, or -1 when it reads a zero.
  int64_t index(int64_t i, size_t d) const {
    const int64_t n = dims[d];
    switch (padding) {
      case Padding::kZeros:
        break;
      case Padding::kBorder:
        i = std::clamp<int64_t>(i, 0, std::max<int64_t>(n - 1, 0));
        break;
      case Padding::kReflection:
        i = static_cast<int64_t>(reflect(static_cast<double>(i), lo[d], hi[d]));
        break;
    }
    return i >= 0 && i < n ? i : -1;
  }
};

template <typename T>
Status grid_sample_typed(KernelContext& ctx, const Tensor& x, const Tensor& grid, const Sampler& s,
                         const std::vector<int64_t>& out_shape) {
  const size_t r = s.dims.size();
  const int64_t n_batch = x.shape()[0], channels = x.shape()[1];
  int64_t in_plane = 1, out_plane = 1;
  for (int64_t d : s.dims) in_plane *= d;
  for (size_t i = 2; i < out_shape.size(); ++i) out_plane *= out_shape[i];
  const std::vector<int64_t> in_strides = strides_of(s.dims);
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype(), out_shape));
  const T* src = x.data_as<T>();
  T* dst = y->data_as<T>();
  // Per output point: the input offsets read and their weights (offset -1: a padding zero).
  std::vector<int64_t> offsets;
  std::vector<double> weights;
  std::vector<double> coord(r);
  std::vector<int64_t> base_idx(r);
  std::vector<std::vector<double>> dim_w(r);
  const int taps = s.interp == Interp::kNearest ? 1 : s.interp == Interp::kLinear ? 2 : 4;
  int64_t terms = 1;
  for (size_t d = 0; d < r; ++d) terms *= taps;

  return dispatch_float(grid.dtype(), "GridSample", [&]<typename G>() -> Status {
    const G* g = grid.data_as<G>();
    for (int64_t nb = 0; nb < n_batch; ++nb) {
      for (int64_t p = 0; p < out_plane; ++p) {
        const G* loc = g + (nb * out_plane + p) * static_cast<int64_t>(r);
        bool nan = false;
        for (size_t d = 0; d < r; ++d) {
          // The grid lists coordinates innermost dim first (x, y, ...).
          const double v = static_cast<double>(static_cast<compute_t<G>>(loc[r - 1 - d]));
          const double size = static_cast<double>(s.dims[d]);
          double c = s.align_corners ? (v + 1) / 2 * (size - 1) : ((v + 1) * size - 1) / 2;
          // Nearest rounds halfway points to the even index (the default rounding mode).
          if (s.interp == Interp::kNearest) c = std::nearbyint(c);
          // Nearest and linear move an outside position in before interpolating; cubic pads
          // each of its neighbours instead (PyTorch's definition, which ONNX Runtime follows;
          // the ONNX Python reference also moves cubic positions, giving other values near the
          // border).
          if (s.interp != Interp::kCubic && (c < s.lo[d] || c > s.hi[d])) {
            if (s.padding == Padding::kBorder) c = std::clamp(c, 0.0, std::max(size - 1, 0.0));
            if (s.padding == Padding::kReflection) c = reflect(c, s.lo[d], s.hi[d]);
          }
          // A NaN position samples nothing (the output is 0). Far-away ones only read padding,
          // so pulling them in to kFarOut changes nothing.
          nan = nan || std::isnan(c);
          coord[d] = std::clamp(c, -kFarOut, kFarOut);
        }
        offsets.clear();
        weights.clear();
        for (size_t d = 0; d < r && !nan; ++d) {
          const double c = coord[d];
          dim_w[d].assign(static_cast<size_t>(taps), 1.0);
          if (s.interp == Interp::kNearest) {
            base_idx[d] = static_cast<int64_t>(c);  // already integral: truncation is exact
          } else {
            const double f = std::floor(c);
            base_idx[d] = static_cast<int64_t>(f) - (s.interp == Interp::kCubic ? 1 : 0);
            if (s.interp == Interp::kLinear) {
              dim_w[d][0] = 1 - (c - f);
              dim_w[d][1] = c - f;
            } else {
              cubic_weights(c - f, dim_w[d].data());
            }
          }
        }
        // Tensor product of the per-dim taps.
        for (int64_t t = 0; t < (nan ? 0 : terms); ++t) {
          int64_t rest = t, off = 0;
          double w = 1.0;
          for (size_t d = r; d-- > 0;) {
            const int64_t k = rest % taps;
            rest /= taps;
            w *= dim_w[d][static_cast<size_t>(k)];
            const int64_t i = s.index(base_idx[d] + k, d);
            if (i < 0 || off < 0) {
              off = -1;
            } else {
              off += i * in_strides[d];
            }
          }
          offsets.push_back(off);
          weights.push_back(w);
        }
        for (int64_t c = 0; c < channels; ++c) {
          const T* plane = src + (nb * channels + c) * in_plane;
          double acc = 0.0;
          for (size_t k = 0; k < offsets.size(); ++k)
            if (offsets[k] >= 0)
              acc += weights[k] * static_cast<double>(static_cast<compute_t<T>>(plane[offsets[k]]));
          // Integer outputs are computed in floating point and converted at the end.
          dst[(nb * channels + c) * out_plane + p] = elementwise::convert<T>(acc);
        }
      }
    }
    return Status::Ok();
  });
}

Status grid_sample_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "GridSample";
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op, "X"));
  KILN_ASSIGN_OR_RETURN(const Tensor* grid, required_input(ctx, 1, op, "grid"));
  const std::vector<int64_t>& xs = x->shape();
  const std::vector<int64_t>& gs = grid->shape();
  const bool v16 = ctx.since() < 20;
  if (v16 ? xs.size() != 4 : xs.size() < 3)
    return err(Code::kInvalidArgument, op, "-", ctx.since(), " X ", shape_str(xs),
               v16 ? " must have shape [N, C, H, W]" : " must have rank >= 3 ([N, C, D1, ...])");
  const int64_t r = static_cast<int64_t>(xs.size()) - 2;
  if (r > kMaxSpatialDims)
    return err(Code::kInvalidArgument, op, " X ", shape_str(xs), " has ", r,
               " spatial dims; the reference kernel handles up to ", kMaxSpatialDims);
  if (static_cast<int64_t>(gs.size()) != r + 2 || gs[0] != xs[0] || gs.back() != r)
    return err(Code::kIncompatibleShapes, op, " grid ", shape_str(gs), " must have shape [", xs[0],
               ", <", r, " output dims>, ", r, "] for X ", shape_str(xs));

  Sampler s;
  const std::string mode = ctx.attr_string("mode", v16 ? "bilinear" : "linear");
  if (mode == "nearest") {
    s.interp = Interp::kNearest;
  } else if (mode == (v16 ? "bilinear" : "linear")) {
    s.interp = Interp::kLinear;
  } else if (mode == (v16 ? "bicubic" : "cubic")) {
    s.interp = Interp::kCubic;
  } else {
    return err(Code::kAttributeValueUnsupported, op, "-", ctx.since(), " mode '", mode,
               v16 ? "' is not bilinear, nearest or bicubic" : "' is not linear, nearest or cubic");
  }
  const std::string padding = ctx.attr_string("padding_mode", "zeros");
  if (padding == "zeros") {
    s.padding = Padding::kZeros;
  } else if (padding == "border") {
    s.padding = Padding::kBorder;
  } else if (padding == "reflection") {
    s.padding = Padding::kReflection;
  } else {
    return err(Code::kAttributeValueUnsupported, op, " padding_mode '", padding,
               "' is not zeros, border or reflection");
  }
  s.align_corners = ctx.attr_int("align_corners") != 0;
  s.dims.assign(xs.begin() + 2, xs.end());
  // Inside means within the corner pixels' centers (align_corners) or their outer edges.
  for (int64_t d : s.dims) {
    s.lo.push_back(s.align_corners ? 0.0 : -0.5);
    s.hi.push_back(s.align_corners ? static_cast<double>(d) - 1 : static_cast<double>(d) - 0.5);
  }
  std::vector<int64_t> out_shape{xs[0], xs[1]};
  out_shape.insert(out_shape.end(), gs.begin() + 1, gs.end() - 1);
  KILN_RETURN_IF_ERROR(check_output_shape(out_shape, op));
  if (x->dtype() == D::kBool)
    return err(Code::kTypeUnsupported, op, " has no reference kernel for bool (interpolation)");
  return dispatch_numeric(x->dtype(), op, [&]<typename T>() -> Status {
    if constexpr (std::is_same_v<T, bool>) {
      return Status::Ok();  // rejected above
    } else {
      return grid_sample_typed<T>(ctx, *x, *grid, s, out_shape);
    }
  });
}

// Y = [N, C, grid's spatial dims...] from X [N, C, ...] and grid [N, spatial..., rank - 2].
Status grid_sample_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  const Dims& grid = ctx.input_shape(1);
  if (!x.rank_known() || !grid.rank_known() || grid.rank() < 2) {
    ctx.set_output_shape(
        0, x.rank_known() ? unknown_dims(static_cast<int64_t>(x.rank())) : Dims::unknown_rank());
    return Status::Ok();
  }
  if (grid.rank() != x.rank())
    return err(Code::kIncompatibleShapes, "GridSample X ", x.to_string(), " and grid ",
               grid.to_string(), " must have the same rank");
  if (!unify_dim(x[0], grid[0]))
    return err(Code::kIncompatibleShapes, "GridSample X ", x.to_string(), " and grid ",
               grid.to_string(), " differ in batch size");
  std::vector<Dim> out{x[0], x[1]};
  out.insert(out.end(), grid.dims().begin() + 1, grid.dims().end() - 1);
  ctx.set_output_shape(0, Dims(std::move(out)));
  return Status::Ok();
}

}  // namespace

void register_grid_sample(OpRegistry& registry) {
  // libonnx 1.12, which the registry is cross-checked against, declares GridSample-16 as
  // (X: T1, grid: T1) -> Y: T2 with T2 the float types; ONNX later corrected it in place to
  // (X: T1, grid: T2) -> Y: T1. kiln accepts what both readings allow: X, grid and Y of one
  // float type. 20 takes the corrected form, with integer X sampled in floating point.
  registry.add(OpSchema("GridSample", 16)
                   .input("X", "T1")
                   .input("grid", "T1")
                   .output("Y", "T2")
                   .types("T1", type_sets::ieee_floats())
                   .types("T2", type_sets::ieee_floats())
                   .attr_int_enum("align_corners", 0, {0, 1})
                   .attr_enum("mode", "bilinear", {"bilinear", "nearest", "bicubic"})
                   .attr_enum("padding_mode", "zeros", {"zeros", "border", "reflection"})
                   .fusion(FusionKind::kOpaque)
                   .kernel(grid_sample_kernel)
                   .infer(grid_sample_infer));
  // Interpolated values of numbers only: strings, bool and complex are left out.
  std::vector<DataType> data = type_sets::ints();
  data.insert(data.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
  registry.add(OpSchema("GridSample", 20)
                   .input("X", "T1")
                   .input("grid", "T2")
                   .output("Y", "T1")
                   .types("T1", data)
                   .types("T2", type_sets::ieee_floats())
                   .attr_int_enum("align_corners", 0, {0, 1})
                   .attr_enum("mode", "linear", {"linear", "nearest", "cubic"})
                   .attr_enum("padding_mode", "zeros", {"zeros", "border", "reflection"})
                   .fusion(FusionKind::kOpaque)
                   .kernel(grid_sample_kernel)
                   .infer(grid_sample_infer));
}

}  // namespace kiln::ops
