#include "ops/kernel.h"

#include "core/errors.h"
#include "ops/op_schema.h"

namespace kiln::ops {

KernelContext::KernelContext(const ir::Node& node, const OpSchema& schema,
                             std::vector<const Tensor*> inputs, SubgraphRunner run_subgraph)
    : NodeAttrs(node, schema),
      inputs_(std::move(inputs)),
      outputs_(node.outputs().size()),
      run_subgraph_(std::move(run_subgraph)) {}

int64_t NodeAttrs::since() const {
  return schema_.since();
}

Result<Tensor*> KernelContext::allocate_output(size_t i, DataType dtype,
                                               std::vector<int64_t> shape) {
  return allocate(i, dtype, std::move(shape), true);
}

Result<Tensor*> KernelContext::allocate_output_uninit(size_t i, DataType dtype,
                                                      std::vector<int64_t> shape) {
  return allocate(i, dtype, std::move(shape), false);
}

Result<Tensor*> KernelContext::allocate(size_t i, DataType dtype, std::vector<int64_t> shape,
                                        bool zero) {
  if (i >= outputs_.size())
    return err(Code::kInternal, node_.op_type(), " kernel wrote output ", i, " but the node has ",
               outputs_.size());
  if (allocator_ != nullptr) {
    KILN_ASSIGN_OR_RETURN(outputs_[i], (*allocator_)(i, dtype, std::move(shape), zero));
  } else {
    KILN_ASSIGN_OR_RETURN(outputs_[i], Tensor::allocate(dtype, std::move(shape)));
  }
  return &outputs_[i];
}

void KernelContext::set_output(size_t i, Tensor tensor) {
  if (i < outputs_.size()) outputs_[i] = std::move(tensor);
}

namespace {
template <typename T>
const T* schema_default(const OpSchema& s, std::string_view name) {
  const AttrSpec* spec = s.find_attr(name);
  return spec ? std::get_if<T>(&spec->default_value) : nullptr;
}
}  // namespace

int64_t NodeAttrs::attr_int(std::string_view name, int64_t fallback) const {
  if (const ir::Attribute* a = node_.attr(name)) return a->i;
  const int64_t* d = schema_default<int64_t>(schema_, name);
  return d ? *d : fallback;
}

float NodeAttrs::attr_float(std::string_view name, float fallback) const {
  if (const ir::Attribute* a = node_.attr(name)) return a->f;
  const float* d = schema_default<float>(schema_, name);
  return d ? *d : fallback;
}

std::string NodeAttrs::attr_string(std::string_view name, std::string fallback) const {
  if (const ir::Attribute* a = node_.attr(name)) return a->s;
  const std::string* d = schema_default<std::string>(schema_, name);
  return d ? *d : fallback;
}

std::vector<int64_t> NodeAttrs::attr_ints(std::string_view name,
                                          std::vector<int64_t> fallback) const {
  if (const ir::Attribute* a = node_.attr(name)) return a->ints;
  const auto* d = schema_default<std::vector<int64_t>>(schema_, name);
  return d ? *d : fallback;
}

std::vector<float> NodeAttrs::attr_floats(std::string_view name,
                                          std::vector<float> fallback) const {
  if (const ir::Attribute* a = node_.attr(name)) return a->floats;
  const auto* d = schema_default<std::vector<float>>(schema_, name);
  return d ? *d : fallback;
}

std::vector<std::string> NodeAttrs::attr_strings(std::string_view name,
                                                 std::vector<std::string> fallback) const {
  if (const ir::Attribute* a = node_.attr(name)) return a->strings;
  const auto* d = schema_default<std::vector<std::string>>(schema_, name);
  return d ? *d : fallback;
}

const ir::Graph* NodeAttrs::attr_graph(std::string_view name) const {
  const ir::Attribute* a = node_.attr(name);
  return a && a->g ? a->g.get() : nullptr;
}

const Tensor* NodeAttrs::attr_tensor(std::string_view name) const {
  const ir::Attribute* a = node_.attr(name);
  return a && a->type == ir::AttrType::kTensor ? &a->t : nullptr;
}

Result<std::vector<Tensor>> KernelContext::run_subgraph(const ir::Graph& g,
                                                        std::vector<Tensor> inputs) const {
  if (!run_subgraph_)
    return err(Code::kInternal, node_.op_type(), " needs a subgraph runner but none was given");
  return run_subgraph_(g, std::move(inputs));
}

}  // namespace kiln::ops
