// Reference kernels: the naive, obviously-correct implementation of each op revision that every
// optimized kernel (CPU, CUDA, INT8) is tested against, and that the reference interpreter
// (src/interp) runs whole graphs with.
//
// A kernel reads its inputs and attributes through KernelContext, allocates its outputs with
// the shapes it computes from the actual inputs, and reports bad data (incompatible shapes,
// out-of-range indices) as coded errors; the interpreter adds the node reference.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "kiln/status.h"
#include "kiln/tensor.h"
#include "ops/node_attrs.h"

namespace kiln::ops {

class OpSchema;

// Runs a subgraph (If branch, Loop/Scan body) with the given graph-input values; outer-scope
// values resolve through the calling interpreter. Returns the graph outputs in order.
using SubgraphRunner =
    std::function<Result<std::vector<Tensor>>(const ir::Graph&, std::vector<Tensor>)>;

// Where allocate_output puts output i (an engine's planned arena slot, a caller's buffer). It
// must return memory of exactly dtype × shape, zeroed when `zero` is set (kernels may accumulate
// into outputs) — except memory the kernel is known to overwrite in place (the allocator's owner
// decides). Optimized kernels that write every element ask for unzeroed memory.
using OutputAllocator = std::function<Result<Tensor>(size_t i, DataType dtype,
                                                     std::vector<int64_t> shape, bool zero)>;

class KernelContext : public NodeAttrs {
 public:
  KernelContext(const ir::Node& node, const OpSchema& schema, std::vector<const Tensor*> inputs,
                SubgraphRunner run_subgraph);

  size_t num_inputs() const { return inputs_.size(); }
  // nullptr when the input is omitted (optional) or beyond what the node passes.
  const Tensor* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  size_t num_outputs() const { return node_.outputs().size(); }
  // Whether the node consumes output i (optional outputs may be omitted).
  bool wants_output(size_t i) const { return i < num_outputs() && node_.outputs()[i] != nullptr; }

  // Allocates output i (zeroed). The tensor lives until the context is collected.
  Result<Tensor*> allocate_output(size_t i, DataType dtype, std::vector<int64_t> shape);
  // The same, with contents left undefined: for kernels that overwrite every element (saves a
  // memset of the whole output per layer).
  Result<Tensor*> allocate_output_uninit(size_t i, DataType dtype, std::vector<int64_t> shape);
  // Sets output i to an existing tensor (e.g. a view sharing an input's storage).
  void set_output(size_t i, Tensor tensor);
  std::vector<Tensor>& outputs() { return outputs_; }

  Result<std::vector<Tensor>> run_subgraph(const ir::Graph& g, std::vector<Tensor> inputs) const;

  // Without one, outputs are fresh heap tensors (the interpreter's way).
  void set_output_allocator(const OutputAllocator* allocator) { allocator_ = allocator; }

 private:
  Result<Tensor*> allocate(size_t i, DataType dtype, std::vector<int64_t> shape, bool zero);
  const OutputAllocator* allocator_ = nullptr;
  std::vector<const Tensor*> inputs_;
  std::vector<Tensor> outputs_;
  SubgraphRunner run_subgraph_;
};

using KernelFn = std::function<Status(KernelContext&)>;

}  // namespace kiln::ops
