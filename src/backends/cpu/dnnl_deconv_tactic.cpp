// "cpu.dnnl.deconv": ConvTranspose / kiln.FusedConvTranspose (2-D, NCHW, constant weights,
// explicit pads) as a oneDNN deconvolution with the bias and activation fused. ONNX stores W
// as [C_in, C_out/group, kh, kw] — oneDNN's iohw / giohw — and it is reordered once per kernel
// into the implementation's blocked format. output_padding, output_shape and auto_pad stay with
// the reference kernel.
#include <map>
#include <memory>
#include <mutex>

#include "backends/cpu/cpu_kernel_util.h"
#include "backends/cpu/cpu_tactics.h"
#include "backends/cpu/cpu_threads.h"
#include "backends/cpu/dnnl_util.h"
#include "core/errors.h"
#include "ops/activation_functions.h"
#include "ops/fused_kernels.h"
#include "ops/nn_kernels.h"

namespace kiln::backends {
namespace {

using cpu::to_dims;
using dnnl::memory;
using Tag = dnnl::memory::format_tag;

struct DeconvSpec {
  int64_t group = 1;
  ops::ActivationSpec act;
  const Tensor* w = nullptr;
  const Tensor* b = nullptr;
};

bool all_zero(const std::vector<int64_t>& v) {
  for (int64_t x : v)
    if (x != 0) return false;
  return true;
}

std::optional<DeconvSpec> read_spec(const ir::Node& n, const ops::OpSchema& schema) {
  const bool plain = n.domain().empty() && n.op_type() == "ConvTranspose";
  const bool fused = n.domain() == ops::kKilnDomain && n.op_type() == "FusedConvTranspose";
  if ((!plain && !fused) || !cpu::is_f32(n.input(0)) || n.outputs().size() != 1)
    return std::nullopt;
  DeconvSpec s;
  s.w = n.input(1) != nullptr ? n.input(1)->initializer() : nullptr;
  if (s.w == nullptr || s.w->dtype() != DataType::kFloat32 || s.w->rank() != 4) return std::nullopt;
  if (n.input(2) != nullptr) {
    s.b = n.input(2)->initializer();
    if (s.b == nullptr || s.b->dtype() != DataType::kFloat32) return std::nullopt;
  }
  const ops::NodeAttrs a(n, schema);
  s.group = a.attr_int("group", 1);
  if (a.attr_string("auto_pad", "NOTSET") != "NOTSET" || n.attr("output_shape") != nullptr ||
      !all_zero(a.attr_ints("output_padding")))
    return std::nullopt;
  if (fused) {
    Result<ops::ActivationSpec> act = ops::fused::read_activation(a);
    if (!act.ok() || !cpu::activation_supported(*act)) return std::nullopt;
    s.act = *act;
  }
  return s;
}

// The implementations worth having want blocked activations (the plain-NCHW one is a
// gemm + col2im several times slower than the reference): the kernel reorders X in and Y out.
struct Plan {
  dnnl::deconvolution_forward prim;
  memory::desc src, dst, scratch;
  memory::desc user_src, user_dst;  // NCHW
  std::optional<dnnl::reorder> to_src, from_dst;
  std::shared_ptr<memory> weights, bias;
  std::vector<int64_t> ys;
};

// Kernel == stride, no padding, no dilation, one group (the 2x upsampling heads of detection
// models): the windows do not overlap, so Y is one GEMM, P[HW, C_out*kh*kw] = X^T W, scattered
// into kh x kw patches with the bias and activation. oneDNN's deconvolution pads C_out to a
// whole register block, which for C_out = 1 costs 16x.
struct PatchPlan {
  dnnl::matmul prim;
  memory::desc a, b, c, scratch;
};

KILN_CPU_CLONES void scatter_patches(const float* __restrict p, float* __restrict y,
                                     const float* __restrict bias, int64_t h, int64_t w, int64_t co,
                                     int64_t kh, int64_t kw, int64_t i0, int64_t i1) {
  // p is [h*w][co][kh][kw]; y is [co][h*kh][w*kw]. Rows i0..i1 of the input.
  const int64_t ow = w * kw, per = co * kh * kw;
  for (int64_t o = 0; o < co; ++o) {
    const float b = bias != nullptr ? bias[o] : 0.f;
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t a = 0; a < kh; ++a) {
        float* row = y + (o * h * kh + i * kh + a) * ow;
        const float* src = p + (i * w) * per + (o * kh + a) * kw;
        for (int64_t j = 0; j < w; ++j)
          for (int64_t c = 0; c < kw; ++c) row[j * kw + c] = src[j * per + c] + b;
      }
  }
}

class DnnlDeconvKernel final : public Kernel {
 public:
  DnnlDeconvKernel(const ir::Node& node, const ops::OpSchema& schema, DeconvSpec spec)
      : node_(node), schema_(schema), spec_(spec) {
    const ops::NodeAttrs a(node, schema);
    const std::vector<int64_t>& ws = spec_.w->shape();
    std::vector<int64_t> st = a.attr_ints("strides", {1, 1}), pads = a.attr_ints("pads");
    std::vector<int64_t> dil = a.attr_ints("dilations", {1, 1});
    patches_ = spec_.group == 1 && st.size() == 2 && st[0] == ws[2] && st[1] == ws[3] &&
               all_zero(pads) && dil == std::vector<int64_t>{1, 1};
  }

  Status run(ops::KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    if (x == nullptr || x->dtype() != DataType::kFloat32 || x->rank() != 4 || x->numel() == 0)
      return schema_.reference_kernel()(ctx);
    if (patches_ && x->shape()[1] == spec_.w->shape()[0]) return run_patches(ctx, *x);
    Result<std::shared_ptr<const Plan>> plan = plan_for(x->shape());
    if (!plan.ok()) return schema_.reference_kernel()(ctx);
    const Plan& p = **plan;
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output_uninit(0, DataType::kFloat32, p.ys));
    auto& eng = cpu::dnnl_engine();
    auto& strm = cpu::dnnl_thread_stream();
    memory user_x(p.user_src, eng, const_cast<void*>(x->data()));
    memory user_y(p.user_dst, eng, y->data());
    try {
      memory src = p.to_src ? memory(p.src, eng) : user_x;
      memory dst = p.from_dst ? memory(p.dst, eng) : user_y;
      if (p.to_src) p.to_src->execute(strm, user_x, src);
      std::unordered_map<int, memory> args = {
          {DNNL_ARG_SRC, src},
          {DNNL_ARG_WEIGHTS, *p.weights},
          {DNNL_ARG_DST, dst},
          {DNNL_ARG_SCRATCHPAD, cpu::dnnl_scratchpad(p.scratch)}};
      if (p.bias) args.emplace(DNNL_ARG_BIAS, *p.bias);
      p.prim.execute(strm, args);
      if (p.from_dst) p.from_dst->execute(strm, dst, user_y);
    } catch (const dnnl::error& e) {
      return err(Code::kKernelFailed, "oneDNN deconvolution failed: ", e.what());
    }
    return Status::Ok();
  }

 private:
  Status run_patches(ops::KernelContext& ctx, const Tensor& x) const {
    const std::vector<int64_t>& ws = spec_.w->shape();
    const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
    const int64_t co = ws[1], kh = ws[2], kw = ws[3], cols = co * kh * kw;
    KILN_ASSIGN_OR_RETURN(std::shared_ptr<const PatchPlan> plan, patch_plan(h * w, c, cols));
    KILN_ASSIGN_OR_RETURN(
        Tensor * y, ctx.allocate_output_uninit(0, DataType::kFloat32, {n, co, h * kh, w * kw}));
    thread_local std::vector<float> patches;
    patches.resize(static_cast<size_t>(h * w * cols));
    float* const pp = patches.data();  // workers reach the caller's buffer through this
    auto& eng = cpu::dnnl_engine();
    const float* bias = spec_.b != nullptr ? spec_.b->data_as<float>() : nullptr;
    for (int64_t b = 0; b < n; ++b) {
      const float* xb = x.data_as<float>() + b * c * h * w;
      float* yb = y->data_as<float>() + b * co * h * kh * w * kw;
      try {
        plan->prim.execute(
            cpu::dnnl_thread_stream(),
            {{DNNL_ARG_SRC, memory(plan->a, eng, const_cast<float*>(xb))},
             {DNNL_ARG_WEIGHTS, memory(plan->b, eng, const_cast<void*>(spec_.w->data()))},
             {DNNL_ARG_DST, memory(plan->c, eng, pp)},
             {DNNL_ARG_SCRATCHPAD, cpu::dnnl_scratchpad(plan->scratch)}});
      } catch (const dnnl::error& e) {
        return err(Code::kKernelFailed, "oneDNN matmul (ConvTranspose patches) failed: ", e.what());
      }
      cpu::parallel_for(h, 1, [&](int64_t i0, int64_t i1) {
        scatter_patches(pp, yb, bias, h, w, co, kh, kw, i0, i1);
      });
    }
    if (spec_.act.kind != ops::Activation::kNone) {
      float* yp = y->data_as<float>();
      const ops::ActivationSpec act = spec_.act;
      cpu::parallel_for(y->numel(), 16384, [&](int64_t b, int64_t e) {
        ops::with_activation<float>(act, [&](auto f) {
          for (int64_t i = b; i < e; ++i) yp[i] = f(yp[i]);
        });
      });
    }
    return Status::Ok();
  }

  Result<std::shared_ptr<const PatchPlan>> patch_plan(int64_t rows, int64_t k, int64_t cols) const {
    std::lock_guard<std::mutex> lock(mu_);
    const std::vector<int64_t> key = {rows, k, cols};
    auto it = patch_plans_.find(key);
    if (it != patch_plans_.end()) return it->second;
    const auto f = memory::data_type::f32;
    auto plan = std::make_shared<PatchPlan>();
    plan->a = memory::desc({rows, k}, f, {1, rows});  // X[c][hw] read as X^T
    plan->b = memory::desc({k, cols}, f, Tag::ab);    // W[c][o][kh][kw]
    plan->c = memory::desc({rows, cols}, f, Tag::ab);
    try {
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(plan->a, plan->b, plan->c), attr,
                                      cpu::dnnl_engine());
      plan->prim = dnnl::matmul(pd);
      plan->scratch = pd.scratchpad_desc();
    } catch (const dnnl::error& e) {
      return err(Code::kKernelFailed, "oneDNN rejects the ConvTranspose GEMM: ", e.what());
    }
    std::shared_ptr<const PatchPlan> p = std::move(plan);
    patch_plans_.emplace(key, p);
    return p;
  }

  Result<std::shared_ptr<const Plan>> plan_for(const std::vector<int64_t>& xs) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = plans_.find(xs);
    if (it != plans_.end()) return it->second;
    const std::vector<int64_t>& ws = spec_.w->shape();  // [C_in, C_out/g, kh, kw]
    const int64_t g = spec_.group;
    if (g <= 0 || xs[1] != ws[0] || ws[0] % g != 0)
      return err(Code::kIncompatibleShapes, "ConvTranspose X and W disagree");
    const ops::NodeAttrs attrs(node_, schema_);
    KILN_ASSIGN_OR_RETURN(ops::Window win,
                          ops::read_window(attrs, node_.op_type(), {ws[2], ws[3]}, true));
    std::vector<int64_t> ys = {xs[0], ws[1] * g};
    std::vector<int64_t> dil(2);
    for (size_t d = 0; d < 2; ++d) {
      ys.push_back(win.strides[d] * (xs[2 + d] - 1) + win.dilated(d) - win.pad_begin[d] -
                   win.pad_end[d]);
      dil[d] = win.dilations[d] - 1;
      if (ys.back() <= 0) return err(Code::kIncompatibleShapes, "ConvTranspose output is empty");
    }
    std::vector<int64_t> wdims = {ws[1], ws[0], ws[2], ws[3]};
    Tag wtag = Tag::iohw;
    if (g > 1) {
      wdims = {g, ws[1], ws[0] / g, ws[2], ws[3]};
      wtag = Tag::giohw;
    }
    const auto f = memory::data_type::f32;
    auto plan = std::make_shared<Plan>();
    plan->user_src = memory::desc(to_dims(xs), f, Tag::nchw);
    plan->user_dst = memory::desc(to_dims(ys), f, Tag::nchw);
    plan->ys = ys;
    memory::desc b_md;
    if (spec_.b != nullptr) b_md = memory::desc({ys[1]}, f, Tag::x);
    try {
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::post_ops po;
      cpu::append_activation(po, spec_.act);
      attr.set_post_ops(po);
      dnnl::deconvolution_forward::desc d(
          dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct,
          memory::desc(to_dims(xs), f, Tag::any), memory::desc(to_dims(wdims), f, Tag::any), b_md,
          memory::desc(to_dims(ys), f, Tag::any), to_dims(win.strides), to_dims(dil),
          to_dims(win.pad_begin), to_dims(win.pad_end));
      dnnl::deconvolution_forward::primitive_desc pd(d, attr, cpu::dnnl_engine());
      plan->prim = dnnl::deconvolution_forward(pd);
      plan->scratch = pd.scratchpad_desc();
      plan->src = pd.src_desc();
      plan->dst = pd.dst_desc();
      if (plan->src != plan->user_src)
        plan->to_src = dnnl::reorder(dnnl::reorder::primitive_desc(
            cpu::dnnl_engine(), plan->user_src, cpu::dnnl_engine(), plan->src));
      if (plan->dst != plan->user_dst)
        plan->from_dst = dnnl::reorder(dnnl::reorder::primitive_desc(
            cpu::dnnl_engine(), plan->dst, cpu::dnnl_engine(), plan->user_dst));
      plan->weights = cpu::pack_constant(pd.weights_desc(), memory::desc(to_dims(wdims), f, wtag),
                                         spec_.w->data(), spec_.w->nbytes());
      if (spec_.b != nullptr)
        plan->bias = cpu::pack_constant(pd.bias_desc(), b_md, spec_.b->data(), spec_.b->nbytes());
    } catch (const dnnl::error& e) {
      return err(Code::kKernelFailed, "oneDNN rejects the deconvolution: ", e.what());
    }
    std::shared_ptr<const Plan> p = std::move(plan);
    plans_.emplace(xs, p);
    return p;
  }

  const ir::Node& node_;
  const ops::OpSchema& schema_;
  DeconvSpec spec_;
  mutable std::mutex mu_;
  mutable std::map<std::vector<int64_t>, std::shared_ptr<const Plan>> plans_;
  mutable std::map<std::vector<int64_t>, std::shared_ptr<const PatchPlan>> patch_plans_;
  bool patches_ = false;
};

class DnnlDeconvTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.dnnl.deconv"; }
  bool supports(const ir::Node& node, const ops::OpSchema& schema) const override {
    return read_spec(node, schema).has_value() && schema.reference_kernel();
  }
  Result<std::unique_ptr<Kernel>> prepare(const ir::Node& node, const ops::OpSchema& schema,
                                          const std::vector<uint8_t>& params) const override {
    std::optional<DeconvSpec> s = read_spec(node, schema);
    if (!s)
      return err(Code::kNoKernel, name(), " cannot run this ", node.op_type())
          .with_node(node.ref());
    return std::unique_ptr<Kernel>(new DnnlDeconvKernel(node, schema, *s));
  }
};

}  // namespace

const Tactic& cpu_dnnl_deconv_tactic() {
  static const DnnlDeconvTactic t;
  return t;
}

}  // namespace kiln::backends
