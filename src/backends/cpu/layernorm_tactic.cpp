// "cpu.layernorm": LayerNormalization-17 over float32, rows in parallel.
//
// Each row's mean and variance are summed in double (as the reference kernel does) over lanes
// the compiler keeps in vector registers; the normalized row is then computed in float with the
// mean split into a float head and tail, so rows whose mean dwarfs their spread keep x - mean's
// low bits.
#include <cmath>
#include <vector>

#include "backends/cpu/cpu_kernel_util.h"
#include "backends/cpu/cpu_tactics.h"
#include "backends/cpu/cpu_threads.h"
#include "core/errors.h"
#include "ops/kernel_util.h"
#include "ops/reduction_util.h"

namespace kiln::backends {
namespace {

using cpu::is_f32;

constexpr int kLanes = 16;

// Normalizes rows [r0, r1) of x ([rows, n]); mean/inv_std (nullable) get each row's statistics.
KILN_CPU_CLONES
void layernorm_rows(const float* x, float* y, const float* __restrict scale,
                    const float* __restrict bias, int64_t n, float eps, int64_t r0, int64_t r1,
                    float* mean_out, float* inv_out) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* __restrict row = x + r * n;
    float* __restrict out = y + r * n;
    double acc[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
      for (int j = 0; j < kLanes; ++j) acc[j] += row[i + j];
    double sum = 0;
    for (int j = 0; j < kLanes; ++j) sum += acc[j];
    for (; i < n; ++i) sum += row[i];
    const double mean = sum / static_cast<double>(n);

    double sq[kLanes] = {};
    i = 0;
    for (; i + kLanes <= n; i += kLanes)
      for (int j = 0; j < kLanes; ++j) {
        const double d = row[i + j] - mean;
        sq[j] += d * d;
      }
    double ss = 0;
    for (int j = 0; j < kLanes; ++j) ss += sq[j];
    for (; i < n; ++i) {
      const double d = row[i] - mean;
      ss += d * d;
    }
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);

    const float m_hi = static_cast<float>(mean);
    const float m_lo = static_cast<float>(mean - m_hi);
    const float inv_f = static_cast<float>(inv);
    for (int64_t k = 0; k < n; ++k) out[k] = ((row[k] - m_hi) - m_lo) * inv_f * scale[k] + bias[k];
    if (mean_out != nullptr) mean_out[r] = static_cast<float>(mean);
    if (inv_out != nullptr) inv_out[r] = inv_f;
  }
}

// A Scale/B tensor as `n` contiguous floats: itself when it has the normalized shape (leading
// 1s aside), a filled copy when it is one value; false for any other broadcast (the reference
// kernel handles, or rejects, those).
bool expand_param(const Tensor& p, const std::vector<int64_t>& norm_shape, int64_t n,
                  std::vector<float>& storage, const float*& out) {
  if (p.dtype() != DataType::kFloat32) return false;
  const auto& ps = p.shape();
  if (p.numel() == 1 && ps.size() <= norm_shape.size()) {
    storage.assign(static_cast<size_t>(n), p.data_as<float>()[0]);
    out = storage.data();
    return true;
  }
  if (ps.size() > norm_shape.size() || p.numel() != n) return false;
  for (size_t i = 0; i < ps.size(); ++i)
    if (ps[i] != norm_shape[norm_shape.size() - ps.size() + i]) return false;
  out = p.data_as<float>();
  return true;
}

// Mean/InvStdDev are float32 when the node declares them so, or leaves them to stash_type 1.
bool stats_are_f32(const ir::Node& node, const ops::NodeAttrs& attrs) {
  for (size_t i = 1; i <= 2; ++i) {
    if (i >= node.outputs().size() || node.outputs()[i] == nullptr) continue;
    const DataType declared = node.outputs()[i]->type.dtype;
    if (declared == DataType::kUndefined ? attrs.attr_int("stash_type", 1) != 1
                                         : declared != DataType::kFloat32)
      return false;
  }
  return true;
}

class LayerNormKernel final : public Kernel {
 public:
  explicit LayerNormKernel(const ops::OpSchema& schema) : schema_(schema) {}

  Status run(ops::KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    const Tensor* scale = ctx.input(1);
    const Tensor* bias = ctx.input(2);
    if (x == nullptr || scale == nullptr || x->dtype() != DataType::kFloat32 || x->rank() == 0 ||
        x->numel() == 0 || !stats_are_f32(ctx.node(), ctx))
      return schema_.reference_kernel()(ctx);
    const int64_t rank = static_cast<int64_t>(x->rank());
    KILN_ASSIGN_OR_RETURN(const int64_t axis, ops::normalize_axis(ctx.attr_int("axis", -1), rank,
                                                                  "LayerNormalization"));
    const auto& shape = x->shape();
    const std::vector<int64_t> norm_shape(shape.begin() + axis, shape.end());
    const int64_t rows = ops::dims_product(shape, 0, static_cast<size_t>(axis));
    const int64_t n = x->numel() / rows;
    std::vector<float> scale_copy, bias_copy;
    const float* s = nullptr;
    const float* b = nullptr;
    if (!expand_param(*scale, norm_shape, n, scale_copy, s)) return schema_.reference_kernel()(ctx);
    if (bias == nullptr) {
      bias_copy.assign(static_cast<size_t>(n), 0.0f);
      b = bias_copy.data();
    } else if (!expand_param(*bias, norm_shape, n, bias_copy, b)) {
      return schema_.reference_kernel()(ctx);
    }
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output_uninit(0, DataType::kFloat32, shape));
    std::vector<int64_t> stat_shape(shape.begin(), shape.begin() + axis);
    stat_shape.resize(shape.size(), 1);
    float* stats[2] = {nullptr, nullptr};
    for (size_t i = 1; i <= 2; ++i) {
      if (!ctx.wants_output(i)) continue;
      KILN_ASSIGN_OR_RETURN(Tensor * t,
                            ctx.allocate_output_uninit(i, DataType::kFloat32, stat_shape));
      stats[i - 1] = t->data_as<float>();
    }
    const float eps = ctx.attr_float("epsilon", 1e-5f);
    const float* in = x->data_as<float>();
    float* out = y->data_as<float>();
    cpu::parallel_for(rows, cpu::grain_for(n), [&](int64_t r0, int64_t r1) {
      layernorm_rows(in, out, s, b, n, eps, r0, r1, stats[0], stats[1]);
    });
    return Status::Ok();
  }

 private:
  const ops::OpSchema& schema_;
};

class LayerNormTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.layernorm"; }

  bool supports(const ir::Node& node, const ops::OpSchema& schema) const override {
    if (!node.domain().empty() || node.op_type() != "LayerNormalization" || schema.since() != 17)
      return false;
    if (!is_f32(node.input(0)) || !is_f32(node.input(1)) || node.outputs().empty() ||
        !is_f32(node.output(0)))
      return false;
    if (node.inputs().size() > 2 && node.input(2) != nullptr && !is_f32(node.input(2)))
      return false;
    return stats_are_f32(node, ops::NodeAttrs(node, schema));
  }

  Result<std::unique_ptr<Kernel>> prepare(const ir::Node& node, const ops::OpSchema& schema,
                                          const std::vector<uint8_t>& params) const override {
    return std::unique_ptr<Kernel>(new LayerNormKernel(schema));
  }
};

}  // namespace

const Tactic& cpu_layernorm_tactic() {
  static const LayerNormTactic tactic;
  return tactic;
}

}  // namespace kiln::backends
