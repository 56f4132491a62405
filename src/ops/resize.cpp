// Resize (nearest / linear / cubic interpolation) and its deprecated predecessor Upsample.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ops/nn_kernels.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

// ONNX lists every tensor type for X. Nearest mode would move strings and complex numbers, but
// kiln implements interpolation on real numbers (and bool) only. bfloat16 joins at 13.
std::vector<DataType> image_types(int64_t since) {
  std::vector<DataType> types = type_sets::ints();
  types.insert(types.end(), {D::kFloat16, D::kFloat32, D::kFloat64, D::kBool});
  if (since >= 13) types.push_back(D::kBFloat16);
  return types;
}

// How output coordinates map back to input coordinates, per revision: 13 drops
// tf_half_pixel_for_nn, 19 adds half_pixel_symmetric.
std::vector<std::string> coordinate_modes(int64_t since) {
  std::vector<std::string> modes = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                    "asymmetric", "tf_crop_and_resize"};
  if (since == 11) modes.push_back("tf_half_pixel_for_nn");
  if (since >= 19) modes.push_back("half_pixel_symmetric");
  return modes;
}

// Float contents of a constant input (scales).
std::optional<std::vector<float>> constant_floats(const InferContext& ctx, size_t i) {
  const Tensor* t = ctx.input_constant(i);
  if (t == nullptr || t->dtype() != DataType::kFloat32 || t->rank() != 1 || t->data() == nullptr)
    return std::nullopt;
  return std::vector<float>(t->data_as<float>(), t->data_as<float>() + t->numel());
}

// Y: `sizes` where given, else floor(in * scale) per axis (all axes, or `axes` from 18).
Status resize_infer(InferContext& ctx) {
  const Dims& in = ctx.input_shape(0);
  if (!in.rank_known()) {
    ctx.set_output_shape(0, in);
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(in.rank());
  std::vector<int64_t> axes;
  if (ctx.has_attr("axes")) {
    for (int64_t a : ctx.attr_ints("axes")) {
      KILN_ASSIGN_OR_RETURN(int64_t k, infer_axis(a, rank, ctx.node().op_type()));
      axes.push_back(k);
    }
  } else {
    for (int64_t k = 0; k < rank; ++k) axes.push_back(k);
  }
  std::vector<Dim> out(in.rank(), Dim::unknown());
  for (size_t k = 0; k < in.rank(); ++k)
    if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(k)) == axes.end()) out[k] = in[k];
  const bool upsample7 = ctx.node().op_type() == "Upsample" && ctx.since() < 9;
  const size_t sizes_at = 3,
               scales_at = ctx.node().op_type() == "Upsample" || ctx.since() == 10 ? 1 : 2;
  const std::string policy = ctx.attr_string("keep_aspect_ratio_policy", "stretch");
  std::optional<DimValues> sizes;
  if (!upsample7 && ctx.since() >= 11 && ctx.node().op_type() == "Resize" &&
      ctx.has_input(sizes_at))
    sizes = ctx.input_values(sizes_at);
  std::optional<std::vector<float>> scales =
      upsample7 ? std::optional(ctx.attr_floats("scales")) : constant_floats(ctx, scales_at);
  if (sizes && !sizes->empty()) {
    if (sizes->size() != axes.size())
      return err(Code::kInvalidArgument, "Resize sizes has ", sizes->size(), " values for ",
                 axes.size(), " axes of X ", in.to_string());
    // not_larger / not_smaller rescale the sizes to keep the aspect ratio: left unknown.
    if (policy == "stretch")
      for (size_t k = 0; k < axes.size(); ++k) out[axes[k]] = (*sizes)[k].dim();
  } else if (scales && !scales->empty()) {
    if (scales->size() != axes.size())
      return err(Code::kInvalidArgument, ctx.node().op_type(), " scales has ", scales->size(),
                 " values for ", axes.size(), " axes of X ", in.to_string());
    for (size_t k = 0; k < axes.size(); ++k) {
      const Dim& d = in[axes[k]];
      const float s = (*scales)[k];
      if (!(s > 0.0f))
        return err(Code::kInvalidArgument, ctx.node().op_type(), " scale ", s, " must be positive");
      const double size = std::floor(static_cast<double>(d.value) * static_cast<double>(s));
      if (d.is_static() && !(size < 9.0e18))
        return err(Code::kInvalidArgument, ctx.node().op_type(), " scale ", s, " on a dim of ",
                   d.value, " gives an output size out of range");
      if (d.is_static())
        out[axes[k]] = Dim::fixed(static_cast<int64_t>(size));
      else if (s == 1.0f)
        out[axes[k]] = d;
    }
  }
  ctx.set_output_shape(0, Dims(std::move(out)));
  return Status::Ok();
}

}  // namespace

void register_resize(OpRegistry& registry) {
  // Resize-10 is Upsample-9 under a new name: scales only, nearest or linear.
  registry.add(OpSchema("Resize", 10)
                   .input("X", "T")
                   .input("scales", "F")
                   .output("Y", "T")
                   .types("T", image_types(10))
                   .types("F", {D::kFloat32})
                   .attr_enum("mode", "nearest", {"nearest", "linear"})
                   .fusion(FusionKind::kOpaque)
                   .kernel(resize_kernel)
                   .infer(resize_infer));

  // 11 adds roi (for tf_crop_and_resize), sizes, cubic and the coordinate/rounding controls;
  // 13 makes roi and scales optional; 18 adds antialias, axes and keep_aspect_ratio_policy.
  for (int64_t since : {11, 13, 18, 19}) {
    const Arity optional_from_13 = since >= 13 ? Arity::kOptional : Arity::kSingle;
    OpSchema s("Resize", since);
    s.input("X", "T1")
        .input("roi", "T2", optional_from_13)
        .input("scales", "F", optional_from_13)
        .input("sizes", "I", Arity::kOptional)
        .output("Y", "T1")
        .types("T1", image_types(since))
        .types("T2", {D::kFloat16, D::kFloat32, D::kFloat64})
        .types("F", {D::kFloat32})
        .types("I", {D::kInt64})
        .attr_enum("mode", "nearest", {"nearest", "linear", "cubic"})
        .attr_enum("coordinate_transformation_mode", "half_pixel", coordinate_modes(since))
        .attr_enum("nearest_mode", "round_prefer_floor",
                   {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"})
        .attr("cubic_coeff_a", AttrType::kFloat, -0.75f)
        .attr_int_enum("exclude_outside", 0, {0, 1})
        .attr("extrapolation_value", AttrType::kFloat, 0.0f)
        .fusion(FusionKind::kOpaque)
        .kernel(resize_kernel)
        .infer(resize_infer);
    if (since >= 18) {
      s.attr_int_enum("antialias", 0, {0, 1})
          .attr("axes", AttrType::kInts)
          .attr_enum("keep_aspect_ratio_policy", "stretch",
                     {"stretch", "not_larger", "not_smaller"});
    }
    registry.add(std::move(s));
  }

  // Upsample-1 scales H and W of an NCHW input by two float attributes, in "nearest" or
  // "bilinear" mode (7's "linear"); 7 takes scales as an attribute, 9 as an input; ONNX
  // deprecated the op at 10.
  registry.add(
      OpSchema("Upsample", 1)
          .input("X", "T")
          .output("Y", "T")
          .types("T", {D::kBool, D::kInt32, D::kInt64, D::kFloat16, D::kFloat32, D::kFloat64})
          .required_attr("height_scale", AttrType::kFloat)
          .required_attr("width_scale", AttrType::kFloat)
          .attr_enum("mode", "nearest", {"nearest", "bilinear"})
          .fusion(FusionKind::kOpaque)
          .kernel(upsample_kernel));
  registry.add(OpSchema("Upsample", 7)
                   .input("X", "T")
                   .output("Y", "T")
                   .types("T", image_types(7))
                   .required_attr("scales", AttrType::kFloats)
                   .attr_enum("mode", "nearest", {"nearest", "linear"})
                   .fusion(FusionKind::kOpaque)
                   .kernel(upsample_kernel)
                   .infer(resize_infer));
  for (int64_t since : {9, 10}) {
    OpSchema s("Upsample", since);
    s.input("X", "T")
        .input("scales", "F")
        .output("Y", "T")
        .types("T", image_types(since))
        .types("F", {D::kFloat32})
        .attr_enum("mode", "nearest", {"nearest", "linear"})
        .fusion(FusionKind::kOpaque);
    if (since == 10)
      s.unsupported("deprecated since opset 10; use Resize");
    else
      s.kernel(upsample_kernel).infer(resize_infer);
    registry.add(std::move(s));
  }
}

}  // namespace kiln::ops
