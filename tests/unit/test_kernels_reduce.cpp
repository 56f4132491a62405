// Reference kernels of the reduction-style and assorted tensor ops: Reduce*, ArgMax/ArgMin,
// Softmax/LogSoftmax/Hardmax, the normalizations, Trilu, OneHot, NonZero, TopK, CumSum, Einsum,
// EyeLike, ReverseSequence, Compress and Unique. Covers what the ONNX backend data lacks:
// revision differences, 16-bit floats, integer types, empty and scalar tensors, and the coded
// errors for bad shapes, axes and indices.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "interp/interpreter.h"
#include "ir/graph.h"
#include "kernel_test_util.h"
#include "ops/kernel_util.h"

namespace kiln::reduce_kernel_test {
namespace {

using namespace kiln::test;  // NOLINT(google-build-using-namespace): the shared harness

std::vector<int64_t> ints(const Tensor& t) {
  EXPECT_EQ(t.dtype(), D::kInt64);
  return std::vector<int64_t>(t.data_as<int64_t>(), t.data_as<int64_t>() + t.numel());
}

// ---- Reduce* ----------------------------------------------------------------------------------

TEST(ReduceKernels, SumAxesInputNegativeNoKeepdims) {
  Tensor y = run1("ReduceSum", 13, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), i64({1}, {-1})},
                  Attrs().i("keepdims", 0));
  EXPECT_EQ(y.shape(), (Shape{2}));
  expect_near_all_loose(values(y), {6, 15});
}

TEST(ReduceKernels, SumAttributeAxesAtOpset11AndDefaultAll) {
  Tensor y = run1("ReduceSum", 11, {f32({2, 3}, {1, 2, 3, 4, 5, 6})}, Attrs().ints("axes", {0}));
  EXPECT_EQ(y.shape(), (Shape{1, 3}));
  expect_near_all_loose(values(y), {5, 7, 9});
  Tensor all = run1("ReduceSum", 11, {f32({2, 3}, {1, 2, 3, 4, 5, 6})});
  EXPECT_EQ(all.shape(), (Shape{1, 1}));
  expect_near_all_loose(values(all), {21});
}

TEST(ReduceKernels, OmittedAxesInputReducesAllUnlessNoop) {
  Tensor all =
      run1("ReduceMean", 18, {f32({2, 2}, {1, 2, 3, 6}), none()}, Attrs().i("keepdims", 0));
  EXPECT_EQ(all.shape(), Shape{});
  expect_near_all_loose(values(all), {3});
  Tensor same = run1("ReduceSum", 13, {f32({2, 2}, {1, 2, 3, 6}), i64({0}, {})},
                     Attrs().i("noop_with_empty_axes", 1));
  EXPECT_EQ(same.shape(), (Shape{2, 2}));
  expect_near_all_loose(values(same), {1, 2, 3, 6});
}

TEST(ReduceKernels, NoopStillAppliesElementwiseSteps) {
  // ONNX: with noop_with_empty_axes, ReduceSumSquare returns the squares and ReduceLogSum logs.
  Tensor sq =
      run1("ReduceSumSquare", 18, {f32({3}, {-2, 3, 0.5f})}, Attrs().i("noop_with_empty_axes", 1));
  expect_near_all_loose(values(sq), {4, 9, 0.25});
  Tensor lg = run1("ReduceLogSum", 18, {f32({2}, {1, std::exp(2.0f)})},
                   Attrs().i("noop_with_empty_axes", 1));
  expect_near_all_loose(values(lg), {0, 2});
  Tensor l1 = run1("ReduceL1", 18, {i32({2}, {-5, 7})}, Attrs().i("noop_with_empty_axes", 1));
  expect_near_all_loose(values(l1), {5, 7});
}

TEST(ReduceKernels, EmptyReductionIdentities) {
  // Reducing an axis of size 0: the identity of each reduction.
  const Shape shape = {2, 0};
  auto reduce = [&](const char* op, Tensor x) {
    return run1(op, 18, {std::move(x), i64({1}, {1})}, Attrs().i("keepdims", 0));
  };
  Tensor sum = reduce("ReduceSum", f32(shape, {}));
  EXPECT_EQ(sum.shape(), (Shape{2}));
  expect_near_all_loose(values(sum), {0, 0});
  expect_near_all_loose(values(reduce("ReduceProd", f32(shape, {}))), {1, 1});
  expect_near_all_loose(values(reduce("ReduceMax", f32(shape, {}))), {-INFINITY, -INFINITY});
  expect_near_all_loose(values(reduce("ReduceMin", f32(shape, {}))), {INFINITY, INFINITY});
  expect_near_all_loose(values(reduce("ReduceLogSumExp", f32(shape, {}))), {-INFINITY, -INFINITY});
  expect_near_all_loose(values(reduce("ReduceMean", f32(shape, {}))), {NAN, NAN});
  Tensor imax = reduce("ReduceMax", i32(shape, {}));
  expect_near_all_loose(values(imax), {INT32_MIN, INT32_MIN});
  Tensor umin = reduce("ReduceMin", u8(shape, {}));
  expect_near_all_loose(values(umin), {255, 255});
}

TEST(ReduceKernels, KeepdimsOnEmptyOutputAndScalarInput) {
  Tensor y = run1("ReduceSum", 13, {f32({0, 3}, {}), i64({1}, {1})});
  EXPECT_EQ(y.shape(), (Shape{0, 1}));
  Tensor s = run1("ReduceMin", 18, {f32({}, {4.5f})});
  EXPECT_EQ(s.shape(), Shape{});
  expect_near_all_loose(values(s), {4.5});
}

TEST(ReduceKernels, BoolMaxIsAnyMinIsAll) {
  Tensor x = boolean({2, 2}, {true, false, false, false});
  Tensor mx = run1("ReduceMax", 20, {x, i64({1}, {1})}, Attrs().i("keepdims", 0));
  ASSERT_EQ(mx.dtype(), D::kBool);
  expect_near_all_loose(values(mx), {1, 0});
  Tensor mn = run1("ReduceMin", 20, {boolean({2, 2}, {true, true, true, false}), i64({1}, {1})},
                   Attrs().i("keepdims", 0));
  expect_near_all_loose(values(mn), {1, 0});
}

TEST(ReduceKernels, IntegerSemantics) {
  // Sums wrap like the narrow type; Mean truncates toward zero like NumPy's astype.
  Tensor s = run1("ReduceSum", 13, {i32({2}, {INT32_MAX, 1}), none()}, Attrs().i("keepdims", 0));
  EXPECT_EQ(values(s), (std::vector<double>{static_cast<double>(INT32_MIN)}));
  Tensor m = run1("ReduceMean", 13, {i32({2}, {-3, -4})}, Attrs().i("keepdims", 0));
  EXPECT_EQ(values(m), (std::vector<double>{-3}));
  Tensor p = run1("ReduceProd", 13, {i64({3}, {-2, 3, 7})}, Attrs().i("keepdims", 0));
  EXPECT_EQ(values(p), (std::vector<double>{-42}));
  Tensor l2 = run1("ReduceL2", 13, {i32({2}, {3, 4})}, Attrs().i("keepdims", 0));
  EXPECT_EQ(values(l2), (std::vector<double>{5}));
  Tensor mx = run1("ReduceMax", 12, {i8({3}, {-128, 5, -7})}, Attrs().i("keepdims", 0));
  EXPECT_EQ(values(mx), (std::vector<double>{5}));
}

TEST(ReduceKernels, HalfPrecisionAccumulatesWide) {
  // 4096 copies of 0.1 in float16: a float16 accumulator stalls far below the true sum.
  std::vector<float> v(4096, 0.1f);
  Tensor mean = run1("ReduceMean", 13, {f16({4096}, v)}, Attrs().i("keepdims", 0));
  ASSERT_EQ(mean.dtype(), D::kFloat16);
  expect_near_all_loose(values(mean), {0.1}, 1e-3);
  Tensor sum = run1("ReduceSum", 13, {bf16({4096}, v), none()}, Attrs().i("keepdims", 0));
  ASSERT_EQ(sum.dtype(), D::kBFloat16);
  expect_near_all_loose(values(sum), {409.6}, 1e-2);
}

TEST(ReduceKernels, LogSumExpIsStableAndL2Correct) {
  Tensor y = run1("ReduceLogSumExp", 18, {f32({2}, {1000, 1000})}, Attrs().i("keepdims", 0));
  expect_near_all_loose(values(y), {1000 + std::log(2.0)});
  Tensor l2 = run1("ReduceL2", 18, {f64({2, 2}, {3, 4, 6, 8}), i64({1}, {-1})});
  EXPECT_EQ(l2.shape(), (Shape{2, 1}));
  expect_near_all_loose(values(l2), {5, 10});
  Tensor mx = run1("ReduceMax", 18, {f32({3}, {1, NAN, 3})}, Attrs().i("keepdims", 0));
  expect_near_all_loose(values(mx), {NAN});
}

TEST(ReduceKernels, ReducesSeveralNonAdjacentAxes) {
  std::vector<float> x(24);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  Tensor y =
      run1("ReduceSum", 11, {f32({2, 3, 4}, x)}, Attrs().ints("axes", {0, 2}).i("keepdims", 0));
  EXPECT_EQ(y.shape(), (Shape{3}));
  // sum over i, k of 12i + 4j + k = 2*4*4j + (0+12)*4 + 2*(0+1+2+3)
  expect_near_all_loose(values(y), {60, 92, 124});
}

TEST(ReduceKernels, BadAxesAreCoded) {
  std::string m =
      expect_error(run_op("ReduceSum", 13, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), i64({2}, {1, -1})}),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("repeat"), std::string::npos) << m;
  m = expect_error(
      run_op("ReduceMax", 11, {f32({2, 3}, {1, 2, 3, 4, 5, 6})}, Attrs().ints("axes", {2})),
      Code::kInvalidArgument);
  EXPECT_NE(m.find("axis 2"), std::string::npos) << m;
  EXPECT_NE(m.find("rank 2"), std::string::npos) << m;
  m = expect_error(run_op("ReduceSum", 13, {f32({2}, {1, 2}), i64({1, 1}, {0})}),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("1-D"), std::string::npos) << m;
}

TEST(ReduceKernels, BoolOnlyForMaxMin) {
  expect_error(run_op("ReduceSum", 13, {boolean({2}, {true, true})}), Code::kTypeUnsupported);
}

// ---- ArgMax / ArgMin --------------------------------------------------------------------------

TEST(ArgKernels, SelectLastIndexAndKeepdims) {
  Tensor x = f32({2, 3}, {1, 5, 5, 7, 2, 7});
  Tensor first = run1("ArgMax", 13, {x}, Attrs().i("axis", 1));
  EXPECT_EQ(first.shape(), (Shape{2, 1}));
  EXPECT_EQ(ints(first), (std::vector<int64_t>{1, 0}));
  Tensor last =
      run1("ArgMax", 12, {x}, Attrs().i("axis", -1).i("select_last_index", 1).i("keepdims", 0));
  EXPECT_EQ(last.shape(), (Shape{2}));
  EXPECT_EQ(ints(last), (std::vector<int64_t>{2, 2}));
  Tensor mn = run1("ArgMin", 13, {x}, Attrs().i("axis", 0).i("keepdims", 0));
  EXPECT_EQ(ints(mn), (std::vector<int64_t>{0, 1, 0}));
}

TEST(ArgKernels, IntegerAndHalfInputs) {
  Tensor y = run1("ArgMin", 13, {i8({4}, {3, -9, 4, -9})}, Attrs().i("select_last_index", 1));
  EXPECT_EQ(ints(y), (std::vector<int64_t>{3}));
  Tensor h = run1("ArgMax", 13, {f16({3}, {0.5f, 2.0f, 1.0f})});
  EXPECT_EQ(ints(h), (std::vector<int64_t>{1}));
}

TEST(ArgKernels, EmptyAxisAndBadAxisAreCoded) {
  std::string m = expect_error(run_op("ArgMax", 13, {f32({2, 0}, {})}, Attrs().i("axis", 1)),
                               Code::kInvalidArgument);
  EXPECT_NE(m.find("empty"), std::string::npos) << m;
  m = expect_error(run_op("ArgMax", 13, {f32({2}, {1, 2})}, Attrs().i("axis", 3)),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("3"), std::string::npos) << m;
  // An empty output needs no answer.
  Tensor y = run1("ArgMax", 13, {f32({0, 4}, {})}, Attrs().i("axis", 1));
  EXPECT_EQ(y.shape(), (Shape{0, 1}));
}

// ---- Softmax family ---------------------------------------------------------------------------

TEST(SoftmaxKernels, Revision11CoercesTo2DButRevision13UsesOneAxis) {
  const std::vector<float> v = {0, 1, 2, 3, 4, 5, 6, 7};
  Tensor old = run1("Softmax", 11, {f32({2, 2, 2}, v)}, Attrs().i("axis", 1));
  Tensor now = run1("Softmax", 13, {f32({2, 2, 2}, v)}, Attrs().i("axis", 1));
  // Revision 11 normalizes each row of 4 ([0..3], [4..7]); revision 13 each pair along dim 1.
  double z = 0;
  for (int i = 0; i < 4; ++i) z += std::exp(i);
  expect_near_all_loose(values(old), {1 / z, std::exp(1) / z, std::exp(2) / z, std::exp(3) / z,
                                      1 / z, std::exp(1) / z, std::exp(2) / z, std::exp(3) / z});
  const double a = 1 / (1 + std::exp(2.0)), b = 1 - a;
  expect_near_all_loose(values(now), {a, a, b, b, a, a, b, b});
}

TEST(SoftmaxKernels, LogSoftmaxLargeNumbersAndHardmaxTies) {
  Tensor y = run1("LogSoftmax", 13, {f32({2}, {10000, 10000})});
  expect_near_all_loose(values(y), {-std::log(2.0), -std::log(2.0)});
  Tensor h = run1("Hardmax", 13, {f32({2, 3}, {1, 3, 3, 0, -1, -2})});
  expect_near_all_loose(values(h), {0, 1, 0, 1, 0, 0});
  Tensor h11 = run1("Hardmax", 11, {f32({1, 2, 2}, {1, 2, 4, 3})});  // axis 1: over all 4
  expect_near_all_loose(values(h11), {0, 0, 1, 0});
}

TEST(SoftmaxKernels, SixteenBitFloatsAndEmpty) {
  Tensor y = run1("Softmax", 13, {bf16({2}, {0, 0})});
  ASSERT_EQ(y.dtype(), D::kBFloat16);
  expect_near_all_loose(values(y), {0.5, 0.5});
  Tensor h = run1("Softmax", 13, {f16({3}, {1, 2, 3})}, Attrs().i("axis", 0));
  const double z = std::exp(1) + std::exp(2) + std::exp(3);
  expect_near_all_loose(values(h), {std::exp(1) / z, std::exp(2) / z, std::exp(3) / z}, 2e-3);
  Tensor e = run1("Softmax", 13, {f32({0, 3}, {})});
  EXPECT_EQ(e.shape(), (Shape{0, 3}));
}

TEST(SoftmaxKernels, BadAxisIsCoded) {
  std::string m =
      expect_error(run_op("Softmax", 13, {f32({2, 2}, {1, 2, 3, 4})}, Attrs().i("axis", -3)),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("-3"), std::string::npos) << m;
  expect_error(run_op("LogSoftmax", 11, {f32({3}, {1, 2, 3})}),
               Code::kInvalidArgument);  // axis 1, rank 1
}

// ---- Normalization ----------------------------------------------------------------------------

TEST(NormKernels, BatchNormInferenceMixedTypes) {
  // Revision 15: X float16, parameters float32.
  Tensor x = f16({1, 2, 2}, {1, 3, 10, 20});
  Tensor y = run1("BatchNormalization", 15,
                  {x, f32({2}, {2, 1}), f32({2}, {0.5f, 0}), f32({2}, {2, 15}), f32({2}, {4, 25})},
                  Attrs().f("epsilon", 0));
  ASSERT_EQ(y.dtype(), D::kFloat16);
  expect_near_all_loose(values(y), {2 * (1 - 2) / 2.0 + 0.5, 2 * (3 - 2) / 2.0 + 0.5, -1, 1}, 1e-3);
}

TEST(NormKernels, BatchNormTrainingModeUpdatesRunningStats) {
  Tensor x = f32({2, 1, 2}, {1, 2, 3, 6});  // channel mean 3, population variance 3.5
  auto r = run_op("BatchNormalization", 14,
                  {x, f32({1}, {1}), f32({1}, {0}), f32({1}, {1}), f32({1}, {2})},
                  Attrs().i("training_mode", 1).f("momentum", 0.5f).f("epsilon", 0), 3);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const double s = std::sqrt(3.5);
  expect_near_all_loose(values((*r)[0]), {-2 / s, -1 / s, 0, 3 / s});
  expect_near_all_loose(values((*r)[1]), {0.5 * 1 + 0.5 * 3});
  expect_near_all_loose(values((*r)[2]), {0.5 * 2 + 0.5 * 3.5});
}

TEST(NormKernels, BatchNormSpatialZeroAtRevision7) {
  // Parameters per activation ([C, D1] = [1, 2]); spatial=1 would need one value per channel.
  Tensor x = f32({2, 1, 2}, {1, 2, 3, 4});
  Tensor y = run1("BatchNormalization", 7,
                  {x, f32({2}, {1, 1}), f32({2}, {0, 0}), f32({2}, {1, 2}), f32({2}, {1, 4})},
                  Attrs().i("spatial", 0).f("epsilon", 0));
  expect_near_all_loose(values(y), {0, 0, 2, 1});
}

TEST(NormKernels, BatchNormErrorsAreCoded) {
  std::string m =
      expect_error(run_op("BatchNormalization", 15,
                          {f32({1, 3, 1}, {1, 2, 3}), f32({2}, {1, 1}), f32({3}, {0, 0, 0}),
                           f32({3}, {0, 0, 0}), f32({3}, {1, 1, 1})}),
                   Code::kIncompatibleShapes);
  EXPECT_NE(m.find("[2]"), std::string::npos) << m;
  EXPECT_NE(m.find("[1,3,1]"), std::string::npos) << m;
  m = expect_error(
      run_op("BatchNormalization", 9,
             {f32({1, 1}, {1}), f32({1}, {1}), f32({1}, {0}), f32({1}, {0}), f32({1}, {1})}, {}, 2),
      Code::kInvalidArgument);
  EXPECT_NE(m.find("training"), std::string::npos) << m;
}

TEST(NormKernels, InstanceNorm) {
  Tensor y = run1("InstanceNormalization", 6,
                  {f32({1, 2, 2}, {1, 3, 5, 7}), f32({2}, {2, 1}), f32({2}, {1, 7})},
                  Attrs().f("epsilon", 0));
  expect_near_all_loose(values(y), {-1, 3, 6, 8});
  expect_error(
      run_op("InstanceNormalization", 6, {f32({1, 2, 1}, {1, 2}), f32({1}, {1}), f32({2}, {0, 0})}),
      Code::kIncompatibleShapes);
}

TEST(NormKernels, LayerNormOutputsAndStashType) {
  Tensor x = f32({2, 2}, {1, 3, 2, 2});
  auto r = run_op("LayerNormalization", 17, {x, f32({2}, {1, 2}), f32({1}, {0.5f})},
                  Attrs().f("epsilon", 0), 3);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  // Row [2,2] has zero variance: inv std = 1/sqrt(0) = inf, and 0 * inf is NaN.
  const auto y = values((*r)[0]);
  EXPECT_NEAR(y[0], -1 + 0.5, 1e-6);
  EXPECT_NEAR(y[1], 2 + 0.5, 1e-6);
  EXPECT_EQ((*r)[1].shape(), (Shape{2, 1}));
  EXPECT_EQ((*r)[1].dtype(), D::kFloat32);
  expect_near_all_loose(values((*r)[1]), {2, 2});
  expect_near_all_loose(values((*r)[2]), {1, INFINITY});
  // stash_type 16 with no declared output type: Mean is bfloat16; double X keeps Y double.
  auto b = run_op("LayerNormalization", 17, {f64({1, 2}, {1, 3}), f64({2}, {1, 1})},
                  Attrs().i("stash_type", 16).i("axis", 0), 3);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ((*b)[0].dtype(), D::kFloat64);
  EXPECT_EQ((*b)[1].dtype(), D::kBFloat16);
  EXPECT_EQ((*b)[1].shape(), (Shape{1, 1}));
  expect_near_all_loose(values((*b)[1]), {2});
  expect_near_all_loose(values((*b)[0]), {-1, 1}, 1e-4);
}

TEST(NormKernels, LayerNormScaleMustBroadcast) {
  std::string m = expect_error(
      run_op("LayerNormalization", 17, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({2}, {1, 1})}),
      Code::kIncompatibleShapes);
  EXPECT_NE(m.find("[2]"), std::string::npos) << m;
  EXPECT_NE(m.find("[3]"), std::string::npos) << m;
}

TEST(NormKernels, GroupNorm21) {
  // Two groups of one channel with two spatial values each.
  Tensor y = run1("GroupNormalization", 21,
                  {f32({1, 2, 2}, {1, 3, 0, 4}), f32({2}, {1, 2}), f32({2}, {0, 1})},
                  Attrs().i("num_groups", 2).f("epsilon", 0));
  expect_near_all_loose(values(y), {-1, 1, -1, 3});
  Tensor one =
      run1("GroupNormalization", 21, {f32({1, 2, 1}, {1, 3}), f32({2}, {1, 1}), f32({2}, {0, 0})},
           Attrs().i("num_groups", 1).f("epsilon", 0));
  expect_near_all_loose(values(one), {-1, 1});
  std::string m =
      expect_error(run_op("GroupNormalization", 21,
                          {f32({1, 3, 1}, {1, 2, 3}), f32({3}, {1, 1, 1}), f32({3}, {0, 0, 0})},
                          Attrs().i("num_groups", 2)),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("num_groups 2"), std::string::npos) << m;
}

TEST(NormKernels, LrnMatchesFormula) {
  // size 2: window of channel c is [c, c+1].
  Tensor y = run1("LRN", 13, {f32({1, 3, 1}, {1, 2, 3})},
                  Attrs().i("size", 2).f("alpha", 0.5f).f("beta", 1).f("bias", 1));
  expect_near_all_loose(values(y), {1 / (1 + 0.25 * 5), 2 / (1 + 0.25 * 13), 3 / (1 + 0.25 * 9)});
  expect_error(run_op("LRN", 13, {f32({1, 1}, {1})}, Attrs().i("size", 0)), Code::kInvalidArgument);
}

TEST(NormKernels, MeanVarianceNormalization) {
  Tensor y =
      run1("MeanVarianceNormalization", 13, {f32({2, 2}, {1, 3, 5, 5})}, Attrs().ints("axes", {1}));
  expect_near_all_loose(values(y), {-1, 1, 0, 0}, 1e-6);
  expect_error(run_op("MeanVarianceNormalization", 13, {f32({2}, {1, 3})}),  // default axes 0,2,3
               Code::kInvalidArgument);
}

// ---- Trilu, OneHot, NonZero -------------------------------------------------------------------

TEST(MiscKernels, TriluUpperLowerWithK) {
  Tensor x = i32({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_near_all_loose(values(run1("Trilu", 14, {x})), {1, 2, 3, 0, 5, 6});
  expect_near_all_loose(values(run1("Trilu", 14, {x, i64({}, {1})}, Attrs().i("upper", 0))),
                        {1, 2, 0, 4, 5, 6});
  expect_near_all_loose(values(run1("Trilu", 14, {x, i64({}, {-1})})), {1, 2, 3, 4, 5, 6});
  // Extreme k must not overflow.
  expect_near_all_loose(values(run1("Trilu", 14, {x, i64({}, {INT64_MIN})}, Attrs().i("upper", 0))),
                        {0, 0, 0, 0, 0, 0});
  Tensor b =
      run1("Trilu", 14, {boolean({1, 2, 2}, {true, true, true, true})}, Attrs().i("upper", 0));
  expect_near_all_loose(values(b), {1, 0, 1, 1});
  expect_error(run_op("Trilu", 14, {f32({3}, {1, 2, 3})}), Code::kInvalidArgument);
}

TEST(MiscKernels, OneHotNegativeIndicesByRevision) {
  Tensor idx = i64({3}, {0, -1, 5});
  Tensor v11 = run1("OneHot", 11, {idx, f32({}, {3}), f32({2}, {0, 1})});
  EXPECT_EQ(v11.shape(), (Shape{3, 3}));
  expect_near_all_loose(values(v11), {1, 0, 0, 0, 0, 1, 0, 0, 0});
  Tensor v9 = run1("OneHot", 9, {idx, f32({1}, {3}), f32({2}, {0, 1})});
  expect_near_all_loose(values(v9), {1, 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST(MiscKernels, OneHotAxisZeroStringsAndErrors) {
  Tensor y = run1("OneHot", 11, {f32({2}, {1.7f, 0}), i64({}, {2}), strings({2}, {"off", "on"})},
                  Attrs().i("axis", 0));
  ASSERT_EQ(y.dtype(), D::kString);
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(y.string_data(), (std::vector<std::string>{"off", "on", "on", "off"}));
  std::string m =
      expect_error(run_op("OneHot", 11, {i64({1}, {0}), i64({}, {0}), f32({2}, {0, 1})}),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("depth 0"), std::string::npos) << m;
  m = expect_error(run_op("OneHot", 11,
                          {i64({1000}, std::vector<int64_t>(1000, 0)), i64({}, {int64_t{1} << 40}),
                           f32({2}, {0, 1})}),
                   Code::kInvalidArgument);
  EXPECT_NE(m.find("too large"), std::string::npos) << m;
  expect_error(run_op("OneHot", 11, {i64({1}, {0}), i64({}, {2}), f32({3}, {0, 1, 2})}),
               Code::kInvalidArgument);
}

TEST(MiscKernels, NonZeroOrderScalarsAndSpecialFloats) {
  Tensor y = run1("NonZero", 13, {i32({2, 2}, {0, 7, 3, 0})});
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(ints(y), (std::vector<int64_t>{0, 1, 1, 0}));
  Tensor s = run1("NonZero", 13, {f32({}, {2})});
  EXPECT_EQ(s.shape(), (Shape{1, 1}));
  Tensor h = run1("NonZero", 13, {f16({3}, {-0.0f, NAN, 0})});
  EXPECT_EQ(ints(h), (std::vector<int64_t>{1}));
  Tensor e = run1("NonZero", 9, {f32({0, 3}, {})});
  EXPECT_EQ(e.shape(), (Shape{2, 0}));
}

// ---- TopK, CumSum ---------------------------------------------------------------------------

TEST(MiscKernels, TopKTiesKeepLowerIndexFirst) {
  Tensor x = f32({6}, {3, 1, 3, 2, 1, 3});
  auto big = run_op("TopK", 11, {x, i64({1}, {4})}, {}, 2);
  ASSERT_TRUE(big.ok()) << big.status().to_string();
  expect_near_all_loose(values((*big)[0]), {3, 3, 3, 2});
  EXPECT_EQ(ints((*big)[1]), (std::vector<int64_t>{0, 2, 5, 3}));
  auto small = run_op("TopK", 11, {x, i64({1}, {3})}, Attrs().i("largest", 0), 2);
  ASSERT_TRUE(small.ok());
  expect_near_all_loose(values((*small)[0]), {1, 1, 2});
  EXPECT_EQ(ints((*small)[1]), (std::vector<int64_t>{1, 4, 3}));
}

TEST(MiscKernels, TopKAxisRevision1AndErrors) {
  Tensor x = i32({2, 2}, {1, 4, 3, 2});
  auto r = run_op("TopK", 11, {x, i64({1}, {1})}, Attrs().i("axis", 0), 2);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 2}));
  expect_near_all_loose(values((*r)[0]), {3, 4});
  EXPECT_EQ(ints((*r)[1]), (std::vector<int64_t>{1, 0}));
  auto v1 = run_op("TopK", 1, {f32({3}, {1, 3, 2})}, Attrs().i("k", 2), 2);
  ASSERT_TRUE(v1.ok()) << v1.status().to_string();
  EXPECT_EQ(ints((*v1)[1]), (std::vector<int64_t>{1, 2}));
  auto zero = run_op("TopK", 10, {f32({3}, {1, 3, 2}), i64({1}, {0})}, {}, 2);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ((*zero)[0].shape(), (Shape{0}));
  std::string m = expect_error(run_op("TopK", 11, {f32({3}, {1, 3, 2}), i64({1}, {4})}, {}, 2),
                               Code::kInvalidArgument);
  EXPECT_NE(m.find("k = 4"), std::string::npos) << m;
  expect_error(run_op("TopK", 11, {f32({3}, {1, 3, 2}), i64({1}, {-1})}, {}, 2),
               Code::kInvalidArgument);
}

TEST(MiscKernels, CumSumModes) {
  Tensor x = f32({4}, {1, 2, 3, 4});
  expect_near_all_loose(values(run1("CumSum", 14, {x, i32({}, {0})})), {1, 3, 6, 10});
  expect_near_all_loose(values(run1("CumSum", 14, {x, i64({}, {0})}, Attrs().i("exclusive", 1))),
                        {0, 1, 3, 6});
  expect_near_all_loose(values(run1("CumSum", 14, {x, i64({}, {0})}, Attrs().i("reverse", 1))),
                        {10, 9, 7, 4});
  expect_near_all_loose(
      values(run1("CumSum", 14, {x, i64({}, {-1})}, Attrs().i("reverse", 1).i("exclusive", 1))),
      {9, 7, 4, 0});
  Tensor m = run1("CumSum", 11, {i32({2, 2}, {1, 2, 3, 4}), i64({1}, {0})});
  expect_near_all_loose(values(m), {1, 2, 4, 6});
  Tensor h = run1("CumSum", 14, {bf16({2}, {0.5f, 0.25f}), i64({}, {0})});
  ASSERT_EQ(h.dtype(), D::kBFloat16);
  expect_near_all_loose(values(h), {0.5, 0.75});
  expect_error(run_op("CumSum", 14, {x, i64({}, {1})}), Code::kInvalidArgument);
  expect_error(run_op("CumSum", 14, {x, i64({2}, {0, 0})}), Code::kInvalidArgument);
}

// ---- Einsum -----------------------------------------------------------------------------------

TEST(EinsumKernel, MatmulExplicitAndImplicit) {
  Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = f32({3, 2}, {1, 0, 0, 1, 1, 1});
  Tensor y = run1("Einsum", 12, {a, b}, Attrs().s("equation", "ij,jk->ik"));
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  expect_near_all_loose(values(y), {4, 5, 10, 11});
  Tensor implicit = run1("Einsum", 12, {a, b}, Attrs().s("equation", "ij, jk"));
  expect_near_all_loose(values(implicit), {4, 5, 10, 11});
  // Implicit output sorts labels: "ji" → "ij", i.e. a transpose.
  Tensor t = run1("Einsum", 12, {a}, Attrs().s("equation", "ji"));
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  expect_near_all_loose(values(t), {1, 4, 2, 5, 3, 6});
  // Uppercase sorts before lowercase.
  Tensor u = run1("Einsum", 12, {a}, Attrs().s("equation", "bA"));
  EXPECT_EQ(u.shape(), (Shape{3, 2}));
}

TEST(EinsumKernel, DiagonalsTraceEllipsisAndIntegers) {
  Tensor m = i32({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor d = run1("Einsum", 12, {m}, Attrs().s("equation", "...ii->...i"));
  EXPECT_EQ(d.shape(), (Shape{2, 2}));
  expect_near_all_loose(values(d), {1, 4, 5, 8});
  Tensor tr = run1("Einsum", 12, {f64({2, 2}, {1, 2, 3, 4})}, Attrs().s("equation", "ii"));
  EXPECT_EQ(tr.shape(), Shape{});
  expect_near_all_loose(values(tr), {5});
  Tensor dot =
      run1("Einsum", 12, {f32({3}, {1, 2, 3}), f32({3}, {4, 5, 6})}, Attrs().s("equation", "i,i"));
  expect_near_all_loose(values(dot), {32});
  // Ellipsis dims broadcast across inputs.
  Tensor bm = run1("Einsum", 12, {f32({2, 1, 2}, {1, 2, 3, 4}), f32({1, 2, 1}, {10, 20})},
                   Attrs().s("equation", "...ij,...jk->...ik"));
  EXPECT_EQ(bm.shape(), (Shape{2, 1, 1}));
  expect_near_all_loose(values(bm), {50, 110});
  Tensor s = run1("Einsum", 12, {f16({2, 2}, {1, 2, 3, 4})}, Attrs().s("equation", "ij->i"));
  expect_near_all_loose(values(s), {3, 7});
}

TEST(EinsumKernel, BadEquationsAreCoded) {
  Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  std::string m = expect_error(run_op("Einsum", 12, {a}, Attrs().s("equation", "ij,jk->ik")),
                               Code::kInvalidArgument);
  EXPECT_NE(m.find("2 input terms"), std::string::npos) << m;
  m = expect_error(run_op("Einsum", 12, {a, a}, Attrs().s("equation", "ij,jk->ik")),
                   Code::kIncompatibleShapes);
  EXPECT_NE(m.find("[2,3]"), std::string::npos) << m;
  expect_error(run_op("Einsum", 12, {a}, Attrs().s("equation", "ijk->i")),
               Code::kIncompatibleShapes);
  expect_error(run_op("Einsum", 12, {a}, Attrs().s("equation", "i1->i")), Code::kInvalidArgument);
  expect_error(run_op("Einsum", 12, {a}, Attrs().s("equation", "ij->z")), Code::kInvalidArgument);
  expect_error(run_op("Einsum", 12, {a}, Attrs().s("equation", "ij->ii")), Code::kInvalidArgument);
  expect_error(run_op("Einsum", 12, {f32({2, 3}, {1, 2, 3, 4, 5, 6})}, Attrs().s("equation", "ii")),
               Code::kIncompatibleShapes);
}

TEST(EinsumKernel, RefusesAnAbsurdLoopCount) {
  // Five unrelated 200-element vectors: 200^5 = 3.2e11 products for one scalar.
  std::vector<Tensor> in;
  for (int i = 0; i < 5; ++i) in.push_back(f32({200}, std::vector<float>(200, 1.0f)));
  std::string m = expect_error(run_op("Einsum", 12, in, Attrs().s("equation", "a,b,c,d,e->")),
                               Code::kInvalidArgument);
  EXPECT_NE(m.find("[200,200,200,200,200]"), std::string::npos) << m;
}

// ---- EyeLike, ReverseSequence, Compress, Unique -----------------------------------------------

TEST(MiscKernels, EyeLikeOffsetsAndDtype) {
  Tensor y = run1("EyeLike", 9, {f32({2, 3}, {9, 9, 9, 9, 9, 9})}, Attrs().i("k", 1).i("dtype", 6));
  ASSERT_EQ(y.dtype(), D::kInt32);
  expect_near_all_loose(values(y), {0, 1, 0, 0, 0, 1});
  Tensor neg = run1("EyeLike", 9, {i64({3, 2}, {0, 0, 0, 0, 0, 0})}, Attrs().i("k", -1));
  expect_near_all_loose(values(neg), {0, 0, 1, 0, 0, 1});
  Tensor far = run1("EyeLike", 9, {f32({2, 2}, {1, 1, 1, 1})}, Attrs().i("k", INT64_MAX));
  expect_near_all_loose(values(far), {0, 0, 0, 0});
  expect_error(run_op("EyeLike", 9, {f32({2}, {1, 1})}), Code::kInvalidArgument);
}

TEST(MiscKernels, ReverseSequenceBothLayouts) {
  // time_axis 0, batch_axis 1: columns are sequences.
  Tensor x = i32({3, 2}, {1, 10, 2, 20, 3, 30});
  Tensor y = run1("ReverseSequence", 10, {x, i64({2}, {3, 2})});
  expect_near_all_loose(values(y), {3, 20, 2, 10, 1, 30});
  Tensor s = strings({2, 3}, {"a", "b", "c", "d", "e", "f"});
  Tensor z = run1("ReverseSequence", 10, {s, i64({2}, {2, 0})},
                  Attrs().i("batch_axis", 0).i("time_axis", 1));
  EXPECT_EQ(z.string_data(), (std::vector<std::string>{"b", "a", "c", "d", "e", "f"}));
  std::string m =
      expect_error(run_op("ReverseSequence", 10, {x, i64({2}, {4, 1})}), Code::kIndexOutOfRange);
  EXPECT_NE(m.find("= 4"), std::string::npos) << m;
  expect_error(run_op("ReverseSequence", 10, {x, i64({3}, {1, 1, 1})}), Code::kIncompatibleShapes);
  expect_error(run_op("ReverseSequence", 10, {x, i64({2}, {1, 1})}, Attrs().i("batch_axis", 0)),
               Code::kInvalidArgument);
}

TEST(MiscKernels, CompressAxesAndFlatten) {
  Tensor x = f32({3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor a0 = run1("Compress", 11, {x, boolean({2}, {false, true})}, Attrs().i("axis", 0));
  EXPECT_EQ(a0.shape(), (Shape{1, 2}));
  expect_near_all_loose(values(a0), {3, 4});
  Tensor neg = run1("Compress", 11, {x, boolean({2}, {true, false})}, Attrs().i("axis", -1));
  EXPECT_EQ(neg.shape(), (Shape{3, 1}));
  expect_near_all_loose(values(neg), {1, 3, 5});
  Tensor flat = run1("Compress", 9, {x, boolean({5}, {false, true, false, false, true})});
  EXPECT_EQ(flat.shape(), (Shape{2}));
  expect_near_all_loose(values(flat), {2, 5});
  Tensor st = run1("Compress", 11, {strings({2}, {"x", "y"}), boolean({3}, {false, true, false})});
  EXPECT_EQ(st.string_data(), (std::vector<std::string>{"y"}));
  std::string m = expect_error(
      run_op("Compress", 11, {x, boolean({3}, {false, false, true})}, Attrs().i("axis", 1)),
      Code::kIndexOutOfRange);
  EXPECT_NE(m.find("index 2"), std::string::npos) << m;
}

TEST(MiscKernels, UniqueSortedAndUnsortedAllOutputs) {
  Tensor x = f32({6}, {2, 1, 1, 3, 4, 3});
  auto s = run_op("Unique", 11, {x}, {}, 4);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  expect_near_all_loose(values((*s)[0]), {1, 2, 3, 4});
  EXPECT_EQ(ints((*s)[1]), (std::vector<int64_t>{1, 0, 3, 4}));
  EXPECT_EQ(ints((*s)[2]), (std::vector<int64_t>{1, 0, 0, 2, 3, 2}));
  EXPECT_EQ(ints((*s)[3]), (std::vector<int64_t>{2, 1, 2, 1}));
  auto u = run_op("Unique", 11, {x}, Attrs().i("sorted", 0), 4);
  ASSERT_TRUE(u.ok());
  expect_near_all_loose(values((*u)[0]), {2, 1, 3, 4});
  EXPECT_EQ(ints((*u)[1]), (std::vector<int64_t>{0, 1, 3, 4}));
  EXPECT_EQ(ints((*u)[2]), (std::vector<int64_t>{0, 1, 1, 2, 3, 2}));
  EXPECT_EQ(ints((*u)[3]), (std::vector<int64_t>{1, 2, 2, 1}));
  // Only Y and counts wanted.
  auto partial = run_op("Unique", 11, {i8({3}, {5, 5, -1})}, {}, 4, {1, 2});
  ASSERT_TRUE(partial.ok()) << partial.status().to_string();
  expect_near_all_loose(values((*partial)[0]), {-1, 5});
  EXPECT_EQ(ints((*partial)[3]), (std::vector<int64_t>{1, 2}));
}

TEST(MiscKernels, UniqueAlongAxisAndNaN) {
  Tensor x = i32({3, 2}, {1, 0, 0, 1, 1, 0});
  auto r = run_op("Unique", 11, {x}, Attrs().i("axis", 0), 4);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 2}));
  expect_near_all_loose(values((*r)[0]), {0, 1, 1, 0});
  EXPECT_EQ(ints((*r)[1]), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(ints((*r)[2]), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(ints((*r)[3]), (std::vector<int64_t>{1, 2}));
  Tensor n = run1("Unique", 11, {f32({3}, {NAN, 1, NAN})});
  expect_near_all_loose(values(n), {1, NAN});
  expect_error(run_op("Unique", 11, {x}, Attrs().i("axis", 2)), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::reduce_kernel_test
