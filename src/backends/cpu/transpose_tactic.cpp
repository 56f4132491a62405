// "cpu.transpose": Transpose of 4-byte elements (the layout reorders the channels-last pass
// leaves at a CNN's boundaries, head splits in transformers). Dims that stay adjacent are
// merged first; the common case left — a batched 2-D transpose, e.g. NCHW -> NHWC is
// [N][C][HW] -> [N][HW][C] — is done in cache-sized tiles, the rest as a strided copy.
// Both run in parallel over the output.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "backends/cpu/cpu_kernel_util.h"
#include "backends/cpu/cpu_tactics.h"
#include "backends/cpu/cpu_threads.h"
#include "core/errors.h"

namespace kiln::backends {
namespace {

// Merges input dims that stay adjacent and in order under perm (and drops size-1 dims).
void collapse(const std::vector<int64_t>& shape, const std::vector<int64_t>& perm,
              std::vector<int64_t>& cshape, std::vector<int64_t>& cperm) {
  std::vector<int64_t> keep;  // output-order list of input dims of size > 1
  for (int64_t p : perm)
    if (shape[static_cast<size_t>(p)] != 1) keep.push_back(p);
  // Groups: runs of consecutive input dims in the output order.
  std::vector<std::vector<int64_t>> groups;
  for (int64_t p : keep) {
    if (!groups.empty() && groups.back().back() + 1 == p)
      groups.back().push_back(p);
    else
      groups.push_back({p});
  }
  // Number the groups by their position in the input.
  std::vector<size_t> order(groups.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return groups[a].front() < groups[b].front(); });
  cshape.assign(groups.size(), 1);
  cperm.assign(groups.size(), 0);
  for (size_t in_pos = 0; in_pos < order.size(); ++in_pos) {
    const auto& g = groups[order[in_pos]];
    for (int64_t d : g) cshape[in_pos] *= shape[static_cast<size_t>(d)];
    cperm[order[in_pos]] = static_cast<int64_t>(in_pos);
  }
}

KILN_CPU_CLONES void transpose_tile(const uint32_t* __restrict src, uint32_t* __restrict dst,
                                    int64_t rows, int64_t cols, int64_t r0, int64_t r1, int64_t c0,
                                    int64_t c1) {
  // src is [rows][cols], dst is [cols][rows].
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t r = r0; r < r1; ++r) dst[c * rows + r] = src[r * cols + c];
}

class TransposeKernel final : public Kernel {
 public:
  TransposeKernel(const ir::Node& node, const ops::OpSchema& schema) : schema_(schema) {}

  Status run(ops::KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    if (x == nullptr || data_type_bytes(x->dtype(), 1).value_or(0) != 4 ||
        x->dtype() == DataType::kString)
      return schema_.reference_kernel()(ctx);
    const size_t rank = x->rank();
    std::vector<int64_t> perm = ctx.attr_ints("perm");
    if (perm.empty()) {
      perm.resize(rank);
      std::iota(perm.rbegin(), perm.rend(), 0);
    }
    std::vector<bool> seen(rank, false);
    if (perm.size() != rank) return schema_.reference_kernel()(ctx);
    for (int64_t p : perm) {
      if (p < 0 || p >= static_cast<int64_t>(rank) || seen[static_cast<size_t>(p)])
        return schema_.reference_kernel()(ctx);  // its error names the bad perm
      seen[static_cast<size_t>(p)] = true;
    }
    std::vector<int64_t> yshape(rank);
    for (size_t i = 0; i < rank; ++i) yshape[i] = x->shape()[static_cast<size_t>(perm[i])];
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output_uninit(0, x->dtype(), yshape));
    if (x->numel() == 0) return Status::Ok();
    const auto* src = static_cast<const uint32_t*>(x->data());
    auto* dst = static_cast<uint32_t*>(y->data());
    std::vector<int64_t> cs, cp;
    collapse(x->shape(), perm, cs, cp);
    const int64_t n = x->numel();
    if (cs.size() <= 1) {
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return Status::Ok();
    }
    // Batched 2-D transpose: [B][R][C] -> [B][C][R].
    if ((cs.size() == 2 && cp == std::vector<int64_t>{1, 0}) ||
        (cs.size() == 3 && cp == std::vector<int64_t>{0, 2, 1})) {
      const int64_t b = cs.size() == 3 ? cs[0] : 1;
      const int64_t rows = cs[cs.size() - 2], cols = cs.back();
      constexpr int64_t kTile = 32;
      const int64_t rt = (rows + kTile - 1) / kTile, ct = (cols + kTile - 1) / kTile;
      cpu::parallel_for(b * rt * ct, 4, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t bi = t / (rt * ct), rem = t % (rt * ct);
          const int64_t r0 = (rem / ct) * kTile, c0 = (rem % ct) * kTile;
          transpose_tile(src + bi * rows * cols, dst + bi * rows * cols, rows, cols, r0,
                         std::min(rows, r0 + kTile), c0, std::min(cols, c0 + kTile));
        }
      });
      return Status::Ok();
    }
    // General: strided copy over the collapsed dims, output rows in parallel.
    const size_t cr = cs.size();
    std::vector<int64_t> in_stride(cr, 1), step(cr), oshape(cr);
    for (size_t i = cr - 1; i-- > 0;) in_stride[i] = in_stride[i + 1] * cs[i + 1];
    for (size_t i = 0; i < cr; ++i) {
      step[i] = in_stride[static_cast<size_t>(cp[i])];
      oshape[i] = cs[static_cast<size_t>(cp[i])];
    }
    const int64_t inner = oshape.back(), rows = n / inner;
    cpu::parallel_for(rows, cpu::grain_for(inner), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        int64_t off = 0, rem = r;
        for (size_t i = cr - 1; i-- > 0;) {
          off += (rem % oshape[i]) * step[i];
          rem /= oshape[i];
        }
        uint32_t* out = dst + r * inner;
        const int64_t s = step.back();
        for (int64_t k = 0; k < inner; ++k) out[k] = src[off + k * s];
      }
    });
    return Status::Ok();
  }

 private:
  const ops::OpSchema& schema_;
};

class TransposeTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.transpose"; }
  bool supports(const ir::Node& node, const ops::OpSchema& schema) const override {
    if (!node.domain().empty() || node.op_type() != "Transpose") return false;
    const ir::Value* x = node.input(0);
    return x != nullptr && x->type.known() && x->type.dtype != DataType::kString &&
           data_type_bytes(x->type.dtype, 1).value_or(0) == 4 && schema.reference_kernel();
  }
  Result<std::unique_ptr<Kernel>> prepare(const ir::Node& node, const ops::OpSchema& schema,
                                          const std::vector<uint8_t>& params) const override {
    return std::unique_ptr<Kernel>(new TransposeKernel(node, schema));
  }
};

}  // namespace

const Tactic& cpu_transpose_tactic() {
  static const TransposeTactic t;
  return t;
}

}  // namespace kiln::backends
