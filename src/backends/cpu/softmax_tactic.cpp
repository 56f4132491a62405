// "cpu.softmax": Softmax and LogSoftmax (13: one axis; 1/11: rows from the axis on) over
// float32.
//
// The input is viewed as [outer, n, inner] with n the axis. inner == 1 (the usual last axis)
// normalizes contiguous rows; otherwise blocks of up to kBlock inner positions are normalized
// together so every loop still walks contiguous memory. exp is vec_math's exp_f. NaN anywhere
// in a row makes the whole row NaN, as in the reference (its exp enters the sum).
#include <cmath>
#include <limits>

#include "backends/cpu/cpu_kernel_util.h"
#include "backends/cpu/cpu_tactics.h"
#include "backends/cpu/cpu_threads.h"
#include "backends/cpu/vec_math.h"
#include "core/errors.h"
#include "ops/kernel_util.h"
#include "ops/reduction_util.h"

namespace kiln::backends {
namespace {

using cpu::exp_f;
using cpu::is_f32;

constexpr int kLanes = 16;
constexpr int64_t kBlock = 256;

// Rows [r0, r1) of x ([rows, n]).
KILN_CPU_CLONES
void softmax_rows(const float* x, float* y, int64_t n, bool log, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* __restrict row = x + r * n;
    float* __restrict out = y + r * n;
    float mx[kLanes];
    for (int j = 0; j < kLanes; ++j) mx[j] = -std::numeric_limits<float>::infinity();
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
      for (int j = 0; j < kLanes; ++j) mx[j] = row[i + j] > mx[j] ? row[i + j] : mx[j];
    float m = mx[0];
    for (int j = 1; j < kLanes; ++j) m = mx[j] > m ? mx[j] : m;
    for (; i < n; ++i) m = row[i] > m ? row[i] : m;

    float acc[kLanes] = {};
    i = 0;
    if (log) {
      for (; i + kLanes <= n; i += kLanes)
        for (int j = 0; j < kLanes; ++j) acc[j] += exp_f(row[i + j] - m);
    } else {
      for (; i + kLanes <= n; i += kLanes)
        for (int j = 0; j < kLanes; ++j) {
          const float e = exp_f(row[i + j] - m);
          out[i + j] = e;
          acc[j] += e;
        }
    }
    float sum = 0;
    for (int j = 0; j < kLanes; ++j) sum += acc[j];
    for (; i < n; ++i) {
      const float e = exp_f(row[i] - m);
      if (!log) out[i] = e;
      sum += e;
    }
    if (log) {
      const float lse = static_cast<float>(std::log(static_cast<double>(sum)));
      for (int64_t k = 0; k < n; ++k) out[k] = (row[k] - m) - lse;
    } else {
      const float inv = 1.0f / sum;
      for (int64_t k = 0; k < n; ++k) out[k] *= inv;
    }
  }
}

// Inner positions [i0, i1) (at most kBlock) of one [n, inner] slice.
KILN_CPU_CLONES
void softmax_block(const float* x, float* y, int64_t n, int64_t inner, bool log, int64_t i0,
                   int64_t i1) {
  float mx[kBlock], sum[kBlock];
  const int64_t w = i1 - i0;
  for (int64_t i = 0; i < w; ++i) {
    mx[i] = -std::numeric_limits<float>::infinity();
    sum[i] = 0;
  }
  for (int64_t k = 0; k < n; ++k) {
    const float* __restrict row = x + k * inner + i0;
    for (int64_t i = 0; i < w; ++i) mx[i] = row[i] > mx[i] ? row[i] : mx[i];
  }
  for (int64_t k = 0; k < n; ++k) {
    const float* __restrict row = x + k * inner + i0;
    float* __restrict out = y + k * inner + i0;
    if (log) {
      for (int64_t i = 0; i < w; ++i) sum[i] += exp_f(row[i] - mx[i]);
    } else {
      for (int64_t i = 0; i < w; ++i) {
        const float e = exp_f(row[i] - mx[i]);
        out[i] = e;
        sum[i] += e;
      }
    }
  }
  if (log) {
    for (int64_t i = 0; i < w; ++i)
      sum[i] = static_cast<float>(std::log(static_cast<double>(sum[i])));
  } else {
    for (int64_t i = 0; i < w; ++i) sum[i] = 1.0f / sum[i];
  }
  for (int64_t k = 0; k < n; ++k) {
    const float* __restrict row = x + k * inner + i0;
    float* __restrict out = y + k * inner + i0;
    if (log) {
      for (int64_t i = 0; i < w; ++i) out[i] = (row[i] - mx[i]) - sum[i];
    } else {
      for (int64_t i = 0; i < w; ++i) out[i] *= sum[i];
    }
  }
}

class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(const ops::OpSchema& schema, bool log) : schema_(schema), log_(log) {}

  Status run(ops::KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    if (x == nullptr || x->dtype() != DataType::kFloat32 || x->rank() == 0 || x->numel() == 0)
      return schema_.reference_kernel()(ctx);
    const int64_t rank = static_cast<int64_t>(x->rank());
    // Before opset 13 the input is coerced to 2-D at `axis` (default 1): rows are everything
    // from the axis on.
    const bool legacy = schema_.since() < 13;
    KILN_ASSIGN_OR_RETURN(
        const int64_t axis,
        ops::normalize_axis(ctx.attr_int("axis", legacy ? 1 : -1), rank, "Softmax"));
    const auto& shape = x->shape();
    const size_t ax = static_cast<size_t>(axis);
    const int64_t outer = ops::dims_product(shape, 0, ax);
    const int64_t n = legacy ? ops::dims_product(shape, ax, shape.size()) : shape[ax];
    const int64_t inner = legacy ? 1 : ops::dims_product(shape, ax + 1, shape.size());
    KILN_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output_uninit(0, DataType::kFloat32, shape));
    const float* in = x->data_as<float>();
    float* y = out->data_as<float>();
    const bool log = log_;
    if (inner == 1) {
      cpu::parallel_for(outer, cpu::grain_for(n),
                        [&](int64_t r0, int64_t r1) { softmax_rows(in, y, n, log, r0, r1); });
      return Status::Ok();
    }
    const int64_t blocks = (inner + kBlock - 1) / kBlock;
    const int64_t per_task = n * std::min(inner, kBlock);
    cpu::parallel_for(outer * blocks, cpu::grain_for(per_task), [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t o = t / blocks, b = t % blocks;
        const int64_t i0 = b * kBlock, i1 = std::min(inner, i0 + kBlock);
        softmax_block(in + o * n * inner, y + o * n * inner, n, inner, log, i0, i1);
      }
    });
    return Status::Ok();
  }

 private:
  const ops::OpSchema& schema_;
  bool log_;
};

class SoftmaxTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.softmax"; }

  bool supports(const ir::Node& node, const ops::OpSchema& schema) const override {
    if (!node.domain().empty() || (schema.since() != 13 && schema.since() != 11 &&
                                    schema.since() != 1))
      return false;
    if (node.op_type() != "Softmax" && node.op_type() != "LogSoftmax") return false;
    return is_f32(node.input(0)) && is_f32(node.output(0));
  }

  Result<std::unique_ptr<Kernel>> prepare(const ir::Node& node, const ops::OpSchema& schema,
                                          const std::vector<uint8_t>& params) const override {
    return std::unique_ptr<Kernel>(new SoftmaxKernel(schema, node.op_type() == "LogSoftmax"));
  }
};

}  // namespace

const Tactic& cpu_softmax_tactic() {
  static const SoftmaxTactic tactic;
  return tactic;
}

}  // namespace kiln::backends
