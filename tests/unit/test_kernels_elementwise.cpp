// Reference kernels of the elementwise families: unary math, activations, binary arithmetic /
// comparison / logic / bitwise ops, the variadic Max/Min/Sum/Mean, Where, Clip, Cast and
// CastLike. Covers what the ONNX backend data lacks: integer wrap-around and division by zero,
// 16-bit floats, broadcasting corner cases (empty, scalar, size-1 dims in the middle), string
// conversions, revision differences, and the coded errors for bad shapes, types and attributes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
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

namespace kiln::elementwise_kernel_test {
namespace {

using namespace kiln::test;  // NOLINT(google-build-using-namespace): the shared harness

using ops::Half;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<uint16_t> bits16(const Tensor& t) {
  EXPECT_TRUE(t.dtype() == D::kFloat16 || t.dtype() == D::kBFloat16);
  std::vector<uint16_t> out(static_cast<size_t>(t.numel()));
  if (!out.empty()) std::memcpy(out.data(), t.data(), out.size() * 2);
  return out;
}

// ---- unary math -------------------------------------------------------------------------------

TEST(UnaryKernels, AbsAndNegWrapAtTheIntegerMinimum) {
  EXPECT_EQ(raw<int8_t>(run1("Abs", 13, {i8({4}, {-128, -5, 0, 127})})),
            (std::vector<int8_t>{-128, 5, 0, 127}));
  EXPECT_EQ(raw<int8_t>(run1("Neg", 13, {i8({3}, {-128, -5, 127})})),
            (std::vector<int8_t>{-128, 5, -127}));
  const int64_t min64 = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(raw<int64_t>(run1("Neg", 13, {i64({2}, {min64, 7})})),
            (std::vector<int64_t>{min64, -7}));
  EXPECT_EQ(raw<uint8_t>(run1("Abs", 13, {u8({2}, {0, 255})})), (std::vector<uint8_t>{0, 255}));
  Tensor h = run1("Abs", 13, {f16({3}, {-1.5f, 0.0f, 2.0f})});
  EXPECT_EQ(h.dtype(), D::kFloat16);
  expect_near_all(values(h), {1.5, 0, 2});
}

TEST(UnaryKernels, SignKeepsNaNAndHandlesUnsigned) {
  expect_near_all(values(run1("Sign", 13, {f32({4}, {-3.0f, 0.0f, 2.5f, NAN})})), {-1, 0, 1, kNaN});
  EXPECT_EQ(raw<int32_t>(run1("Sign", 9, {i32({3}, {-7, 0, 9})})),
            (std::vector<int32_t>{-1, 0, 1}));
  EXPECT_EQ(raw<uint8_t>(run1("Sign", 13, {u8({2}, {0, 200})})), (std::vector<uint8_t>{0, 1}));
}

TEST(UnaryKernels, RoundHalfToEven) {
  const std::vector<float> x = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f, -2.6f};
  const std::vector<double> want = {0, 2, 2, -0.0, -2, 2, -3};
  expect_near_all(values(run1("Round", 11, {f32({7}, x)})), want);
  expect_near_all(values(run1("Round", 11, {f16({7}, x)})), want);
}

TEST(UnaryKernels, Erf9AcceptsIntegersAndTruncates) {
  // erf(±6) rounds to ±1 in double; erf(1) = 0.84 truncates to 0.
  EXPECT_EQ(raw<int32_t>(run1("Erf", 9, {i32({4}, {0, 1, 6, -6})})),
            (std::vector<int32_t>{0, 0, 1, -1}));
  expect_near_all(values(run1("Erf", 13, {f32({2}, {0.0f, 1.0f})})), {0, std::erf(1.0)});
}

TEST(UnaryKernels, Erf13RejectsIntegers) {
  const std::string m =
      expect_error(run_single("Erf", 13, {i32({1}, {1})}), Code::kTypeUnsupported);
  EXPECT_HAS(m, "int32");
}

TEST(UnaryKernels, FloatMathOn16BitFloatsEmptyAndScalars) {
  Tensor e = run1("Exp", 13, {bf16({2}, {0.0f, 1.0f})});
  EXPECT_EQ(e.dtype(), D::kBFloat16);
  expect_near_all(values(e), {1.0, 2.71875}, 1e-6);  // e rounded to bfloat16
  Tensor l = run1("Log", 13, {f32({0, 3}, {})});
  EXPECT_EQ(l.shape(), (Shape{0, 3}));
  Tensor s = run1("Sqrt", 13, {f64({}, {2.0})});
  EXPECT_EQ(s.shape(), Shape{});
  expect_near_all(values(s), {std::sqrt(2.0)}, 1e-15);
  expect_near_all(values(run1("Reciprocal", 13, {f16({2}, {4.0f, 0.0f})})), {0.25, kInf});
  expect_near_all(values(run1("Atanh", 9, {f64({2}, {0.5, 1.0})})), {std::atanh(0.5), kInf}, 1e-15);
}

TEST(UnaryKernels, FloatOnlyOpsRejectIntegers) {
  const std::string m =
      expect_error(run_single("Exp", 13, {i32({1}, {1})}), Code::kTypeUnsupported);
  EXPECT_HAS(m, "Exp");
  EXPECT_HAS(m, "int32");
}

TEST(UnaryKernels, NotAndBitwiseNot) {
  EXPECT_EQ(values(run1("Not", 7, {boolean({3}, {true, false, true})})),
            (std::vector<double>{0, 1, 0}));
  EXPECT_HAS(expect_error(run_single("Not", 7, {u8({1}, {1})}), Code::kTypeUnsupported), "uint8");
  EXPECT_EQ(raw<uint8_t>(run1("BitwiseNot", 18, {u8({2}, {0, 0x0f})})),
            (std::vector<uint8_t>{0xff, 0xf0}));
  EXPECT_EQ(raw<int32_t>(run1("BitwiseNot", 18, {i32({2}, {0, -1})})),
            (std::vector<int32_t>{-1, 0}));
  EXPECT_HAS(expect_error(run_single("BitwiseNot", 18, {f32({1}, {1})}), Code::kTypeUnsupported),
             "float32");
}

TEST(UnaryKernels, IsNaNAndIsInfWithDirections) {
  Tensor n = run1("IsNaN", 13, {f16({3}, {1.0f, NAN, INFINITY})});
  EXPECT_EQ(n.dtype(), D::kBool);
  EXPECT_EQ(values(n), (std::vector<double>{0, 1, 0}));
  Tensor x = f32({4}, {INFINITY, -INFINITY, NAN, 1.0f});
  EXPECT_EQ(values(run1("IsInf", 10, {x})), (std::vector<double>{1, 1, 0, 0}));
  EXPECT_EQ(values(run1("IsInf", 10, {x}, Attrs().i("detect_negative", 0))),
            (std::vector<double>{1, 0, 0, 0}));
  EXPECT_EQ(values(run1("IsInf", 20, {x}, Attrs().i("detect_positive", 0))),
            (std::vector<double>{0, 1, 0, 0}));
}

// ---- activations ------------------------------------------------------------------------------

TEST(ActivationKernels, ReluOnSignedIntegersAndNaN) {
  EXPECT_EQ(raw<int8_t>(run1("Relu", 14, {i8({3}, {-128, 0, 5})})), (std::vector<int8_t>{0, 0, 5}));
  expect_near_all(values(run1("Relu", 13, {f16({3}, {-1.0f, NAN, 2.0f})})), {0, kNaN, 2});
}

TEST(ActivationKernels, SigmoidAndSoftplusDoNotOverflow) {
  expect_near_all(values(run1("Sigmoid", 13, {f32({3}, {-1000.0f, 0.0f, 1000.0f})})), {0, 0.5, 1});
  expect_near_all(values(run1("Softplus", 7, {f32({3}, {-1000.0f, 0.0f, 1000.0f})})),
                  {0, std::log(2.0), 1000});
  expect_near_all(values(run1("Mish", 18, {f64({2}, {0.0, 1000.0})})), {0, 1000}, 1e-12);
}

TEST(ActivationKernels, AttributeDefaultsAndOverrides) {
  Tensor x = f32({3}, {-2.0f, 0.0f, 3.0f});
  expect_near_all(values(run1("LeakyRelu", 16, {x})), {-0.02, 0, 3});
  expect_near_all(values(run1("LeakyRelu", 16, {x}, Attrs().f("alpha", 0.5f))), {-1, 0, 3});
  expect_near_all(values(run1("Elu", 7, {x}, Attrs().f("alpha", 2.0f))),
                  {2 * (std::exp(-2.0) - 1), 0, 3});
  const double a = 1.67326319217681884765625, g = 1.05070102214813232421875;
  expect_near_all(values(run1("Selu", 7, {x})), {g * a * (std::exp(-2.0) - 1), 0, g * 3});
  expect_near_all(values(run1("Celu", 12, {x}, Attrs().f("alpha", 2.0f))),
                  {2 * (std::exp(-1.0) - 1), 0, 3});
  expect_near_all(values(run1("HardSigmoid", 7, {x})), {0.1, 0.5, 1});
  expect_near_all(values(run1("HardSwish", 14, {f32({3}, {-4.0f, 1.0f, 4.0f})})),
                  {0, 1.0 * (1.0 / 6 + 0.5), 4});
  expect_near_all(values(run1("ThresholdedRelu", 10, {x}, Attrs().f("alpha", 2.5f))), {0, 0, 3});
  expect_near_all(values(run1("Softsign", 7, {x})), {-2.0 / 3, 0, 0.75});
}

TEST(ActivationKernels, GeluExactAndTanh) {
  Tensor x = f64({2}, {-1.0, 2.0});
  const auto exact = [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); };
  const auto approx = [](double v) {
    return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
  };
  expect_near_all(values(run1("Gelu", 20, {x})), {exact(-1), exact(2)}, 1e-12);
  expect_near_all(values(run1("Gelu", 20, {x}, Attrs().s("approximate", "tanh"))),
                  {approx(-1), approx(2)}, 1e-12);
  EXPECT_HAS(expect_error(run_single("Gelu", 20, {x}, Attrs().s("approximate", "fast")),
                          Code::kInvalidArgument),
             "\"fast\"");
}

TEST(ActivationKernels, ShrinkOnIntegersSaturates) {
  // int8: 127 - (-5) = 132 does not fit and saturates; -128 + (-5) saturates low.
  EXPECT_EQ(raw<int8_t>(run1("Shrink", 9, {i8({4}, {127, -128, 0, 3})},
                             Attrs().f("bias", -5.0f).f("lambd", 1.0f))),
            (std::vector<int8_t>{127, -128, 0, 8}));
  expect_near_all(
      values(run1("Shrink", 9, {f32({3}, {-2.0f, 0.3f, 2.0f})}, Attrs().f("bias", 0.5f))),
      {-1.5, 0, 1.5});
}

TEST(ActivationKernels, PReluBroadcastsSlopeToX) {
  Tensor x = f32({1, 2, 1, 2}, {-1, 2, -3, 4});
  Tensor y = run1("PRelu", 16, {x, f32({2, 1, 1}, {0.5f, 0.25f})});
  EXPECT_EQ(y.shape(), (Shape{1, 2, 1, 2}));
  expect_near_all(values(y), {-0.5, 2, -0.75, 4});
  EXPECT_EQ(raw<int32_t>(run1("PRelu", 9, {i32({3}, {-4, 0, 4}), i32({1}, {3})})),
            (std::vector<int32_t>{-12, 0, 4}));
}

TEST(ActivationKernels, PReluRejectsSlopeThatWouldGrowTheOutput) {
  const std::string m =
      expect_error(run_single("PRelu", 16, {f32({3}, {1, 2, 3}), f32({2, 3}, {1, 2, 3, 4, 5, 6})}),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "[2,3]");
  EXPECT_HAS(m, "[3]");
  EXPECT_HAS(
      expect_error(run_single("PRelu", 16, {f32({1}, {1}), f64({1}, {1})}), Code::kTypeUnsupported),
      "float64");
}

// ---- binary -----------------------------------------------------------------------------------

TEST(BinaryKernels, AddBroadcastsBothWays) {
  Tensor y = run1("Add", 14, {f32({2, 1}, {10, 20}), f32({1, 3}, {1, 2, 3})});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  expect_near_all(values(y), {11, 12, 13, 21, 22, 23});
  Tensor s = run1("Add", 7, {f32({}, {1.5f}), f32({}, {2.0f})});
  EXPECT_EQ(s.shape(), Shape{});
  expect_near_all(values(s), {3.5});
  Tensor e = run1("Add", 14, {f32({}, {1.0f}), f32({2, 0}, {})});
  EXPECT_EQ(e.shape(), (Shape{2, 0}));
}

// Compares a broadcast with size-1 dims in the middle and missing leading dims against a
// direct index computation, so the run-merging in the broadcast walker is checked.
TEST(BinaryKernels, BroadcastWalkerMatchesDirectIndexing) {
  const Shape as = {2, 1, 3, 1}, bs = {4, 1, 5};
  std::vector<int32_t> a(6), b(20);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<int32_t>(i * 100);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<int32_t>(i);
  Tensor y = run1("Sub", 14, {i32(as, a), i32(bs, b)});
  ASSERT_EQ(y.shape(), (Shape{2, 4, 3, 5}));
  const std::vector<int32_t> got = raw<int32_t>(y);
  size_t k = 0;
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 4; ++c)
      for (int h = 0; h < 3; ++h)
        for (int w = 0; w < 5; ++w, ++k)
          EXPECT_EQ(got[k], a[n * 3 + h] - b[c * 5 + w]) << n << c << h << w;
}

TEST(BinaryKernels, IntegerArithmeticWrapsInsteadOfOverflowing) {
  const int32_t max32 = std::numeric_limits<int32_t>::max();
  EXPECT_EQ(raw<int32_t>(run1("Add", 14, {i32({1}, {max32}), i32({1}, {1})})),
            (std::vector<int32_t>{std::numeric_limits<int32_t>::min()}));
  // 65535 * 65535 overflows int after promotion unless computed unsigned: 1 mod 2^16.
  EXPECT_EQ(raw<uint16_t>(run1("Mul", 14, {u16({1}, {65535}), u16({1}, {65535})})),
            (std::vector<uint16_t>{1}));
  EXPECT_EQ(raw<int8_t>(run1("Sub", 14, {i8({1}, {-128}), i8({1}, {1})})),
            (std::vector<int8_t>{127}));
}

TEST(BinaryKernels, BadShapesAndMixedTypesFailWithCodes) {
  std::string m =
      expect_error(run_single("Add", 14, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({4}, {1, 2, 3, 4})}),
                   Code::kIncompatibleShapes);
  EXPECT_HAS(m, "[2,3]");
  EXPECT_HAS(m, "[4]");
  m = expect_error(run_single("Mul", 14, {f32({1}, {1}), i64({1}, {1})}), Code::kTypeUnsupported);
  EXPECT_HAS(m, "float32");
  EXPECT_HAS(m, "int64");
  EXPECT_HAS(expect_error(run_single("Add", 14, {boolean({1}, {true}), boolean({1}, {true})}),
                          Code::kTypeUnsupported),
             "bool");
}

TEST(BinaryKernels, HugeBroadcastIsRefusedBeforeAllocating) {
  // [2^17,1] + [1,2^17] would be 2^34 elements (64 GiB of float32).
  const int64_t n = int64_t{1} << 17;
  Tensor a = Tensor::allocate(D::kFloat32, {n, 1}).value();
  Tensor b = Tensor::allocate(D::kFloat32, {1, n}).value();
  const std::string m = expect_error(run_single("Add", 14, {a, b}), Code::kInvalidArgument);
  EXPECT_HAS(m, "[131072,131072]");
  EXPECT_HAS(m, "2^33");
}

TEST(BinaryKernels, MissingRequiredInputIsAnError) {
  EXPECT_HAS(expect_error(run_single("Add", 14, {f32({1}, {1}), none()}), Code::kInvalidArgument),
             "input 1");
}

TEST(BinaryKernels, IntegerDivisionTruncatesAndRefusesZero) {
  EXPECT_EQ(raw<int32_t>(run1(
                "Div", 14,
                {i32({3}, {-7, 7, std::numeric_limits<int32_t>::min()}), i32({3}, {2, -2, -1})})),
            (std::vector<int32_t>{-3, -3, std::numeric_limits<int32_t>::min()}));
  const std::string m = expect_error(run_single("Div", 14, {i64({2}, {1, 2}), i64({2}, {3, 0})}),
                                     Code::kKernelFailed);
  EXPECT_HAS(m, "division by zero");
  EXPECT_HAS(m, "B[1] = 0");
  // Nothing is divided when the output is empty.
  EXPECT_EQ(run1("Div", 14, {i64({0}, {}), i64({1}, {0})}).shape(), (Shape{0}));
  expect_near_all(values(run1("Div", 7, {f32({2}, {1, -1}), f32({2}, {0, 0})})), {kInf, -kInf});
}

TEST(BinaryKernels, ModFollowsFmodAttribute) {
  Tensor a = i32({4}, {-7, 7, -7, 7}), b = i32({4}, {3, -3, -3, 3});
  EXPECT_EQ(raw<int32_t>(run1("Mod", 13, {a, b})), (std::vector<int32_t>{2, -2, -1, 1}));
  EXPECT_EQ(raw<int32_t>(run1("Mod", 13, {a, b}, Attrs().i("fmod", 1))),
            (std::vector<int32_t>{-1, 1, -1, 1}));
  const int64_t min64 = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(raw<int64_t>(run1("Mod", 13, {i64({1}, {min64}), i64({1}, {-1})})),
            (std::vector<int64_t>{0}));
  EXPECT_EQ(raw<uint8_t>(run1("Mod", 10, {u8({2}, {250, 7}), u8({2}, {7, 250})})),
            (std::vector<uint8_t>{5, 7}));
  expect_near_all(
      values(run1("Mod", 13, {f16({2}, {-7.5f, 7.5f}), f16({2}, {2, -2})}, Attrs().i("fmod", 1))),
      {-1.5, 1.5});
}

TEST(BinaryKernels, ModErrors) {
  std::string m =
      expect_error(run_single("Mod", 13, {f32({1}, {1}), f32({1}, {2})}), Code::kInvalidArgument);
  EXPECT_HAS(m, "fmod = 1");
  EXPECT_HAS(m, "float32");
  m = expect_error(
      run_single("Mod", 13, {i32({2}, {1, 2}), i32({2}, {0, 1})}, Attrs().i("fmod", 1)),
      Code::kKernelFailed);
  EXPECT_HAS(m, "B[0] = 0");
  m = expect_error(run_single("Mod", 13, {i32({1}, {1}), i32({1}, {1})}, Attrs().i("fmod", 2)),
                   Code::kInvalidArgument);
  EXPECT_HAS(m, "'fmod' = 2");
}

TEST(BinaryKernels, PowIntegerExponentsAreExact) {
  const int32_t min32 = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(raw<int32_t>(run1("Pow", 15,
                              {i32({6}, {3, 2, -2, 2, 1, -1}), i64({6}, {4, 31, 3, -1, -5, -3})})),
            (std::vector<int32_t>{81, min32, -8, 0, 1, -1}));
  // 3^39 needs all 62 bits; a double pow would round it.
  EXPECT_EQ(raw<int64_t>(run1("Pow", 15, {i64({1}, {3}), i64({1}, {39})})),
            (std::vector<int64_t>{4052555153018976267}));
  EXPECT_HAS(
      expect_error(run_single("Pow", 15, {i32({1}, {0}), i32({1}, {-1})}), Code::kKernelFailed),
      "negative power");
}

TEST(BinaryKernels, PowMixedTypes) {
  expect_near_all(values(run1("Pow", 15, {f32({3}, {2, 4, -2}), i64({3}, {3, -1, 2})})),
                  {8, 0.25, 4});
  EXPECT_EQ(raw<int32_t>(run1("Pow", 15, {i32({2}, {2, 10}), f32({2}, {0.5f, 2.0f})})),
            (std::vector<int32_t>{1, 100}));
  Tensor h = run1("Pow", 15, {f16({2}, {3, 2}), f16({1}, {2})});
  EXPECT_EQ(h.dtype(), D::kFloat16);
  expect_near_all(values(h), {9, 4});
  // Pow-7 has one type for both inputs.
  EXPECT_HAS(
      expect_error(run_single("Pow", 7, {f32({1}, {2}), f64({1}, {2})}), Code::kTypeUnsupported),
      "float64");
}

TEST(BinaryKernels, ComparisonsOutputBool) {
  Tensor eq = run1("Equal", 13, {f32({3}, {1, NAN, 3}), f32({3}, {1, NAN, 4})});
  EXPECT_EQ(eq.dtype(), D::kBool);
  EXPECT_EQ(values(eq), (std::vector<double>{1, 0, 0}));
  const uint64_t big = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(values(run1("Greater", 13, {u64({2}, {big, 1}), u64({1}, {big - 1})})),
            (std::vector<double>{1, 0}));
  EXPECT_EQ(values(run1("LessOrEqual", 16, {f16({3}, {1, 2, 3}), f16({}, {2})})),
            (std::vector<double>{1, 1, 0}));
  EXPECT_EQ(values(run1("GreaterOrEqual", 12, {i8({2}, {-1, 5}), i8({2}, {-1, 6})})),
            (std::vector<double>{1, 0}));
  EXPECT_EQ(values(run1("Less", 9, {bf16({2}, {1, 2}), bf16({2}, {2, 2})})),
            (std::vector<double>{1, 0}));
}

TEST(BinaryKernels, EqualOnStringsBroadcasts) {
  Tensor y = run1("Equal", 19, {strings({2, 2}, {"a", "b", "c", "a"}), strings({}, {"a"})});
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(values(y), (std::vector<double>{1, 0, 0, 1}));
  EXPECT_HAS(expect_error(run_single("Less", 13, {strings({1}, {"a"}), strings({1}, {"b"})}),
                          Code::kTypeUnsupported),
             "string");
}

TEST(BinaryKernels, LogicAndBitwise) {
  Tensor a = boolean({2, 2}, {true, true, false, false});
  Tensor b = boolean({2}, {true, false});
  EXPECT_EQ(values(run1("And", 7, {a, b})), (std::vector<double>{1, 0, 0, 0}));
  EXPECT_EQ(values(run1("Or", 7, {a, b})), (std::vector<double>{1, 1, 1, 0}));
  EXPECT_EQ(values(run1("Xor", 7, {a, b})), (std::vector<double>{0, 1, 1, 0}));
  EXPECT_HAS(
      expect_error(run_single("And", 7, {i32({1}, {1}), i32({1}, {1})}), Code::kTypeUnsupported),
      "int32");
  EXPECT_EQ(raw<int32_t>(run1("BitwiseAnd", 18, {i32({2}, {12, -1}), i32({2}, {10, 5})})),
            (std::vector<int32_t>{8, 5}));
  EXPECT_EQ(raw<uint8_t>(run1("BitwiseOr", 18, {u8({2}, {12, 0}), u8({}, {3})})),
            (std::vector<uint8_t>{15, 3}));
  EXPECT_EQ(raw<int64_t>(run1("BitwiseXor", 18, {i64({1}, {12}), i64({1}, {10})})),
            (std::vector<int64_t>{6}));
  EXPECT_HAS(expect_error(run_single("BitwiseAnd", 18, {f32({1}, {1}), f32({1}, {1})}),
                          Code::kTypeUnsupported),
             "float32");
}

TEST(BinaryKernels, BitShiftDirectionsAndWideShifts) {
  Tensor x = u8({4}, {1, 255, 16, 1}), y = u8({4}, {3, 1, 8, 9});
  EXPECT_EQ(raw<uint8_t>(run1("BitShift", 11, {x, y}, Attrs().s("direction", "LEFT"))),
            (std::vector<uint8_t>{8, 254, 0, 0}));
  EXPECT_EQ(raw<uint8_t>(run1("BitShift", 11, {x, y}, Attrs().s("direction", "RIGHT"))),
            (std::vector<uint8_t>{0, 127, 0, 0}));
  EXPECT_EQ(raw<uint64_t>(run1("BitShift", 11, {u64({2}, {1, 1}), u64({2}, {63, 64})},
                               Attrs().s("direction", "LEFT"))),
            (std::vector<uint64_t>{uint64_t{1} << 63, 0}));
  EXPECT_HAS(expect_error(run_single("BitShift", 11, {x, y}, Attrs().s("direction", "UP")),
                          Code::kInvalidArgument),
             "\"UP\"");
  EXPECT_HAS(expect_error(run_single("BitShift", 11, {i32({1}, {1}), i32({1}, {1})},
                                     Attrs().s("direction", "LEFT")),
                          Code::kTypeUnsupported),
             "int32");
}

// ---- variadic ---------------------------------------------------------------------------------

TEST(VariadicKernels, SumBroadcastsFromOpset8) {
  Tensor y = run1("Sum", 13, {f32({2, 1}, {1, 2}), f32({3}, {10, 20, 30}), f32({}, {100})});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  expect_near_all(values(y), {111, 121, 131, 112, 122, 132});
  expect_near_all(values(run1("Sum", 13, {f64({2}, {1, 2})})), {1, 2});
}

TEST(VariadicKernels, Revision6NeedsEqualShapes) {
  const std::string m = expect_error(run_single("Max", 7, {f32({2}, {1, 2}), f32({1}, {3})}),
                                     Code::kIncompatibleShapes);
  EXPECT_HAS(m, "[2]");
  EXPECT_HAS(m, "[1]");
  expect_near_all(values(run1("Max", 8, {f32({2}, {1, 5}), f32({1}, {3})})), {3, 5});
}

TEST(VariadicKernels, MaxMinPropagateNaNAndTakeIntegers) {
  expect_near_all(values(run1("Max", 13, {f32({3}, {1, NAN, 3}), f32({3}, {NAN, 2, 1})})),
                  {kNaN, kNaN, 3});
  expect_near_all(values(run1("Min", 13, {f32({2}, {1, 5}), f32({2}, {2, NAN})})), {1, kNaN});
  EXPECT_EQ(
      raw<int8_t>(run1("Min", 12, {i8({3}, {-128, 5, 0}), i8({3}, {127, -5, 0}), i8({1}, {1})})),
      (std::vector<int8_t>{-128, -5, 0}));
  EXPECT_EQ(raw<uint64_t>(
                run1("Max", 13, {u64({1}, {std::numeric_limits<uint64_t>::max()}), u64({1}, {1})})),
            (std::vector<uint64_t>{std::numeric_limits<uint64_t>::max()}));
}

TEST(VariadicKernels, HalfSumRoundsOnce) {
  // In float16 2048 + 1 rounds back to 2048 each time; accumulating in float gives 2050.
  Tensor y = run1("Sum", 13, {f16({1}, {2048}), f16({1}, {1}), f16({1}, {1})});
  EXPECT_EQ(y.dtype(), D::kFloat16);
  expect_near_all(values(y), {2050});
  expect_near_all(values(run1("Mean", 13, {bf16({2}, {1, 3}), bf16({2}, {3, 5})})), {2, 4});
}

TEST(VariadicKernels, Errors) {
  EXPECT_HAS(
      expect_error(run_single("Mean", 13, {i32({1}, {1}), i32({1}, {3})}), Code::kTypeUnsupported),
      "int32");
  std::string m =
      expect_error(run_single("Max", 13, {f32({1}, {1}), f64({1}, {1})}), Code::kTypeUnsupported);
  EXPECT_HAS(m, "input 1");
  EXPECT_HAS(m, "float64");
  EXPECT_HAS(expect_error(run_single("Sum", 13, {f32({2}, {1, 2}), f32({3}, {1, 2, 3})}),
                          Code::kIncompatibleShapes),
             "[3]");
  EXPECT_HAS(expect_error(run_single("Max", 13, {boolean({1}, {true})}), Code::kTypeUnsupported),
             "bool");
}

// ---- Where ------------------------------------------------------------------------------------

TEST(WhereKernel, BroadcastsAllThreeInputs) {
  Tensor y =
      run1("Where", 16, {boolean({2, 1}, {true, false}), i64({1, 3}, {1, 2, 3}), i64({}, {-1})});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(raw<int64_t>(y), (std::vector<int64_t>{1, 2, 3, -1, -1, -1}));
  Tensor h = run1("Where", 16, {boolean({2}, {false, true}), f16({2}, {1, 2}), f16({2}, {3, 4})});
  EXPECT_EQ(h.dtype(), D::kFloat16);
  expect_near_all(values(h), {3, 2});
  Tensor b =
      run1("Where", 9,
           {boolean({2}, {true, false}), boolean({2}, {true, true}), boolean({2}, {false, false})});
  EXPECT_EQ(values(b), (std::vector<double>{1, 0}));
  EXPECT_EQ(run1("Where", 9, {boolean({0}, {}), f32({1}, {1}), f32({1}, {2})}).shape(), (Shape{0}));
}

TEST(WhereKernel, MovesStrings) {
  Tensor y =
      run1("Where", 16,
           {boolean({3}, {true, false, true}), strings({3}, {"a", "b", "c"}), strings({1}, {"z"})});
  EXPECT_EQ(string_values(y), (std::vector<std::string>{"a", "z", "c"}));
}

TEST(WhereKernel, Errors) {
  EXPECT_HAS(expect_error(run_single("Where", 16, {u8({1}, {1}), f32({1}, {1}), f32({1}, {2})}),
                          Code::kTypeUnsupported),
             "uint8");
  EXPECT_HAS(
      expect_error(run_single("Where", 16, {boolean({1}, {true}), f32({1}, {1}), i32({1}, {2})}),
                   Code::kTypeUnsupported),
      "int32");
  const std::string m = expect_error(
      run_single("Where", 16, {boolean({2}, {true, true}), f32({3}, {1, 2, 3}), f32({1}, {2})}),
      Code::kIncompatibleShapes);
  EXPECT_HAS(m, "[2]");
  EXPECT_HAS(m, "[3]");
}

// ---- Clip -------------------------------------------------------------------------------------

TEST(ClipKernel, Revision6Attributes) {
  Tensor x = f32({4}, {-5, 0.5f, 5, NAN});
  expect_near_all(values(run1("Clip", 7, {x}, Attrs().f("min", -1).f("max", 1))),
                  {-1, 0.5, 1, kNaN});
  expect_near_all(values(run1("Clip", 7, {x})), {-5, 0.5, 5, kNaN});  // defaults: no clipping
  EXPECT_HAS(expect_error(run_single("Clip", 7, {i32({1}, {1})}), Code::kTypeUnsupported), "int32");
}

TEST(ClipKernel, InputBoundsOptionalAndIntegers) {
  Tensor x = f32({3}, {-5, 0.5f, 5});
  expect_near_all(values(run1("Clip", 11, {x, f32({}, {0})})), {0, 0.5, 5});
  expect_near_all(values(run1("Clip", 11, {x, none(), f32({}, {1})})), {-5, 0.5, 1});
  expect_near_all(values(run1("Clip", 11, {x})), {-5, 0.5, 5});
  EXPECT_EQ(raw<int8_t>(run1("Clip", 12, {i8({3}, {-128, 3, 127}), i8({}, {-10}), i8({}, {10})})),
            (std::vector<int8_t>{-10, 3, 10}));
  // min > max: every value becomes max.
  expect_near_all(values(run1("Clip", 13, {bf16({2}, {-1, 7}), bf16({}, {5}), bf16({}, {2})})),
                  {2, 2});
}

TEST(ClipKernel, BoundErrors) {
  Tensor x = f32({2}, {1, 2});
  std::string m =
      expect_error(run_single("Clip", 13, {x, f32({2}, {0, 1})}), Code::kInvalidArgument);
  EXPECT_HAS(m, "'min'");
  EXPECT_HAS(m, "[2]");
  m = expect_error(run_single("Clip", 13, {x, none(), f64({}, {1})}), Code::kTypeUnsupported);
  EXPECT_HAS(m, "'max'");
  EXPECT_HAS(m, "float64");
}

// ---- Cast / CastLike --------------------------------------------------------------------------

Tensor cast(Tensor x, D to, int64_t opset = 13) {
  return run1("Cast", opset, {std::move(x)}, Attrs().i("to", static_cast<int64_t>(to)));
}

TEST(CastKernel, FloatToIntegerTruncatesAndSaturates) {
  Tensor x = f32({7}, {-2.7f, 2.7f, -0.5f, NAN, 1e20f, -1e20f, 300.0f});
  EXPECT_EQ(raw<int32_t>(cast(x, D::kInt32)),
            (std::vector<int32_t>{-2, 2, 0, 0, std::numeric_limits<int32_t>::max(),
                                  std::numeric_limits<int32_t>::min(), 300}));
  EXPECT_EQ(raw<uint8_t>(cast(f64({4}, {-1.0, 255.9, 300.0, 7.5}), D::kUInt8)),
            (std::vector<uint8_t>{0, 255, 255, 7}));
  EXPECT_EQ(raw<int64_t>(cast(f16({2}, {-65504, 1.5f}), D::kInt64)),
            (std::vector<int64_t>{-65504, 1}));
  EXPECT_EQ(raw<uint64_t>(cast(f64({2}, {1e19, 1e20}), D::kUInt64)),
            (std::vector<uint64_t>{10000000000000000000u, std::numeric_limits<uint64_t>::max()}));
}

TEST(CastKernel, IntegerNarrowingWraps) {
  EXPECT_EQ(raw<int8_t>(cast(i64({3}, {300, -129, 5}), D::kInt8)),
            (std::vector<int8_t>{44, 127, 5}));
  EXPECT_EQ(raw<uint16_t>(cast(i32({1}, {-1}), D::kUInt16)), (std::vector<uint16_t>{65535}));
}

TEST(CastKernel, BoolConversions) {
  EXPECT_EQ(values(cast(f32({4}, {0, 2, NAN, -0.0f}), D::kBool)),
            (std::vector<double>{0, 1, 1, 0}));
  expect_near_all(values(cast(boolean({2}, {true, false}), D::kFloat16)), {1, 0});
  EXPECT_EQ(raw<int64_t>(cast(boolean({2}, {true, false}), D::kInt64)),
            (std::vector<int64_t>{1, 0}));
}

TEST(CastKernel, SixteenBitFloatsRoundToNearestEven) {
  // 0x3ef5eeb0 lies above the midpoint between bfloat16 0x3ef5 and 0x3ef6.
  float f;
  const uint32_t bits = 0x3ef5eeb0u;
  std::memcpy(&f, &bits, 4);
  EXPECT_EQ(bits16(cast(f32({1}, {f}), D::kBFloat16)), (std::vector<uint16_t>{0x3ef6}));
  // 65520 rounds up past float16's largest finite value; 1e-8 underflows to zero.
  expect_near_all(values(cast(f32({3}, {65520.0f, 1e-8f, 2049.0f}), D::kFloat16)), {kInf, 0, 2048});
  expect_near_all(values(cast(f16({1}, {0.1f}), D::kFloat64)), {static_cast<float>(Half(0.1f))}, 0);
}

TEST(CastKernel, NumbersToStrings) {
  EXPECT_EQ(string_values(cast(f32({9}, {0.3f, 1.0f, 1e-5f, 123456789.0f, NAN, INFINITY, -INFINITY,
                                         -0.0f, 100.5f}),
                               D::kString)),
            (std::vector<std::string>{"0.3", "1", "1e-05", "1.2345679e+08", "NaN", "INF", "-INF",
                                      "-0", "100.5"}));
  EXPECT_EQ(string_values(cast(f64({2}, {0.1, 1.0 / 3}), D::kString)),
            (std::vector<std::string>{"0.1", "0.3333333333333333"}));
  EXPECT_EQ(string_values(cast(f16({1}, {0.3f}), D::kString)), (std::vector<std::string>{"0.3"}));
  EXPECT_EQ(string_values(cast(i8({2}, {-5, 127}), D::kString)),
            (std::vector<std::string>{"-5", "127"}));
  EXPECT_EQ(string_values(cast(u64({1}, {std::numeric_limits<uint64_t>::max()}), D::kString)),
            (std::vector<std::string>{"18446744073709551615"}));
  EXPECT_EQ(string_values(cast(boolean({2}, {true, false}), D::kString)),
            (std::vector<std::string>{"1", "0"}));
}

TEST(CastKernel, FloatStringsRoundTrip) {
  std::vector<float> fs;
  std::vector<double> ds;
  uint32_t state = 12345;
  for (int i = 0; i < 200; ++i) {
    state = state * 1664525u + 1013904223u;
    uint32_t b = state;
    float f;
    std::memcpy(&f, &b, 4);
    if (!std::isfinite(f)) f = static_cast<float>(i);
    fs.push_back(f);
    ds.push_back(static_cast<double>(f) * 1.000000123456789);
  }
  Tensor back = cast(cast(f32({200}, fs), D::kString), D::kFloat32);
  EXPECT_EQ(raw<float>(back), fs);
  Tensor dback = cast(cast(f64({200}, ds), D::kString), D::kFloat64);
  EXPECT_EQ(raw<double>(dback), ds);
}

TEST(CastKernel, StringsToNumbers) {
  Tensor s = strings({9}, {"1.5", " 2 ", "+3", "1e3", "-INF", "+inf", "NaN", "INF", "-0"});
  expect_near_all(values(cast(s, D::kFloat32)), {1.5, 2, 3, 1000, -kInf, kInf, kNaN, kInf, 0});
  EXPECT_EQ(
      raw<int32_t>(cast(strings({5}, {"100.5", "-3.7", "42", "1e3", "9999999999"}), D::kInt32)),
      (std::vector<int32_t>{100, -3, 42, 1000, 1410065407}));
  EXPECT_EQ(raw<uint64_t>(cast(strings({1}, {"18446744073709551615"}), D::kUInt64)),
            (std::vector<uint64_t>{std::numeric_limits<uint64_t>::max()}));
  EXPECT_EQ(values(cast(strings({5}, {"true", "FALSE", "0", "2.5", "nan"}), D::kBool)),
            (std::vector<double>{1, 0, 0, 1, 1}));
  EXPECT_EQ(bits16(cast(strings({1}, {"0.1"}), D::kFloat16)),
            (std::vector<uint16_t>{Half(0.1f).bits}));
  expect_near_all(values(cast(strings({1}, {"1e400"}), D::kFloat64)), {kInf});
}

TEST(CastKernel, UnparsableStringsFail) {
  for (const char* bad : {"abc", "1.5x", "", "0x10"}) {
    const std::string m =
        expect_error(run_single("Cast", 13, {strings({2}, {"1", bad})},
                                Attrs().i("to", static_cast<int64_t>(D::kFloat32))),
                     Code::kInvalidArgument);
    EXPECT_HAS(m, std::string("element 1 \"") + bad + "\"");
  }
  EXPECT_HAS(expect_error(run_single("Cast", 13, {strings({1}, {"seven"})},
                                     Attrs().i("to", static_cast<int64_t>(D::kInt64))),
                          Code::kInvalidArgument),
             "int64");
}

TEST(CastKernel, UnsupportedTargetsAndBadAttribute) {
  EXPECT_HAS(expect_error(run_single("Cast", 19, {f32({1}, {1})},
                                     Attrs().i("to", static_cast<int64_t>(D::kFloat8E4M3FN))),
                          Code::kTypeUnsupported),
             "float8e4m3fn");
  EXPECT_HAS(expect_error(run_single("Cast", 13, {f32({1}, {1})}, Attrs().i("to", 99)),
                          Code::kInvalidArgument),
             "99");
  EXPECT_HAS(expect_error(run_single("Cast", 13, {f32({1}, {1})}), Code::kInvalidArgument), "'to'");
}

TEST(CastKernel, SameTypeEmptyAndRevisions) {
  expect_near_all(values(cast(f32({2}, {1.5f, -2}), D::kFloat32)), {1.5, -2});
  EXPECT_EQ(string_values(cast(strings({1}, {"x"}), D::kString)), (std::vector<std::string>{"x"}));
  Tensor e = cast(f32({0, 2}, {}), D::kInt8);
  EXPECT_EQ(e.dtype(), D::kInt8);
  EXPECT_EQ(e.shape(), (Shape{0, 2}));
  EXPECT_EQ(raw<int32_t>(cast(f64({1}, {-7.9}), D::kInt32, 7)), (std::vector<int32_t>{-7}));
  EXPECT_EQ(raw<int8_t>(cast(f32({1}, {3.9f}), D::kInt8, 21)), (std::vector<int8_t>{3}));
}

TEST(CastLikeKernel, TakesTheTargetType) {
  Tensor y = run1("CastLike", 15, {i32({2}, {1, -2}), f16({1}, {0})});
  EXPECT_EQ(y.dtype(), D::kFloat16);
  expect_near_all(values(y), {1, -2});
  EXPECT_EQ(string_values(run1("CastLike", 19, {f32({1}, {2.5f}), strings({1}, {""})})),
            (std::vector<std::string>{"2.5"}));
}

}  // namespace
}  // namespace kiln::elementwise_kernel_test
