// "cpu.concat": Concat of fixed-size elements as one memcpy per (outer index, input): the
// inputs' blocks interleave along the axis. Parallel over the outer index when it is large,
// over the inputs otherwise.
#include <cstring>

#include "backends/cpu/cpu_kernel_util.h"
#include "backends/cpu/cpu_tactics.h"
#include "backends/cpu/cpu_threads.h"
#include "core/errors.h"

namespace kiln::backends {
namespace {

class ConcatKernel final : public Kernel {
 public:
  explicit ConcatKernel(const ops::OpSchema& schema) : schema_(schema) {}

  Status run(ops::KernelContext& ctx) const override {
    const Tensor* first = ctx.num_inputs() > 0 ? ctx.input(0) : nullptr;
    if (first == nullptr || first->dtype() == DataType::kString || first->rank() == 0)
      return schema_.reference_kernel()(ctx);
    const int64_t rank = static_cast<int64_t>(first->rank());
    int64_t axis = ctx.attr_int("axis", 0);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) return schema_.reference_kernel()(ctx);
    std::vector<int64_t> shape = first->shape();
    int64_t along = 0;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor* t = ctx.input(i);
      if (t == nullptr || t->dtype() != first->dtype() || t->rank() != first->rank())
        return schema_.reference_kernel()(ctx);
      for (int64_t d = 0; d < rank; ++d)
        if (d != axis && t->shape()[d] != shape[d]) return schema_.reference_kernel()(ctx);
      along += t->shape()[axis];
    }
    shape[axis] = along;
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output_uninit(0, first->dtype(), shape));
    if (y->numel() == 0) return Status::Ok();
    const size_t elem = data_type_bytes(first->dtype(), 1).value_or(0);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
    for (int64_t d = axis + 1; d < rank; ++d) inner *= shape[d];
    const size_t out_row = static_cast<size_t>(along * inner) * elem;
    std::vector<size_t> offset(ctx.num_inputs()), bytes(ctx.num_inputs());
    size_t at = 0;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      offset[i] = at;
      bytes[i] = static_cast<size_t>(ctx.input(i)->shape()[axis] * inner) * elem;
      at += bytes[i];
    }
    auto* out = static_cast<uint8_t*>(y->data());
    const int64_t n_in = static_cast<int64_t>(ctx.num_inputs());
    cpu::parallel_for(outer * n_in,
                      std::max<int64_t>(1, 65536 / static_cast<int64_t>(out_row / n_in + 1)),
                      [&](int64_t b, int64_t e) {
                        for (int64_t k = b; k < e; ++k) {
                          const int64_t o = k / n_in, i = k % n_in;
                          const auto* src = static_cast<const uint8_t*>(ctx.input(i)->data());
                          std::memcpy(out + o * out_row + offset[i], src + o * bytes[i], bytes[i]);
                        }
                      });
    return Status::Ok();
  }

 private:
  const ops::OpSchema& schema_;
};

class ConcatTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.concat"; }
  bool supports(const ir::Node& node, const ops::OpSchema& schema) const override {
    if (!node.domain().empty() || node.op_type() != "Concat" || node.inputs().empty()) return false;
    for (const ir::Value* v : node.inputs())
      if (v == nullptr || !v->type.known() || v->type.dtype == DataType::kString ||
          !data_type_bytes(v->type.dtype, 1))
        return false;
    return static_cast<bool>(schema.reference_kernel());
  }
  Result<std::unique_ptr<Kernel>> prepare(const ir::Node& node, const ops::OpSchema& schema,
                                          const std::vector<uint8_t>& params) const override {
    return std::unique_ptr<Kernel>(new ConcatKernel(schema));
  }
};

}  // namespace

const Tactic& cpu_concat_tactic() {
  static const ConcatTactic t;
  return t;
}

}  // namespace kiln::backends
