// constant_folding and common_subexpression_elimination: golden IR (fires / does not fire) and
// numeric equality before/after through the reference interpreter.
#include <cstring>
#include <limits>

#include "unit/pass_test_util.h"

namespace kiln::test {
namespace {

std::vector<int64_t> int_contents(const ir::Model& m, const std::string& name) {
  const ir::Value* v = m.graph->find(name);
  EXPECT_NE(v, nullptr) << name;
  if (v == nullptr || v->initializer() == nullptr) return {};
  const Tensor& t = *v->initializer();
  EXPECT_EQ(t.dtype(), DataType::kInt64);
  return std::vector<int64_t>(t.data_as<int64_t>(), t.data_as<int64_t>() + t.numel());
}

const std::vector<std::string> kFold = {"constant_folding", "dead_code_elimination"};

// ---- constant_folding: nodes over constants --------------------------------------------------

constexpr const char* kConstWeights = R"(
graph main (%x: float32[4,3]) -> (%y: float32[4,2], %z: float32[4,2]) {
  init %w: float32[2,3]
  init %b: float32[2]
  %t = Transpose(%w) {perm=[1,0]} #0 "wT"
  %k = Constant() {value_floats=[0.5, 2.0]} #1 "k"
  %bk = Mul(%b, %k) #2 "scale_bias"
  %m = MatMul(%x, %t) #3 "mm"
  %y = Add(%m, %bk) #4 "add"
  %z = Sub(%m, %bk) #5 "sub"
}
)";

TEST(PassConstantFolding, FoldsNodesOverConstantsIntoInitializers) {
  auto make = [] { return model_from_text(kConstWeights); };
  auto m = make();
  ASSERT_TRUE(m);
  // The weights as set before folding: %t must hold w transposed, %bk = b * [0.5, 2].
  const Tensor w = *m->graph->find("w")->initializer();
  const Tensor b = *m->graph->find("b")->initializer();
  auto report = run_passes(*m, kFold);
  EXPECT_EQ(ir::print(*m->graph), canonical(R"(
graph main (%x: float32[4,3]) -> (%y: float32[4,2], %z: float32[4,2]) {
  init %t: float32[3,2]
  init %bk: float32[2]
  %m = MatMul(%x, %t) #3 "mm"
  %y = Add(%m, %bk) #4 "add"
  %z = Sub(%m, %bk) #5 "sub"
}
)"));
  const Tensor& t = *m->graph->find("t")->initializer();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(t.data_as<float>()[j * 2 + i], w.data_as<float>()[i * 3 + j]);
  const Tensor& bk = *m->graph->find("bk")->initializer();
  EXPECT_EQ(bk.data_as<float>()[0], b.data_as<float>()[0] * 0.5f);
  EXPECT_EQ(bk.data_as<float>()[1], b.data_as<float>()[1] * 2.0f);
  EXPECT_EQ(report.counts["constant_folding"]["folded"], 2);
  EXPECT_EQ(report.counts["constant_folding"]["Constant → initializer"], 1);
  expect_same_outputs(make, kFold);
}

TEST(PassConstantFolding, KeepsDtypesOtherThanFloat32) {
  constexpr const char* text = R"(
graph main (%x: float64[3]) -> (%y: float64[3], %n: int64[3]) {
  init %a: float64[3]
  init %i: int64[3]
  %e = Exp(%a) #0 "exp"
  %y = Add(%x, %e) #1 "add"
  %neg = Neg(%i) #2 "neg"
  %n = Add(%neg, %i) #3 "int_add"
}
)";
  auto make = [&] { return model_from_text(text, 17, 7, with_ints({{"i", {1, -2, 3}}})); };
  auto m = make();
  ASSERT_TRUE(m);
  run_passes(*m, kFold);
  // The int64 Add reads two constants once Neg is folded: both fold, %n stays (graph output).
  EXPECT_EQ(count_ops(*m, "Exp"), 0);
  EXPECT_EQ(count_ops(*m, "Neg"), 0);
  EXPECT_EQ(m->graph->find("e")->initializer()->dtype(), DataType::kFloat64);
  EXPECT_EQ(int_contents(*m, "neg"), (std::vector<int64_t>{-1, 2, -3}));
  EXPECT_EQ(count_ops(*m, "Add"), 2);
  expect_same_outputs(make, kFold);
}

TEST(PassConstantFolding, LeavesRandomTrainingHugeAndGraphOutputNodes) {
  constexpr const char* text = R"(
graph main (%x: float32[2,2]) -> (%out: float32[2], %y: float32[2,2], %h: float32[2,2]) {
  init %a: float32[2]
  init %big_shape: int64[2]
  init %hshape: int64[2]
  %out = Neg(%a) #0 "neg_output"
  %r = RandomNormal() {shape=[2,2]} #1 "random"
  %y = Add(%x, %r) #2 "add"
  %big = ConstantOfShape(%big_shape) #3 "huge"
  %s = ReduceSum(%big) {keepdims=0} #4 "sum"
  %hs = Expand(%s, %hshape) #5 "expand"
  %h = Add(%x, %hs) #6 "add2"
}
)";
  auto m =
      model_from_text(text, 17, 7, with_ints({{"big_shape", {1025, 1024}}, {"hshape", {2, 2}}}));
  ASSERT_TRUE(m);
  run_passes(*m, kFold);
  EXPECT_EQ(count_ops(*m, "Neg"), 1);              // its output is a graph output
  EXPECT_EQ(count_ops(*m, "RandomNormal"), 1);     // random
  EXPECT_EQ(count_ops(*m, "ConstantOfShape"), 1);  // 1025 × 1024 elements > 1M
  EXPECT_EQ(count_ops(*m, "ReduceSum"), 1);        // its input is not a constant
}

TEST(PassConstantFolding, LeavesDropoutInTrainingMode) {
  constexpr const char* text = R"(
graph main (%x: float32[4]) -> (%y: float32[4]) {
  init %a: float32[4]
  init %ratio: float32[]
  init %train: bool[]
  %d = Dropout(%a, %ratio, %train) #0 "drop"
  %y = Add(%x, %d) #1 "add"
}
)";
  auto m = model_from_text(text, 17, 7, [](ir::Graph& g) {
    set_init<float>(g, "ratio", DataType::kFloat32, {}, {0.5f});
    set_init<uint8_t>(g, "train", DataType::kBool, {}, {1});
  });
  ASSERT_TRUE(m);
  run_passes(*m, kFold);
  EXPECT_EQ(count_ops(*m, "Dropout"), 1);
}

// ---- constant_folding: shapes ----------------------------------------------------------------

TEST(PassConstantFolding, FoldsShapeArithmeticOverStaticDims) {
  // Shape of a non-constant tensor with static dims, then Gather/Unsqueeze/Concat: all known.
  constexpr const char* text = R"(
graph main (%x: float32[2,3,4]) -> (%y: float32[6,4]) {
  %r = Relu(%x) #0 "relu"
  %s = Shape(%r) #1 "shape"
  %last = Gather(%s, %i2) {axis=0} #2 "gather"
  %u = Unsqueeze(%last, %ax) #3 "unsq"
  %t = Concat(%minus1, %u) {axis=0} #4 "concat"
  %y = Reshape(%r, %t) #5 "reshape"
  init %i2: int64[]
  init %ax: int64[1]
  init %minus1: int64[1]
}
)";
  auto make = [&] {
    return model_from_text(text, 17, 7, with_ints({{"i2", {2}}, {"ax", {0}}, {"minus1", {-1}}}));
  };
  auto m = make();
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, kFold), canonical(R"(
graph main (%x: float32[2,3,4]) -> (%y: float32[6,4]) {
  init %t: int64[2]
  %r = Relu(%x) #0 "relu"
  %y = Reshape(%r, %t) #5 "reshape"
}
)"));
  EXPECT_EQ(int_contents(*m, "t"), (std::vector<int64_t>{-1, 4}));
  expect_same_outputs(make, kFold);
}

// BERT's attention reshape: the target is [dim 0 of m, dim 1 of m, 2, 4] with symbolic dims.
constexpr const char* kBertReshape = R"(
graph main (%x: float32[B,S,8]) -> (%y: float32[B,S,2,4]) {
  init %w: float32[8,8]
  init %i0: int64[]
  init %i1: int64[]
  init %ax: int64[1]
  init %c2: int64[1]
  init %c4: int64[1]
  %m = MatMul(%x, %w) #0 "mm"
  %s0 = Shape(%m) #1 "shape0"
  %g0 = Gather(%s0, %i0) {axis=0} #2 "gather0"
  %u0 = Unsqueeze(%g0, %ax) #3 "unsq0"
  %s1 = Shape(%m) #4 "shape1"
  %g1 = Gather(%s1, %i1) {axis=0} #5 "gather1"
  %u1 = Unsqueeze(%g1, %ax) #6 "unsq1"
  %t = Concat(%u0, %u1, %c2, %c4) {axis=0} #7 "concat"
  %y = Reshape(%m, %t) #8 "reshape"
}
)";

std::unique_ptr<ir::Model> bert_reshape(const char* text = kBertReshape) {
  return model_from_text(
      text, 17, 7, with_ints({{"i0", {0}}, {"i1", {1}}, {"ax", {0}}, {"c2", {2}}, {"c4", {4}}}));
}

TEST(PassConstantFolding, ReshapeTargetFromOwnInputShapeBecomesConstantWithCopies) {
  auto m = bert_reshape();
  ASSERT_TRUE(m);
  auto report = run_passes(*m, kFold);
  EXPECT_EQ(ir::print(*m->graph), canonical(R"(
graph main (%x: float32[B,S,8]) -> (%y: float32[B,S,2,4]) {
  init %w: float32[8,8]
  init %t_1: int64[4]
  %m = MatMul(%x, %w) #0 "mm"
  %y = Reshape(%m, %t_1) #8 "reshape"
}
)"));
  EXPECT_EQ(int_contents(*m, "t_1"), (std::vector<int64_t>{0, 0, 2, 4}));
  EXPECT_EQ(report.counts["constant_folding"]["Reshape target"], 1);
  expect_same_outputs([] { return bert_reshape(); }, kFold, {{"x", {2, 5, 8}}});
  expect_same_outputs([] { return bert_reshape(); }, kFold, {{"x", {3, 1, 8}}});
}

TEST(PassConstantFolding, ReshapeTargetFromAnotherTensorsShapeStays) {
  // Dims of x equal those of m (MatMul keeps them) but nothing here proves it structurally:
  // the chain reads Shape(x) while the Reshape reshapes m.
  std::string text = kBertReshape;
  for (const char* s : {"%s0 = Shape(%m)", "%s1 = Shape(%m)"}) {
    std::string to = s;
    to.replace(to.find("%m"), 2, "%x");
    text.replace(text.find(s), std::strlen(s), to);
  }
  auto m = bert_reshape(text.c_str());
  ASSERT_TRUE(m);
  const std::string before = ir::print(*m->graph);
  auto report = run_passes(*m, {"constant_folding"});
  EXPECT_EQ(ir::print(*m->graph), before);
  EXPECT_EQ(report.counts["constant_folding"]["Reshape target"], 0);
}

TEST(PassConstantFolding, ReshapeTargetAtAnotherPositionOrWithAllowzeroStays) {
  // Element 0 of the target is dim 1 of m: a 0 there would copy dim 0 instead.
  std::string swapped = kBertReshape;
  swapped.replace(swapped.find("Concat(%u0, %u1"), 15, "Concat(%u1, %u0");
  auto m = bert_reshape(swapped.c_str());
  ASSERT_TRUE(m);
  run_passes(*m, kFold);
  EXPECT_EQ(count_ops(*m, "Concat"), 1);
  expect_same_outputs([&] { return bert_reshape(swapped.c_str()); }, kFold, {{"x", {2, 2, 8}}});

  std::string allowzero = kBertReshape;
  allowzero.replace(allowzero.find("Reshape(%m, %t)"), 15, "Reshape(%m, %t) {allowzero=1}");
  auto z = bert_reshape(allowzero.c_str());
  ASSERT_TRUE(z);
  run_passes(*z, kFold);
  EXPECT_EQ(count_ops(*z, "Concat"), 1);
}

TEST(PassConstantFolding, SharedReshapeTargetIsReplacedOnlyWhereProvable) {
  // The target chain reads Shape(m) and feeds two Reshapes: of m (provable: [0,0,2,4]) and of
  // r = Relu(m) (same dims, but not provably from this chain): the second keeps the chain.
  std::string text = kBertReshape;
  text.replace(text.find("-> (%y: float32[B,S,2,4])"), 25,
               "-> (%y: float32[B,S,2,4], %z: float32[B,S,2,4])");
  text.replace(text.find("  %y = Reshape(%m, %t)"), 0,
               "  %r = Relu(%m) #9 \"relu\"\n  %z = Reshape(%r, %t) #10 \"reshape_other\"\n");
  auto make = [&] { return bert_reshape(text.c_str()); };
  auto m = make();
  ASSERT_TRUE(m);
  run_passes(*m, kFold);
  EXPECT_EQ(count_ops(*m, "Concat"), 1);
  for (const ir::Node* n : m->graph->nodes()) {
    if (n->name() == "reshape") {
      EXPECT_EQ(int_contents(*m, n->input(1)->name()), (std::vector<int64_t>{0, 0, 2, 4}));
    }
    if (n->name() == "reshape_other") {
      EXPECT_EQ(n->input(1)->name(), "t");
    }
  }
  expect_same_outputs(make, kFold, {{"x", {2, 3, 8}}});
}

TEST(PassConstantFolding, FoldsInsideSubgraphsWithOuterConstants) {
  constexpr const char* text = R"(
graph main (%c: bool[], %x: float32[2]) -> (%y: float32[2]) {
  init %a: float32[2]
  %y = If(%c) {then_branch=
      graph then_branch () -> (%t: float32[2]) {
        %k = Constant() {value_floats=[1.0, 2.0]} #0 "k"
        %e = Exp(%a) #1 "exp_outer_constant"
        %s = Add(%e, %k) #2 "sum"
        %t = Mul(%x, %s) #3 "mul"
      }
    , else_branch=
      graph else_branch () -> (%f: float32[2]) {
        %f = Neg(%x) #0 "neg"
      }
    } #0 "if"
}
)";
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  ASSERT_TRUE(m);
  run_passes(*m, kFold);
  const ir::Graph* then = m->graph->nodes().front()->subgraphs().front();
  ASSERT_EQ(then->num_nodes(), 1u) << ir::print(*m->graph);
  EXPECT_EQ(then->nodes().front()->op_type(), "Mul");
  expect_same_outputs(make, kFold);
}

TEST(PassConstantFolding, ShapeChainsThroughSliceSqueezeAndCast) {
  // GPT-2's c_attn: Squeeze(Slice(Shape(h), -1:)) is the last dim, static here: 16.
  constexpr const char* text = R"(
graph main (%h: float32[B,S,16]) -> (%y: float32[?,16]) {
  init %st: int64[1]
  init %en: int64[1]
  init %ax: int64[1]
  init %neg1: int64[1]
  %s = Shape(%h) #0 "shape"
  %sl = Slice(%s, %st, %en) #1 "slice"
  %sq = Squeeze(%sl, %ax) #2 "squeeze"
  %c = Cast(%sq) {to=6} #3 "to_int32"
  %c64 = Cast(%c) {to=7} #4 "to_int64"
  %u = Unsqueeze(%c64, %ax) #5 "unsq"
  %t = Concat(%neg1, %u) {axis=0} #6 "concat"
  %y = Reshape(%h, %t) #7 "reshape"
}
)";
  auto make = [&] {
    return model_from_text(text, 17, 7,
                           with_ints({{"st", {-1}},
                                      {"en", {std::numeric_limits<int64_t>::max()}},
                                      {"ax", {0}},
                                      {"neg1", {-1}}}));
  };
  auto m = make();
  ASSERT_TRUE(m);
  run_passes(*m, kFold);
  EXPECT_EQ(m->graph->num_nodes(), 1u) << ir::print(*m->graph);
  const ir::Node* r = m->graph->nodes().front();
  EXPECT_EQ(int_contents(*m, r->input(1)->name()), (std::vector<int64_t>{-1, 16}));
  expect_same_outputs(make, kFold, {{"h", {2, 3, 16}}});
}

// ---- common_subexpression_elimination -------------------------------------------------------

const std::vector<std::string> kCse = {"common_subexpression_elimination", "dead_code_elimination"};

TEST(PassCse, MergesIdenticalNodesButNotDifferentAttributesOrInputs) {
  constexpr const char* text = R"(
graph main (%x: float32[2,3,4], %z: float32[2,3,4]) -> (%y: float32[2,3,4], %p: float32[4,3,2], %q: float32[2,4,3]) {
  %a = Relu(%x) #0 "relu_a"
  %b = Relu(%x) #1 "relu_b"
  %c = Relu(%z) #2 "relu_other_input"
  %s = Add(%a, %b) #3 "add"
  %y = Add(%s, %c) #4 "add2"
  %p = Transpose(%a) {perm=[2,1,0]} #5 "t_a"
  %pb = Transpose(%b) {perm=[0,2,1]} #6 "t_b"
  %q = Neg(%pb) #7 "neg"
}
)";
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  ASSERT_TRUE(m);
  auto report = run_passes(*m, kCse);
  EXPECT_EQ(ir::print(*m->graph), canonical(R"(
graph main (%x: float32[2,3,4], %z: float32[2,3,4]) -> (%y: float32[2,3,4], %p: float32[4,3,2], %q: float32[2,4,3]) {
  %a = Relu(%x) #0 "relu_a"
  %c = Relu(%z) #2 "relu_other_input"
  %s = Add(%a, %a) #3 "add"
  %y = Add(%s, %c) #4 "add2"
  %p = Transpose(%a) {perm=[2,1,0]} #5 "t_a"
  %pb = Transpose(%a) {perm=[0,2,1]} #6 "t_b"
  %q = Neg(%pb) #7 "neg"
}
)"));
  EXPECT_EQ(report.counts["common_subexpression_elimination"]["node"], 1);
  expect_same_outputs(make, kCse);
}

TEST(PassCse, CascadesThroughChainsAndKeepsTheGraphOutputTwin) {
  constexpr const char* text = R"(
graph main (%x: float32[4]) -> (%y: float32[4], %o: float32[4]) {
  %a1 = Exp(%x) #0 "exp1"
  %b1 = Neg(%a1) #1 "neg1"
  %a2 = Exp(%x) #2 "exp2"
  %o = Neg(%a2) #3 "neg2_output"
  %y = Add(%b1, %o) #4 "add"
}
)";
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  ASSERT_TRUE(m);
  // exp2 merges into exp1; then neg2 (a graph output) equals neg1: neg2 stays, neg1 goes.
  EXPECT_EQ(optimized_text(*m, kCse), canonical(R"(
graph main (%x: float32[4]) -> (%y: float32[4], %o: float32[4]) {
  %a1 = Exp(%x) #0 "exp1"
  %o = Neg(%a1) #3 "neg2_output"
  %y = Add(%o, %o) #4 "add"
}
)"));
  expect_same_outputs(make, kCse);
}

TEST(PassCse, TwinsThatAreBothGraphOutputsAndRandomOpsStay) {
  constexpr const char* text = R"(
graph main (%x: float32[4]) -> (%a: float32[4], %b: float32[4], %y: float32[4]) {
  %a = Exp(%x) #0 "exp1"
  %b = Exp(%x) #1 "exp2"
  %r1 = RandomNormalLike(%x) #2 "rand1"
  %r2 = RandomNormalLike(%x) #3 "rand2"
  %y = Sub(%r1, %r2) #4 "sub"
}
)";
  auto m = model_from_text(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, kCse), canonical(text));
}

TEST(PassCse, ComparesTensorAttributesByBytes) {
  constexpr const char* text = R"(
graph main (%x: float32[2]) -> (%y: float32[2], %z: float32[2]) {
  %c1 = Constant() {value=tensor<float32[2]>} #0 "c1"
  %c2 = Constant() {value=tensor<float32[2]>} #1 "c2"
  %c3 = Constant() {value=tensor<float32[2]>} #2 "c3"
  %s = Add(%x, %c1) #3 "add1"
  %y = Add(%s, %c2) #4 "add2"
  %z = Add(%x, %c3) #5 "add3"
}
)";
  auto make = [&] {
    auto m = model_from_text(text);
    // c1 and c2 hold [1, 2]; c3 holds [1, 3].
    for (ir::Node* n : m->graph->nodes()) {
      if (n->op_type() != "Constant") continue;
      ir::Attribute a;
      a.name = "value";
      a.type = ir::AttrType::kTensor;
      a.t = Tensor::allocate(DataType::kFloat32, {2}).value();
      a.t.data_as<float>()[0] = 1;
      a.t.data_as<float>()[1] = n->name() == "c3" ? 3 : 2;
      n->set_attr(std::move(a));
    }
    return m;
  };
  auto m = make();
  run_passes(*m, kCse);
  EXPECT_EQ(count_ops(*m, "Constant"), 2);
  auto reader = [&](const std::string& name) -> std::string {
    for (const ir::Node* n : m->graph->nodes())
      if (n->name() == name) return n->input(1)->name();
    return "";
  };
  EXPECT_EQ(reader("add1"), "c1");
  EXPECT_EQ(reader("add2"), "c1");
  EXPECT_EQ(reader("add3"), "c3");
  expect_same_outputs(make, kCse);
}

TEST(PassCse, MergesIdenticalInitializersOnly) {
  constexpr const char* text = R"(
graph main (%x: int64[3]) -> (%y: int64[3]) {
  init %a: int64[3]
  init %b: int64[3]
  init %c: int64[3]
  init %d: int32[3]
  init %zi: int64[3]
  init %zf: float64[3]
  %s1 = Add(%x, %a) #0 "add_a"
  %s2 = Add(%s1, %b) #1 "add_b"
  %y = Add(%s2, %c) #2 "add_c"
  %dd = Cast(%d) {to=7} #3 "cast_d"
  %ci = Cast(%zi) {to=11} #4 "cast_zi"
  %sz = Add(%ci, %zf) #5 "add_zeros"
}
)";
  auto make = [&] {
    return model_from_text(text, 17, 7, [](ir::Graph& g) {
      set_init<int64_t>(g, "a", DataType::kInt64, {3}, {1, 2, 3});
      set_init<int64_t>(g, "b", DataType::kInt64, {3}, {1, 2, 3});
      set_init<int64_t>(g, "c", DataType::kInt64, {3}, {1, 2, 4});
      set_init<int32_t>(g, "d", DataType::kInt32, {3}, {1, 0, 2});  // a's first 12 bytes
      // Same 24 zero bytes, different dtypes.
      set_init<int64_t>(g, "zi", DataType::kInt64, {3}, {0, 0, 0});
      set_init<double>(g, "zf", DataType::kFloat64, {3}, {0, 0, 0});
    });
  };
  auto m = make();
  ASSERT_TRUE(m);
  auto report = run_passes(*m, {"common_subexpression_elimination"});
  EXPECT_EQ(m->graph->find("b"), nullptr);
  EXPECT_EQ(m->graph->nodes()[1]->input(1), m->graph->find("a"));
  EXPECT_NE(m->graph->find("c"), nullptr);
  EXPECT_NE(m->graph->find("d"), nullptr);
  EXPECT_NE(m->graph->find("zi"), nullptr);
  EXPECT_NE(m->graph->find("zf"), nullptr);
  EXPECT_EQ(report.counts["common_subexpression_elimination"]["initializer"], 1);
  expect_same_outputs(make, {"common_subexpression_elimination"});
}

// ---- unused initializers ----------------------------------------------------------------------

TEST(PassDeadCode, RemovesInitializersNothingReadsButKeepsInputDefaults) {
  constexpr const char* text = R"(
graph main (%x: float32[2], %dflt: float32[2]) -> (%y: float32[2]) {
  init %used: float32[2]
  init %unused: float32[2]
  init %dflt: float32[2]
  %y = Add(%x, %used) #0 "add"
}
)";
  auto m = model_from_text(text);
  ASSERT_TRUE(m);
  run_passes(*m, {"dead_code_elimination"});
  EXPECT_EQ(m->graph->find("unused"), nullptr);
  EXPECT_NE(m->graph->find("used"), nullptr);
  EXPECT_NE(m->graph->find("dflt"), nullptr);
  EXPECT_EQ(m->graph->initializers().size(), 2u);
}

TEST(PassManager, LevelOneRunsTheSimplificationsFirstInOrder) {
  const auto l1 = passes::pipeline_for(1, {});
  const std::vector<std::string> want = {"constant_folding",
                                         "common_subexpression_elimination",
                                         "reshape_chain_collapse",
                                         "transpose_elimination",
                                         "pad_folding",
                                         "identity_elimination",
                                         "dead_code_elimination"};
  ASSERT_GE(l1.size(), want.size());
  EXPECT_EQ(std::vector<std::string>(l1.begin(), l1.begin() + want.size()), want);
}

}  // namespace
}  // namespace kiln::test
