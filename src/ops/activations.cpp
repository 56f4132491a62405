// Activation functions: the pointwise ones (Relu … Shrink) and PRelu, which broadcasts its slope.
#include <utility>
#include <vector>

#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;

// Most activations gained bfloat16 only at opset 13 (some at 16); older revisions lack it.
std::vector<DataType> floats_no_bf16() {
  return {D::kFloat16, D::kFloat32, D::kFloat64};
}

// X -> Y of the same type T.
OpSchema unary(const char* name, int64_t since, std::vector<DataType> types,
               const char* input = "X", const char* output = "Y") {
  OpSchema s(name, since);
  s.input(input, "T").output(output, "T").types("T", std::move(types));
  s.fusion(FusionKind::kElementwise);
  return s;
}

}  // namespace

void register_activations(OpRegistry& registry) {
  using ir::AttrType;

  auto relu14 = type_sets::signed_ints();
  relu14.insert(relu14.end(), {D::kFloat16, D::kBFloat16, D::kFloat32, D::kFloat64});
  registry.add(unary("Relu", 6, floats_no_bf16()));
  registry.add(unary("Relu", 13, type_sets::floats()));
  registry.add(unary("Relu", 14, relu14));

  for (int64_t since : {6, 13}) {
    auto types = since == 6 ? floats_no_bf16() : type_sets::floats();
    registry.add(unary("Sigmoid", since, types));
    registry.add(unary("Tanh", since, types, "input", "output"));
  }
  registry.add(unary("Softplus", 1, floats_no_bf16()));
  registry.add(unary("Softsign", 1, floats_no_bf16(), "input", "output"));
  registry.add(unary("HardSwish", 14, floats_no_bf16()));
  registry.add(unary("Mish", 18, floats_no_bf16()));

  registry.add(unary("LeakyRelu", 6, floats_no_bf16()).attr("alpha", AttrType::kFloat, 0.01f));
  registry.add(unary("LeakyRelu", 16, type_sets::floats()).attr("alpha", AttrType::kFloat, 0.01f));
  registry.add(unary("Elu", 6, floats_no_bf16()).attr("alpha", AttrType::kFloat, 1.0f));
  // The SELU constants from the paper, rounded to float as ONNX stores them.
  registry.add(unary("Selu", 6, floats_no_bf16())
                   .attr("alpha", AttrType::kFloat, 1.67326319217681884765625f)
                   .attr("gamma", AttrType::kFloat, 1.05070102214813232421875f));
  registry.add(unary("Celu", 12, {D::kFloat32}).attr("alpha", AttrType::kFloat, 1.0f));
  registry.add(
      unary("Gelu", 20, type_sets::floats()).attr_enum("approximate", "none", {"none", "tanh"}));
  registry.add(unary("HardSigmoid", 6, floats_no_bf16())
                   .attr("alpha", AttrType::kFloat, 0.2f)
                   .attr("beta", AttrType::kFloat, 0.5f));
  registry.add(
      unary("ThresholdedRelu", 10, floats_no_bf16()).attr("alpha", AttrType::kFloat, 1.0f));

  auto shrink = type_sets::ints();
  shrink.insert(shrink.end(), {D::kFloat16, D::kFloat32, D::kFloat64});
  registry.add(unary("Shrink", 9, shrink, "input", "output")
                   .attr("bias", AttrType::kFloat, 0.0f)
                   .attr("lambd", AttrType::kFloat, 0.5f));

  // slope broadcasts unidirectionally to X, so PRelu is a broadcast op, not elementwise.
  auto prelu9 = std::vector<DataType>{D::kFloat16, D::kFloat32, D::kFloat64, D::kUInt32,
                                      D::kUInt64,  D::kInt32,   D::kInt64};
  auto prelu16 = prelu9;
  prelu16.push_back(D::kBFloat16);
  const std::vector<std::pair<int64_t, std::vector<DataType>>> prelu = {
      {7, floats_no_bf16()}, {9, prelu9}, {16, prelu16}};
  for (const auto& [since, types] : prelu) {
    registry.add(OpSchema("PRelu", since)
                     .input("X", "T")
                     .input("slope", "T")
                     .output("Y", "T")
                     .types("T", types)
                     .fusion(FusionKind::kBroadcast));
  }
}

}  // namespace kiln::ops
