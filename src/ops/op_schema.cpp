#include "ops/op_schema.h"

#include <algorithm>
#include <climits>

namespace kiln::ops {

const char* fusion_kind_name(FusionKind kind) {
  switch (kind) {
    case FusionKind::kElementwise:
      return "elementwise";
    case FusionKind::kBroadcast:
      return "broadcast";
    case FusionKind::kInjective:
      return "injective";
    case FusionKind::kReduction:
      return "reduction";
    case FusionKind::kOpaque:
      return "opaque";
  }
  return "opaque";
}

OpSchema::OpSchema(std::string op_type, int64_t since, std::string domain)
    : op_type_(std::move(op_type)), domain_(std::move(domain)), since_(since) {}

OpSchema& OpSchema::input(std::string name, std::string type_var, Arity arity, int min_count,
                          bool homogeneous) {
  inputs_.push_back({std::move(name), std::move(type_var), arity, min_count, homogeneous});
  return *this;
}

OpSchema& OpSchema::output(std::string name, std::string type_var, Arity arity, int min_count,
                           bool homogeneous) {
  outputs_.push_back({std::move(name), std::move(type_var), arity, min_count, homogeneous});
  return *this;
}

OpSchema& OpSchema::types(std::string var, std::vector<DataType> types) {
  type_constraints_.push_back({std::move(var), std::move(types)});
  return *this;
}

OpSchema& OpSchema::attr(std::string name, ir::AttrType type, AttrDefault default_value) {
  AttrSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.default_value = std::move(default_value);
  attrs_.push_back(std::move(spec));
  return *this;
}

OpSchema& OpSchema::required_attr(std::string name, ir::AttrType type) {
  AttrSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.required = true;
  attrs_.push_back(std::move(spec));
  return *this;
}

OpSchema& OpSchema::attr_enum(std::string name, std::string default_value,
                              std::vector<std::string> allowed) {
  AttrSpec spec;
  spec.name = std::move(name);
  spec.type = ir::AttrType::kString;
  spec.default_value = std::move(default_value);
  spec.allowed = std::move(allowed);
  attrs_.push_back(std::move(spec));
  return *this;
}

OpSchema& OpSchema::attr_int_enum(std::string name, int64_t default_value,
                                  std::vector<int64_t> allowed) {
  AttrSpec spec;
  spec.name = std::move(name);
  spec.type = ir::AttrType::kInt;
  spec.default_value = default_value;
  spec.allowed_ints = std::move(allowed);
  attrs_.push_back(std::move(spec));
  return *this;
}

OpSchema& OpSchema::fusion(FusionKind kind) {
  fusion_ = kind;
  return *this;
}

OpSchema& OpSchema::check(NodeCheck fn) {
  check_ = std::move(fn);
  return *this;
}

OpSchema& OpSchema::unsupported(std::string reason) {
  unsupported_reason_ = std::move(reason);
  return *this;
}

OpSchema& OpSchema::kernel(KernelFn fn) {
  kernel_ = std::move(fn);
  return *this;
}

OpSchema& OpSchema::infer(InferFn fn) {
  infer_ = std::move(fn);
  return *this;
}

OpSchema& OpSchema::doc(std::string text) {
  doc_ = std::move(text);
  return *this;
}

const AttrSpec* OpSchema::find_attr(std::string_view name) const {
  for (const AttrSpec& a : attrs_)
    if (a.name == name) return &a;
  return nullptr;
}

const TypeConstraint* OpSchema::find_types(std::string_view var) const {
  for (const TypeConstraint& t : type_constraints_)
    if (t.var == var) return &t;
  return nullptr;
}

namespace {

int min_count(const std::vector<IoSpec>& specs) {
  // Optional slots only count when a later single slot follows them; ONNX allows trailing
  // optionals to be dropped, so the minimum ends at the last required slot.
  int last_required = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].arity == Arity::kSingle) last_required = static_cast<int>(i) + 1;
    if (specs[i].arity == Arity::kVariadic)
      last_required = static_cast<int>(i) + specs[i].min_count;
  }
  return last_required;
}

int max_count(const std::vector<IoSpec>& specs) {
  if (!specs.empty() && specs.back().arity == Arity::kVariadic) return INT_MAX;
  return static_cast<int>(specs.size());
}

}  // namespace

int OpSchema::min_inputs() const {
  return min_count(inputs_);
}
int OpSchema::max_inputs() const {
  return max_count(inputs_);
}
int OpSchema::min_outputs() const {
  return min_count(outputs_);
}
int OpSchema::max_outputs() const {
  return max_count(outputs_);
}

namespace type_sets {
using D = DataType;
std::vector<DataType> floats() {
  return {D::kFloat16, D::kBFloat16, D::kFloat32, D::kFloat64};
}
std::vector<DataType> signed_ints() {
  return {D::kInt8, D::kInt16, D::kInt32, D::kInt64};
}
std::vector<DataType> unsigned_ints() {
  return {D::kUInt8, D::kUInt16, D::kUInt32, D::kUInt64};
}
std::vector<DataType> ints() {
  auto v = signed_ints();
  auto u = unsigned_ints();
  v.insert(v.end(), u.begin(), u.end());
  return v;
}
std::vector<DataType> numeric() {
  auto v = ints();
  auto f = floats();
  v.insert(v.end(), f.begin(), f.end());
  return v;
}
std::vector<DataType> all_tensor() {
  auto v = numeric();
  v.insert(v.end(), {D::kBool, D::kString, D::kComplex64, D::kComplex128});
  return v;
}
std::vector<DataType> index() {
  return {D::kInt32, D::kInt64};
}
std::vector<DataType> ieee_floats() {
  return {D::kFloat16, D::kFloat32, D::kFloat64};
}
std::vector<DataType> all_tensor_at(int64_t since, int64_t bf16_since) {
  std::vector<DataType> types = all_tensor();
  if (since < bf16_since) std::erase(types, D::kBFloat16);
  if (since >= 19)
    types.insert(types.end(),
                 {D::kFloat8E4M3FN, D::kFloat8E4M3FNUZ, D::kFloat8E5M2, D::kFloat8E5M2FNUZ});
  if (since >= 21) types.insert(types.end(), {D::kUInt4, D::kInt4});
  return types;
}
std::vector<DataType> with(std::vector<DataType> types, std::initializer_list<DataType> extra) {
  types.insert(types.end(), extra);
  return types;
}
}  // namespace type_sets

}  // namespace kiln::ops
