// Resize's index math, shared by the reference kernel (resize_kernels.cpp) and the CPU
// backend's fast nearest-neighbour kernel, so both pick exactly the same source elements.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/status.h"
#include "kiln/tensor.h"
#include "ops/kernel.h"

namespace kiln::ops {

struct ResizeSpec {
  std::string mode = "nearest";  // nearest, linear, cubic
  std::string coord = "asymmetric";
  std::string nearest_mode = "legacy";  // or round_prefer_floor, round_prefer_ceil, floor, ceil
  double cubic_a = -0.75, extrapolation = 0.0;
  bool exclude_outside = false, antialias = false;
  std::vector<int64_t> in, out;
  std::vector<double> scales;              // per axis of x
  std::vector<double> roi_start, roi_end;  // per axis of x (tf_crop_and_resize)
};

// How one axis is resized: for nearest, the source index of each output index (-1:
// extrapolate); otherwise `taps` (input index, weight) pairs per output index.
struct AxisPlan {
  bool identity = false;
  int64_t taps = 0;
  std::vector<int64_t> nearest, idx;
  std::vector<double> w;
  std::vector<uint8_t> extrapolate;
};

// Resize-11+ attributes and operands of the node under `ctx` for input x (shape in s.in).
Status resize_spec(const KernelContext& ctx, const Tensor& x, ResizeSpec& s);
// The per-axis plan (source indices for nearest; taps for linear/cubic).
AxisPlan axis_plan(const ResizeSpec& s, size_t d);

}  // namespace kiln::ops
