// vec_math's float approximations against libm in double, over dense grids and the edge values
// (overflow, underflow into subnormals, +-inf, NaN).
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <limits>
#include <vector>

#include "backends/cpu/vec_math.h"

namespace kiln::backends::cpu {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<float> grid(float lo, float hi, float step) {
  std::vector<float> v;
  for (float x = lo; x < hi; x += step) v.push_back(x);
  for (float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-8f, kInf, -kInf, kNaN}) v.push_back(x);
  return v;
}

TEST(CpuVecMath, ExpWithinOneUlp) {
  double worst = 0;
  for (float x : grid(-110.0f, 90.0f, 0.00131f)) {
    const float got = exp_f(x);
    if (std::isnan(x)) {
      EXPECT_TRUE(std::isnan(got));
      continue;
    }
    const double want = std::exp(static_cast<double>(x));
    const float want_f = static_cast<float>(want);
    if (std::isinf(want_f) || want_f < std::numeric_limits<float>::min()) {
      // Overflow must be +inf; the subnormal range only needs to be absolutely tiny.
      if (std::isinf(want_f))
        EXPECT_EQ(got, kInf) << "exp(" << x << ")";
      else
        EXPECT_LE(std::fabs(got - want), 2e-45) << "exp(" << x << ")";
      continue;
    }
    const double ulp = std::nextafter(want_f, kInf) - want_f;
    const double err = std::fabs(got - want) / ulp;
    worst = std::max(worst, err);
    ASSERT_LE(err, 2.0) << "exp(" << x << ") = " << got << ", want " << want;
  }
  std::cout << "[ errors   ] exp_f: max " << worst << " ulp\n";
}

TEST(CpuVecMath, TanhAndErfAbsoluteError) {
  double worst_tanh = 0, worst_erf = 0;
  for (float x : grid(-12.0f, 12.0f, 0.000173f)) {
    const float t = tanh_f(x), e = erf_f(x);
    if (std::isnan(x)) {
      EXPECT_TRUE(std::isnan(t) && std::isnan(e));
      continue;
    }
    const double dt = std::fabs(t - std::tanh(static_cast<double>(x)));
    const double de = std::fabs(e - std::erf(static_cast<double>(x)));
    worst_tanh = std::max(worst_tanh, dt);
    worst_erf = std::max(worst_erf, de);
    ASSERT_LE(dt, 3e-7) << "tanh(" << x << ")";
    ASSERT_LE(de, 5e-7) << "erf(" << x << ")";
  }
  // Small arguments keep their relative precision (no 1 - (1 - x) cancellation).
  for (float x : {1e-6f, -3e-5f, 0.01f}) {
    const double t = std::tanh(static_cast<double>(x)), e = std::erf(static_cast<double>(x));
    EXPECT_NEAR(tanh_f(x), t, 2e-7 * std::fabs(t)) << x;
    EXPECT_NEAR(erf_f(x), e, 2e-7 * std::fabs(e)) << x;
  }
  std::cout << "[ errors   ] tanh_f: max abs " << worst_tanh << "; erf_f: max abs " << worst_erf
            << "\n";
}

TEST(CpuVecMath, SigmoidEnds) {
  EXPECT_EQ(sigmoid_f(-kInf), 0.0f);
  EXPECT_EQ(sigmoid_f(kInf), 1.0f);
  EXPECT_EQ(sigmoid_f(0.0f), 0.5f);
  EXPECT_TRUE(std::isnan(sigmoid_f(kNaN)));
  EXPECT_NEAR(sigmoid_f(-20.0f), 2.0611536e-9, 1e-15);
}

}  // namespace
}  // namespace kiln::backends::cpu
