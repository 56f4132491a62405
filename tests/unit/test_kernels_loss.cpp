// Reference kernels of the loss ops (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss), the
// ai.onnx.preview.training optimizers (Adagrad, Adam, Momentum) and the deprecated Scatter.
// Expected values are worked out by hand or with NumPy (the formula is in a comment at each
// test), never produced by kiln.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "interp/interpreter.h"
#include "ir/graph.h"
#include "kernel_test_util.h"
#include "ops/kernel_util.h"
#include "ops/op_schema.h"

namespace kiln::loss_kernel_test {
namespace {

using namespace kiln::test;  // NOLINT(google-build-using-namespace): the shared harness

// A training-domain optimizer node with `outputs` outputs.
std::vector<Tensor> run_training(const std::string& op, std::vector<Tensor> inputs, Attrs attrs,
                                 size_t outputs) {
  auto r = run_op_in_domain(op, std::string(ops::kTrainingDomain), 1, std::move(inputs),
                            std::move(attrs), outputs);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? *r : std::vector<Tensor>(outputs);
}

// ---- NegativeLogLikelihoodLoss ------------------------------------------------------------------

// The ONNX specification's worked example: N, C, d1 = 2, 3, 2.
Tensor spec_input() {
  return f32({2, 3, 2}, {1, 2, 2, 2, 3, 2, 0, 1, 2, 2, 1, 2});
}
Tensor spec_target() {
  return i64({2, 2}, {2, 1, 0, 2});
}
Tensor spec_weight() {
  return f32({3}, {0.2f, 0.3f, 0.1f});
}

TEST(LossKernels, NllNoneReductionPicksTheTargetClass) {
  // loss[n][d] = -input[n][target[n][d]][d] = [[-3, -2], [-0, -2]] (spec example 1).
  for (int64_t opset : {12, 13}) {
    Tensor y = run1("NegativeLogLikelihoodLoss", opset, {spec_input(), spec_target()},
                    Attrs().s("reduction", "none"));
    ASSERT_EQ(y.dtype(), D::kFloat32);
    EXPECT_EQ(y.shape(), (Shape{2, 2}));
    expect_near_all(values(y), {-3, -2, 0, -2});
  }
}

TEST(LossKernels, NllWeightedSumAndMean) {
  // Weighted losses: -3*0.1, -2*0.3, -0*0.2, -2*0.1 → sum -1.1; weights of the targets sum to
  // 0.1 + 0.3 + 0.2 + 0.1 = 0.7 → mean -1.1 / 0.7 = -1.5714286 (spec examples 2 and 3).
  Tensor sum = run1("NegativeLogLikelihoodLoss", 13, {spec_input(), spec_target(), spec_weight()},
                    Attrs().s("reduction", "sum"));
  EXPECT_EQ(sum.shape(), Shape{});
  expect_near_all(values(sum), {-1.1});
  Tensor mean = run1("NegativeLogLikelihoodLoss", 13, {spec_input(), spec_target(), spec_weight()});
  EXPECT_EQ(mean.shape(), Shape{});
  expect_near_all(values(mean), {-1.1 / 0.7});
  // Weight omitted, default (mean) reduction: (-3 - 2 - 0 - 2) / 4.
  Tensor plain = run1("NegativeLogLikelihoodLoss", 13, {spec_input(), spec_target(), none()});
  expect_near_all(values(plain), {-7.0 / 4});
}

TEST(LossKernels, NllIgnoreIndexLeavesTheMeanDenominator) {
  // x = [[1,2,3],[4,5,6]], target [-1, 2] with ignore_index -1: only -x[1][2] = -6 counts, and
  // the mean divides by the one counted sample (ONNX Runtime gives -6 too), not by N = 2.
  Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor mean =
      run1("NegativeLogLikelihoodLoss", 13, {x, i64({2}, {-1, 2})}, Attrs().i("ignore_index", -1));
  expect_near_all(values(mean), {-6});
  Tensor none_red = run1("NegativeLogLikelihoodLoss", 13, {x, i64({2}, {-1, 2})},
                         Attrs().i("ignore_index", -1).s("reduction", "none"));
  expect_near_all(values(none_red), {0, -6});
  // Weighted: ignored samples drop out of the weight sum as well: (-2*0.5) / 0.5.
  Tensor weighted =
      run1("NegativeLogLikelihoodLoss", 13, {x, i64({2}, {1, 0}), f32({3}, {9, 0.5f, 9})},
           Attrs().i("ignore_index", 0));
  expect_near_all(values(weighted), {-2});
}

TEST(LossKernels, NllIgnoreIndexOutsideTheClassRange) {
  // ignore_index 10 with C = 3 (the backend suite's "high_ii"): target 10 is skipped, not an
  // out-of-range error. Sum = -x[0][0] = -1.
  Tensor y =
      run1("NegativeLogLikelihoodLoss", 13, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), i32({2}, {0, 10})},
           Attrs().i("ignore_index", 10).s("reduction", "sum"));
  expect_near_all(values(y), {-1});
}

TEST(LossKernels, NllMeanOfNothingIsNaN) {
  // Every target ignored: 0 / 0, as ONNX Runtime and PyTorch give.
  Tensor y =
      run1("NegativeLogLikelihoodLoss", 13, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), i64({2}, {1, 1})},
           Attrs().i("ignore_index", 1));
  expect_near_all(values(y), {NAN});
}

TEST(LossKernels, NllDoubleAndHalfHigherRank) {
  // input [1, 2, 2, 2] (N, C, d1, d2), target [1, 2, 2] = [[1, 0], [0, 1]]:
  // loss = -[x[0][1][0][0], x[0][0][0][1], x[0][0][1][0], x[0][1][1][1]] = -[5, 2, 3, 8].
  std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8};
  Tensor y =
      run1("NegativeLogLikelihoodLoss", 13, {f64({1, 2, 2, 2}, x), i64({1, 2, 2}, {1, 0, 0, 1})},
           Attrs().s("reduction", "none"));
  ASSERT_EQ(y.dtype(), D::kFloat64);
  EXPECT_EQ(y.shape(), (Shape{1, 2, 2}));
  expect_near_all(values(y), {-5, -2, -3, -8});
  Tensor h = run1("NegativeLogLikelihoodLoss", 12,
                  {f16({1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}), i64({1, 2, 2}, {1, 0, 0, 1})});
  ASSERT_EQ(h.dtype(), D::kFloat16);
  expect_near_all(values(h), {-18.0 / 4}, 1e-3);
}

TEST(LossKernels, NllRejectsBadInputs) {
  Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  std::string m = expect_error(run_op("NegativeLogLikelihoodLoss", 13, {x, i64({2}, {0, 3})}),
                               Code::kIndexOutOfRange);
  EXPECT_TRUE(contains(m, "target 3")) << m;
  EXPECT_TRUE(contains(m, "[0, 3)")) << m;
  // Negative targets do not wrap around unless they are ignore_index.
  m = expect_error(run_op("NegativeLogLikelihoodLoss", 13, {x, i64({2}, {-1, 0})},
                          Attrs().i("ignore_index", -100)),
                   Code::kIndexOutOfRange);
  EXPECT_TRUE(contains(m, "target -1")) << m;
  EXPECT_TRUE(contains(m, "ignore_index -100")) << m;
  m = expect_error(run_op("NegativeLogLikelihoodLoss", 13, {x, i64({3}, {0, 1, 2})}),
                   Code::kIncompatibleShapes);
  EXPECT_TRUE(contains(m, "[3]")) << m;
  EXPECT_TRUE(contains(m, "[2,3]")) << m;
  m = expect_error(run_op("NegativeLogLikelihoodLoss", 13, {x, i64({2}, {0, 1}), f32({2}, {1, 1})}),
                   Code::kIncompatibleShapes);
  EXPECT_TRUE(contains(m, "weights [2]")) << m;
  m = expect_error(run_op("NegativeLogLikelihoodLoss", 13, {f32({3}, {1, 2, 3}), i64({}, {0})}),
                   Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "rank >= 2")) << m;
  m = expect_error(run_op("NegativeLogLikelihoodLoss", 13, {x, f32({2}, {0, 1})}),
                   Code::kTypeUnsupported);
  EXPECT_TRUE(contains(m, "float32")) << m;
  expect_error(run_op("NegativeLogLikelihoodLoss", 13, {x, i64({2}, {0, 1}), f64({3}, {1, 1, 1})}),
               Code::kTypeUnsupported);
}

// ---- SoftmaxCrossEntropyLoss --------------------------------------------------------------------

TEST(LossKernels, SceNoneWithLogProb) {
  // log_softmax([1, 2, 3]) = [1, 2, 3] - log(e + e^2 + e^3) = [-2.4076060, -1.4076060, -0.4076060];
  // log_softmax([1, 1, 1]) = -log 3 = -1.0986123 each. Labels [2, 0] → loss [0.4076060, 1.0986123].
  auto r =
      run_op("SoftmaxCrossEntropyLoss", 13, {f32({2, 3}, {1, 2, 3, 1, 1, 1}), i64({2}, {2, 0})},
             Attrs().s("reduction", "none"), 2);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].shape(), (Shape{2}));
  expect_near_all(values((*r)[0]), {0.4076059644, 1.0986122887});
  EXPECT_EQ((*r)[1].shape(), (Shape{2, 3}));
  expect_near_all(values((*r)[1]), {-2.4076059644, -1.4076059644, -0.4076059644, -1.0986122887,
                                    -1.0986122887, -1.0986122887});
  // Default mean: (0.4076060 + 1.0986123) / 2; sum at opset 12.
  Tensor mean =
      run1("SoftmaxCrossEntropyLoss", 13, {f32({2, 3}, {1, 2, 3, 1, 1, 1}), i64({2}, {2, 0})});
  expect_near_all(values(mean), {(0.4076059644 + 1.0986122887) / 2});
  Tensor sum =
      run1("SoftmaxCrossEntropyLoss", 12, {f32({2, 3}, {1, 2, 3, 1, 1, 1}), i64({2}, {2, 0})},
           Attrs().s("reduction", "sum"));
  expect_near_all(values(sum), {0.4076059644 + 1.0986122887});
}

TEST(LossKernels, SceHigherRankWeightsAndIgnoreIndex) {
  // NumPy: x [2, 3, 2], labels [[1, 2], [0, -100]], weights [0.5, 2, 1], ignore_index -100.
  //   lp = x - log(exp(x).sum(1, keepdims=True))
  //   loss[n, d] = -lp[n, labels[n, d], d] * w[labels[n, d]] (0 where ignored)
  //     = [0.9287375682, 0.0658839038, 2.0102905695, 0]
  //   sum = 3.0049120414; mean = sum / (2 + 1 + 0.5) = 0.8585462976
  auto x = [] { return f64({2, 3, 2}, {0.5, -1, 2, 0, 1, 3, 0, 0, -2, 1, 4, 2}); };
  auto labels = [] { return i64({2, 2}, {1, 2, 0, -100}); };
  auto w = [] { return f64({3}, {0.5, 2, 1}); };
  auto attrs = [](const char* red) { return Attrs().i("ignore_index", -100).s("reduction", red); };
  auto r = run_op("SoftmaxCrossEntropyLoss", 13, {x(), labels(), w()}, attrs("none"), 2);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 2}));
  expect_near_all(values((*r)[0]), {0.9287375682, 0.0658839038, 2.0102905695, 0});
  expect_near_all(values((*r)[1]), {-1.9643687841, -4.0658839038, -0.4643687841, -3.0658839038,
                                    -1.4643687841, -0.0658839038, -4.0205811389, -2.4076059644,
                                    -6.0205811389, -1.4076059644, -0.0205811389, -0.4076059644});
  expect_near_all(values(run1("SoftmaxCrossEntropyLoss", 13, {x(), labels(), w()}, attrs("sum"))),
                  {3.0049120414});
  expect_near_all(values(run1("SoftmaxCrossEntropyLoss", 13, {x(), labels(), w()}, attrs("mean"))),
                  {0.8585462976});
}

TEST(LossKernels, SceIsStableForLargeScores) {
  // log_softmax([1000, 0]) = [0, -1000] exactly in double; a naive exp would overflow to inf.
  auto r = run_op("SoftmaxCrossEntropyLoss", 13, {f32({1, 2}, {1000, 0}), i64({1}, {1})},
                  Attrs().s("reduction", "none"), 2);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(values((*r)[0]), {1000});
  expect_near_all(values((*r)[1]), {0, -1000});
}

TEST(LossKernels, SceLogProbOptionalAndErrors) {
  // Output 1 omitted: only the loss is produced.
  auto r = run_op("SoftmaxCrossEntropyLoss", 13, {f32({1, 2}, {0, 0}), i64({1}, {0})}, {}, 2, {1});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(values((*r)[0]), {std::log(2.0)});
  EXPECT_TRUE((*r)[1].empty());
  std::string m =
      expect_error(run_op("SoftmaxCrossEntropyLoss", 13, {f32({1, 2}, {0, 0}), i64({1}, {2})}),
                   Code::kIndexOutOfRange);
  EXPECT_TRUE(contains(m, "SoftmaxCrossEntropyLoss target 2")) << m;
  m = expect_error(run_op("SoftmaxCrossEntropyLoss", 13,
                          {f32({2, 2, 3}, std::vector<float>(12, 0)), i64({2, 2}, {0, 0, 0, 0})}),
                   Code::kIncompatibleShapes);
  EXPECT_TRUE(contains(m, "labels [2,2]")) << m;
  EXPECT_TRUE(contains(m, "scores [2,2,3]")) << m;
}

// ---- Adagrad, Adam, Momentum (ai.onnx.preview.training) -----------------------------------------

TEST(TrainingKernels, AdagradDecaysTheRate) {
  // NumPy: r = 0.1 / (1 + 2 * 0.1); g = 0.001 * x + g; h_new = h + g * g;
  //        x_new = x - r * g / (sqrt(h_new) + 1e-5)
  // x = [1, 2], g = [-1, 3], h = [2, 0] → x_new = [1.0480801537, 1.9166669443],
  // h_new = [2.998001, 9.012004].
  auto out = run_training(
      "Adagrad",
      {f32({}, {0.1f}), i64({}, {2}), f32({2}, {1, 2}), f32({2}, {-1, 3}), f32({2}, {2, 0})},
      Attrs().f("norm_coefficient", 0.001f).f("decay_factor", 0.1f).f("epsilon", 1e-5f), 2);
  ASSERT_EQ(out[0].dtype(), D::kFloat32);
  expect_near_all(values(out[0]), {1.0480801537, 1.9166669443}, 1e-5);
  expect_near_all(values(out[1]), {2.998001, 9.012004}, 1e-5);
}

TEST(TrainingKernels, AdamFirstStepAndBiasCorrection) {
  // Attributes are float32, so the NumPy reference uses the float32-rounded values
  // (a = float(np.float32(0.9)) and so on); on float64 tensors the results then agree to ~1e-10.
  // T = 0 (no bias correction), defaults alpha 0.9, beta 0.999, epsilon 1e-6:
  //   v_new = a v + (1 - a) g; h_new = b h + (1 - b) g^2; x_new = x - R v_new / (sqrt(h_new) + eps)
  //   x = [1, -2], g = [0.5, 1], v = [0, 0.2], h = [0, 0.1], R = 0.1
  //   → x_new = [0.6837901219, -2.0881477306], v_new = [0.0500000119, 0.2800000191],
  //     h_new = [0.0002499968, 0.1008999884]
  auto in = [](int64_t t) {
    return std::vector<Tensor>{f64({}, {0.1}),     i64({1}, {t}),      f64({2}, {1, -2}),
                               f64({2}, {0.5, 1}), f64({2}, {0, 0.2}), f64({2}, {0, 0.1})};
  };
  auto out = run_training("Adam", in(0), {}, 3);
  ASSERT_EQ(out[0].dtype(), D::kFloat64);
  expect_near_all(values(out[0]), {0.6837901219, -2.0881477306}, 1e-9);
  expect_near_all(values(out[1]), {0.0500000119, 0.2800000191}, 1e-9);
  expect_near_all(values(out[2]), {0.0002499968, 0.1008999884}, 1e-9);
  // T = 3, alpha 0.8, beta 0.9, epsilon 1e-4, norm_coefficient 0.01, norm_coefficient_post 0.1:
  //   g' = 0.01 x + g; R' = R sqrt(1 - b^3) / (1 - a^3);
  //   x_final = (1 - 0.1) (x - R' v_new / (sqrt(h_new) + eps))
  //   → x = [0.8393168488, -1.8792234047], v = [0.1019999939, 0.3559999908],
  //     h = [0.0260100062, 0.1860400206]
  out = run_training("Adam", in(3),
                     Attrs()
                         .f("alpha", 0.8f)
                         .f("beta", 0.9f)
                         .f("epsilon", 1e-4f)
                         .f("norm_coefficient", 0.01f)
                         .f("norm_coefficient_post", 0.1f),
                     3);
  expect_near_all(values(out[0]), {0.8393168488, -1.8792234047}, 1e-9);
  expect_near_all(values(out[1]), {0.1019999939, 0.3559999908}, 1e-9);
  expect_near_all(values(out[2]), {0.0260100062, 0.1860400206}, 1e-9);
}

TEST(TrainingKernels, MomentumStandardAndNesterov) {
  // x = [1, 2], g = [0.5, -1], v = [1, 1], R = 0.1, alpha 0.9, beta 0.5.
  // T = 0, standard, norm 0: beta is taken as 1: v_new = 0.9 + g = [1.4, -0.1];
  //   x_new = x - 0.1 v_new = [0.86, 2.01].
  // T = 1, norm 0.1: g' = g + 0.1 x = [0.6, -0.8]; v_new = 0.9 v + 0.5 g' = [1.2, 0.5];
  //   standard x_new = x - 0.1 v_new = [0.88, 1.95];
  //   nesterov x_new = x - 0.1 (g' + 0.9 v_new) = [0.832, 2.035].
  auto in = [](int64_t t) {
    return std::vector<Tensor>{f32({}, {0.1f}), i64({}, {t}), f32({2}, {1, 2}),
                               f32({2}, {0.5f, -1}), f32({2}, {1, 1})};
  };
  auto attrs = [](float norm, const char* mode) {
    return Attrs().f("alpha", 0.9f).f("beta", 0.5f).f("norm_coefficient", norm).s("mode", mode);
  };
  auto out = run_training("Momentum", in(0), attrs(0, "standard"), 2);
  expect_near_all(values(out[0]), {0.86, 2.01}, 1e-6);
  expect_near_all(values(out[1]), {1.4, -0.1}, 1e-6);
  out = run_training("Momentum", in(1), attrs(0.1f, "standard"), 2);
  expect_near_all(values(out[0]), {0.88, 1.95}, 1e-6);
  expect_near_all(values(out[1]), {1.2, 0.5}, 1e-6);
  out = run_training("Momentum", in(1), attrs(0.1f, "nesterov"), 2);
  expect_near_all(values(out[0]), {0.832, 2.035}, 1e-6);
  expect_near_all(values(out[1]), {1.2, 0.5}, 1e-6);
}

TEST(TrainingKernels, SeveralTensorsKeepTheirRuns) {
  // Two tensors: inputs R, T, X1, X2, G1, G2, V1, V2 → outputs X1', X2', V1', V2'.
  // Momentum T = 0, alpha 0.5, norm 0, R = 1: v' = 0.5 v + g, x' = x - v'.
  //   X1 = [10], G1 = [1], V1 = [2] → V1' = [2], X1' = [8]
  //   X2 = [[1, 2]], G2 = [[0, 4]], V2 = [[-2, 2]] → V2' = [[-1, 5]], X2' = [[2, -3]]
  auto out = run_training(
      "Momentum",
      {f32({}, {1}), i64({}, {0}), f32({1}, {10}), f32({1, 2}, {1, 2}), f32({1}, {1}),
       f32({1, 2}, {0, 4}), f32({1}, {2}), f32({1, 2}, {-2, 2})},
      Attrs().f("alpha", 0.5f).f("beta", 0.25f).f("norm_coefficient", 0).s("mode", "standard"), 4);
  EXPECT_EQ(out[0].shape(), (Shape{1}));
  expect_near_all(values(out[0]), {8});
  EXPECT_EQ(out[1].shape(), (Shape{1, 2}));
  expect_near_all(values(out[1]), {2, -3});
  expect_near_all(values(out[2]), {2});
  expect_near_all(values(out[3]), {-1, 5});
}

TEST(TrainingKernels, RejectBadNodesAndInputs) {
  const std::string dom(ops::kTrainingDomain);
  auto adagrad = [&](std::vector<Tensor> in, size_t outputs = 2) {
    return run_op_in_domain("Adagrad", dom, 1, std::move(in), {}, outputs);
  };
  // 6 inputs: 2 + 4 is not 2 + 3n.
  std::string m = expect_error(adagrad({f32({}, {1}), i64({}, {0}), f32({1}, {1}), f32({1}, {1}),
                                        f32({1}, {1}), f32({1}, {1})}),
                               Code::kArityMismatch);
  EXPECT_TRUE(contains(m, "the node has 6")) << m;
  // One tensor: at most 2 outputs.
  m = expect_error(
      adagrad({f32({}, {1}), i64({}, {0}), f32({1}, {1}), f32({1}, {1}), f32({1}, {1})}, 3),
      Code::kArityMismatch);
  EXPECT_TRUE(contains(m, "1..2 outputs")) << m;
  m = expect_error(adagrad({f32({}, {1}), i64({}, {0}), f32({2}, {1, 2}), f32({3}, {1, 2, 3}),
                            f32({2}, {1, 1})}),
                   Code::kIncompatibleShapes);
  EXPECT_TRUE(contains(m, "G_1 is float32 [3]")) << m;
  EXPECT_TRUE(contains(m, "X_1, float32 [2]")) << m;
  m = expect_error(
      adagrad({f32({}, {1}), i32({}, {0}), f32({1}, {1}), f32({1}, {1}), f32({1}, {1})}),
      Code::kTypeUnsupported);
  EXPECT_TRUE(contains(m, "int32")) << m;
  m = expect_error(
      adagrad({f32({2}, {1, 1}), i64({}, {0}), f32({1}, {1}), f32({1}, {1}), f32({1}, {1})}),
      Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "one value")) << m;
  m = expect_error(
      run_op_in_domain(
          "Momentum", dom, 1,
          {f32({}, {1}), i64({}, {0}), f32({1}, {1}), f32({1}, {1}), f32({1}, {1})},
          Attrs().f("alpha", 1).f("beta", 1).f("norm_coefficient", 0).s("mode", "adam"), 2),
      Code::kAttributeValueUnsupported);
  EXPECT_TRUE(contains(m, "'adam'")) << m;
}

// ---- Scatter (deprecated ScatterElements) -------------------------------------------------------

TEST(ScatterKernel, RunsAsScatterElements) {
  // data zeros [3, 3], axis 0: output[indices[i][j]][j] = updates[i][j] (ONNX's Scatter example).
  //   indices [[1, 0, 2], [0, 2, 1]], updates [[1, 1.1, 1.2], [2, 2.1, 2.2]]
  //   → [[2, 1.1, 0], [1, 0, 2.2], [0, 2.1, 1.2]]
  for (int64_t opset : {9, 11}) {
    Tensor y = run1("Scatter", opset,
                    {f32({3, 3}, std::vector<float>(9, 0)), i64({2, 3}, {1, 0, 2, 0, 2, 1}),
                     f32({2, 3}, {1, 1.1f, 1.2f, 2, 2.1f, 2.2f})});
    EXPECT_EQ(y.shape(), (Shape{3, 3}));
    expect_near_all(values(y), {2, 1.1, 0, 1, 0, 2.2, 0, 2.1, 1.2});
  }
  // axis 1 with a negative index: data [[1, 2, 3, 4, 5]], indices [[1, -2]], updates [[1.1, 2.1]]
  //   → [[1, 1.1, 3, 2.1, 5]]
  Tensor y = run1("Scatter", 11,
                  {f32({1, 5}, {1, 2, 3, 4, 5}), i32({1, 2}, {1, -2}), f32({1, 2}, {1.1f, 2.1f})},
                  Attrs().i("axis", 1));
  expect_near_all(values(y), {1, 1.1, 3, 2.1, 5});
  std::string m =
      expect_error(run_op("Scatter", 11, {f32({1, 2}, {0, 0}), i64({1, 1}, {2}), f32({1, 1}, {1})},
                          Attrs().i("axis", 1)),
                   Code::kIndexOutOfRange);
  EXPECT_TRUE(contains(m, "Scatter index 2")) << m;
}

}  // namespace
}  // namespace kiln::loss_kernel_test
