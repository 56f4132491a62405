// conv_bn_fold: golden IR (fires / does not fire) and numeric equality with the unfolded graph.
// The folded weights' values are checked numerically only: the interpreter runs the original
// Conv + BatchNormalization (its own kernels) on the same inputs.
#include "unit/pass_test_util.h"

namespace kiln::test {
namespace {

const std::vector<std::string> kFold = {"conv_bn_fold"};

// Positive variances (the random fill is in [-1, 1]).
void positive_var(ir::Graph& g, const std::string& name, int64_t c) {
  std::vector<float> v(static_cast<size_t>(c));
  for (int64_t i = 0; i < c; ++i) v[static_cast<size_t>(i)] = 0.25f + 0.5f * static_cast<float>(i);
  set_init<float>(g, name, DataType::kFloat32, {c}, v);
}

constexpr const char* kConvBn = R"(
graph main (%x: float32[1,3,8,8]) -> (%y: float32[1,4,8,8]) {
  init %w: float32[4,3,3,3]
  init %b: float32[4]
  init %s: float32[4]
  init %beta: float32[4]
  init %m: float32[4]
  init %v: float32[4]
  %c = Conv(%x, %w, %b) {pads=[1,1,1,1]} #0 "conv"
  %y = BatchNormalization(%c, %s, %beta, %m, %v) {epsilon=0.001} #1 "bn"
}
)";

std::unique_ptr<ir::Model> conv_bn() {
  return model_from_text(kConvBn, 17, 7, [](ir::Graph& g) { positive_var(g, "v", 4); });
}

TEST(PassConvBnFold, FoldsBatchNormIntoConvWeightsAndBias) {
  auto m = conv_bn();
  ASSERT_TRUE(m);
  // W and b are read only by the conv: rewritten in place; the BN parameters are left unread.
  EXPECT_EQ(optimized_text(*m, kFold), canonical(R"(
graph main (%x: float32[1,3,8,8]) -> (%y: float32[1,4,8,8]) {
  init %w: float32[4,3,3,3]
  init %b: float32[4]
  init %s: float32[4]
  init %beta: float32[4]
  init %m: float32[4]
  init %v: float32[4]
  %y = Conv(%x, %w, %b) {pads=[1,1,1,1]} #1 "bn"
}
)"));
  expect_same_outputs(conv_bn, kFold);
}

TEST(PassConvBnFold, CreatesTheBiasOfABiaslessGroupedConv) {
  constexpr const char* text = R"(
graph main (%x: float32[2,4,6,6]) -> (%y: float32[2,4,6,6]) {
  init %w: float32[4,1,3,3]
  init %s: float32[4]
  init %beta: float32[4]
  init %m: float32[4]
  init %v: float32[4]
  %c = Conv(%x, %w) {group=4, pads=[1,1,1,1]} #0 "dw"
  %y = BatchNormalization(%c, %s, %beta, %m, %v) #1 "bn"
}
)";
  auto make = [&] {
    return model_from_text(text, 17, 7, [](ir::Graph& g) { positive_var(g, "v", 4); });
  };
  auto m = make();
  EXPECT_EQ(optimized_text(*m, kFold), canonical(R"(
graph main (%x: float32[2,4,6,6]) -> (%y: float32[2,4,6,6]) {
  init %w: float32[4,1,3,3]
  init %s: float32[4]
  init %beta: float32[4]
  init %m: float32[4]
  init %v: float32[4]
  init %dw_bias_folded: float32[4]
  %y = Conv(%x, %w, %dw_bias_folded) {group=4, pads=[1,1,1,1]} #1 "bn"
}
)"));
  expect_same_outputs(make, kFold);
}

// ConvTranspose's W is [Cin, Cout/group, k...]: with 2 groups, output channel m scales the
// rows of its own group only — a per-row scale would pass a 1-group test but fail this one.
TEST(PassConvBnFold, FoldsIntoGroupedConvTranspose) {
  constexpr const char* text = R"(
graph main (%x: float32[1,4,5,5]) -> (%y: float32[1,6,10,10]) {
  init %w: float32[4,3,2,2]
  init %cb: float32[1,6,1,1]
  init %s: float32[6]
  init %beta: float32[6]
  init %m: float32[6]
  init %v: float32[6]
  %c = ConvTranspose(%x, %w) {group=2, strides=[2,2]} #0 "up"
  %a = Add(%c, %cb) #1 "bias"
  %y = BatchNormalization(%a, %s, %beta, %m, %v) #2 "bn"
}
)";
  auto make = [&] {
    return model_from_text(text, 17, 7, [](ir::Graph& g) { positive_var(g, "v", 6); });
  };
  auto m = make();
  EXPECT_EQ(optimized_text(*m, kFold), canonical(R"(
graph main (%x: float32[1,4,5,5]) -> (%y: float32[1,6,10,10]) {
  init %w: float32[4,3,2,2]
  init %cb: float32[1,6,1,1]
  init %s: float32[6]
  init %beta: float32[6]
  init %m: float32[6]
  init %v: float32[6]
  init %up_bias_folded: float32[6]
  %y = ConvTranspose(%x, %w, %up_bias_folded) {group=2, strides=[2,2]} #2 "bn"
}
)"));
  expect_same_outputs(make, kFold);
}

// Paddle's learnable affine after a conv: Mul by a scalar, Add of a scalar; also Div by and
// Sub of a [C,1,1] constant (one value per channel).
TEST(PassConvBnFold, FoldsPerChannelMulDivAddSub) {
  constexpr const char* text = R"(
graph main (%x: float32[1,2,5,5]) -> (%y: float32[1,3,5,5]) {
  init %w: float32[3,2,1,1]
  init %b: float32[3]
  init %k: float32[1]
  init %d: float32[3,1,1]
  init %a: float32[1]
  init %s: float32[1,3,1,1]
  %c = Conv(%x, %w, %b) #0 "conv"
  %p = Mul(%k, %c) #1 "mul"
  %q = Div(%p, %d) #2 "div"
  %r = Add(%q, %a) #3 "add"
  %y = Sub(%r, %s) #4 "sub"
}
)";
  auto make = [&] {
    return model_from_text(text, 17, 7, [](ir::Graph& g) {
      set_init<float>(g, "d", DataType::kFloat32, {3, 1, 1}, {0.5f, -2.0f, 4.0f});
    });
  };
  auto m = make();
  auto report = run_passes(*m, kFold);
  EXPECT_EQ(report.counts["conv_bn_fold"]["Conv+per-channel Mul/Div/Add/Sub"], 4);
  EXPECT_EQ(ir::print(*m->graph), canonical(R"(
graph main (%x: float32[1,2,5,5]) -> (%y: float32[1,3,5,5]) {
  init %w: float32[3,2,1,1]
  init %b: float32[3]
  init %k: float32[1]
  init %d: float32[3,1,1]
  init %a: float32[1]
  init %s: float32[1,3,1,1]
  %y = Conv(%x, %w, %b) #4 "sub"
}
)"));
  expect_same_outputs(make, kFold);
}

// A weight shared by two convs keeps its data for the other: the fold gets its own copy. (New
// nodes are appended and the topological sort is stable, so the fused conv now comes last.)
TEST(PassConvBnFold, SharedWeightGetsAFoldedCopy) {
  constexpr const char* text = R"(
graph main (%x: float32[1,2,4,4]) -> (%y: float32[1,2,4,4], %z: float32[1,2,4,4]) {
  init %w: float32[2,2,1,1]
  init %k: float32[2,1,1]
  %c = Conv(%x, %w) #0 "conv"
  %y = Mul(%c, %k) #1 "mul"
  %z = Conv(%x, %w) #2 "other"
}
)";
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  EXPECT_EQ(optimized_text(*m, kFold), canonical(R"(
graph main (%x: float32[1,2,4,4]) -> (%y: float32[1,2,4,4], %z: float32[1,2,4,4]) {
  init %w: float32[2,2,1,1]
  init %k: float32[2,1,1]
  init %w_folded: float32[2,2,1,1]
  init %conv_bias_folded: float32[2]
  %z = Conv(%x, %w) #2 "other"
  %y = Conv(%x, %w_folded, %conv_bias_folded) #1 "mul"
}
)"));
  expect_same_outputs(make, kFold);
}

// ---- does not fire ------------------------------------------------------------------------------

TEST(PassConvBnFold, KeepsConvWhoseOutputIsReadTwice) {
  constexpr const char* text = R"(
graph main (%x: float32[1,3,8,8]) -> (%y: float32[1,4,8,8], %r: float32[1,4,8,8]) {
  init %w: float32[4,3,3,3]
  init %s: float32[4]
  init %beta: float32[4]
  init %m: float32[4]
  init %v: float32[4]
  %c = Conv(%x, %w) {pads=[1,1,1,1]} #0 "conv"
  %y = BatchNormalization(%c, %s, %beta, %m, %v) #1 "bn"
  %r = Relu(%c) #2 "relu"
}
)";
  auto m = model_from_text(text, 17, 7, [](ir::Graph& g) { positive_var(g, "v", 4); });
  EXPECT_EQ(optimized_text(*m, kFold), canonical(text));
}

TEST(PassConvBnFold, KeepsTrainingModeAndNonConstantStatistics) {
  constexpr const char* training = R"(
graph main (%x: float32[1,3,8,8]) -> (%y: float32[1,4,8,8], %rm: float32[4], %rv: float32[4]) {
  init %w: float32[4,3,3,3]
  init %s: float32[4]
  init %beta: float32[4]
  init %m: float32[4]
  init %v: float32[4]
  %c = Conv(%x, %w) {pads=[1,1,1,1]} #0 "conv"
  %y, %rm, %rv = BatchNormalization(%c, %s, %beta, %m, %v) {training_mode=1} #1 "bn"
}
)";
  auto m = model_from_text(training, 15, 7, [](ir::Graph& g) { positive_var(g, "v", 4); });
  EXPECT_EQ(optimized_text(*m, kFold), canonical(training));

  constexpr const char* fed_mean = R"(
graph main (%x: float32[1,3,8,8], %m: float32[4]) -> (%y: float32[1,4,8,8]) {
  init %w: float32[4,3,3,3]
  init %s: float32[4]
  init %beta: float32[4]
  init %v: float32[4]
  %c = Conv(%x, %w) {pads=[1,1,1,1]} #0 "conv"
  %y = BatchNormalization(%c, %s, %beta, %m, %v) #1 "bn"
}
)";
  m = model_from_text(fed_mean, 17, 7, [](ir::Graph& g) { positive_var(g, "v", 4); });
  EXPECT_EQ(optimized_text(*m, kFold), canonical(fed_mean));
}

// A Mul that varies along a spatial dim is not per-channel; a Div by zero is not folded.
TEST(PassConvBnFold, KeepsNonChannelConstantsAndDivisionByZero) {
  constexpr const char* spatial = R"(
graph main (%x: float32[1,2,4,4]) -> (%y: float32[1,2,4,4]) {
  init %w: float32[2,2,1,1]
  init %k: float32[4]
  %c = Conv(%x, %w) #0 "conv"
  %y = Mul(%c, %k) #1 "mul"
}
)";
  auto m = model_from_text(spatial);
  EXPECT_EQ(optimized_text(*m, kFold), canonical(spatial));

  constexpr const char* by_zero = R"(
graph main (%x: float32[1,2,4,4]) -> (%y: float32[1,2,4,4]) {
  init %w: float32[2,2,1,1]
  init %k: float32[]
  %c = Conv(%x, %w) #0 "conv"
  %y = Div(%c, %k) #1 "div"
}
)";
  m = model_from_text(by_zero, 17, 7, [](ir::Graph& g) {
    set_init<float>(g, "k", DataType::kFloat32, {}, {0.0f});
  });
  EXPECT_EQ(optimized_text(*m, kFold), canonical(by_zero));
}

// The dtype rule: folds happen in double and are rounded once to the weight type; a float16
// fold whose weights leave float16's range (a near-zero variance) is refused rather than
// writing infinities.
TEST(PassConvBnFold, KeepsFloat16FoldThatWouldOverflow) {
  constexpr const char* text = R"(
graph main (%x: float16[1,2,4,4]) -> (%y: float16[1,2,4,4]) {
  init %w: float16[2,2,1,1]
  init %s: float16[2]
  init %beta: float16[2]
  init %m: float16[2]
  init %v: float16[2]
  %c = Conv(%x, %w) #0 "conv"
  %y = BatchNormalization(%c, %s, %beta, %m, %v) {epsilon=1e-12} #1 "bn"
}
)";
  auto setup = [](ir::Graph& g, float var) {
    const uint16_t h = ops::Half(var).bits, big = ops::Half(1000.0f).bits,
                   one = ops::Half(1.0f).bits;
    set_init<uint16_t>(g, "v", DataType::kFloat16, {2}, {h, h});
    set_init<uint16_t>(g, "s", DataType::kFloat16, {2}, {big, big});
    set_init<uint16_t>(g, "w", DataType::kFloat16, {2, 2, 1, 1}, {one, one, one, one});
  };
  auto m = model_from_text(text, 17, 7, [&](ir::Graph& g) { setup(g, 0.0f); });
  EXPECT_EQ(optimized_text(*m, kFold), canonical(text));
  // The same graph with a sane variance folds.
  auto ok = [&] { return model_from_text(text, 17, 7, [&](ir::Graph& g) { setup(g, 4.0f); }); };
  m = ok();
  run_passes(*m, kFold);
  EXPECT_EQ(count_ops(*m, "BatchNormalization"), 0);
  expect_same_outputs(ok, kFold, {}, 2e-3);
}

}  // namespace
}  // namespace kiln::test
