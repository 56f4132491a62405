// "cpu.reference": runs a layer with its op's reference kernel. It supports every op revision
// that has one, needs no ISA features beyond the baseline the binary is compiled for, and is
// the oracle the faster tactics are tested against.
#include <algorithm>
#include <array>

#include "backends/cpu/cpu_tactics.h"
#include "core/errors.h"

namespace kiln::backends {
namespace {

class ReferenceKernel final : public Kernel {
 public:
  explicit ReferenceKernel(const ops::OpSchema& schema) : schema_(schema) {}
  Status run(ops::KernelContext& ctx) const override { return schema_.reference_kernel()(ctx); }

 private:
  const ops::OpSchema& schema_;
};

// Elementwise kernels of these ops build the output from several inputs in passes (copy the
// first, then combine), which is not safe when the output aliases an input.
bool combines_in_passes(const ir::Node& n) {
  static constexpr std::array<std::string_view, 4> kOps = {"Sum", "Mean", "Max", "Min"};
  return n.domain().empty() && std::find(kOps.begin(), kOps.end(), n.op_type()) != kOps.end();
}

class ReferenceTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.reference"; }
  bool supports(const ir::Node& node, const ops::OpSchema& schema) const override {
    return static_cast<bool>(schema.reference_kernel());
  }
  // Elementwise and broadcasting kernels read element k of each input before writing element k
  // of the output, so an output of the same type and size may overwrite an input.
  bool allows_inplace(const ir::Node& node, const ops::OpSchema& schema,
                      size_t input) const override {
    const ops::FusionKind k = schema.fusion_kind();
    if (k != ops::FusionKind::kElementwise && k != ops::FusionKind::kBroadcast) return false;
    if (node.outputs().size() != 1 || combines_in_passes(node)) return false;
    const ir::Value* in = node.input(input);
    const ir::Value* out = node.output(0);
    return in != nullptr && out != nullptr && in->type.known() && in->type.dtype == out->type.dtype &&
           in->type.dtype != DataType::kString;
  }
  Result<std::unique_ptr<Kernel>> prepare(const ir::Node& node, const ops::OpSchema& schema,
                                          const std::vector<uint8_t>& params) const override {
    if (!schema.reference_kernel())
      return err(Code::kNoKernel, node.op_type(), " has no reference kernel").with_node(node.ref());
    return std::unique_ptr<Kernel>(new ReferenceKernel(schema));
  }
};

}  // namespace

const Tactic& cpu_reference_tactic() {
  static const ReferenceTactic reference;
  return reference;
}

}  // namespace kiln::backends
