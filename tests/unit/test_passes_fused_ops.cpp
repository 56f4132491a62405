// kiln's fused ops on their own: shape inference, the errors their kernels report, and a
// float16 conv with residual and activation against the same computation unfused (the passes'
// numeric tests cover float32 and float64).
#include "core/errors.h"
#include "ops/op_schema.h"
#include "unit/pass_test_util.h"

namespace kiln::test {
namespace {

// Kiln-domain nodes of a parsed graph get the kiln opset (the text form carries none).
void stamp_kiln(ir::Graph& g) {
  for (ir::Node* n : g.nodes())
    if (n->domain() == ops::kKilnDomain) n->set_opset(ops::kKilnOpset);
}

std::unique_ptr<ir::Model> kiln_model(std::string_view text) {
  auto m = model_from_text(text, 17, 7, stamp_kiln);
  if (m) m->opsets[std::string(ops::kKilnDomain)] = ops::kKilnOpset;
  return m;
}

Status run_once(const ir::Model& m) {
  auto r = interp::run(m, random_inputs(*m.graph, {}, 1));
  return r.ok() ? Status::Ok() : r.status();
}

TEST(FusedOps, FusedMatMulInfersTransposedShapes) {
  auto m = kiln_model(R"(
graph main (%a: float32[2,5,4], %b: float32[6,5], %bias: float32[6]) -> (%y: ?) {
  %y = kiln::FusedMatMul(%a, %b, %bias) {transA=1, transB=1} #0 "mm"
}
)");
  ASSERT_TRUE(m);
  // A' = [2,4,5], B' = [5,6] → [2,4,6].
  EXPECT_EQ(m->graph->find("y")->type.to_string(), "float32[2,4,6]");
  EXPECT_TRUE(run_once(*m).ok());
}

TEST(FusedOps, FusedMatMulRefusesABiasThatEnlargesTheResult) {
  auto g = ir::parse_graph(R"(
graph main (%a: float32[4,5], %b: float32[5,6], %bias: float32[3,1,6]) -> (%y: ?) {
  %y = kiln::FusedMatMul(%a, %b, %bias) #0 "mm"
}
)");
  ASSERT_TRUE(g.ok());
  stamp_kiln(**g);
  std::vector<Status> problems;
  ops::infer_shapes(**g, {}, problems);
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].code(), static_cast<int>(Code::kIncompatibleShapes))
      << problems[0].to_string();
  EXPECT_NE(problems[0].message().find("Bias"), std::string::npos) << problems[0].message();
}

TEST(FusedOps, KernelsNameBadActivationsAndResiduals) {
  auto unknown = kiln_model(R"(
graph main (%x: float32[1,2,4,4]) -> (%y: float32[1,2,4,4]) {
  init %w: float32[2,2,1,1]
  %y = kiln::FusedConv(%x, %w) {activation="Swish"} #0 "f"
}
)");
  ASSERT_TRUE(unknown);
  Status s = run_once(*unknown);
  EXPECT_EQ(s.code(), static_cast<int>(Code::kAttributeValueUnsupported)) << s.to_string();
  EXPECT_NE(s.message().find("Swish"), std::string::npos) << s.message();

  auto params = kiln_model(R"(
graph main (%x: float32[1,2,4,4]) -> (%y: float32[1,2,4,4]) {
  init %w: float32[2,2,1,1]
  %y = kiln::FusedConv(%x, %w) {activation="Clip", activation_params=[0.0]} #0 "f"
}
)");
  s = run_once(*params);
  EXPECT_EQ(s.code(), static_cast<int>(Code::kInvalidArgument)) << s.to_string();
  EXPECT_NE(s.message().find("takes 2 activation_params, got 1"), std::string::npos) << s.message();

  auto residual = kiln_model(R"(
graph main (%x: float32[1,2,4,4], %z: float32[1,2,1,4]) -> (%y: float32[1,2,4,4]) {
  init %w: float32[2,2,1,1]
  %y = kiln::FusedConv(%x, %w, _, %z) #0 "f"
}
)");
  s = run_once(*residual);
  EXPECT_EQ(s.code(), static_cast<int>(Code::kIncompatibleShapes)) << s.to_string();
}

// float16: the fused kernel adds Z and applies the activation in float before rounding once;
// the unfused graph rounds after the conv, the add and the activation, so they agree to a few
// float16 ulps (rtol 2e-3 of the largest output).
TEST(FusedOps, Float16ConvResidualActivationMatchesUnfused) {
  constexpr const char* text = R"(
graph main (%x: float16[1,3,6,6], %r: float16[1,4,6,6]) -> (%y: float16[1,4,6,6]) {
  init %w: float16[4,3,3,3]
  init %b: float16[4]
  %c = Conv(%x, %w, %b) {pads=[1,1,1,1]} #0 "conv"
  %s = Add(%c, %r) #1 "add"
  %y = HardSwish(%s) #2 "act"
}
)";
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  run_passes(*m, {"conv_activation_fusion"});
  EXPECT_EQ(m->graph->num_nodes(), 1u) << ir::print(*m->graph);
  expect_same_outputs(make, {"conv_activation_fusion"}, {}, 2e-3);
}

}  // namespace
}  // namespace kiln::test
