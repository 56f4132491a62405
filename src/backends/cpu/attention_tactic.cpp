// "cpu.attention": kiln.Attention in fp32 as two batched oneDNN matmuls around kiln's own
// masked softmax:
//
//   S[b,h] = scale * Q[b,:,h] K[b,:,h]^T     (one matmul over all B*H heads; the heads are
//                                             strides into Q/K, no copies)
//   P      = softmax(S + mask, causal)        (rows in parallel, vectorized exp)
//   Y[b,:,h] = P[b,h] V[b,:,h]               (written straight into Y's [B, Sq, H*Dv] layout)
//
// The scores live in a per-thread scratch buffer (B*H*Sq*Sk floats). The reference kernel
// rounds like the unfused graph; this one keeps fp32 throughout (parity is within the usual
// float tolerance, not bitwise).
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>

#include "backends/cpu/cpu_kernel_util.h"
#include "backends/cpu/cpu_tactics.h"
#include "backends/cpu/cpu_threads.h"
#include "backends/cpu/dnnl_util.h"
#include "backends/cpu/vec_math.h"
#include "core/errors.h"

namespace kiln::backends {
namespace {

using dnnl::memory;

struct Sizes {
  int64_t b = 0, sq = 0, sk = 0, h = 0, d = 0, dv = 0;
  bool operator<(const Sizes& o) const {
    return std::tie(b, sq, sk, h, d, dv) < std::tie(o.b, o.sq, o.sk, o.h, o.d, o.dv);
  }
};

struct Plan {
  dnnl::matmul scores, context;
  memory::desc q, kt, s, p, v, y, scratch_s, scratch_c;
};

// One score row: add the mask row (stride 0 or 1), apply the causal limit, softmax in place.
KILN_CPU_CLONES void softmax_row(float* __restrict s, int64_t n, const float* __restrict mask,
                                 int64_t mask_step, int64_t visible) {
  const float lowest = std::numeric_limits<float>::lowest();
  if (mask != nullptr) {
    if (mask_step == 1) {
      for (int64_t j = 0; j < n; ++j) s[j] += mask[j];
    } else {
      const float m = mask[0];
      for (int64_t j = 0; j < n; ++j) s[j] += m;
    }
  }
  for (int64_t j = visible; j < n; ++j) s[j] = lowest;
  float best = lowest;
  for (int64_t j = 0; j < n; ++j) best = s[j] > best ? s[j] : best;
  float sum = 0.f;
  for (int64_t j = 0; j < n; ++j) {
    const float e = cpu::exp_f(s[j] - best);
    s[j] = e;
    sum += e;
  }
  const float inv = 1.f / sum;
  for (int64_t j = 0; j < n; ++j) s[j] *= inv;
}

class AttentionKernel final : public Kernel {
 public:
  AttentionKernel(const ir::Node& node, const ops::OpSchema& schema) : schema_(schema) {
    ops::NodeAttrs a(node, schema);
    heads_ = a.attr_int("num_heads");
    has_scale_ = a.has_attr("scale");
    scale_ = a.attr_float("scale", 1.f);
    causal_ = a.attr_int("causal", 0) != 0;
  }

  Status run(ops::KernelContext& ctx) const override {
    const Tensor *q = ctx.input(0), *k = ctx.input(1), *v = ctx.input(2), *mask = ctx.input(3);
    auto f32_3d = [](const Tensor* t) {
      return t != nullptr && t->dtype() == DataType::kFloat32 && t->rank() == 3;
    };
    if (!f32_3d(q) || !f32_3d(k) || !f32_3d(v) || heads_ <= 0 ||
        (mask != nullptr && (mask->dtype() != DataType::kFloat32 || mask->rank() > 4)))
      return schema_.reference_kernel()(ctx);
    Sizes s{q->shape()[0], q->shape()[1], k->shape()[1], heads_, 0, 0};
    if (k->shape()[0] != s.b || v->shape()[0] != s.b || v->shape()[1] != s.sk ||
        k->shape()[2] != q->shape()[2] || q->shape()[2] % heads_ != 0 ||
        v->shape()[2] % heads_ != 0)
      return schema_.reference_kernel()(ctx);  // its errors name the disagreement
    s.d = q->shape()[2] / heads_;
    s.dv = v->shape()[2] / heads_;
    // Mask strides over [B, H, Sq, Sk] (0 on broadcast dims); anything else: reference.
    int64_t ms[4] = {0, 0, 0, 0};
    if (mask != nullptr) {
      const std::vector<int64_t> full = {s.b, s.h, s.sq, s.sk};
      std::vector<int64_t> m(4 - mask->rank(), 1);
      m.insert(m.end(), mask->shape().begin(), mask->shape().end());
      int64_t stride = 1;
      for (int i = 3; i >= 0; --i) {
        if (m[i] != 1 && m[i] != full[i]) return schema_.reference_kernel()(ctx);
        ms[i] = m[i] == 1 ? 0 : stride;
        stride *= m[i];
      }
    }
    KILN_ASSIGN_OR_RETURN(
        Tensor * y, ctx.allocate_output_uninit(0, DataType::kFloat32, {s.b, s.sq, s.h * s.dv}));
    if (y->numel() == 0) return Status::Ok();
    if (s.sk == 0) {
      std::fill_n(y->data_as<float>(), y->numel(), 0.f);
      return Status::Ok();
    }
    KILN_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, plan_for(s));
    // Worker threads see the caller's buffer through `sp` (a thread_local named inside the
    // parallel body would be each worker's own).
    thread_local std::vector<float> scores;
    scores.resize(static_cast<size_t>(s.b * s.h * s.sq * s.sk));
    float* const sp = scores.data();
    auto& eng = cpu::dnnl_engine();
    auto& strm = cpu::dnnl_thread_stream();
    try {
      plan->scores.execute(strm,
                           {{DNNL_ARG_SRC, memory(plan->q, eng, const_cast<void*>(q->data()))},
                            {DNNL_ARG_WEIGHTS, memory(plan->kt, eng, const_cast<void*>(k->data()))},
                            {DNNL_ARG_DST, memory(plan->s, eng, sp)},
                            {DNNL_ARG_SCRATCHPAD, cpu::dnnl_scratchpad(plan->scratch_s)}});
    } catch (const dnnl::error& e) {
      return err(Code::kKernelFailed, "oneDNN attention scores failed: ", e.what());
    }
    const float* md = mask != nullptr ? mask->data_as<float>() : nullptr;
    const int64_t rows = s.b * s.h * s.sq;
    cpu::parallel_for(rows, cpu::grain_for(s.sk), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t i = r % s.sq, bh = r / s.sq, hh = bh % s.h, bb = bh / s.h;
        const float* mrow = md != nullptr ? md + bb * ms[0] + hh * ms[1] + i * ms[2] : nullptr;
        const int64_t visible = causal_ ? std::min<int64_t>(s.sk, i + 1 + (s.sk - s.sq)) : s.sk;
        softmax_row(sp + r * s.sk, s.sk, mrow, ms[3], std::max<int64_t>(visible, 0));
      }
    });
    try {
      plan->context.execute(strm,
                            {{DNNL_ARG_SRC, memory(plan->p, eng, sp)},
                             {DNNL_ARG_WEIGHTS, memory(plan->v, eng, const_cast<void*>(v->data()))},
                             {DNNL_ARG_DST, memory(plan->y, eng, y->data())},
                             {DNNL_ARG_SCRATCHPAD, cpu::dnnl_scratchpad(plan->scratch_c)}});
    } catch (const dnnl::error& e) {
      return err(Code::kKernelFailed, "oneDNN attention context failed: ", e.what());
    }
    return Status::Ok();
  }

 private:
  Result<std::shared_ptr<const Plan>> plan_for(const Sizes& s) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = plans_.find(s);
    if (it != plans_.end()) return it->second;
    const auto f = memory::data_type::f32;
    const int64_t hd = s.h * s.d, hdv = s.h * s.dv;
    auto plan = std::make_shared<Plan>();
    // Q as [B, H, Sq, D], K^T as [B, H, D, Sk], V as [B, H, Sk, Dv], Y as [B, H, Sq, Dv]: all
    // views of the [B, S, H*D] tensors.
    plan->q = memory::desc({s.b, s.h, s.sq, s.d}, f, {s.sq * hd, s.d, hd, 1});
    plan->kt = memory::desc({s.b, s.h, s.d, s.sk}, f, {s.sk * hd, s.d, 1, hd});
    plan->s = memory::desc({s.b, s.h, s.sq, s.sk}, f, memory::format_tag::abcd);
    plan->p = plan->s;
    plan->v = memory::desc({s.b, s.h, s.sk, s.dv}, f, {s.sk * hdv, s.dv, hdv, 1});
    plan->y = memory::desc({s.b, s.h, s.sq, s.dv}, f, {s.sq * hdv, s.dv, hdv, 1});
    const float scale = has_scale_ ? scale_ : 1.f / std::sqrt(static_cast<float>(s.d));
    try {
      dnnl::primitive_attr a1;
      a1.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::post_ops po;
      po.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, scale, 0.f);
      a1.set_post_ops(po);
      dnnl::matmul::primitive_desc pd1(dnnl::matmul::desc(plan->q, plan->kt, plan->s), a1,
                                       cpu::dnnl_engine());
      dnnl::primitive_attr a2;
      a2.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::matmul::primitive_desc pd2(dnnl::matmul::desc(plan->p, plan->v, plan->y), a2,
                                       cpu::dnnl_engine());
      plan->scores = dnnl::matmul(pd1);
      plan->context = dnnl::matmul(pd2);
      plan->scratch_s = pd1.scratchpad_desc();
      plan->scratch_c = pd2.scratchpad_desc();
    } catch (const dnnl::error& e) {
      return err(Code::kKernelFailed,
                 "oneDNN has no attention matmuls for these shapes: ", e.what());
    }
    std::shared_ptr<const Plan> p = std::move(plan);
    plans_.emplace(s, p);
    return p;
  }

  const ops::OpSchema& schema_;
  int64_t heads_ = 0;
  bool has_scale_ = false;
  float scale_ = 1.f;
  bool causal_ = false;
  mutable std::mutex mu_;
  mutable std::map<Sizes, std::shared_ptr<const Plan>> plans_;
};

class AttentionTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.attention"; }
  bool supports(const ir::Node& node, const ops::OpSchema& schema) const override {
    if (node.domain() != ops::kKilnDomain || node.op_type() != "Attention") return false;
    for (size_t i = 0; i < 3; ++i)
      if (!cpu::is_f32(node.input(i))) return false;
    return (node.input(3) == nullptr || cpu::is_f32(node.input(3))) &&
           static_cast<bool>(schema.reference_kernel());
  }
  Result<std::unique_ptr<Kernel>> prepare(const ir::Node& node, const ops::OpSchema& schema,
                                          const std::vector<uint8_t>& params) const override {
    return std::unique_ptr<Kernel>(new AttentionKernel(node, schema));
  }
};

}  // namespace

const Tactic& cpu_attention_tactic() {
  static const AttentionTactic t;
  return t;
}

}  // namespace kiln::backends
