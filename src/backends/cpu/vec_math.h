// Float approximations of exp, tanh, erf (and what is built on them) written so that a loop
// calling them vectorizes: branch-free selects, no libm calls, integer bit tricks for 2^n.
// std::exp & co. in a loop stay scalar calls, which is most of the time of a softmax or a GELU.
//
// Accuracy (float32, checked against std:: in double by tests/unit/test_cpu_vec_math.cpp):
//   exp_f   ~1 ulp relative over the whole range, subnormal results included; exact
//           0 / +inf / NaN at the ends.
//   tanh_f  a few ulp (polynomial below |x| 0.625, 1 - 2/(e^2|x| + 1) above).
//   erf_f   |error| < 2e-7 absolute (Taylor series below |x| 0.5, Numerical Recipes' erfc
//           Chebyshev fit, fractional error < 1.2e-7, above).
#pragma once

#include <bit>
#include <cstdint>

namespace kiln::backends::cpu {

#define KILN_VEC_INLINE [[gnu::always_inline]] inline

KILN_VEC_INLINE float exp_f(float x) {
  const bool nan = x != x;
  float xc = nan ? 0.0f : x;
  // Below -104 the result is below half the smallest subnormal; above 88.8 it overflows, which
  // the two-step scaling below turns into +inf by itself.
  xc = xc < -104.0f ? -104.0f : xc;
  xc = xc > 88.8f ? 88.8f : xc;
  // n = round(x / ln 2) by the 1.5 * 2^23 trick (exact for |n| < 2^22).
  const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  // Cody-Waite: ln 2 in two parts, so r = x - n ln 2 keeps its low bits.
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  // Cephes expf's minimax polynomial for e^r on [-ln2/2, ln2/2].
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * (r * r) + r + 1.0f;
  // 2^n as two factors: n spans [-150, 128], each half stays a normal float's exponent.
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t n1 = ni >> 1, n2 = ni - n1;
  const float s1 = std::bit_cast<float>(static_cast<uint32_t>(n1 + 127) << 23);
  const float s2 = std::bit_cast<float>(static_cast<uint32_t>(n2 + 127) << 23);
  const float e = y * s1 * s2;
  return nan ? x : e;
}

KILN_VEC_INLINE float abs_f(float x) {
  return std::bit_cast<float>(std::bit_cast<uint32_t>(x) & 0x7fffffffu);
}

KILN_VEC_INLINE float tanh_f(float x) {
  const float ax = abs_f(x);
  // Small |x|: Cephes tanhf's odd polynomial (1 - 2/(e+1) would cancel catastrophically).
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  const float t = 1.0f - 2.0f / (exp_f(2.0f * ax) + 1.0f);  // NaN stays NaN
  const float large = x < 0.0f ? -t : t;
  return ax < 0.625f ? small : large;
}

KILN_VEC_INLINE float sigmoid_f(float x) {
  return 1.0f / (1.0f + exp_f(-x));
}

KILN_VEC_INLINE float erf_f(float x) {
  const float ax = abs_f(x);
  // |x| < 0.5: erf(x) = 2/sqrt(pi) * sum (-1)^k x^(2k+1) / (k! (2k+1)), 7 terms (< 2e-9).
  const float z = x * x;
  float s = 1.0f / 9360.0f;
  s = s * z - 1.0f / 1320.0f;
  s = s * z + 1.0f / 216.0f;
  s = s * z - 1.0f / 42.0f;
  s = s * z + 1.0f / 10.0f;
  s = s * z - 1.0f / 3.0f;
  s = s * z + 1.0f;
  const float small = 1.12837916709551257f * x * s;
  // Otherwise erf = 1 - erfc(|x|) with Numerical Recipes' erfcc, sign restored.
  const float t = 1.0f / (1.0f + 0.5f * ax);
  float q = 0.17087277f;
  q = q * t - 0.82215223f;
  q = q * t + 1.48851587f;
  q = q * t - 1.13520398f;
  q = q * t + 0.27886807f;
  q = q * t - 0.18628806f;
  q = q * t + 0.09678418f;
  q = q * t + 0.37409196f;
  q = q * t + 1.00002368f;
  q = q * t - 1.26551223f;
  const float erfc = t * exp_f(q - ax * ax);
  const float r = 1.0f - erfc;  // NaN stays NaN
  const float large = x < 0.0f ? -r : r;
  return ax < 0.5f ? small : large;
}

}  // namespace kiln::backends::cpu
