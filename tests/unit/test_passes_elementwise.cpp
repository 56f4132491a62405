// elementwise_fusion: trees of elementwise ops become one FusedElementwise layer.
#include "unit/pass_test_util.h"

namespace kiln::test {
namespace {

constexpr const char* kChain = R"(
graph main (%x: float32[2,8], %b: float32[8]) -> (%y: float32[2,8]) {
  init %half: float32[]
  %m = Mul(%x, %half) #0 "scale"
  %a = Add(%m, %b) #1 "shift"
  %t = Tanh(%a) #2 "tanh"
  %y = Relu(%t) #3 "relu"
}
)";

const ir::Graph* body_of(const ir::Model& m) {
  for (const ir::Node* n : m.graph->nodes())
    if (n->op_type() == "FusedElementwise") return n->attr("body")->g.get();
  return nullptr;
}

TEST(PassElementwiseFusion, ChainBecomesOneLayerWithTheOpsInItsBody) {
  auto m = model_from_text(kChain);
  ASSERT_TRUE(m);
  auto r = run_passes(*m, {"elementwise_fusion"});
  ASSERT_EQ(m->graph->num_nodes(), 1u) << ir::print(*m->graph);
  const ir::Node* n = m->graph->nodes()[0];
  EXPECT_EQ(n->domain(), "kiln");
  EXPECT_EQ(n->output(0)->name(), "y");  // the graph output keeps its value
  EXPECT_EQ(n->inputs().size(), 3u);     // x, half, b
  const ir::Graph* body = body_of(*m);
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(body->num_nodes(), 4u);
  EXPECT_EQ(n->origins(), (std::vector<std::string>{"scale", "shift", "tanh", "relu"}));
  EXPECT_EQ(r.counts["elementwise_fusion"]["4 ops"], 1);
  expect_same_outputs([] { return model_from_text(kChain); }, {"elementwise_fusion"});
}

TEST(PassElementwiseFusion, ValueReadTwiceOrGraphOutputSplitsGroups) {
  constexpr const char* text = R"(
graph main (%x: float32[4]) -> (%y: float32[4], %z: float32[4], %t: float32[4]) {
  %t = Exp(%x) #0 "exp"
  %u = Neg(%t) #1 "neg"
  %y = Relu(%u) #2 "relu"
  %z = Abs(%u) #3 "abs"
}
)";
  auto m = model_from_text(text);
  ASSERT_TRUE(m);
  // u is read twice and t is a graph output: no producer can join a group.
  EXPECT_EQ(optimized_text(*m, {"elementwise_fusion"}), canonical(text));
}

TEST(PassElementwiseFusion, BroadcastThatChangesTheShapeAcrossTheGroupStillMatches) {
  constexpr const char* text = R"(
graph main (%x: float32[3,1], %w: float32[1,5]) -> (%y: float32[3,5]) {
  %s = Sigmoid(%x) #0 "sig"
  %y = Mul(%s, %w) #1 "mul"
}
)";
  auto m = model_from_text(text);
  run_passes(*m, {"elementwise_fusion"});
  EXPECT_EQ(count_ops(*m, "FusedElementwise"), 1);
  expect_same_outputs([&] { return model_from_text(text); }, {"elementwise_fusion"});
}

TEST(PassElementwiseFusion, OpsOfUnknownTypeAreLeftAlone) {
  constexpr const char* text = R"(
graph main (%x: ?) -> (%y: ?) {
  %t = Neg(%x) #0 "neg"
  %y = Relu(%t) #1 "relu"
}
)";
  auto g = ir::parse_graph(text);
  ASSERT_TRUE(g.ok());
  ir::Model m;
  m.opsets[""] = 17;
  m.graph = std::move(g).value();
  stamp_opset(*m.graph, 17);
  run_passes(m, {"elementwise_fusion"});
  EXPECT_EQ(count_ops(m, "FusedElementwise"), 0);
}

}  // namespace
}  // namespace kiln::test
