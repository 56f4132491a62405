// Attribute access for a node under its op revision's schema: a value set on the node wins,
// then the schema's default, then the caller's fallback. Shared by reference kernels
// (KernelContext) and shape inference (InferContext), so both read attributes identically.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "kiln/tensor.h"

namespace kiln::ops {

class OpSchema;

class NodeAttrs {
 public:
  NodeAttrs(const ir::Node& node, const OpSchema& schema) : node_(node), schema_(schema) {}

  const ir::Node& node() const { return node_; }
  const OpSchema& schema() const { return schema_; }
  int64_t opset() const { return node_.opset(); }
  int64_t since() const;  // the revision in effect

  bool has_attr(std::string_view name) const { return node_.attr(name) != nullptr; }
  int64_t attr_int(std::string_view name, int64_t fallback = 0) const;
  float attr_float(std::string_view name, float fallback = 0.0f) const;
  std::string attr_string(std::string_view name, std::string fallback = {}) const;
  std::vector<int64_t> attr_ints(std::string_view name, std::vector<int64_t> fallback = {}) const;
  std::vector<float> attr_floats(std::string_view name, std::vector<float> fallback = {}) const;
  std::vector<std::string> attr_strings(std::string_view name,
                                        std::vector<std::string> fallback = {}) const;
  const ir::Graph* attr_graph(std::string_view name) const;
  const Tensor* attr_tensor(std::string_view name) const;

 protected:
  const ir::Node& node_;
  const OpSchema& schema_;
};

}  // namespace kiln::ops
