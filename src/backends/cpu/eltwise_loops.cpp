// The per-instruction loops of cpu.eltwise: one plain loop per op over contiguous floats, each
// written to vectorize, cloned for AVX-512 / AVX2 / baseline. NaN handling follows the
// reference kernels (Relu, Clip, HardSigmoid keep NaN; Max/Min return it).
#include <cmath>
#include <limits>
#include <numbers>

#include "backends/cpu/cpu_kernel_util.h"
#include "backends/cpu/eltwise_program.h"
#include "backends/cpu/vec_math.h"

namespace kiln::backends::cpu {

KILN_CPU_CLONES
void ew_apply(const EwInstr& in, const float* __restrict a, const float* __restrict b,
              float* __restrict y, int64_t n) {
  const float p0 = in.p0, p1 = in.p1;
  switch (in.op) {
    case EwOp::kAdd:
      for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
      break;
    case EwOp::kSub:
      for (int64_t i = 0; i < n; ++i) y[i] = a[i] - b[i];
      break;
    case EwOp::kMul:
      for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
      break;
    case EwOp::kDiv:
      for (int64_t i = 0; i < n; ++i) y[i] = a[i] / b[i];
      break;
    case EwOp::kMax:
      for (int64_t i = 0; i < n; ++i) {
        const float x = a[i], z = b[i];
        y[i] = x != x ? x : (z != z ? z : (z > x ? z : x));
      }
      break;
    case EwOp::kMin:
      for (int64_t i = 0; i < n; ++i) {
        const float x = a[i], z = b[i];
        y[i] = x != x ? x : (z != z ? z : (z < x ? z : x));
      }
      break;
    case EwOp::kRelu:
      for (int64_t i = 0; i < n; ++i) y[i] = a[i] < 0.0f ? 0.0f : a[i];
      break;
    case EwOp::kSigmoid:
      for (int64_t i = 0; i < n; ++i) y[i] = sigmoid_f(a[i]);
      break;
    case EwOp::kTanh:
      for (int64_t i = 0; i < n; ++i) y[i] = tanh_f(a[i]);
      break;
    case EwOp::kErf:
      for (int64_t i = 0; i < n; ++i) y[i] = erf_f(a[i]);
      break;
    case EwOp::kExp:
      for (int64_t i = 0; i < n; ++i) y[i] = exp_f(a[i]);
      break;
    case EwOp::kSqrt:
      for (int64_t i = 0; i < n; ++i) y[i] = std::sqrt(a[i]);
      break;
    case EwOp::kNeg:
      for (int64_t i = 0; i < n; ++i) y[i] = -a[i];
      break;
    case EwOp::kAbs:
      for (int64_t i = 0; i < n; ++i) y[i] = abs_f(a[i]);
      break;
    case EwOp::kHardSigmoid:
      for (int64_t i = 0; i < n; ++i) {
        const float r = p0 * a[i] + p1;
        y[i] = r < 0.0f ? 0.0f : (1.0f < r ? 1.0f : r);
      }
      break;
    case EwOp::kHardSwish:
      for (int64_t i = 0; i < n; ++i) {
        const float r = a[i] / 6.0f + 0.5f;
        y[i] = a[i] * (r < 0.0f ? 0.0f : (1.0f < r ? 1.0f : r));
      }
      break;
    case EwOp::kLeakyRelu:
      for (int64_t i = 0; i < n; ++i) y[i] = a[i] < 0.0f ? p0 * a[i] : a[i];
      break;
    case EwOp::kGelu: {
      const float k = static_cast<float>(std::numbers::sqrt2 / 2);
      for (int64_t i = 0; i < n; ++i) y[i] = 0.5f * a[i] * (1.0f + erf_f(a[i] * k));
      break;
    }
    case EwOp::kGeluTanh: {
      const float k = static_cast<float>(std::sqrt(2.0 / std::numbers::pi));
      for (int64_t i = 0; i < n; ++i) {
        const float x = a[i];
        y[i] = 0.5f * x * (1.0f + tanh_f(k * (x + 0.044715f * x * x * x)));
      }
      break;
    }
    case EwOp::kClip:
      for (int64_t i = 0; i < n; ++i) {
        const float r = a[i] < p0 ? p0 : a[i];
        y[i] = p1 < r ? p1 : r;
      }
      break;
    case EwOp::kSquare:
      for (int64_t i = 0; i < n; ++i) y[i] = a[i] * a[i];
      break;
    case EwOp::kCube:
      // In double like the reference's pow: x*x is exact there, so one rounding before float's.
      for (int64_t i = 0; i < n; ++i) {
        const double x = a[i];
        y[i] = static_cast<float>(x * x * x);
      }
      break;
    case EwOp::kPowHalf:
      // pow(x, 0.5), not sqrt: pow(-0, 0.5) = +0 and pow(-inf, 0.5) = +inf.
      for (int64_t i = 0; i < n; ++i) {
        const float x = a[i];
        y[i] = x == -std::numeric_limits<float>::infinity() ? std::numeric_limits<float>::infinity()
                                                            : std::sqrt(x) + 0.0f;
      }
      break;
    case EwOp::kPow:
      break;  // resolved before running
  }
}

}  // namespace kiln::backends::cpu
