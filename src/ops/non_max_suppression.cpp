// NonMaxSuppression: per batch and class, greedily keeps the highest-scoring boxes and drops
// those overlapping a kept one by more than iou_threshold.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

struct Box {
  float x_min, y_min, x_max, y_max;
};

// center_point_box 0: [y1, x1, y2, x2] with the corners in either order; 1: [x_center,
// y_center, width, height].
Box to_corners(const float* b, bool center) {
  if (center) return {b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2};
  return {std::min(b[1], b[3]), std::min(b[0], b[2]), std::max(b[1], b[3]), std::max(b[0], b[2])};
}

// Whether IoU(a, b) > threshold. Disjoint or touching boxes, and degenerate ones (no area),
// never suppress each other.
bool overlaps_too_much(const Box& a, const Box& b, float threshold) {
  const float ix = std::min(a.x_max, b.x_max) - std::max(a.x_min, b.x_min);
  const float iy = std::min(a.y_max, b.y_max) - std::max(a.y_min, b.y_min);
  if (!(ix > 0) || !(iy > 0)) return false;
  const float inter = ix * iy;
  const float area_a = (a.x_max - a.x_min) * (a.y_max - a.y_min);
  const float area_b = (b.x_max - b.x_min) * (b.y_max - b.y_min);
  const float uni = area_a + area_b - inter;
  if (!(area_a > 0) || !(area_b > 0) || !(uni > 0)) return false;
  return inter / uni > threshold;
}

// An optional scalar input; absent or empty means "not given".
template <typename F>
Status optional_scalar(const KernelContext& ctx, size_t i, std::string_view what, F&& set) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr || t->numel() == 0) return Status::Ok();
  KILN_ASSIGN_OR_RETURN(const double v, read_scalar(*t, what));
  set(v);
  return Status::Ok();
}

Status nms_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "NonMaxSuppression";
  KILN_ASSIGN_OR_RETURN(const Tensor* boxes, required_input(ctx, 0, op, "boxes"));
  KILN_ASSIGN_OR_RETURN(const Tensor* scores, required_input(ctx, 1, op, "scores"));
  if (boxes->dtype() != D::kFloat32 || scores->dtype() != D::kFloat32)
    return err(Code::kTypeUnsupported, op, " boxes and scores must be float32, got ",
               data_type_name(boxes->dtype()), " and ", data_type_name(scores->dtype()));
  const std::vector<int64_t>& bs = boxes->shape();
  const std::vector<int64_t>& ss = scores->shape();
  if (bs.size() != 3 || bs[2] != 4)
    return err(Code::kInvalidArgument, op, " boxes ", shape_str(bs),
               " must have shape [num_batches, spatial_dimension, 4]");
  if (ss.size() != 3 || ss[0] != bs[0] || ss[2] != bs[1])
    return err(Code::kIncompatibleShapes, op, " scores ", shape_str(ss), " must have shape [",
               bs[0], ", num_classes, ", bs[1], "] for boxes ", shape_str(bs));
  // The spec's defaults: no boxes per class, IoU threshold 0, no score threshold.
  int64_t max_per_class = 0;
  float iou_threshold = 0.0f, score_threshold = 0.0f;
  bool has_score_threshold = false;
  const Tensor* max_t = ctx.input(2);
  if (max_t != nullptr && max_t->numel() != 0) {
    if (max_t->numel() != 1)
      return err(Code::kInvalidArgument, op, " max_output_boxes_per_class must be a scalar, got ",
                 shape_str(max_t->shape()));
    KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> v,
                          read_int_values(*max_t, "NonMaxSuppression max_output_boxes_per_class"));
    max_per_class = std::max<int64_t>(v[0], 0);  // negative keeps nothing, as in ONNX Runtime
  }
  KILN_RETURN_IF_ERROR(optional_scalar(ctx, 3, "NonMaxSuppression iou_threshold",
                                       [&](double v) { iou_threshold = static_cast<float>(v); }));
  KILN_RETURN_IF_ERROR(optional_scalar(ctx, 4, "NonMaxSuppression score_threshold", [&](double v) {
    score_threshold = static_cast<float>(v);
    has_score_threshold = true;
  }));
  if (!(iou_threshold >= 0.0f && iou_threshold <= 1.0f))
    return err(Code::kInvalidArgument, op, " iou_threshold ", iou_threshold, " must be in [0, 1]");
  const int64_t center_box = ctx.attr_int("center_point_box");
  if (center_box != 0 && center_box != 1)
    return err(Code::kAttributeValueUnsupported, op, " center_point_box ", center_box,
               " must be 0 or 1");

  const int64_t batches = bs[0], num_boxes = bs[1], classes = ss[1];
  const float* box_data = boxes->data_as<float>();
  const float* score_data = scores->data_as<float>();
  std::vector<int64_t> selected;  // flattened [batch, class, box] triples
  std::vector<Box> corners(static_cast<size_t>(num_boxes));
  std::vector<int64_t> order;
  std::vector<int64_t> kept;
  for (int64_t b = 0; b < batches; ++b) {
    for (int64_t i = 0; i < num_boxes; ++i)
      corners[static_cast<size_t>(i)] = to_corners(box_data + (b * num_boxes + i) * 4, center_box);
    for (int64_t c = 0; c < classes; ++c) {
      const float* sc = score_data + (b * classes + c) * num_boxes;
      // Candidates: scores strictly above the threshold; NaN scores never qualify (and would
      // break the ordering).
      order.clear();
      for (int64_t i = 0; i < num_boxes; ++i)
        if (!std::isnan(sc[i]) && (!has_score_threshold || sc[i] > score_threshold))
          order.push_back(i);
      // Highest score first; equal scores keep the lower box index first.
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t l, int64_t r) { return sc[l] > sc[r]; });
      kept.clear();
      for (int64_t i : order) {
        if (static_cast<int64_t>(kept.size()) >= max_per_class) break;
        const Box& cand = corners[static_cast<size_t>(i)];
        bool suppressed = false;
        for (int64_t k : kept)
          if (overlaps_too_much(cand, corners[static_cast<size_t>(k)], iou_threshold)) {
            suppressed = true;
            break;
          }
        if (suppressed) continue;
        kept.push_back(i);
        selected.insert(selected.end(), {b, c, i});
      }
    }
  }
  const int64_t count = static_cast<int64_t>(selected.size() / 3);
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, D::kInt64, {count, 3}));
  std::copy(selected.begin(), selected.end(), y->data_as<int64_t>());
  return Status::Ok();
}

}  // namespace

void register_non_max_suppression(OpRegistry& registry) {
  // Both revisions describe the same computation; like ONNX Runtime, one kernel serves both
  // (corners of center_point_box 0 boxes may come in either order).
  for (int64_t since : {10, 11}) {
    registry.add(OpSchema("NonMaxSuppression", since)
                     .input("boxes", "T")
                     .input("scores", "T")
                     .input("max_output_boxes_per_class", "I", Arity::kOptional)
                     .input("iou_threshold", "T", Arity::kOptional)
                     .input("score_threshold", "T", Arity::kOptional)
                     .output("selected_indices", "I")
                     .types("T", {D::kFloat32})
                     .types("I", {D::kInt64})
                     .attr_int_enum("center_point_box", 0, {0, 1})
                     .fusion(FusionKind::kOpaque)
                     .kernel(nms_kernel));
  }
}

}  // namespace kiln::ops
