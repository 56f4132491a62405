// "cpu.resize": nearest-neighbour Resize (opset 11+) of 4-byte elements — the FPN upsampling
// of detection models. Source indices come from the same per-axis plan as the reference
// kernel (ops/resize_plan.h), so the result is identical; the gather runs in parallel over
// output rows, and an innermost axis that is not resized (channels-last layouts) is a memcpy
// per pixel.
#include <cstring>

#include "backends/cpu/cpu_kernel_util.h"
#include "backends/cpu/cpu_tactics.h"
#include "backends/cpu/cpu_threads.h"
#include "core/errors.h"
#include "ops/resize_plan.h"

namespace kiln::backends {
namespace {

class ResizeKernel final : public Kernel {
 public:
  explicit ResizeKernel(const ops::OpSchema& schema) : schema_(schema) {}

  Status run(ops::KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    if (x == nullptr || x->dtype() == DataType::kString ||
        data_type_bytes(x->dtype(), 1).value_or(0) != 4 || x->rank() == 0 || x->numel() == 0)
      return schema_.reference_kernel()(ctx);
    ops::ResizeSpec s;
    s.in = x->shape();
    if (!ops::resize_spec(ctx, *x, s).ok() || s.mode != "nearest" || s.antialias)
      return schema_.reference_kernel()(ctx);  // its errors name the problem
    const size_t rank = s.in.size();
    std::vector<ops::AxisPlan> plans;
    for (size_t d = 0; d < rank; ++d) {
      plans.push_back(ops::axis_plan(s, d));
      const ops::AxisPlan& p = plans.back();
      if (!p.identity)
        for (size_t j = 0; j < p.nearest.size(); ++j)
          if (p.nearest[j] < 0 || p.extrapolate[j]) return schema_.reference_kernel()(ctx);
    }
    int64_t total = 1;
    for (int64_t o : s.out) total *= o;
    if (total == 0 || total > (int64_t{1} << 40)) return schema_.reference_kernel()(ctx);
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output_uninit(0, x->dtype(), s.out));
    std::vector<int64_t> in_stride(rank, 1);
    for (size_t d = rank - 1; d-- > 0;) in_stride[d] = in_stride[d + 1] * s.in[d + 1];
    const auto* src = static_cast<const uint32_t*>(x->data());
    auto* dst = static_cast<uint32_t*>(y->data());
    const int64_t inner = s.out[rank - 1], rows = total / inner;
    const ops::AxisPlan& last = plans[rank - 1];
    cpu::parallel_for(rows, cpu::grain_for(inner), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        int64_t off = 0, rem = r;
        for (size_t d = rank - 1; d-- > 0;) {
          const int64_t j = rem % s.out[d];
          rem /= s.out[d];
          off += (plans[d].identity ? j : plans[d].nearest[j]) * in_stride[d];
        }
        uint32_t* out = dst + r * inner;
        if (last.identity) {
          std::memcpy(out, src + off, static_cast<size_t>(inner) * 4);
        } else {
          for (int64_t j = 0; j < inner; ++j) out[j] = src[off + last.nearest[j]];
        }
      }
    });
    return Status::Ok();
  }

 private:
  const ops::OpSchema& schema_;
};

class ResizeTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.resize"; }
  bool supports(const ir::Node& node, const ops::OpSchema& schema) const override {
    if (!node.domain().empty() || node.op_type() != "Resize" || node.opset() < 11) return false;
    const ir::Value* x = node.input(0);
    if (x == nullptr || !x->type.known() || x->type.dtype == DataType::kString ||
        data_type_bytes(x->type.dtype, 1).value_or(0) != 4)
      return false;
    const ops::NodeAttrs a(node, schema);
    return a.attr_string("mode", "nearest") == "nearest" && a.attr_int("antialias", 0) == 0 &&
           static_cast<bool>(schema.reference_kernel());
  }
  Result<std::unique_ptr<Kernel>> prepare(const ir::Node& node, const ops::OpSchema& schema,
                                          const std::vector<uint8_t>& params) const override {
    return std::unique_ptr<Kernel>(new ResizeKernel(schema));
  }
};

}  // namespace

const Tactic& cpu_resize_tactic() {
  static const ResizeTactic t;
  return t;
}

}  // namespace kiln::backends
