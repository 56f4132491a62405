// Reference kernels of the ONNX revisions before opset 7: the legacy `broadcast`/`axis` rule of
// the binary ops (B stretched over A only, aligned at `axis`), Gemm-1/-6's `broadcast` for C,
// BatchNormalization-1/-6 (`is_test`, `spatial`), Dropout-1/-6 (`is_test`), PRelu-1/-6's
// per-channel slope, and the attribute-era forms of AveragePool, LpPool, GlobalLpPool, Cast,
// Clip, Selu, Concat, Split, Tile, Reshape, Pad, Upsample and GRU. Each run goes through the
// interpreter with the model importing the old opset, so the registry's revision selection is
// exercised too. Expected values come from numpy, ONNX Runtime (for opset-7 equivalents) or are
// worked out by hand in the comments.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "interp/interpreter.h"
#include "ir/graph.h"
#include "kernel_test_util.h"
#include "ops/kernel_util.h"

namespace kiln::legacy_kernel_test {
namespace {

using namespace kiln::test;  // NOLINT(google-build-using-namespace): the shared harness

using V = std::vector<double>;

// ---- legacy broadcast of the binary ops -------------------------------------------------------

TEST(LegacyBroadcast, AxisAlignsBInsideA) {
  // A = arange(12).reshape(2, 3, 2), B = [100, 200, 300] on A's axis 1 (numpy:
  // A + B[None, :, None]).
  std::vector<float> a(12);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i);
  for (int64_t opset : {1, 6}) {
    Tensor c = run1("Add", opset, {f32({2, 3, 2}, a), f32({3}, {100, 200, 300})},
                    Attrs().i("broadcast", 1).i("axis", 1));
    EXPECT_EQ(c.shape(), (Shape{2, 3, 2}));
    expect_near_all(values(c), {100, 101, 202, 203, 304, 305, 106, 107, 208, 209, 310, 311});
  }
}

TEST(LegacyBroadcast, WithoutAxisBMatchesTheTrailingDims) {
  // [[1,2,3],[4,5,6]] - [1,1,2] row-wise.
  Tensor c = run1("Sub", 1, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({3}, {1, 1, 2})},
                  Attrs().i("broadcast", 1));
  expect_near_all(values(c), {0, 1, 1, 3, 4, 4});
  // [[1,2],[3,4]] ** [2,3] row-wise.
  Tensor p =
      run1("Pow", 1, {f32({2, 2}, {1, 2, 3, 4}), f32({2}, {2, 3})}, Attrs().i("broadcast", 1));
  expect_near_all(values(p), {1, 8, 9, 64});
}

TEST(LegacyBroadcast, OneElementBStretchesOverAnyShape) {
  Tensor scalar =
      run1("Mul", 6, {f64({2, 2}, {1, 2, 3, 4}), f64({}, {2})}, Attrs().i("broadcast", 1));
  expect_near_all(values(scalar), {2, 4, 6, 8});
  // A 1-element B of lower rank ([1, 1] over [2, 1, 2]) needs no axis.
  Tensor one =
      run1("Add", 6, {f32({2, 1, 2}, {1, 2, 3, 4}), f32({1, 1}, {10})}, Attrs().i("broadcast", 1));
  EXPECT_EQ(one.shape(), (Shape{2, 1, 2}));
  expect_near_all(values(one), {11, 12, 13, 14});
}

// ONNX's backend data (test_operator_add_size1_*) stretches B's size-1 dims, as its 6-to-7
// converter does.
TEST(LegacyBroadcast, SizeOneDimsOfBStretch) {
  // [[1,2,3],[4,5,6]] + [[10],[20]] at axis 0 and + [[10,20,30]] at axis 0.
  Tensor col = run1("Add", 6, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({2, 1}, {10, 20})},
                    Attrs().i("broadcast", 1).i("axis", 0));
  expect_near_all(values(col), {11, 12, 13, 24, 25, 26});
  Tensor row = run1("Add", 6, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({1, 3}, {10, 20, 30})},
                    Attrs().i("broadcast", 1).i("axis", 0));
  expect_near_all(values(row), {11, 22, 33, 14, 25, 36});
}

TEST(LegacyBroadcast, IntegerDivisionAlongAxisZeroTruncates) {
  // [[7,-7],[9,4]] / [2,3] per row: trunc gives [[3,-3],[3,1]].
  Tensor c = run1("Div", 6, {i32({2, 2}, {7, -7, 9, 4}), i32({2}, {2, 3})},
                  Attrs().i("broadcast", 1).i("axis", 0));
  EXPECT_EQ(c.dtype(), D::kInt32);
  expect_near_all(values(c), {3, -3, 3, 1});
  const std::string m =
      expect_error(run_op("Div", 6, {i32({2, 2}, {7, -7, 9, 4}), i32({2}, {2, 0})},
                          Attrs().i("broadcast", 1).i("axis", 0)),
                   Code::kKernelFailed);
  EXPECT_HAS(m, "division by zero");
}

TEST(LegacyBroadcast, ComparisonAndLogicOpsUseTheSameRule) {
  // [[1,5],[3,2]] > [2,2.5] per row (axis 0): [[F,T],[T,F]].
  Tensor g = run1("Greater", 1, {f32({2, 2}, {1, 5, 3, 2}), f32({2}, {2, 2.5f})},
                  Attrs().i("broadcast", 1).i("axis", 0));
  EXPECT_EQ(g.dtype(), D::kBool);
  expect_near_all(values(g), {0, 1, 1, 0});
  Tensor e =
      run1("Equal", 1, {i32({2, 2}, {1, 2, 3, 2}), i32({2}, {3, 2})}, Attrs().i("broadcast", 1));
  expect_near_all(values(e), {0, 1, 1, 1});
  Tensor x = run1("Xor", 1, {boolean({2, 2}, {true, false, true, true}), boolean({}, {true})},
                  Attrs().i("broadcast", 1));
  expect_near_all(values(x), {0, 1, 0, 0});
  Tensor same = run1("And", 1, {boolean({2}, {true, true}), boolean({2}, {true, false})});
  expect_near_all(values(same), {1, 0});
}

TEST(LegacyBroadcast, BroadcastZeroRequiresEqualShapes) {
  // Equal shapes need no attribute at all.
  expect_near_all(values(run1("Add", 6, {f32({2}, {1, 2}), f32({2}, {3, 4})})), {4, 6});
  // [2,3] + [3] broadcasts NumPy-style at opset 7, but not without broadcast = 1 before it.
  expect_near_all(values(run1("Add", 7, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({3}, {1, 1, 1})})),
                  {2, 3, 4, 5, 6, 7});
  for (int64_t opset : {1, 6}) {
    const std::string m =
        expect_error(run_op("Add", opset, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({3}, {1, 1, 1})}),
                     Code::kIncompatibleShapes);
    EXPECT_HAS(m, "broadcast = 0");
    EXPECT_HAS(m, "[2,3]");
    EXPECT_HAS(m, "[3]");
  }
  // Neither does a scalar.
  expect_error(run_op("Mul", 6, {f32({2}, {1, 2}), f32({}, {2})}, Attrs().i("broadcast", 0)),
               Code::kIncompatibleShapes);
}

TEST(LegacyBroadcast, AxisOutOfRangeIsRefused) {
  // B of rank 1 in A of rank 2 may start at axis 0 or 1.
  for (int64_t axis : {2, -1, 99}) {
    const std::string m =
        expect_error(run_op("Add", 6, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({3}, {1, 1, 1})},
                            Attrs().i("broadcast", 1).i("axis", axis)),
                     Code::kInvalidArgument);
    EXPECT_HAS(m, "'axis' = " + std::to_string(axis));
    EXPECT_HAS(m, "0 to 1");
  }
}

TEST(LegacyBroadcast, MismatchedShapesAreRefused) {
  // [2] against A's trailing dim 3 (the default alignment): NumPy at opset 7 refuses it too, but
  // at axis 0 the legacy rule accepts what opset 7 cannot express without a reshape.
  const std::string m =
      expect_error(run_op("Add", 6, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({2}, {1, 2})},
                          Attrs().i("broadcast", 1)),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "at axis 1");
  expect_error(run_op("Add", 7, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({2}, {1, 2})}),
               Code::kIncompatibleShapes);
  expect_near_all(values(run1("Add", 6, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({2}, {10, 20})},
                              Attrs().i("broadcast", 1).i("axis", 0))),
                  {11, 12, 13, 24, 25, 26});
  // Only B is stretched: a B of higher rank, or a size-1 dim of A, is not.
  const std::string higher =
      expect_error(run_op("Add", 6, {f32({3}, {1, 2, 3}), f32({2, 3}, {1, 2, 3, 4, 5, 6})},
                          Attrs().i("broadcast", 1)),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(higher, "higher rank");
  expect_error(run_op("Add", 6, {f32({2, 1}, {1, 2}), f32({2, 3}, {1, 2, 3, 4, 5, 6})},
                      Attrs().i("broadcast", 1)),
               Code::kIncompatibleShapes);
}

// ---- Gemm-1 / Gemm-6 --------------------------------------------------------------------------

TEST(LegacyGemm, BroadcastStretchesC) {
  // A @ B = [[4,5],[10,11]] for A = [[1,2,3],[4,5,6]], B = [[1,0],[0,1],[1,1]].
  const std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {1, 0, 0, 1, 1, 1};
  for (int64_t opset : {1, 6}) {
    Tensor y = run1("Gemm", opset, {f32({2, 3}, a), f32({3, 2}, b), f32({2}, {10, 20})},
                    Attrs().i("broadcast", 1));
    EXPECT_EQ(y.shape(), (Shape{2, 2}));
    expect_near_all(values(y), {14, 25, 20, 31});
  }
  // alpha 0.5, beta 2, one-element C = 3: 0.5 * AB + 6.
  Tensor s = run1("Gemm", 6, {f32({2, 3}, a), f32({3, 2}, b), f32({1}, {3})},
                  Attrs().i("broadcast", 1).f("alpha", 0.5f).f("beta", 2.0f));
  expect_near_all(values(s), {8, 8.5, 11, 11.5});
}

TEST(LegacyGemm, WithoutBroadcastCMustBeTheResultShape) {
  const std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {1, 0, 0, 1, 1, 1};
  Tensor full = run1("Gemm", 6, {f32({2, 3}, a), f32({3, 2}, b), f32({2, 2}, {1, 2, 3, 4})});
  expect_near_all(values(full), {5, 7, 13, 15});
  const std::string m =
      expect_error(run_op("Gemm", 6, {f32({2, 3}, a), f32({3, 2}, b), f32({2}, {10, 20})}),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "broadcast = 0");
  EXPECT_HAS(m, "[2,2]");
  // The result shape follows transB: B^T of [2,3] is [3,2], so (M, N) = (2, 2) again.
  Tensor t =
      run1("Gemm", 1, {f32({2, 3}, a), f32({2, 3}, {1, 0, 1, 0, 1, 1}), f32({2, 2}, {0, 0, 0, 0})},
           Attrs().i("transB", 1));
  expect_near_all(values(t), {4, 5, 10, 11});
  // Gemm-7 broadcasts C without being asked.
  expect_near_all(values(run1("Gemm", 7, {f32({2, 3}, a), f32({3, 2}, b), f32({2}, {10, 20})})),
                  {14, 25, 20, 31});
}

// ---- BatchNormalization-1 / -6 ----------------------------------------------------------------

// X [1, 2, 2] = [[1, 2], [3, 4]] with per-channel scale, B, mean, var.
std::vector<Tensor> bn_inputs() {
  return {f32({1, 2, 2}, {1, 2, 3, 4}), f32({2}, {2, 0.5f}), f32({2}, {1, -1}), f32({2}, {1, 2}),
          f32({2}, {4, 0.25f})};
}

TEST(LegacyBatchNorm, IsTestUsesTheGivenStatistics) {
  // numpy: scale * (x - mean) / sqrt(var + 1e-5) + B.
  const V want = {1.0, 1.9999987500023437, -1.9999400020065394e-05, 0.9999600011999599};
  expect_near_all(values(run1("BatchNormalization", 6, bn_inputs(), Attrs().i("is_test", 1))), want,
                  1e-6);
  expect_near_all(values(run1("BatchNormalization", 1, bn_inputs(),
                              Attrs().i("is_test", 1).ints("consumed_inputs", {0, 0, 0, 1, 1}))),
                  want, 1e-6);
  // BatchNormalization-7 is the same computation without is_test.
  expect_near_all(values(run1("BatchNormalization", 7, bn_inputs())), want, 1e-6);
}

TEST(LegacyBatchNorm, IsTestZeroNormalizesWithTheBatchStatistics) {
  // X [2, 2] (N = 2, C = 2): channel 0 holds 1, 3 (mean 2, variance 1), channel 1 holds 2, 6
  // (mean 4, variance 4), so with epsilon 0 every value becomes -1 or 1, whatever the (absurd)
  // mean and var inputs say.
  std::vector<Tensor> in = {f32({2, 2}, {1, 2, 3, 6}), f32({2}, {1, 1}), f32({2}, {0, 0}),
                            f32({2}, {100, 100}), f32({2}, {100, 100})};
  expect_near_all(values(run1("BatchNormalization", 6, in, Attrs().f("epsilon", 0.0f))),
                  {-1, -1, 1, 1});
}

TEST(LegacyBatchNorm, SpatialZeroKeepsStatisticsPerActivation) {
  // Parameters of shape [C, L] = [2, 2]; numpy: sc * (X - m) / sqrt(v) + b.
  std::vector<Tensor> in = {f32({1, 2, 2}, {1, 2, 3, 4}), f32({2, 2}, {1, 2, 3, 4}),
                            f32({2, 2}, {0, 1, 0, 1}), f32({2, 2}, {1, 1, 1, 1}),
                            f32({2, 2}, {1, 3, 8, 15})};
  expect_near_all(values(run1("BatchNormalization", 6, in,
                              Attrs().i("is_test", 1).i("spatial", 0).f("epsilon", 0.0f))),
                  {0.0, 2.1547005383792515, 2.1213203435596424, 4.098386676965934}, 1e-6);
  // Training-mode statistics per activation are not implemented.
  const std::string m =
      expect_error(run_op("BatchNormalization", 6, std::move(in), Attrs().i("spatial", 0)),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "spatial = 0");
  EXPECT_HAS(m, "is_test = 1");
}

TEST(LegacyBatchNorm, TrainingOutputsAreRefused) {
  const std::string m =
      expect_error(run_op("BatchNormalization", 6, bn_inputs(), Attrs().i("is_test", 1), 2),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "training outputs");
}

// ---- Dropout-1 / -6 ---------------------------------------------------------------------------

TEST(LegacyDropout, IsTestIsTheIdentityWithAMaskOfXsType) {
  for (int64_t opset : {1, 6}) {
    auto r = run_op("Dropout", opset, {f32({3}, {1, -2, 3})},
                    Attrs().i("is_test", 1).f("ratio", 0.3f), 2);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    expect_near_all(values((*r)[0]), {1, -2, 3});
    EXPECT_EQ((*r)[1].dtype(), D::kFloat32);
    expect_near_all(values((*r)[1]), {1, 1, 1});
  }
  // is_test = 0 with ratio 0 drops nothing: the identity too.
  expect_near_all(values(run1("Dropout", 6, {f32({2}, {4, 5})}, Attrs().f("ratio", 0.0f))), {4, 5});
}

TEST(LegacyDropout, TrainingModeIsRefused) {
  // is_test defaults to 0, training mode, which drops random elements.
  const std::string m =
      expect_error(run_op("Dropout", 6, {f32({2}, {4, 5})}), Code::kInvalidArgument);
  EXPECT_HAS(m, "is_test = 0");
  expect_error(run_op("Dropout", 1, {f32({2}, {4, 5})}, Attrs().i("is_test", 0).f("ratio", 0.1f)),
               Code::kInvalidArgument);
}

// ---- PRelu-1 / -6 -----------------------------------------------------------------------------

TEST(LegacyPRelu, SlopeIsSharedOrPerChannel) {
  // X [1, 2, 2] = [[-1, 2], [-3, 4]]: channel 0 slope 0.5, channel 1 slope 0.25.
  Tensor y = run1("PRelu", 6, {f32({1, 2, 2}, {-1, 2, -3, 4}), f32({2}, {0.5f, 0.25f})});
  expect_near_all(values(y), {-0.5, 2, -0.75, 4});
  // PRelu-7 aligns the same slope with X's last axis instead (NumPy): -3 * 0.5.
  expect_near_all(
      values(run1("PRelu", 7, {f32({1, 2, 2}, {-1, 2, -3, 4}), f32({2}, {0.5f, 0.25f})})),
      {-0.5, 2, -1.5, 4});
  expect_near_all(values(run1("PRelu", 1, {f32({2, 2}, {-1, 2, -3, 4}), f32({1}, {0.1f})})),
                  {-0.1, 2, -0.3, 4});
}

TEST(LegacyPRelu, OtherSlopeSizesAreRefused) {
  const std::string m =
      expect_error(run_op("PRelu", 6, {f32({1, 2, 2}, {-1, 2, -3, 4}), f32({3}, {1, 2, 3})}),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "per channel");
  // A vector has no channel axis.
  expect_error(run_op("PRelu", 6, {f32({2}, {-1, 2}), f32({2}, {1, 2})}),
               Code::kIncompatibleShapes);
}

// ---- pooling ----------------------------------------------------------------------------------

TEST(LegacyPool, AveragePool1ExcludesThePadding) {
  // [[1,2],[3,4]], 2x2 window, pads 1: each corner window sees one value (ONNX Runtime at
  // opset 7 with count_include_pad = 0 gives the same; with 1 the corners would be 0.25 ...).
  Tensor y = run1("AveragePool", 1, {f32({1, 1, 2, 2}, {1, 2, 3, 4})},
                  Attrs().ints("kernel_shape", {2, 2}).ints("pads", {1, 1, 1, 1}));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
  expect_near_all(values(y), {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
}

TEST(LegacyPool, LpPoolsTakeAFloatPAtRevisionOne) {
  // X = [1, 2]: (1 + 8)^(1/3) for p = 3, (1 + 2^1.5)^(1/1.5) for p = 1.5.
  expect_near_all(values(run1("GlobalLpPool", 1, {f32({1, 1, 2}, {1, 2})}, Attrs().f("p", 3.0f))),
                  {2.080083823051904});
  expect_near_all(values(run1("GlobalLpPool", 1, {f64({1, 1, 2}, {1, 2})}, Attrs().f("p", 1.5f))),
                  {2.4472608147714756}, 1e-12);
  expect_near_all(values(run1("GlobalLpPool", 2, {f32({1, 1, 2}, {1, 2})}, Attrs().i("p", 3))),
                  {2.080083823051904});
  // Windows of 2 over [3, 4, 0] with the default p = 2: 5 and 4.
  expect_near_all(
      values(run1("LpPool", 1, {f32({1, 1, 3}, {3, 4, 0})}, Attrs().ints("kernel_shape", {2}))),
      {5, 4});
  expect_error(run_op("GlobalLpPool", 1, {f32({1, 1, 2}, {1, 2})}, Attrs().f("p", 0.5f)),
               Code::kInvalidArgument);
  const std::string m =
      expect_error(run_op("LpPool", 1, {f32({1, 1, 3}, {3, 4, 0})}), Code::kInvalidArgument);
  EXPECT_HAS(m, "kernel_shape");
}

// ---- attribute-era forms of other ops ---------------------------------------------------------

TEST(LegacyOps, Cast1NamesTheTargetType) {
  Tensor y = run1("Cast", 1, {f32({2}, {1.7f, -2.5f})}, Attrs().s("to", "INT32"));
  EXPECT_EQ(y.dtype(), D::kInt32);
  expect_near_all(values(y), {1, -2});
  Tensor h = run1("Cast", 1, {i32({1}, {3})}, Attrs().s("to", "DOUBLE"));
  EXPECT_EQ(h.dtype(), D::kFloat64);
  const std::string m = expect_error(run_op("Cast", 1, {f32({1}, {1})}, Attrs().s("to", "int32")),
                                     Code::kInvalidArgument);
  EXPECT_HAS(m, "\"int32\"");
}

TEST(LegacyOps, Clip1UnsetBoundsAreTheTypesLimits) {
  // Clip-1's unset min is the data type's lowest value (double's here); Clip-6's is float's.
  expect_near_all(values(run1("Clip", 1, {f64({3}, {-1e300, 0.5, 3})}, Attrs().f("max", 1))),
                  {-1e300, 0.5, 1});
  expect_near_all(values(run1("Clip", 6, {f64({3}, {-1e300, 0.5, 3})}, Attrs().f("max", 1))),
                  {std::numeric_limits<float>::lowest(), 0.5, 1});
  expect_near_all(values(run1("Clip", 1, {f32({2}, {-INFINITY, INFINITY})})),
                  {std::numeric_limits<float>::lowest(), std::numeric_limits<float>::max()});
}

TEST(LegacyOps, Selu1HasItsOwnDefaults) {
  // Selu-1: gamma 1.0507, alpha 1.6732 (floats); Selu-6 uses more digits.
  const double want =
      static_cast<double>(1.0507f) * static_cast<double>(1.6732f) * std::expm1(-1.0);
  expect_near_all(values(run1("Selu", 1, {f64({2}, {-1, 2})})), {want, 2 * 1.0507f}, 1e-12);
  const double six = values(run1("Selu", 6, {f64({1}, {-1})}))[0];
  EXPECT_GT(std::fabs(six - want), 1e-6);
}

TEST(LegacyOps, Concat1DefaultsToAxisOne) {
  Tensor y = run1("Concat", 1, {f32({1, 2}, {1, 2}), f32({1, 1}, {3})});
  EXPECT_EQ(y.shape(), (Shape{1, 3}));
  expect_near_all(values(y), {1, 2, 3});
  // From Concat-4 on the axis is required.
  const std::string m = expect_error(run_op("Concat", 4, {f32({1, 2}, {1, 2}), f32({1, 1}, {3})}),
                                     Code::kInvalidArgument);
  EXPECT_HAS(m, "'axis'");
}

TEST(LegacyOps, Split1TakesSizesFromAnInputOrTheAttribute) {
  auto r = run_op("Split", 1, {f32({5}, {0, 1, 2, 3, 4}), f32({2}, {2, 3})}, {}, 2);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(values((*r)[0]), {0, 1});
  expect_near_all(values((*r)[1]), {2, 3, 4});
  auto a = run_op("Split", 1, {f32({5}, {0, 1, 2, 3, 4})}, Attrs().ints("split", {1, 4}), 2);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  expect_near_all(values((*a)[1]), {1, 2, 3, 4});
  expect_error(run_op("Split", 1, {f32({5}, {0, 1, 2, 3, 4}), f32({2}, {2.5f, 2.5f})}, {}, 2),
               Code::kInvalidArgument);
  expect_error(run_op("Split", 1, {f32({5}, {0, 1, 2, 3, 4}), f32({2}, {2, 3})},
                      Attrs().ints("split", {2, 3}), 2),
               Code::kInvalidArgument);
}

TEST(LegacyOps, Tile1RepeatsAlongOneAxis) {
  Tensor y = run1("Tile", 1, {f32({2, 2}, {1, 2, 3, 4}), f32({}, {2}), f32({}, {1})});
  EXPECT_EQ(y.shape(), (Shape{2, 4}));
  expect_near_all(values(y), {1, 2, 1, 2, 3, 4, 3, 4});
  expect_error(run_op("Tile", 1, {f32({2, 2}, {1, 2, 3, 4}), f32({}, {1.5f}), f32({}, {1})}),
               Code::kInvalidArgument);
  const std::string m =
      expect_error(run_op("Tile", 1, {f32({2, 2}, {1, 2, 3, 4}), f32({}, {2}), f32({}, {2})}),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "axis 2");
}

TEST(LegacyOps, Reshape1AndPad1TakeAttributes) {
  Tensor r = run1("Reshape", 1, {f32({2, 3}, {1, 2, 3, 4, 5, 6})}, Attrs().ints("shape", {3, -1}));
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  const std::string m =
      expect_error(run_op("Reshape", 1, {f32({2}, {1, 2})}), Code::kInvalidArgument);
  EXPECT_HAS(m, "'shape'");
  // paddings [x1_begin, x2_begin, x1_end, x2_end].
  Tensor p =
      run1("Pad", 1, {f32({1, 2}, {1, 2})}, Attrs().ints("paddings", {0, 1, 0, 1}).f("value", 9));
  EXPECT_EQ(p.shape(), (Shape{1, 4}));
  expect_near_all(values(p), {9, 1, 2, 9});
}

TEST(LegacyOps, Upsample1ScalesHeightAndWidth) {
  // The spec's example, and ONNX Runtime's Upsample-7 linear for [[1, 3]] widened twice.
  Tensor n = run1("Upsample", 1, {f32({1, 1, 2, 2}, {1, 2, 3, 4})},
                  Attrs().f("height_scale", 2).f("width_scale", 2));
  EXPECT_EQ(n.shape(), (Shape{1, 1, 4, 4}));
  expect_near_all(values(n), {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  Tensor b = run1("Upsample", 1, {f32({1, 1, 1, 2}, {1, 3})},
                  Attrs().f("height_scale", 1).f("width_scale", 2).s("mode", "bilinear"));
  expect_near_all(values(b), {1, 2, 3, 3});
  expect_error(run_op("Upsample", 1, {f32({1, 2}, {1, 2})},
                      Attrs().f("height_scale", 2).f("width_scale", 2)),
               Code::kInvalidArgument);
}

TEST(LegacyOps, Gru1DefaultDirectionIsForward) {
  // One step, one unit, input 1; W = [z, r, h] weights [0, 0, 1], R = 0, no bias:
  // z = sigmoid(0) = 0.5, h~ = tanh(1), H = (1 - z) * h~.
  auto r =
      run_op("GRU", 1, {f32({1, 1, 1}, {1}), f32({1, 3, 1}, {0, 0, 1}), f32({1, 3, 1}, {0, 0, 0})},
             Attrs().i("hidden_size", 1), 2, {0});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(values((*r)[1]), {0.5 * std::tanh(1.0)});
}

}  // namespace
}  // namespace kiln::legacy_kernel_test
