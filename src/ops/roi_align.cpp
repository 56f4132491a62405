// RoiAlign: pools each region of interest into an output_height x output_width grid of bins,
// averaging (or taking the maximum of) bilinearly interpolated samples in each bin.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// The most samples one output bin may take: an adaptive grid over the whole of a 1024x1024
// feature map. Larger grids come from absurd ROIs or sampling ratios.
constexpr double kMaxSamplesPerBin = double(int64_t{1} << 20);

// One bilinear sample: four pixel offsets in an H x W plane and their weights (all zero for
// a sample more than a pixel outside the map).
struct Sample {
  int64_t pos[4] = {0, 0, 0, 0};
  double w[4] = {0, 0, 0, 0};
};

Sample bilinear_sample(double y, double x, int64_t h, int64_t w) {
  Sample s;
  if (y < -1.0 || y > static_cast<double>(h) || x < -1.0 || x > static_cast<double>(w)) return s;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t y_lo = static_cast<int64_t>(y), x_lo = static_cast<int64_t>(x), y_hi, x_hi;
  if (y_lo >= h - 1) {
    y_hi = y_lo = h - 1;
    y = static_cast<double>(y_lo);
  } else {
    y_hi = y_lo + 1;
  }
  if (x_lo >= w - 1) {
    x_hi = x_lo = w - 1;
    x = static_cast<double>(x_lo);
  } else {
    x_hi = x_lo + 1;
  }
  const double ly = y - static_cast<double>(y_lo), lx = x - static_cast<double>(x_lo);
  const double hy = 1.0 - ly, hx = 1.0 - lx;
  s.pos[0] = y_lo * w + x_lo;
  s.pos[1] = y_lo * w + x_hi;
  s.pos[2] = y_hi * w + x_lo;
  s.pos[3] = y_hi * w + x_hi;
  s.w[0] = hy * hx;
  s.w[1] = hy * lx;
  s.w[2] = ly * hx;
  s.w[3] = ly * lx;
  return s;
}

Status roi_align_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "RoiAlign";
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op, "X"));
  KILN_ASSIGN_OR_RETURN(const Tensor* rois, required_input(ctx, 1, op, "rois"));
  KILN_ASSIGN_OR_RETURN(const Tensor* idx_t, required_input(ctx, 2, op, "batch_indices"));
  const std::vector<int64_t>& xs = x->shape();
  if (xs.size() != 4)
    return err(Code::kInvalidArgument, op, " X ", shape_str(xs), " must have shape [N, C, H, W]");
  if (rois->rank() != 2 || rois->shape()[1] != 4)
    return err(Code::kInvalidArgument, op, " rois ", shape_str(rois->shape()),
               " must have shape [num_rois, 4]");
  const int64_t num_rois = rois->shape()[0];
  if (idx_t->rank() != 1 || idx_t->shape()[0] != num_rois)
    return err(Code::kIncompatibleShapes, op, " batch_indices ", shape_str(idx_t->shape()),
               " must have shape [", num_rois, "] to match rois ", shape_str(rois->shape()));
  if (rois->dtype() != x->dtype())
    return err(Code::kTypeUnsupported, op, " rois are ", data_type_name(rois->dtype()),
               " but X is ", data_type_name(x->dtype()));
  const int64_t out_h = ctx.attr_int("output_height", 1), out_w = ctx.attr_int("output_width", 1);
  const int64_t ratio = ctx.attr_int("sampling_ratio");
  const double scale = ctx.attr_float("spatial_scale", 1.0f);
  if (out_h < 1 || out_w < 1)
    return err(Code::kInvalidArgument, op, " output_height ", out_h, " and output_width ", out_w,
               " must be >= 1");
  if (ratio < 0) return err(Code::kInvalidArgument, op, " sampling_ratio ", ratio, " must be >= 0");
  const std::string mode = ctx.attr_string("mode", "avg");
  if (mode != "avg" && mode != "max")
    return err(Code::kAttributeValueUnsupported, op, " mode '", mode, "' is not avg or max");
  const bool avg = mode == "avg";
  // 10 has no coordinate_transformation_mode and behaves like output_half_pixel (no shift).
  bool half_pixel = false;
  if (ctx.since() >= 16) {
    const std::string ct = ctx.attr_string("coordinate_transformation_mode", "half_pixel");
    if (ct != "half_pixel" && ct != "output_half_pixel")
      return err(Code::kAttributeValueUnsupported, op, " coordinate_transformation_mode '", ct,
                 "' is not half_pixel or output_half_pixel");
    half_pixel = ct == "half_pixel";
  }
  const int64_t n = xs[0], channels = xs[1], h = xs[2], w = xs[3];
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> batch_idx,
                        read_int_values(*idx_t, "RoiAlign batch_indices"));
  for (int64_t b : batch_idx)
    if (b < 0 || b >= n)
      return err(Code::kIndexOutOfRange, op, " batch index ", b, " is out of range for X ",
                 shape_str(xs), " (valid: 0..", n - 1, ")");
  const std::vector<int64_t> out_shape{num_rois, channels, out_h, out_w};
  KILN_RETURN_IF_ERROR(check_output_shape(out_shape, op));

  return dispatch_float(x->dtype(), op, [&]<typename T>() -> Status {
    const T* src = x->data_as<T>();
    const T* roi = rois->data_as<T>();
    // Validate every ROI and its sampling grid before allocating.
    struct Grid {
      double start_h, start_w, bin_h, bin_w;
      int64_t grid_h, grid_w;
    };
    std::vector<Grid> grids(static_cast<size_t>(num_rois));
    for (int64_t r = 0; r < num_rois; ++r) {
      double c[4];
      for (int k = 0; k < 4; ++k)
        c[k] = static_cast<double>(static_cast<compute_t<T>>(roi[r * 4 + k]));
      if (!std::isfinite(c[0]) || !std::isfinite(c[1]) || !std::isfinite(c[2]) ||
          !std::isfinite(c[3]))
        return err(Code::kInvalidArgument, op, " roi ", r, " has a non-finite coordinate");
      // No rounding of the ROI to pixels: that is the point of RoiAlign.
      const double offset = half_pixel ? 0.5 : 0.0;
      Grid& g = grids[static_cast<size_t>(r)];
      g.start_w = c[0] * scale - offset;
      g.start_h = c[1] * scale - offset;
      double roi_w = c[2] * scale - offset - g.start_w, roi_h = c[3] * scale - offset - g.start_h;
      if (!half_pixel) {  // the legacy mode forces malformed ROIs to 1x1
        roi_w = std::max(roi_w, 1.0);
        roi_h = std::max(roi_h, 1.0);
      }
      g.bin_h = roi_h / static_cast<double>(out_h);
      g.bin_w = roi_w / static_cast<double>(out_w);
      const double gh = ratio > 0 ? static_cast<double>(ratio) : std::ceil(g.bin_h);
      const double gw = ratio > 0 ? static_cast<double>(ratio) : std::ceil(g.bin_w);
      if (!std::isfinite(g.bin_h) || !std::isfinite(g.bin_w) ||
          std::max(gh, 0.0) * std::max(gw, 0.0) > kMaxSamplesPerBin)
        return err(Code::kInvalidArgument, op, " roi ", r, " [", c[0], ", ", c[1], ", ", c[2], ", ",
                   c[3], "] with spatial_scale ", scale, " and sampling_ratio ", ratio, " needs a ",
                   gh, "x", gw, " sampling grid per bin, above the limit of ", kMaxSamplesPerBin,
                   " samples");
      // A negative extent (x2 < x1 under half_pixel) gives no samples; the bin stays 0.
      g.grid_h = static_cast<int64_t>(std::max(gh, 0.0));
      g.grid_w = static_cast<int64_t>(std::max(gw, 0.0));
    }

    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x->dtype(), out_shape));
    T* dst = y->data_as<T>();
    std::vector<Sample> samples;
    for (int64_t r = 0; r < num_rois; ++r) {
      const Grid& g = grids[static_cast<size_t>(r)];
      const int64_t per_bin = g.grid_h * g.grid_w;
      const double count = static_cast<double>(std::max<int64_t>(per_bin, 1));
      const int64_t b = batch_idx[static_cast<size_t>(r)];
      for (int64_t ph = 0; ph < out_h; ++ph) {
        for (int64_t pw = 0; pw < out_w; ++pw) {
          // The bin's sample positions, shared by every channel.
          samples.clear();
          for (int64_t iy = 0; iy < g.grid_h; ++iy) {
            const double sy =
                g.start_h + static_cast<double>(ph) * g.bin_h +
                (static_cast<double>(iy) + 0.5) * g.bin_h / static_cast<double>(g.grid_h);
            for (int64_t ix = 0; ix < g.grid_w; ++ix) {
              const double sx =
                  g.start_w + static_cast<double>(pw) * g.bin_w +
                  (static_cast<double>(ix) + 0.5) * g.bin_w / static_cast<double>(g.grid_w);
              samples.push_back(bilinear_sample(sy, sx, h, w));
            }
          }
          for (int64_t c = 0; c < channels; ++c) {
            const T* plane = src + (b * channels + c) * h * w;
            auto at = [&](int64_t p) {
              return static_cast<double>(static_cast<compute_t<T>>(plane[p]));
            };
            double acc = 0.0;
            for (size_t k = 0; k < samples.size(); ++k) {
              const Sample& s = samples[k];
              if (avg) {
                acc += s.w[0] * at(s.pos[0]) + s.w[1] * at(s.pos[1]) + s.w[2] * at(s.pos[2]) +
                       s.w[3] * at(s.pos[3]);
              } else {
                // Max mode takes the largest weighted corner term, not the interpolated value:
                // that is what ONNX Runtime and the ONNX reference compute, so models exported
                // for them expect it.
                const double v = std::max({s.w[0] * at(s.pos[0]), s.w[1] * at(s.pos[1]),
                                           s.w[2] * at(s.pos[2]), s.w[3] * at(s.pos[3])});
                acc = k == 0 ? v : std::max(acc, v);
              }
            }
            if (avg) acc /= count;
            dst[((r * channels + c) * out_h + ph) * out_w + pw] =
                static_cast<T>(static_cast<compute_t<T>>(acc));
          }
        }
      }
    }
    return Status::Ok();
  });
}

// Y = [num_rois, C, output_height, output_width].
Status roi_align_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  const Dims& rois = ctx.input_shape(1);
  const Dim c = x.rank_known() && x.rank() == 4 ? x[1] : Dim::unknown();
  const Dim n = rois.rank_known() && rois.rank() == 2 ? rois[0] : Dim::unknown();
  ctx.set_output_shape(0, Dims({n, c, Dim::fixed(ctx.attr_int("output_height", 1)),
                                Dim::fixed(ctx.attr_int("output_width", 1))}));
  return Status::Ok();
}

}  // namespace

void register_roi_align(OpRegistry& registry) {
  // 16 adds coordinate_transformation_mode, defaulting to the corrected half_pixel shift.
  for (int64_t since : {10, 16}) {
    OpSchema s("RoiAlign", since);
    s.input("X", "T1")
        .input("rois", "T1")
        .input("batch_indices", "T2")
        .output("Y", "T1")
        .types("T1", type_sets::ieee_floats())
        .types("T2", {D::kInt64})
        .attr_enum("mode", "avg", {"avg", "max"})
        .attr("output_height", AttrType::kInt, int64_t{1})
        .attr("output_width", AttrType::kInt, int64_t{1})
        .attr("sampling_ratio", AttrType::kInt, int64_t{0})
        .attr("spatial_scale", AttrType::kFloat, 1.0f)
        .fusion(FusionKind::kOpaque)
        .kernel(roi_align_kernel)
        .infer(roi_align_infer);
    if (since >= 16)
      s.attr_enum("coordinate_transformation_mode", "half_pixel",
                  {"half_pixel", "output_half_pixel"});
    registry.add(std::move(s));
  }
}

}  // namespace kiln::ops
