// Slice: strided windows along chosen axes.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

// A 1-D int32/int64 input (starts, ends, axes, steps).
Result<std::vector<int64_t>> read_list(const Tensor& t, const char* name) {
  if (t.rank() != 1)
    return err(Code::kInvalidArgument, "Slice ", name, " must be 1-D, got shape ",
               shape_str(t.shape()));
  return read_int_values(t, std::string("Slice ") + name);
}

Status slice_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Slice", "data"));
  const int64_t rank = static_cast<int64_t>(x->rank());
  std::vector<int64_t> starts, ends, axes, steps;
  bool has_axes = false;
  if (ctx.since() < 10) {
    starts = ctx.attr_ints("starts");
    ends = ctx.attr_ints("ends");
    has_axes = ctx.has_attr("axes");
    if (has_axes) axes = ctx.attr_ints("axes");
  } else {
    KILN_ASSIGN_OR_RETURN(const Tensor* st, required_input(ctx, 1, "Slice", "starts"));
    KILN_ASSIGN_OR_RETURN(const Tensor* en, required_input(ctx, 2, "Slice", "ends"));
    KILN_ASSIGN_OR_RETURN(starts, read_list(*st, "starts"));
    KILN_ASSIGN_OR_RETURN(ends, read_list(*en, "ends"));
    if (const Tensor* a = ctx.input(3)) {
      has_axes = true;
      KILN_ASSIGN_OR_RETURN(axes, read_list(*a, "axes"));
    }
    if (const Tensor* s = ctx.input(4)) {
      KILN_ASSIGN_OR_RETURN(steps, read_list(*s, "steps"));
    }
  }
  if (!has_axes)
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return err(Code::kInvalidArgument, "Slice starts ", shape_str(starts), ", ends ",
               shape_str(ends), ", axes ", shape_str(axes), " and steps ", shape_str(steps),
               " must have the same length");
  KILN_ASSIGN_OR_RETURN(axes, normalize_axes(axes, rank, "Slice"));

  // Per axis: first index and step (in elements of that axis) and the output length.
  std::vector<int64_t> out_shape = x->shape(), first(x->rank(), 0), step(x->rank(), 1);
  for (size_t i = 0; i < axes.size(); ++i) {
    const size_t a = static_cast<size_t>(axes[i]);
    const int64_t dim = x->shape()[a];
    int64_t b = starts[i], e = ends[i];
    const int64_t s = steps[i];
    if (s == 0) return err(Code::kInvalidArgument, "Slice step for axis ", a, " is 0");
    if (b < 0) b += dim;
    if (e < 0) e += dim;
    int64_t len = 0;
    if (dim == 0) {
      // Nothing to take (and the clamping ranges below would be empty).
    } else if (s > 0) {
      b = std::clamp<int64_t>(b, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      if (e > b) len = (e - b - 1) / s + 1;
    } else {
      b = std::clamp<int64_t>(b, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      // -s would overflow for INT64_MIN; the magnitude is computed unsigned.
      const uint64_t mag = 0 - static_cast<uint64_t>(s);
      if (b > e) len = static_cast<int64_t>(static_cast<uint64_t>(b - e - 1) / mag + 1);
    }
    out_shape[a] = len;
    first[a] = len > 0 ? b : 0;
    step[a] = len > 1 ? s : 0;  // |s| < dim whenever a second element exists
  }
  const std::vector<int64_t> strides = strides_of(x->shape());
  int64_t base = 0;
  for (size_t a = 0; a < x->rank(); ++a) {
    base += first[a] * strides[a];
    step[a] *= strides[a];
  }
  return dispatch_move(x->dtype(), "Slice", [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, x->dtype(), out_shape));
    strided_copy(elems<T>(*x), base, out_shape, step, elems<T>(*out));
    return Status::Ok();
  });
}

Status slice_infer(InferContext& ctx) {
  const Dims& in = ctx.input_shape(0);
  std::optional<std::vector<int64_t>> starts, ends, axes, steps;
  std::vector<std::string> end_symbols;  // per entry of ends: the symbol it stands for, or ""
  if (ctx.since() < 10) {
    starts = ctx.attr_ints("starts");
    ends = ctx.attr_ints("ends");
    if (ctx.has_attr("axes")) axes = ctx.attr_ints("axes");
  } else {
    starts = ctx.input_ints(1);
    ends = ctx.input_ints(2);
    // x[:, :seq] with seq = x.shape[1] in an export: an end that is a symbolic size.
    if (!ends) {
      if (std::optional<DimValues> ev = ctx.input_values(2)) {
        ends.emplace();
        for (const IntValue& e : *ev) {
          if (!e.value && e.symbol.empty()) {
            ends.reset();
            break;
          }
          ends->push_back(e.value.value_or(0));
          end_symbols.push_back(e.value ? std::string() : e.symbol);
        }
      }
    }
    if (ctx.has_input(3)) {
      axes = ctx.input_ints(3);
      if (!axes) starts.reset();
    }
    if (ctx.has_input(4)) {
      steps = ctx.input_ints(4);
      if (!steps) starts.reset();
    }
  }
  if (!in.rank_known()) {
    ctx.set_output_shape(0, in);
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(in.rank());
  if (!starts || !ends) {
    ctx.set_output_shape(0, unknown_dims(rank));
    return Status::Ok();
  }
  const size_t n = starts->size();
  if (!axes) {
    axes.emplace();
    for (size_t k = 0; k < n; ++k) axes->push_back(static_cast<int64_t>(k));
  }
  if (!steps) steps = std::vector<int64_t>(n, 1);
  if (ends->size() != n || axes->size() != n || steps->size() != n)
    return err(Code::kInvalidArgument, "Slice starts, ends, axes and steps have different ",
               "lengths (", n, ", ", ends->size(), ", ", axes->size(), ", ", steps->size(), ")");
  std::vector<Dim> out = in.dims();
  std::vector<bool> seen(in.rank(), false);
  for (size_t k = 0; k < n; ++k) {
    KILN_ASSIGN_OR_RETURN(const int64_t a, infer_axis((*axes)[k], rank, "Slice"));
    if (seen[a]) return err(Code::kInvalidArgument, "Slice axes repeat axis ", (*axes)[k]);
    seen[a] = true;
    if ((*steps)[k] == 0) return err(Code::kInvalidArgument, "Slice step is 0 on axis ", a);
    if (k < end_symbols.size() && !end_symbols[k].empty()) {
      // [0:S] keeps S (assuming S fits the axis, as the exporter's shape logic intends).
      out[a] =
          (*starts)[k] == 0 && (*steps)[k] == 1 ? Dim::symbolic(end_symbols[k]) : Dim::unknown();
      continue;
    }
    out[a] = slice_count(in[a], (*starts)[k], (*ends)[k], (*steps)[k]);
  }
  ctx.set_output_shape(0, Dims(out));
  // Slices of a propagated 1-D shape tensor (x.shape[1:3] in an export).
  std::optional<DimValues> v = ctx.input_values(0);
  if (v && rank == 1 && n == 1 && end_symbols.empty()) {
    const int64_t len = static_cast<int64_t>(v->size());
    const Dim count = slice_count(Dim::fixed(len), (*starts)[0], (*ends)[0], (*steps)[0]);
    int64_t s = (*starts)[0], step = (*steps)[0];
    if (s < 0) s = std::max<int64_t>(s + len, 0);
    s = step > 0 ? std::min(s, len) : std::min(s, len - 1);
    DimValues picked;
    for (int64_t i = 0, p = s; i < count.value; ++i, p += step) picked.push_back((*v)[p]);
    ctx.set_output_values(0, picked);
  }
  return Status::Ok();
}

}  // namespace

void register_slice(OpRegistry& registry) {
  using ir::AttrType;
  // Revision 1 takes starts/ends/axes as attributes and has no steps.
  registry.add(OpSchema("Slice", 1)
                   .input("data", "T")
                   .output("output", "T")
                   .types("T", type_sets::all_tensor_at(1))
                   .required_attr("starts", AttrType::kInts)
                   .required_attr("ends", AttrType::kInts)
                   .attr("axes", AttrType::kInts)
                   .fusion(FusionKind::kInjective)
                   .kernel(slice_kernel)
                   .infer(slice_infer));

  // From 10 they are inputs, with steps; 11 documents negative axes.
  for (int64_t since : {10, 11, 13}) {
    registry.add(OpSchema("Slice", since)
                     .input("data", "T")
                     .input("starts", "Tind")
                     .input("ends", "Tind")
                     .input("axes", "Tind", Arity::kOptional)
                     .input("steps", "Tind", Arity::kOptional)
                     .output("output", "T")
                     .types("T", type_sets::all_tensor_at(since))
                     .types("Tind", type_sets::index())
                     .fusion(FusionKind::kInjective)
                     .kernel(slice_kernel)
                     .infer(slice_infer));
  }
}

}  // namespace kiln::ops
