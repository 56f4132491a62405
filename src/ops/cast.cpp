// Cast and CastLike: element type conversion.
//
// A pure conversion op, so the type lists keep string, float8 and the 4-bit types where ONNX
// has them; each revision's list is the previous one plus what that revision added.
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

std::vector<DataType> cast_types(int64_t since) {
  std::vector<DataType> v = type_sets::ints();
  v.insert(v.end(), {D::kFloat16, D::kFloat32, D::kFloat64, D::kBool});
  if (since >= 9) v.push_back(D::kString);
  if (since >= 13) v.push_back(D::kBFloat16);
  if (since >= 19)
    v.insert(v.end(), {D::kFloat8E4M3FN, D::kFloat8E4M3FNUZ, D::kFloat8E5M2, D::kFloat8E5M2FNUZ});
  if (since >= 21) v.insert(v.end(), {D::kUInt4, D::kInt4});
  return v;
}

// `to` is a plain int in the schema; the types it may name are this revision's T2.
void check_cast_to(const ir::Node& node, const OpSchema& schema, std::vector<Status>& problems) {
  const ir::Attribute* to = node.attr("to");
  const TypeConstraint* allowed = schema.find_types("T2");
  if (to == nullptr || allowed == nullptr) return;
  for (DataType t : allowed->types)
    if (static_cast<int64_t>(t) == to->i) return;
  std::string names;
  for (DataType t : allowed->types)
    names += std::string(names.empty() ? "" : ", ") + data_type_name(t);
  const DataTypeInfo* info =
      to->i >= 0 && to->i <= kMaxDataType ? data_type_info(static_cast<int32_t>(to->i)) : nullptr;
  problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'to' = ", to->i, " (",
                         info != nullptr ? info->name : "not a data type", ") (allowed: ", names,
                         ")"));
}

}  // namespace

void register_cast(OpRegistry& registry) {
  using ir::AttrType;
  for (int64_t since : {6, 9, 13, 19, 21}) {
    OpSchema s("Cast", since);
    s.input("input", "T1")
        .output("output", "T2")
        .types("T1", cast_types(since))
        .types("T2", cast_types(since))
        .required_attr("to", AttrType::kInt);
    // saturate only affects float8 targets, which arrived together with it.
    if (since >= 19) s.attr_int_enum("saturate", 1, {0, 1});
    s.check(check_cast_to).fusion(FusionKind::kInjective);
    registry.add(std::move(s));
  }
  // CastLike-15 matches Cast-13's type list.
  for (int64_t since : {15, 19, 21}) {
    OpSchema s("CastLike", since);
    s.input("input", "T1")
        .input("target_type", "T2")
        .output("output", "T2")
        .types("T1", cast_types(since == 15 ? 13 : since))
        .types("T2", cast_types(since == 15 ? 13 : since));
    if (since >= 19) s.attr_int_enum("saturate", 1, {0, 1});
    s.fusion(FusionKind::kInjective);
    registry.add(std::move(s));
  }
}

}  // namespace kiln::ops
