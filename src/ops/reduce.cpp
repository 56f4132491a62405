// Reduce* operators: reduction over `axes`, given as an attribute in older revisions and as an
// optional int64 input from ReduceSum-13 / the others' revision 18.
#include <initializer_list>
#include <utility>
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

struct Revision {
  int64_t since;
  std::vector<DataType> types;
};

struct ReduceOp {
  const char* name;
  int64_t axes_input_since;  // first revision taking axes as an input
  std::vector<Revision> revisions;
};

}  // namespace

void register_reduce(OpRegistry& registry) {
  using ir::AttrType;
  const std::vector<DataType> base = {D::kUInt32,  D::kUInt64,  D::kInt32,  D::kInt64,
                                      D::kFloat16, D::kFloat32, D::kFloat64};
  const auto bf16 = type_sets::with(base, {D::kBFloat16});
  const std::vector<Revision> common = {{1, base}, {11, base}, {13, bf16}, {18, bf16}};
  // ReduceMax/Min add 8-bit integers at 12 and bool at 20.
  const auto minmax12 = type_sets::with(base, {D::kUInt8, D::kInt8});
  const auto minmax13 = type_sets::with(minmax12, {D::kBFloat16});
  const std::vector<Revision> minmax = {
      {1, base},      {11, base},     {12, minmax12},
      {13, minmax13}, {18, minmax13}, {20, type_sets::with(minmax13, {D::kBool})}};

  const std::vector<ReduceOp> ops = {
      {"ReduceSum", 13, {{1, base}, {11, base}, {13, bf16}}},
      {"ReduceMean", 18, common},
      {"ReduceMax", 18, minmax},
      {"ReduceMin", 18, minmax},
      {"ReduceProd", 18, common},
      {"ReduceL1", 18, common},
      {"ReduceL2", 18, common},
      {"ReduceLogSum", 18, common},
      {"ReduceLogSumExp", 18, common},
      {"ReduceSumSquare", 18, common},
  };
  for (const ReduceOp& op : ops) {
    for (const Revision& rev : op.revisions) {
      OpSchema s(op.name, rev.since);
      s.input("data", "T");
      if (rev.since >= op.axes_input_since) {
        // Empty or absent axes reduce over all dims unless noop_with_empty_axes is set.
        s.input("axes", "I", Arity::kOptional)
            .types("I", {D::kInt64})
            .attr_int_enum("noop_with_empty_axes", 0, {0, 1});
      } else {
        s.attr("axes", AttrType::kInts);
      }
      s.output("reduced", "T")
          .types("T", rev.types)
          .attr_int_enum("keepdims", 1, {0, 1})
          .fusion(FusionKind::kReduction);
      registry.add(std::move(s));
    }
  }
}

}  // namespace kiln::ops
