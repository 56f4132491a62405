// Pad: constant, reflect, edge and (from 19) wrap padding.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

// One axis after padding: the kept input range [lo, lo + len) and the pads added around it.
// In constant mode a negative pad simply removes output positions (the output is the input
// padded then cropped, so a crop may reach into the other side's fill, as in ONNX Runtime):
// `before`/`after` keep their signs over the whole input. The other modes crop first (also as
// ONNX Runtime does) and then reflect/replicate/wrap what is left.
struct AxisPad {
  int64_t lo = 0, len = 0, before = 0, after = 0;
  int64_t size() const { return before + len + after; }
};

Result<AxisPad> axis_pad(int64_t dim, int64_t begin, int64_t end, PadMode mode, size_t axis) {
  // Pads beyond the output limit are rejected before any sum can overflow.
  if (begin < -kMaxOutputElements || end < -kMaxOutputElements || begin > kMaxOutputElements ||
      end > kMaxOutputElements)
    return err(Code::kInvalidArgument, "Pad pads ", begin, " and ", end, " on axis ", axis,
               " exceed the reference kernels' limit of 2^33 elements");
  AxisPad p;
  if (mode == PadMode::kConstant) {
    p = AxisPad{0, dim, begin, end};
  } else {
    p.lo = begin < 0 ? -begin : 0;
    p.before = std::max<int64_t>(begin, 0);
    p.after = std::max<int64_t>(end, 0);
    p.len = dim - p.lo - (end < 0 ? -end : 0);
    if (p.len <= 0 && p.before + p.after > 0)
      return err(Code::kInvalidArgument, "Pad cannot pad axis ", axis, " of size ", dim, " (pads ",
                 begin, " and ", end,
                 ") in reflect/edge/wrap mode: no input elements remain on it");
  }
  if (p.size() < 0)
    return err(Code::kInvalidArgument, "Pad pads ", begin, " and ", end, " on axis ", axis,
               " of size ", dim, " give the negative output size ", p.size());
  return p;
}

// For one axis: the input index each output index reads, or -1 for the fill value. Pads wider
// than the kept range repeat the reflect/wrap pattern, as numpy.pad does.
std::vector<int64_t> axis_source(const AxisPad& p, PadMode mode) {
  std::vector<int64_t> src(static_cast<size_t>(p.size()));
  const int64_t len = p.len;
  for (int64_t o = 0; o < p.size(); ++o) {
    int64_t c = o - p.before;  // position relative to the kept range
    if (c < 0 || c >= len) {
      switch (mode) {
        case PadMode::kConstant:
          c = -1;
          break;
        case PadMode::kEdge:
          c = std::clamp<int64_t>(c, 0, len - 1);
          break;
        case PadMode::kWrap:
          c = ((c % len) + len) % len;
          break;
        case PadMode::kReflect: {
          if (len == 1) {
            c = 0;
            break;
          }
          const int64_t period = 2 * (len - 1);
          c = ((c % period) + period) % period;
          if (c >= len) c = period - c;
          break;
        }
      }
    }
    src[static_cast<size_t>(o)] = c < 0 ? -1 : p.lo + c;
  }
  return src;
}

// The fill value as a one-element tensor of data's type: Pad-2's float attribute converted,
// or the constant_value input (11+), or zero / "" when it is absent.
Result<Tensor> fill_value(const KernelContext& ctx, const Tensor& x) {
  KILN_ASSIGN_OR_RETURN(Tensor fill, Tensor::allocate(x.dtype(), {}));
  if (ctx.since() < 11) {
    const float v = ctx.attr_float("value");
    KILN_RETURN_IF_ERROR(dispatch_float(x.dtype(), "Pad", [&]<typename T>() -> Status {
      fill.data_as<T>()[0] = static_cast<T>(v);
      return Status::Ok();
    }));
    return fill;
  }
  const Tensor* c = ctx.input(2);
  if (c == nullptr || c->numel() == 0) return fill;
  if (c->dtype() != x.dtype())
    return err(Code::kInvalidArgument, "Pad constant_value is ", data_type_name(c->dtype()),
               " but data is ", data_type_name(x.dtype()));
  if (c->numel() != 1)
    return err(Code::kInvalidArgument, "Pad constant_value must hold one value, not ", c->numel());
  KILN_RETURN_IF_ERROR(dispatch_move(x.dtype(), "Pad", [&]<typename T>() -> Status {
    elems<T>(fill)[0] = elems<T>(*c)[0];
    return Status::Ok();
  }));
  return fill;
}

Status pad_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "Pad", "data"));
  const int64_t rank = static_cast<int64_t>(x->rank());
  const std::string mode_name = ctx.attr_string("mode", "constant");
  PadMode mode;
  if (mode_name == "constant") {
    mode = PadMode::kConstant;
  } else if (mode_name == "reflect") {
    mode = PadMode::kReflect;
  } else if (mode_name == "edge") {
    mode = PadMode::kEdge;
  } else if (mode_name == "wrap" && ctx.since() >= 19) {
    mode = PadMode::kWrap;
  } else {
    return err(Code::kInvalidArgument, "Pad-", ctx.since(), " mode '", mode_name,
               "' is not supported (allowed: constant, reflect, edge",
               ctx.since() >= 19 ? ", wrap)" : ")");
  }

  std::vector<int64_t> pads, axes;
  if (ctx.since() < 11) {
    // Revision 1 called the attribute `paddings`; its layout is that of `pads`.
    pads = ctx.attr_ints(ctx.since() < 2 ? "paddings" : "pads");
  } else {
    KILN_ASSIGN_OR_RETURN(const Tensor* p, required_input(ctx, 1, "Pad", "pads"));
    if (p->rank() != 1)
      return err(Code::kInvalidArgument, "Pad pads must be 1-D, got shape ", shape_str(p->shape()));
    KILN_ASSIGN_OR_RETURN(pads, read_int_values(*p, "Pad pads"));
  }
  const Tensor* a = ctx.since() >= 18 ? ctx.input(3) : nullptr;
  if (a != nullptr) {
    if (a->rank() != 1)
      return err(Code::kInvalidArgument, "Pad axes must be 1-D, got shape ", shape_str(a->shape()));
    KILN_ASSIGN_OR_RETURN(axes, read_int_values(*a, "Pad axes"));
    KILN_ASSIGN_OR_RETURN(axes, normalize_axes(axes, rank, "Pad"));
  } else {
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  }
  if (pads.size() != 2 * axes.size())
    return err(Code::kInvalidArgument, "Pad pads ", shape_str(pads), " must hold ", 2 * axes.size(),
               " values (begin and end for each of ", axes.size(), " axes) for input ",
               shape_str(x->shape()));

  std::vector<int64_t> begin(x->rank(), 0), end(x->rank(), 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    begin[static_cast<size_t>(axes[i])] = pads[i];
    end[static_cast<size_t>(axes[i])] = pads[axes.size() + i];
  }
  std::vector<AxisPad> axis(x->rank());
  std::vector<int64_t> out_shape(x->rank());
  for (size_t d = 0; d < x->rank(); ++d) {
    KILN_ASSIGN_OR_RETURN(axis[d], axis_pad(x->shape()[d], begin[d], end[d], mode, d));
    out_shape[d] = axis[d].size();
  }
  KILN_RETURN_IF_ERROR(check_output_shape(out_shape, "Pad"));
  std::vector<std::vector<int64_t>> source(x->rank());
  for (size_t d = 0; d < x->rank(); ++d) source[d] = axis_source(axis[d], mode);
  KILN_ASSIGN_OR_RETURN(const Tensor fill, fill_value(ctx, *x));

  return dispatch_move(x->dtype(), "Pad", [&]<typename T>() -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, x->dtype(), out_shape));
    const T* in = elems<T>(*x);
    const T value = elems<T>(fill)[0];
    T* dst = elems<T>(*out);
    if (out->numel() == 0) return Status::Ok();
    if (rank == 0) {
      dst[0] = in[0];
      return Status::Ok();
    }
    // Odometer over output rows; the innermost axis maps through its source table.
    const std::vector<int64_t> strides = strides_of(x->shape());
    const size_t last = x->rank() - 1;
    const std::vector<int64_t>& inner = source[last];
    std::vector<int64_t> idx(x->rank(), 0);
    for (int64_t row = 0; row < out->numel() / out_shape[last]; ++row) {
      int64_t base = 0;
      bool filled = false;
      for (size_t d = 0; d < last; ++d) {
        const int64_t s = source[d][static_cast<size_t>(idx[d])];
        if (s < 0) filled = true;
        base += s * strides[d];
      }
      for (int64_t s : inner) *dst++ = (filled || s < 0) ? value : in[base + s];
      for (size_t d = last; d-- > 0;) {
        if (++idx[d] < out_shape[d]) break;
        idx[d] = 0;
      }
    }
    return Status::Ok();
  });
}

Status pad_infer(InferContext& ctx) {
  const Dims& in = ctx.input_shape(0);
  std::optional<std::vector<int64_t>> pads =
      ctx.since() < 11 ? std::optional(ctx.attr_ints(ctx.since() < 2 ? "paddings" : "pads"))
                       : ctx.input_ints(1);
  if (!in.rank_known()) {
    ctx.set_output_shape(0, in);
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(in.rank());
  std::optional<std::vector<int64_t>> axes;
  if (ctx.since() >= 18 && ctx.has_input(3)) {
    axes = ctx.input_ints(3);
    if (!axes) pads.reset();
  } else {
    axes.emplace();
    for (int64_t k = 0; k < rank; ++k) axes->push_back(k);
  }
  if (!pads) {
    ctx.set_output_shape(0, unknown_dims(rank));
    return Status::Ok();
  }
  const size_t n = axes->size();
  if (pads->size() != 2 * n)
    return err(Code::kInvalidArgument, "Pad has ", pads->size(), " pads for ", n,
               " axes (need begin and end per axis: ", 2 * n, ")");
  std::vector<Dim> out = in.dims();
  for (size_t k = 0; k < n; ++k) {
    KILN_ASSIGN_OR_RETURN(const int64_t a, infer_axis((*axes)[k], rank, "Pad"));
    int64_t extra = 0;
    if (__builtin_add_overflow((*pads)[k], (*pads)[k + n], &extra))
      return err(Code::kInvalidArgument, "Pad pads ", (*pads)[k], " and ", (*pads)[k + n],
                 " of axis ", a, " are out of range");
    out[a] = dim_add(out[a], Dim::fixed(extra));
    if (in[a].is_static() && out[a].is_static() && out[a].value < 0)
      return err(Code::kIncompatibleShapes, "Pad pads ", (*pads)[k], "/", (*pads)[k + n],
                 " remove more than the ", in[a].value, " elements of axis ", a);
    if (!in[a].is_static() && extra != 0) out[a] = Dim::unknown();
  }
  ctx.set_output_shape(0, Dims(std::move(out)));
  return Status::Ok();
}

}  // namespace

void register_pad(OpRegistry& registry) {
  using ir::AttrType;
  // Revisions 1 and 2 take the pads (1: `paddings`) and the fill value as attributes, floats
  // only.
  for (int64_t since : {1, 2}) {
    registry.add(OpSchema("Pad", since)
                     .input("data", "T")
                     .output("output", "T")
                     .types("T", {D::kFloat16, D::kFloat32, D::kFloat64})
                     .attr_enum("mode", "constant", {"constant", "reflect", "edge"})
                     .required_attr(since == 1 ? "paddings" : "pads", AttrType::kInts)
                     .attr("value", AttrType::kFloat, 0.0f)
                     .fusion(FusionKind::kInjective)
                     .kernel(pad_kernel)
                     .infer(pad_infer));
  }

  // From 11 pads and the fill value are inputs; 11 covers the numeric types, 13 all of them;
  // 18 adds the axes input, 19 the wrap mode.
  for (int64_t since : {11, 13, 18, 19, 21}) {
    std::vector<DataType> types = type_sets::ints();
    types.insert(types.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
    if (since >= 13) types = type_sets::all_tensor_at(since == 19 ? 13 : since);

    std::vector<std::string> modes = {"constant", "reflect", "edge"};
    if (since >= 19) modes.push_back("wrap");

    OpSchema s("Pad", since);
    s.input("data", "T").input("pads", "I").input("constant_value", "T", Arity::kOptional);
    if (since >= 18) s.input("axes", "Tind", Arity::kOptional).types("Tind", type_sets::index());
    s.output("output", "T")
        .types("T", types)
        .types("I", {D::kInt64})
        .attr_enum("mode", "constant", modes)
        .fusion(FusionKind::kInjective)
        .kernel(pad_kernel)
        .infer(pad_infer);
    registry.add(std::move(s));
  }
}

}  // namespace kiln::ops
