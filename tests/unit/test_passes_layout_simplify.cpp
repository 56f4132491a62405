// reshape_chain_collapse, transpose_elimination and pad_folding: golden IR (fires / does not
// fire, including a second reader of the intermediate value) and numeric equality
// before/after through the reference interpreter.
#include "passes/patterns.h"
#include "unit/pass_test_util.h"

namespace kiln::test {
namespace {

// The int64 contents of the constant input `slot` of the only node of type `op`.
std::vector<int64_t> const_input(const ir::Model& m, std::string_view op, size_t slot) {
  for (const ir::Node* n : m.graph->nodes()) {
    if (n->op_type() != op) continue;
    const Tensor* t = n->input(slot) ? n->input(slot)->initializer() : nullptr;
    if (t == nullptr) return {};
    return std::vector<int64_t>(t->data_as<int64_t>(), t->data_as<int64_t>() + t->numel());
  }
  return {};
}

std::vector<int64_t> node_ints(const ir::Model& m, std::string_view op, std::string_view attr) {
  for (const ir::Node* n : m.graph->nodes())
    if (n->op_type() == op) return passes::attr_ints(*n, attr);
  return {};
}

// ---- reshape_chain_collapse --------------------------------------------------------------------

const std::vector<std::string> kReshape = {"reshape_chain_collapse", "dead_code_elimination"};

TEST(PassReshapeChain, StaticChainBecomesOneReshape) {
  constexpr const char* text = R"(
graph main (%x: float32[2,3,4]) -> (%y: float32[1,6,4]) {
  init %s: int64[2]
  init %ax: int64[1]
  %r = Reshape(%x, %s) #0 "reshape"
  %y = Unsqueeze(%r, %ax) #1 "unsqueeze"
}
)";
  auto make = [&] { return model_from_text(text, 17, 7, with_ints({{"s", {6, 4}}, {"ax", {0}}})); };
  auto m = make();
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, kReshape), canonical(R"(
graph main (%x: float32[2,3,4]) -> (%y: float32[1,6,4]) {
  init %unsqueeze_shape: int64[3]
  %y = Reshape(%x, %unsqueeze_shape) #1 "unsqueeze"
}
)"));
  EXPECT_EQ(const_input(*m, "Reshape", 1), (std::vector<int64_t>{1, 6, 4}));
  expect_same_outputs(make, kReshape);
}

TEST(PassReshapeChain, SymbolicDimsAreCopiedWhereTheyStayInPlace) {
  // [B,S,8] → Unsqueeze(2) → [B,S,1,8] → Reshape [0,0,0,2,4]: B and S stay at positions 0
  // and 1 of the result, which are their positions in x; the copied 1 is static.
  constexpr const char* text = R"(
graph main (%x: float32[B,S,8]) -> (%y: float32[B,S,1,2,4]) {
  init %ax: int64[1]
  init %s: int64[5]
  %u = Unsqueeze(%x, %ax) #0 "unsqueeze"
  %y = Reshape(%u, %s) #1 "reshape"
}
)";
  auto make = [&] {
    return model_from_text(text, 17, 7, with_ints({{"ax", {2}}, {"s", {0, 0, 0, 2, 4}}}));
  };
  auto m = make();
  ASSERT_TRUE(m);
  run_passes(*m, kReshape);
  EXPECT_EQ(m->graph->num_nodes(), 1u);
  EXPECT_EQ(const_input(*m, "Reshape", 1), (std::vector<int64_t>{0, 0, 1, 2, 4}));
  expect_same_outputs(make, kReshape, {{"x", {2, 3, 8}}});
  expect_same_outputs(make, kReshape, {{"x", {1, 5, 8}}});
}

TEST(PassReshapeChain, FlattenedSymbolicDimsBecomeMinusOne) {
  constexpr const char* text = R"(
graph main (%x: float32[B,S,8]) -> (%y: float32[?,8]) {
  init %s: int64[4]
  %r = Reshape(%x, %s) #0 "split_heads"
  %y = Flatten(%r) {axis=2} #1 "flatten"
}
)";
  auto make = [&] { return model_from_text(text, 17, 7, with_ints({{"s", {0, 0, 2, 4}}})); };
  auto m = make();
  ASSERT_TRUE(m);
  run_passes(*m, kReshape);
  EXPECT_EQ(m->graph->num_nodes(), 1u);
  EXPECT_EQ(const_input(*m, "Reshape", 1), (std::vector<int64_t>{-1, 8}));
  expect_same_outputs(make, kReshape, {{"x", {3, 5, 8}}});
}

TEST(PassReshapeChain, SymbolicUnsqueezePairsBecomeOneUnsqueeze) {
  // BERT's attention mask: [B,S] → Unsqueeze(1) → Unsqueeze(2) → [B,1,1,S]. As a Reshape this
  // would need [0,1,1,-1]; one Unsqueeze with axes [1,2] needs nothing solved.
  constexpr const char* text = R"(
graph main (%m: int64[B,S]) -> (%y: int64[B,1,1,S]) {
  init %a1: int64[1]
  init %a2: int64[1]
  %u1 = Unsqueeze(%m, %a1) #0 "unsqueeze1"
  %y = Unsqueeze(%u1, %a2) #1 "unsqueeze2"
}
)";
  auto make = [&] { return model_from_text(text, 17, 7, with_ints({{"a1", {1}}, {"a2", {2}}})); };
  auto m = make();
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, kReshape), canonical(R"(
graph main (%m: int64[B,S]) -> (%y: int64[B,1,1,S]) {
  init %unsqueeze2_axes: int64[2]
  %y = Unsqueeze(%m, %unsqueeze2_axes) #1 "unsqueeze2"
}
)"));
  EXPECT_EQ(const_input(*m, "Unsqueeze", 1), (std::vector<int64_t>{1, 2}));
  expect_same_outputs(make, kReshape, {{"m", {2, 5}}});

  // Opset 11: axes are attributes; Squeeze pairs work the same way.
  constexpr const char* old = R"(
graph main (%x: float32[B,1,S,1]) -> (%y: float32[B,S]) {
  %q1 = Squeeze(%x) {axes=[3]} #0 "squeeze1"
  %y = Squeeze(%q1) {axes=[1]} #1 "squeeze2"
}
)";
  auto make_old = [&] { return model_from_text(old, 11); };
  auto o = make_old();
  ASSERT_TRUE(o);
  EXPECT_EQ(optimized_text(*o, kReshape), canonical(R"(
graph main (%x: float32[B,1,S,1]) -> (%y: float32[B,S]) {
  %y = Squeeze(%x) {axes=[1,3]} #1 "squeeze2"
}
)"));
  expect_same_outputs(make_old, kReshape, {{"x", {3, 1, 4, 1}}});
}

TEST(PassReshapeChain, UnsqueezeThenSqueezeOfTheSameAxisVanishes) {
  constexpr const char* text = R"(
graph main (%x: float32[B,3]) -> (%y: float32[B,3]) {
  init %ax: int64[1]
  %u = Unsqueeze(%x, %ax) #0 "unsqueeze"
  %q = Squeeze(%u, %ax) #1 "squeeze"
  %y = Relu(%q) #2 "relu"
}
)";
  auto make = [&] { return model_from_text(text, 17, 7, with_ints({{"ax", {1}}})); };
  auto m = make();
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, kReshape), canonical(R"(
graph main (%x: float32[B,3]) -> (%y: float32[B,3]) {
  %y = Relu(%x) #2 "relu"
}
)"));
  expect_same_outputs(make, kReshape, {{"x", {4, 3}}});
}

TEST(PassReshapeChain, WorksOnAnyElementType) {
  // Reshapes move no element: an int64 chain (opset 11: axes as attributes) collapses too.
  constexpr const char* text = R"(
graph main (%x: int64[2,6]) -> (%y: int64[3,4]) {
  %f = Unsqueeze(%x) {axes=[0]} #0 "unsqueeze"
  %y = Reshape(%f, %s) #1 "reshape"
  init %s: int64[2]
}
)";
  auto make = [&] { return model_from_text(text, 11, 7, with_ints({{"s", {3, 4}}})); };
  auto m = make();
  ASSERT_TRUE(m);
  run_passes(*m, kReshape);
  EXPECT_EQ(count_ops(*m, "Unsqueeze"), 0);
  EXPECT_EQ(const_input(*m, "Reshape", 1), (std::vector<int64_t>{3, 4}));
  expect_same_outputs(make, kReshape);
}

TEST(PassReshapeChain, DoesNotFireWhenTheIntermediateIsReadTwiceOrUnprovable) {
  // Read twice: r feeds the Unsqueeze and the Neg.
  constexpr const char* twice = R"(
graph main (%x: float32[2,3,4]) -> (%y: float32[1,6,4], %n: float32[6,4]) {
  init %s: int64[2]
  init %ax: int64[1]
  %r = Reshape(%x, %s) #0 "reshape"
  %y = Unsqueeze(%r, %ax) #1 "unsqueeze"
  %n = Neg(%r) #2 "other_reader"
}
)";
  auto m = model_from_text(twice, 17, 7, with_ints({{"s", {6, 4}}, {"ax", {0}}}));
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, kReshape), canonical(twice));

  // A graph output in the middle.
  constexpr const char* output = R"(
graph main (%x: float32[2,3,4]) -> (%r: float32[6,4], %y: float32[1,6,4]) {
  init %s: int64[2]
  init %ax: int64[1]
  %r = Reshape(%x, %s) #0 "reshape"
  %y = Unsqueeze(%r, %ax) #1 "unsqueeze"
}
)";
  auto o = model_from_text(output, 17, 7, with_ints({{"s", {6, 4}}, {"ax", {0}}}));
  ASSERT_TRUE(o);
  EXPECT_EQ(optimized_text(*o, kReshape), canonical(output));

  // [B,S,8] → [0,-1] → [B, S*8] → Unsqueeze(0) → [1, B, S*8]: B moved from position 0 to 1,
  // so it can neither be copied nor be the single -1 next to the unknown S*8.
  constexpr const char* moved = R"(
graph main (%x: float32[B,S,8]) -> (%y: float32[1,B,?]) {
  init %s: int64[2]
  init %ax: int64[1]
  %r = Reshape(%x, %s) #0 "reshape"
  %y = Unsqueeze(%r, %ax) #1 "unsqueeze"
}
)";
  auto v = model_from_text(moved, 17, 7, with_ints({{"s", {0, -1}}, {"ax", {0}}}));
  ASSERT_TRUE(v);
  EXPECT_EQ(optimized_text(*v, kReshape), canonical(moved));

  // A target computed at run time.
  constexpr const char* dynamic = R"(
graph main (%x: float32[2,3,4], %s: int64[2]) -> (%y: float32[?,?,?]) {
  init %ax: int64[1]
  %r = Reshape(%x, %s) #0 "reshape"
  %y = Unsqueeze(%r, %ax) #1 "unsqueeze"
}
)";
  auto d = model_from_text(dynamic, 17, 7, with_ints({{"ax", {0}}}));
  ASSERT_TRUE(d);
  const std::string before = ir::print(*d->graph);
  EXPECT_EQ(optimized_text(*d, kReshape), before);

  // [B,S,8] → Unsqueeze(1) → [B,1,S,8] → Reshape [0,0,0,2,4]: S moves from position 1 to 2,
  // so the result would need [0,1,-1,2,4], a -1 next to a copy (refused: B may be 0).
  constexpr const char* shifted = R"(
graph main (%x: float32[B,S,8]) -> (%y: float32[B,1,S,2,4]) {
  init %ax: int64[1]
  init %s: int64[5]
  %u = Unsqueeze(%x, %ax) #0 "unsqueeze"
  %y = Reshape(%u, %s) #1 "reshape"
}
)";
  auto sh = model_from_text(shifted, 17, 7, with_ints({{"ax", {1}}, {"s", {0, 0, 0, 2, 4}}}));
  ASSERT_TRUE(sh);
  EXPECT_EQ(optimized_text(*sh, kReshape), canonical(shifted));
}

// ---- transpose_elimination ----------------------------------------------------------------------

const std::vector<std::string> kTranspose = {"transpose_elimination", "dead_code_elimination"};

TEST(PassTranspose, ComposesTwoTransposes) {
  constexpr const char* text = R"(
graph main (%x: float32[2,3,4]) -> (%y: float32[4,2,3]) {
  %a = Transpose(%x) {perm=[0,2,1]} #0 "t1"
  %y = Transpose(%a) {perm=[1,0,2]} #1 "t2"
}
)";
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  ASSERT_TRUE(m);
  // a = x dims [2,4,3]; y takes a's dims [1,0,2] = x dims [2,0,1].
  EXPECT_EQ(optimized_text(*m, kTranspose), canonical(R"(
graph main (%x: float32[2,3,4]) -> (%y: float32[4,2,3]) {
  %y = Transpose(%x) {perm=[2,0,1]} #1 "t2"
}
)"));
  expect_same_outputs(make, kTranspose);
}

TEST(PassTranspose, CancellingPairsAndIdentityPermsVanish) {
  constexpr const char* text = R"(
graph main (%x: float32[2,3,4], %z: int64[5,6]) -> (%y: float32[2,3,4], %w: int64[5,6]) {
  %a = Transpose(%x) {perm=[1,2,0]} #0 "t1"
  %b = Transpose(%a) {perm=[2,0,1]} #1 "t2"
  %y = Relu(%b) #2 "relu"
  %i = Transpose(%z) {perm=[0,1]} #3 "identity_perm"
  %w = Neg(%i) #4 "neg"
}
)";
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, kTranspose), canonical(R"(
graph main (%x: float32[2,3,4], %z: int64[5,6]) -> (%y: float32[2,3,4], %w: int64[5,6]) {
  %y = Relu(%x) #2 "relu"
  %w = Neg(%z) #4 "neg"
}
)"));
  expect_same_outputs(make, kTranspose);
}

TEST(PassTranspose, IdentityOnAGraphOutputKeepsTheNameThroughAnIdentity) {
  constexpr const char* text = R"(
graph main (%x: float32[2,3]) -> (%y: float32[2,3]) {
  %a = Transpose(%x) #0 "t1"
  %y = Transpose(%a) #1 "t2"
}
)";
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, kTranspose), canonical(R"(
graph main (%x: float32[2,3]) -> (%y: float32[2,3]) {
  %y = Identity(%x) #1 "t2"
}
)"));
  expect_same_outputs(make, kTranspose);
}

TEST(PassTranspose, DoesNotComposeWhenTheInnerResultIsReadTwice) {
  constexpr const char* text = R"(
graph main (%x: float32[2,3,4]) -> (%y: float32[4,2,3], %n: float32[2,4,3]) {
  %a = Transpose(%x) {perm=[0,2,1]} #0 "t1"
  %y = Transpose(%a) {perm=[1,0,2]} #1 "t2"
  %n = Neg(%a) #2 "other_reader"
}
)";
  auto m = model_from_text(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, kTranspose), canonical(text));
}

TEST(PassTranspose, TransposeOfAConstantIsFolded) {
  constexpr const char* text = R"(
graph main (%x: float32[3,2]) -> (%y: float32[3,2]) {
  init %w: float32[2,3]
  %t = Transpose(%w) {perm=[1,0]} #0 "wT"
  %y = Add(%x, %t) #1 "add"
}
)";
  const std::vector<std::string> level1 = passes::pipeline_for(1, {});
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  ASSERT_TRUE(m);
  run_passes(*m, level1);
  EXPECT_EQ(count_ops(*m, "Transpose"), 0);
  EXPECT_EQ(m->graph->num_nodes(), 1u);
  expect_same_outputs(make, level1);
}

// ---- pad_folding --------------------------------------------------------------------------------

const std::vector<std::string> kPad = {"pad_folding", "dead_code_elimination"};

constexpr const char* kPadConv = R"(
graph main (%x: float32[1,2,5,6]) -> (%y: float32[1,3,9,12]) {
  init %pads: int64[8]
  init %w: float32[3,2,3,3]
  init %b: float32[3]
  %p = Pad(%x, %pads) #0 "pad"
  %y = Conv(%p, %w, %b) {kernel_shape=[3,3], pads=[1,1,1,1]} #1 "conv"
}
)";

std::unique_ptr<ir::Model> pad_conv(const std::string& text = kPadConv,
                                    std::vector<int64_t> pads = {0, 0, 1, 2, 0, 0, 3, 4}) {
  return model_from_text(text, 17, 7, with_ints({{"pads", pads}}));
}

TEST(PassPadFolding, ZeroPadIsAddedToConvPads) {
  auto m = pad_conv();
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, kPad), canonical(R"(
graph main (%x: float32[1,2,5,6]) -> (%y: float32[1,3,9,12]) {
  init %w: float32[3,2,3,3]
  init %b: float32[3]
  %y = Conv(%x, %w, %b) {kernel_shape=[3,3], pads=[2,3,4,5]} #1 "conv"
}
)"));
  expect_same_outputs([] { return pad_conv(); }, kPad);
}

TEST(PassPadFolding, ExplicitZeroValueAndAttributeFormsFold) {
  std::string text = kPadConv;
  text.replace(text.find("Pad(%x, %pads)"), 14, "Pad(%x, %pads, %zero)");
  text.replace(text.find("init %w"), 0, "init %zero: float32[]\n  ");
  auto make = [&] {
    return model_from_text(text, 17, 7, [](ir::Graph& g) {
      set_init<int64_t>(g, "pads", DataType::kInt64, {8}, {0, 0, 1, 2, 0, 0, 3, 4});
      set_init<float>(g, "zero", DataType::kFloat32, {}, {0.0f});
    });
  };
  auto m = make();
  ASSERT_TRUE(m);
  run_passes(*m, kPad);
  EXPECT_EQ(count_ops(*m, "Pad"), 0);
  expect_same_outputs(make, kPad);

  // Opset 10: pads and value are attributes; VALID counts as zero conv padding.
  constexpr const char* old = R"(
graph main (%x: float32[1,2,5,6]) -> (%y: float32[1,3,6,7]) {
  init %w: float32[3,2,3,3]
  %p = Pad(%x) {pads=[0,0,1,1,0,0,2,2], value=0.0} #0 "pad"
  %y = Conv(%p, %w) {kernel_shape=[3,3], auto_pad="VALID"} #1 "conv"
}
)";
  auto make_old = [&] { return model_from_text(old, 10); };
  auto o = make_old();
  ASSERT_TRUE(o);
  run_passes(*o, kPad);
  EXPECT_EQ(count_ops(*o, "Pad"), 0);
  EXPECT_EQ(node_ints(*o, "Conv", "pads"), (std::vector<int64_t>{1, 1, 2, 2}));
  expect_same_outputs(make_old, kPad);
}

TEST(PassPadFolding, AveragePoolCountingPaddingFoldsOtherPoolsDoNot) {
  constexpr const char* text = R"(
graph main (%x: float32[1,2,5,5]) -> (%y: float32[?,?,?,?]) {
  init %pads: int64[8]
  %p = Pad(%x, %pads) #0 "pad"
  %y = AveragePool(%p) {kernel_shape=[3,3], count_include_pad=1} #1 "pool"
}
)";
  const std::vector<int64_t> pads = {0, 0, 1, 1, 0, 0, 1, 0};
  auto make = [&] { return pad_conv(text, pads); };
  auto m = make();
  ASSERT_TRUE(m);
  run_passes(*m, kPad);
  EXPECT_EQ(count_ops(*m, "Pad"), 0);
  EXPECT_EQ(node_ints(*m, "AveragePool", "pads"), (std::vector<int64_t>{1, 1, 1, 0}));
  expect_same_outputs(make, kPad);

  const std::string from = "AveragePool(%p) {kernel_shape=[3,3], count_include_pad=1}";
  for (const char* other :
       {"AveragePool(%p) {kernel_shape=[3,3]}",
        "AveragePool(%p) {kernel_shape=[3,3], count_include_pad=1, ceil_mode=1}",
        "AveragePool(%p) {kernel_shape=[2,2], count_include_pad=1, pads=[1,0,0,0]}",
        "MaxPool(%p) {kernel_shape=[3,3]}"}) {
    std::string t = text;
    t.replace(t.find(from), from.size(), other);
    auto n = pad_conv(t, pads);
    ASSERT_TRUE(n);
    run_passes(*n, kPad);
    EXPECT_EQ(count_ops(*n, "Pad"), 1) << other;  // the third: pads would reach the window
  }
}

TEST(PassPadFolding, DoesNotFireOnOtherPadsOrASecondReader) {
  struct Case {
    const char* what;
    std::string pad, consumer;
    std::vector<int64_t> pads;
    std::string w = "float32[3,2,3,3]";
    std::string extra;
  };
  const std::string conv = "Conv(%p, %w) {kernel_shape=[3,3], pads=[1,1,1,1]}";
  const std::vector<int64_t> spatial = {0, 0, 1, 2, 0, 0, 3, 4};
  const std::vector<Case> cases = {
      {"reflect mode", "Pad(%x, %pads) {mode=\"reflect\"}", conv, spatial, "float32[3,2,3,3]", ""},
      {"non-zero value", "Pad(%x, %pads, %one)", conv, spatial, "float32[3,2,3,3]", ""},
      {"SAME_UPPER conv", "Pad(%x, %pads)",
       "Conv(%p, %w) {kernel_shape=[3,3], auto_pad=\"SAME_UPPER\"}", spatial, "float32[3,2,3,3]",
       ""},
      {"second reader", "Pad(%x, %pads)", conv, spatial, "float32[3,2,3,3]",
       "%n = Neg(%p) #2 \"other_reader\""},
      {"channel padding", "Pad(%x, %pads)", conv, {0, 1, 0, 0, 0, 0, 0, 0}, "float32[3,3,3,3]", ""},
      {"negative pads", "Pad(%x, %pads)", conv, {0, 0, -1, 2, 0, 0, 3, 4}, "float32[3,2,3,3]", ""},
  };
  for (const Case& c : cases) {
    const std::string text =
        "graph main (%x: float32[1,2,5,6]) -> (%y: float32[?,?,?,?]" +
        std::string(c.extra.empty() ? "" : ", %n: float32[?,?,?,?]") +
        ") {\n  init %pads: int64[8]\n  init %one: float32[]\n  init %w: " + c.w +
        "\n  %p = " + c.pad + " #0 \"pad\"\n  %y = " + c.consumer + " #1 \"conv\"\n  " + c.extra +
        "\n}\n";
    auto m = model_from_text(text, 17, 7, [&](ir::Graph& g) {
      set_init<int64_t>(g, "pads", DataType::kInt64, {8}, c.pads);
      set_init<float>(g, "one", DataType::kFloat32, {}, {1.0f});
    });
    ASSERT_TRUE(m) << c.what;
    const std::string before = ir::print(*m->graph);
    EXPECT_EQ(optimized_text(*m, {"pad_folding"}), before) << c.what;
  }
  // The same template folds when nothing is wrong (so the cases above fail for their reason).
  const std::string ok =
      "graph main (%x: float32[1,2,5,6]) -> (%y: float32[?,?,?,?]) {\n  init %pads: int64[8]\n"
      "  init %w: float32[3,2,3,3]\n  %p = Pad(%x, %pads) #0 \"pad\"\n  %y = " +
      conv + " #1 \"conv\"\n}\n";
  auto m = model_from_text(ok, 17, 7, with_ints({{"pads", spatial}}));
  ASSERT_TRUE(m);
  run_passes(*m, {"pad_folding"});
  EXPECT_EQ(count_ops(*m, "Pad"), 0);
}

}  // namespace
}  // namespace kiln::test
