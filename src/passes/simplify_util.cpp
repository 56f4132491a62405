#include "passes/simplify_util.h"

#include <string>

#include "passes/patterns.h"

namespace kiln::passes {

int64_t opset_of(const ir::Node& n, const PassContext& ctx) {
  if (n.opset() > 0) return n.opset();
  return n.domain() == ops::kKilnDomain ? ops::kKilnOpset : ctx.opset();
}

const ops::OpSchema* schema_of(const ir::Node& n, const PassContext& ctx) {
  return ops::OpRegistry::builtin().find(n.domain(), n.op_type(),
                                         ops::effective_opset(n.domain(), opset_of(n, ctx)));
}

std::optional<std::vector<int64_t>> constant_ints(const ir::Value* v) {
  const Tensor* t = constant_value(v);
  if (t == nullptr || t->rank() > 1 || (t->data() == nullptr && t->numel() > 0))
    return std::nullopt;
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(t->numel()));
  if (t->dtype() == DataType::kInt64) {
    for (int64_t i = 0; i < t->numel(); ++i) out.push_back(t->data_as<int64_t>()[i]);
  } else if (t->dtype() == DataType::kInt32) {
    for (int64_t i = 0; i < t->numel(); ++i) out.push_back(t->data_as<int32_t>()[i]);
  } else {
    return std::nullopt;
  }
  return out;
}

Axes squeeze_axes(const ir::Node& n, const PassContext& ctx) {
  Axes a;
  if (opset_of(n, ctx) < 13) {
    const ir::Attribute* attr = n.attr("axes");
    a.known = true;
    a.present = attr != nullptr;
    if (attr != nullptr) a.values = attr->ints;
    return a;
  }
  const ir::Value* in = n.input(1);
  if (in == nullptr) {
    a.known = true;
    return a;
  }
  std::optional<std::vector<int64_t>> v = constant_ints(in);
  if (!v) return a;
  a.known = a.present = true;
  a.values = std::move(*v);
  return a;
}

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

}  // namespace kiln::passes
