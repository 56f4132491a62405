// "cpu.dnnl.conv": Conv / kiln.FusedConv (1-D and 2-D, any group, dilation, padding) as one
// oneDNN convolution with the bias, the residual (sum post-op) and the activation (eltwise
// post-ops) fused in, in NCHW or — when the layout pass marked the layer channels_last — NHWC,
// the layout oneDNN's brgemm convolutions run fastest in.
//
// "cpu.dnnl.conv.int8" runs a layer the builder's calibration annotated (int8_x_scale) with
// INT8 arithmetic: X quantized per tensor (uint8 when calibration saw no negative value, else
// int8) on the way in, weights quantized symmetrically per output channel once, an s32
// accumulator, and the dequantization (x_scale * w_scale[oc]), bias, residual and activation
// fused into the primitive's epilogue, which writes float32 — the next layer takes it as any
// float32 tensor, so INT8 and FP32 layers mix freely. Inside an INT8 chain
// (builder/requantize.cpp) the epilogue requantizes instead: a layer annotated int8_y_scale
// writes uint8 (the next layer's quantized X, its scale that layer's int8_x_scale; int8 for a
// signed residual), a layer whose X arrives as uint8 reads it as is, and one whose residual Z
// arrives 8-bit sums it with the sum post-op at int8_z_scale — no float32 round trip.
//
// "cpu.dnnl.conv.bf16" runs a layer the builder allowed BF16 (--bf16; attribute bf16) with
// bfloat16 X and weights, FP32 accumulation and a float32 Y: X is converted on the way in,
// bias, residual and activation stay FP32 in the epilogue. Offered only where the CPU has
// native BF16 (AVX512-BF16); the autotuner keeps FP32 where that is faster.
//
// Weights come packed from the build (pack(): the blocked format the chosen implementation
// wants at the opt shape, stored in the engine); another shape or machine whose implementation
// wants another format gets its own copy reordered once per kernel (shared by every execution
// context). Primitives are created per input shape and cached — the engine's static shape at
// load, others on first use — so dynamic shapes work; the implementation the autotuner picked
// at the opt shape (params) is preferred wherever it accepts the shape.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "backends/cpu/cpu_tactics.h"
#include "backends/cpu/cpu_threads.h"
#include "backends/cpu/dnnl_util.h"
#include "backends/cpu/int8_weights.h"
#include "core/errors.h"
#include "ops/fused_kernels.h"
#include "ops/nn_kernels.h"

namespace kiln::backends {
namespace {

using cpu::to_dims;
using dnnl::memory;
using Tag = dnnl::memory::format_tag;

bool is_conv(const ir::Node& n) {
  return (n.domain().empty() && n.op_type() == "Conv") ||
         (n.domain() == ops::kKilnDomain && n.op_type() == "FusedConv");
}

const Tensor* constant_input(const ir::Node& n, size_t i) {
  const ir::Value* v = n.input(i);
  return v != nullptr ? v->initializer() : nullptr;
}

std::vector<int64_t> to_nchw(const std::vector<int64_t>& s) {
  std::vector<int64_t> r = {s[0], s.back()};
  r.insert(r.end(), s.begin() + 1, s.end() - 1);
  return r;
}
std::vector<int64_t> to_nhwc(const std::vector<int64_t>& s) {
  std::vector<int64_t> r = {s[0]};
  r.insert(r.end(), s.begin() + 2, s.end());
  r.push_back(s[1]);
  return r;
}

// What stays fixed for a layer: its attributes and constant operands.
struct ConvSpec {
  bool channels_last = false;
  int64_t group = 1;
  ops::ActivationSpec act;
  const Tensor* w = nullptr;
  const Tensor* b = nullptr;
  bool has_z = false;
  std::optional<ops::fused::Int8Input> int8;  // set only for the INT8 tactic
  float y_scale = 0;                          // INT8: > 0 where Y is requantized (8-bit)
  bool y_signed = false;                      // that Y is int8 (else uint8)
  bool x_quantized = false;                   // INT8: X may arrive as uint8 (x_q itself)
  float z_scale = 0;                          // INT8: > 0 where the residual Z arrives 8-bit
  bool z_signed = false;                      // that Z is int8 (else uint8)
  bool bf16 = false;                          // set only for the BF16 tactic
};

std::optional<ConvSpec> read_spec(const ir::Node& n, const ops::OpSchema& schema,
                                  cpu::Arith arith = cpu::Arith::kFp32) {
  const bool int8 = arith == cpu::Arith::kInt8;
  if (!is_conv(n)) return std::nullopt;
  const ir::Value* x = n.input(0);
  const ir::Value* y = n.outputs().empty() ? nullptr : n.output(0);
  if (x == nullptr || y == nullptr) return std::nullopt;
  const ir::Value* z = n.inputs().size() > 3 ? n.input(3) : nullptr;
  auto q8 = [](const ir::Value* v) {
    return v != nullptr && (v->type.dtype == DataType::kUInt8 || v->type.dtype == DataType::kInt8);
  };
  auto f32 = [](const ir::Value* v) { return v->type.dtype == DataType::kFloat32; };
  const bool x_u8 = x->type.dtype == DataType::kUInt8, y_q = q8(y), z_q = q8(z);
  if ((!f32(x) && !x_u8) || (!f32(y) && !y_q) || (z != nullptr && !f32(z) && !z_q))
    return std::nullopt;
  // 8-bit activations are an INT8 chain's (see the top of this file): INT8 kernels only. A
  // quantized residual is summed into a quantized Y (the sum post-op reads Y's bytes).
  if ((x_u8 || y_q || z_q) && !int8) return std::nullopt;
  if (z != nullptr && z_q != y_q) return std::nullopt;
  ConvSpec s;
  s.w = constant_input(n, 1);
  if (s.w == nullptr || s.w->dtype() != DataType::kFloat32) return std::nullopt;
  if (s.w->shape().size() != 3 && s.w->shape().size() != 4) return std::nullopt;
  if (n.input(2) != nullptr) {
    s.b = constant_input(n, 2);
    if (s.b == nullptr || s.b->dtype() != DataType::kFloat32) return std::nullopt;
  }
  ops::NodeAttrs attrs(n, schema);
  s.group = attrs.attr_int("group", 1);
  if (n.domain() == ops::kKilnDomain) {
    Result<ops::ActivationSpec> a = ops::fused::read_activation(attrs);
    if (!a.ok() || !cpu::activation_supported(*a)) return std::nullopt;
    s.act = *a;
    s.has_z = n.input(3) != nullptr;
    s.channels_last = attrs.attr_int("channels_last", 0) != 0;
    if (int8) s.int8 = ops::fused::read_int8(attrs);
    s.bf16 = arith == cpu::Arith::kBf16 && ops::fused::read_bf16(attrs);
  }
  if (int8 && !s.int8) return std::nullopt;
  // An 8-bit X, Z must be what its producer wrote: quantized at the scale this layer reads it
  // at, or the layer would compute with the wrong numbers.
  auto written_at = [](const ir::Value* v, float scale) {
    const ir::Node* p = v->producer();
    const ir::Attribute* ys = p != nullptr ? p->attr("int8_y_scale") : nullptr;
    return ys != nullptr && ys->type == ir::AttrType::kFloat && ys->f == scale;
  };
  if (y_q) {
    s.y_scale = attrs.attr_float("int8_y_scale", 0.0f);
    s.y_signed = y->type.dtype == DataType::kInt8;
    if (!(s.y_scale > 0) || !std::isfinite(s.y_scale) ||
        s.y_signed != (attrs.attr_int("int8_y_signed", 0) != 0))
      return std::nullopt;
  }
  if (z_q) {
    s.z_scale = attrs.attr_float("int8_z_scale", 0.0f);
    s.z_signed = z->type.dtype == DataType::kInt8;
    if (!(s.z_scale > 0) || !written_at(z, s.z_scale) ||
        s.z_signed == (attrs.attr_int("int8_z_unsigned", 0) != 0))
      return std::nullopt;
  }
  if (x_u8) {
    if (!s.int8->is_unsigned || s.int8->zero_point != 0 || !written_at(x, s.int8->scale))
      return std::nullopt;
    s.x_quantized = true;
  }
  // oneDNN 2.6 computes channels-last INT8 convolutions of signed (s8) inputs 2-10% off the
  // fake-quantized reference (test_cpu_int8; NCHW and uint8 inputs are exact). That made PP-OCR
  // rec's INT8 engine read nothing right (its HardSwish outputs are signed). Such a layer reads
  // the same integers shifted into uint8 (x_q + 128) and its bias takes the shift back
  // (quantize_per_channel), as does an explicitly quantized model's asymmetric uint8 input.
  // Padding must then hold the shift, not 0: such a layer quantizes into a pre-padded buffer
  // filled with it and runs the convolution unpadded (descs()). (oneDNN's own source zero points
  // are not used; a NaN once blamed on them came from pruned weight channels, int8_weights.cpp.)
  if (int8 && s.channels_last && !s.int8->is_unsigned) {
    s.int8->is_unsigned = true;
    s.int8->zero_point = 128;
  }
  if (arith == cpu::Arith::kBf16 && (!s.bf16 || !cpu::native_bf16())) return std::nullopt;
  return s;
}

// The "wino" variant: oneDNN's Winograd F(2,3) for 3x3 stride-1 convolutions runs on blocked
// (nChw16c) activations only, so the layer reorders X in and Y out around it; the autotuner
// takes it where that still wins (it measured 1.6-2.2x over direct 3x3 kernels on ResNet
// shapes), and the engine records the choice.
constexpr const char* kWinograd = "wino";

struct Plan {
  dnnl::convolution_forward prim;
  memory::desc src, dst;            // what the tensors hold (NCHW / NHWC)
  memory::desc prim_src, prim_dst;  // what the primitive wants (blocked for Winograd)
  std::optional<dnnl::reorder> to_src, to_dst, from_dst;
  // INT8 / BF16: X float32 -> quantize_dst (u8/s8/bf16, = prim_src) by a oneDNN reorder; with
  // `prepad` (INT8 with a zero point and padding) kiln's quantize_padded() fills the interior
  // of prim_src instead, its border holding the zero point.
  std::optional<dnnl::reorder> quantize;
  memory::desc quantize_dst;
  bool prepad = false;
  std::vector<int64_t> padded_xs, pad_begin;  // prepad: prim_src's dims (NCHW order), offsets
  std::shared_ptr<memory> weights, bias;
  memory::desc scratch;
  std::vector<int64_t> ys;  // output shape, NCHW order
};

// Quantizes X (float32, dense, dims xs in NCHW order, laid out NCHW or NHWC) into the interior
// of the pre-padded uint8 buffer `dst` (plan.padded_xs, same layout; its border already holds
// the zero point): x_q = saturate(round_half_even(x / scale) + zero point). Written here, not as a
// oneDNN reorder into a strided sub-memory: oneDNN 2.6's reorder got that wrong for an odd
// number of channels (channels-last; 3-channel first layers at cosine 0.93 to FP32) and for
// NCHW (test_cpu_int8's "signed padded first layer" cases fail with it).
void quantize_padded(const float* x, const std::vector<int64_t>& xs, const Plan& plan, uint8_t* dst,
                     float inv_scale, int zero_point, bool channels_last) {
  // 1-D convolutions as 2-D ones of height 1.
  const bool one_d = xs.size() == 3;
  const int64_t n = xs[0], c = xs[1], h = one_d ? 1 : xs[2], w = xs.back();
  const int64_t hp = one_d ? 1 : plan.padded_xs[2], wp = plan.padded_xs.back();
  const int64_t bh = one_d ? 0 : plan.pad_begin[0], bw = plan.pad_begin.back();
  const float zp = static_cast<float>(zero_point);
  auto row = [&](const float* src, uint8_t* out, int64_t len) {
    for (int64_t i = 0; i < len; ++i)
      out[i] =
          static_cast<uint8_t>(std::clamp(std::nearbyint(src[i] * inv_scale) + zp, 0.f, 255.f));
  };
  // Rows (one image row of all channels, or one channel's row) in parallel: a first layer's
  // input is 150k-600k values.
  const int64_t rows = channels_last ? n * h : n * c * h;
  const int64_t len = channels_last ? w * c : w;
  cpu::parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, len)),
                    [&](int64_t r0, int64_t r1) {
                      for (int64_t r = r0; r < r1; ++r) {
                        const int64_t y = r % h, outer = r / h;  // outer: b (NHWC) or b * c + ch
                        row(x + r * len, dst + ((outer * hp + y + bh) * wp + bw) * (len / w), len);
                      }
                    });
}

class DnnlConvKernel final : public Kernel {
 public:
  // INT8 (spec.int8): `q` holds the quantized weights.
  DnnlConvKernel(const ir::Node& node, const ops::OpSchema& schema, ConvSpec spec, std::string impl,
                 const Tensor* packed_w = nullptr, bool release = true,
                 std::shared_ptr<const cpu::QuantizedWeights> q = nullptr)
      : node_(node),
        schema_(schema),
        spec_(spec),
        impl_(std::move(impl)),
        q_(std::move(q)),
        w_(q_ ? &q_->weights : spec.w, packed_w, release && !q_),
        b_(q_ ? (q_->bias.numel() > 0 ? &q_->bias : nullptr) : spec.b, nullptr, release && !q_) {}

  // The weights as the plan at input shape xs (NCHW order) runs them, for the engine.
  Result<Tensor> packed_weights(const std::vector<int64_t>& xs) const {
    KILN_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, plan_for(xs));
    try {
      return cpu::encode_packed(*plan->weights);
    } catch (const dnnl::error& e) {
      return err(Code::kKernelFailed, "oneDNN: ", e.what());
    }
  }
  // Plans ahead for xs (load time, so the first run does not pay for it); errors surface
  // again on that run.
  void warm(const std::vector<int64_t>& xs) const { (void)plan_for(xs); }
  int adopted() const { return w_.adopted(); }

  Status run(ops::KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    const size_t rank = spec_.w->shape().size();
    const bool x_q = x != nullptr && x->dtype() == DataType::kUInt8 && spec_.x_quantized;
    if (x == nullptr || (x->dtype() != DataType::kFloat32 && !x_q) || x->shape().size() != rank)
      return fallback(ctx);
    const std::vector<int64_t> xs = spec_.channels_last ? to_nchw(x->shape()) : x->shape();
    Result<std::shared_ptr<const Plan>> planned = plan_for(xs);
    if (!planned.ok()) {
      // Shapes oneDNN is not given (see descs()) keep the reference semantics where there is one.
      if (spec_.channels_last || spec_.int8 || !schema_.reference_kernel()) return planned.status();
      return fallback(ctx);
    }
    const std::shared_ptr<const Plan>& plan = *planned;
    const std::vector<int64_t> ys = spec_.channels_last ? to_nhwc(plan->ys) : plan->ys;
    const DataType ydt = spec_.y_scale == 0 ? DataType::kFloat32
                         : spec_.y_signed   ? DataType::kInt8
                                            : DataType::kUInt8;
    const DataType zdt = spec_.z_scale == 0 ? DataType::kFloat32
                         : spec_.z_signed   ? DataType::kInt8
                                            : DataType::kUInt8;
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output_uninit(0, ydt, ys));
    if (spec_.has_z) {
      const Tensor* z = ctx.input(3);
      if (z == nullptr || z->shape() != ys || z->dtype() != zdt) return fallback(ctx);
      if (z->data() != y->data()) std::memcpy(y->data(), z->data(), y->nbytes());
    }
    auto& eng = cpu::dnnl_engine();
    auto& strm = cpu::dnnl_thread_stream();
    memory src(plan->src, eng, const_cast<void*>(x->data()));
    memory dst(plan->dst, eng, y->data());
    try {
      // Blocked copies for the Winograd variant (per calling thread, grown as needed).
      thread_local std::vector<float> bsrc, bdst;
      memory psrc = src, pdst = dst;
      if (x_q) {
        psrc = memory(plan->prim_src, eng, const_cast<void*>(x->data()));
      } else if (plan->quantize || plan->prepad) {
        bsrc.resize(plan->prim_src.get_size() / sizeof(float) + 16);
        psrc = memory(plan->prim_src, eng, bsrc.data());
        if (plan->prepad) {
          std::memset(bsrc.data(), spec_.int8->zero_point, plan->prim_src.get_size());
          quantize_padded(x->data_as<float>(), xs, *plan, reinterpret_cast<uint8_t*>(bsrc.data()),
                          1.f / spec_.int8->scale, spec_.int8->zero_point, spec_.channels_last);
        } else {
          memory qdst(plan->quantize_dst, eng, bsrc.data());
          plan->quantize->execute(strm, src, qdst);
        }
      } else if (plan->to_src) {
        bsrc.resize(plan->prim_src.get_size() / sizeof(float) + 16);
        bdst.resize(plan->prim_dst.get_size() / sizeof(float) + 16);
        psrc = memory(plan->prim_src, eng, bsrc.data());
        pdst = memory(plan->prim_dst, eng, bdst.data());
        plan->to_src->execute(strm, src, psrc);
        if (spec_.has_z) plan->to_dst->execute(strm, dst, pdst);  // Z, for the sum post-op
      }
      std::unordered_map<int, memory> args = {
          {DNNL_ARG_SRC, psrc},
          {DNNL_ARG_WEIGHTS, *plan->weights},
          {DNNL_ARG_DST, pdst},
          {DNNL_ARG_SCRATCHPAD, cpu::dnnl_scratchpad(plan->scratch)}};
      if (plan->bias) args.emplace(DNNL_ARG_BIAS, *plan->bias);
      plan->prim.execute(strm, args);
      if (plan->from_dst) plan->from_dst->execute(strm, pdst, dst);
    } catch (const dnnl::error& e) {
      return err(Code::kKernelFailed, "oneDNN convolution failed: ", e.what());
    }
    return Status::Ok();
  }

 private:
  Status fallback(ops::KernelContext& ctx) const {
    if (spec_.channels_last || !schema_.reference_kernel())
      return err(Code::kKernelFailed, node_.op_type(),
                 ": the oneDNN kernel got inputs it was not built for (",
                 ctx.input(0) ? Dims::of(ctx.input(0)->shape()).to_string() : "none", ")");
    return schema_.reference_kernel()(ctx);
  }

  Result<std::shared_ptr<const Plan>> plan_for(const std::vector<int64_t>& xs) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = plans_.find(xs);
    if (it != plans_.end()) return it->second;
    KILN_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> p, make_plan(xs));
    plans_.emplace(xs, p);
    return p;
  }

  // The layer's oneDNN descriptors at input shape xs (NCHW order).
  struct Descs {
    memory::desc src, dst, w_any, w_user, bias;
    memory::desc qsrc;               // INT8 / BF16: X as the primitive reads it
    bool prepad = false;             // INT8 pre-padded (see Plan::prepad)
    std::vector<int64_t> pad_begin;  // prepad: where X starts in qsrc (spatial axes)
    memory::dims strides, dil, pad_l, pad_r;
    dnnl::primitive_attr attr;
    std::vector<int64_t> ys;
    // The operation descriptor outlives the primitive descriptors made from it: their
    // implementation iterator (next_impl) refers to it.
    std::optional<dnnl::convolution_forward::desc> op;
    bool winograd = false;
  };

  Result<Descs> descs(const std::vector<int64_t>& xs, bool winograd = false) const {
    const std::vector<int64_t>& ws = spec_.w->shape();
    const size_t nd = ws.size() - 2;
    const int64_t g = spec_.group;
    if (g <= 0 || xs[1] != ws[1] * g || ws[0] % g != 0)
      return err(Code::kIncompatibleShapes, node_.op_type(), " X ", Dims::of(xs).to_string(),
                 " does not match W ", Dims::of(ws).to_string(), " with group ", g);
    const ops::NodeAttrs attrs(node_, schema_);
    KILN_ASSIGN_OR_RETURN(ops::Window win,
                          ops::read_window(attrs, node_.op_type(),
                                           std::vector<int64_t>(ws.begin() + 2, ws.end()), true));
    KILN_ASSIGN_OR_RETURN(
        std::vector<int64_t> out,
        ops::window_output_sizes(attrs, node_.op_type(),
                                 std::vector<int64_t>(xs.begin() + 2, xs.end()), win, false));
    Descs d;
    d.ys = {xs[0], ws[0]};
    d.ys.insert(d.ys.end(), out.begin(), out.end());
    // oneDNN's blocking heuristics divide by and multiply these (a forged engine with a
    // billion-wide output reached a SIGFPE inside it): empty or absurdly large tensors, zero
    // strides or dilations and negative pads go to the reference kernel's checks instead.
    auto positive = [](const std::vector<int64_t>& v) {
      int64_t n = 1;
      for (int64_t x : v)
        if (x <= 0 || x > (int64_t{1} << 24) || __builtin_mul_overflow(n, x, &n)) return false;
      return n <= (int64_t{1} << 31);
    };
    // Pads beyond the kernel's reach only add bias-only borders (no exported model has them; a
    // forged 8M-wide pad kept oneDNN busy for seconds): the reference kernel computes those.
    bool pads_ok = true;
    for (size_t k = 0; k < nd; ++k)
      pads_ok = pads_ok && win.pad_begin[k] >= 0 && win.pad_end[k] >= 0 &&
                win.pad_begin[k] < win.dilated(k) && win.pad_end[k] < win.dilated(k);
    if (!positive(xs) || !positive(ws) || !positive(d.ys) || !positive(win.strides) ||
        !positive(win.dilations) || !pads_ok)
      return err(Code::kIncompatibleShapes, node_.op_type(), " X ", Dims::of(xs).to_string(), " W ",
                 Dims::of(ws).to_string(), " Y ", Dims::of(d.ys).to_string(),
                 ": no oneDNN convolution for empty or oversized tensors, zero strides or "
                 "dilations, or negative pads");
    std::vector<int64_t> dil(nd);
    for (size_t k = 0; k < nd; ++k) dil[k] = win.dilations[k] - 1;
    const Tag act_tag = nd == 1 ? (spec_.channels_last ? Tag::nwc : Tag::ncw)
                                : (spec_.channels_last ? Tag::nhwc : Tag::nchw);
    std::vector<int64_t> wdims = ws;
    Tag wtag = nd == 1 ? Tag::oiw : Tag::oihw;
    if (g > 1) {
      wdims = {g, ws[0] / g};
      wdims.insert(wdims.end(), ws.begin() + 1, ws.end());
      wtag = nd == 1 ? Tag::goiw : Tag::goihw;
    }
    const auto f32 = memory::data_type::f32;
    const auto wdt = spec_.int8 ? memory::data_type::s8 : f32;
    const auto bf16 = memory::data_type::bf16;
    d.src = memory::desc(to_dims(xs), f32, act_tag);
    const auto q8 = [](bool is_signed) {
      return is_signed ? memory::data_type::s8 : memory::data_type::u8;
    };
    d.dst = memory::desc(to_dims(d.ys), spec_.y_scale > 0 ? q8(spec_.y_signed) : f32, act_tag);
    // BF16: the float32 weights are converted while they are packed (a reorder f32 -> bf16).
    d.w_any = memory::desc(to_dims(wdims), spec_.bf16 ? bf16 : wdt, Tag::any);
    d.w_user = memory::desc(to_dims(wdims), wdt, wtag);
    if (has_bias()) d.bias = memory::desc({ws[0]}, f32, Tag::x);
    memory::desc op_src = d.src;
    const bool fold = spec_.act.kind == ops::Activation::kNone ||
                      spec_.act.kind == ops::Activation::kRelu ||
                      spec_.act.kind == ops::Activation::kLeakyRelu;
    if (spec_.int8) {
      const auto qdt = spec_.int8->is_unsigned ? memory::data_type::u8 : memory::data_type::s8;
      d.qsrc = memory::desc(to_dims(xs), qdt, act_tag);
      bool any_pad = false;
      for (size_t k = 0; k < nd; ++k) any_pad = any_pad || win.pad_begin[k] || win.pad_end[k];
      if (spec_.int8->zero_point != 0 && any_pad) {
        std::vector<int64_t> xp = xs;
        for (size_t k = 0; k < nd; ++k) xp[2 + k] += win.pad_begin[k] + win.pad_end[k];
        d.qsrc = memory::desc(to_dims(xp), qdt, act_tag);
        d.pad_begin = win.pad_begin;
        d.prepad = true;
      }
      op_src = d.qsrc;
      // Per output channel: s32 accumulator -> float32 (oneDNN 2.x adds the bias before the
      // output scales, which is why q_.bias is in the accumulator's units).
      std::vector<float> scales = q_->out_scales;
      // A requantized Y: act(y) / y_scale. Folded into the output scales where the activation
      // commutes with a positive factor; a bounded or curved one (Clip, HardSwish) takes the
      // float32 value and a final linear post-op divides it. oneDNN rounds to nearest even and
      // saturates on the uint8 store, as the quantizing reorder does.
      if (spec_.y_scale > 0 && fold)
        for (float& v : scales) v /= spec_.y_scale;
      d.attr.set_output_scales(1 << 1, scales);
    }
    if (spec_.bf16) {
      d.qsrc = memory::desc(to_dims(xs), bf16, act_tag);
      op_src = d.qsrc;
    }
    d.strides = to_dims(win.strides);
    d.dil = to_dims(dil);
    d.pad_l = to_dims(win.pad_begin);
    d.pad_r = to_dims(win.pad_end);
    if (d.prepad) d.pad_l = d.pad_r = memory::dims(nd, 0);
    d.attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::post_ops po;
    // A quantized residual z_q (bytes of Y before the run): z = z_scale * z_q, in Y's units
    // where the output scales were folded (act(y) / y_scale), else in float32 units.
    if (spec_.has_z && spec_.z_scale > 0)
      po.append_sum(fold ? spec_.z_scale / spec_.y_scale : spec_.z_scale, q8(spec_.z_signed));
    else if (spec_.has_z)
      po.append_sum(1.f);
    cpu::append_activation(po, spec_.act);
    if (spec_.y_scale > 0 && !fold)
      po.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f / spec_.y_scale, 0.f);
    d.attr.set_post_ops(po);
    d.winograd = winograd;
    try {
      if (winograd)
        d.op.emplace(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_winograd,
                     memory::desc(to_dims(xs), f32, Tag::any), d.w_any, d.bias,
                     memory::desc(to_dims(d.ys), f32, Tag::any), d.strides, d.dil, d.pad_l,
                     d.pad_r);
      else
        d.op.emplace(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                     op_src, d.w_any, d.bias, d.dst, d.strides, d.dil, d.pad_l, d.pad_r);
    } catch (const dnnl::error& e) {
      return err(Code::kKernelFailed, "oneDNN rejects the convolution: ", e.what());
    }
    return d;
  }

  static auto factory(const Descs& d) {
    return [&d] {
      return dnnl::convolution_forward::primitive_desc(*d.op, d.attr, cpu::dnnl_engine());
    };
  }

 public:
  std::vector<std::string> impls(const std::vector<int64_t>& xs) const {
    Result<Descs> d = descs(xs);
    if (!d.ok()) return {};
    std::vector<std::string> out =
        cpu::list_impls<dnnl::convolution_forward::primitive_desc>(factory(*d));
    std::erase_if(out, [this](const std::string& impl) { return !impl_ok(impl); });
    const std::vector<int64_t>& ws = spec_.w->shape();
    if (ws.size() == 4 && ws[2] == 3 && ws[3] == 3 && spec_.group == 1 && !spec_.int8 &&
        !spec_.bf16) {
      Result<Descs> w = descs(xs, true);
      if (w.ok() &&
          !cpu::list_impls<dnnl::convolution_forward::primitive_desc>(factory(*w)).empty())
        out.push_back(kWinograd);
    }
    return out;
  }

 private:
  // oneDNN 2.6's jit_uni_int8 (AVX2/SSE4.1) convolutions compute NHWC layers wrong (with a
  // residual; 1x1 layers with a Clip epilogue): test_cpu_int8. Not used for NHWC layers.
  // BF16: no reference implementation (picked by default where no native kernel takes the
  // shape; far slower than FP32). The others are native: the tactic exists only on BF16 CPUs.
  bool impl_ok(const std::string& impl) const {
    if (spec_.bf16) return impl.rfind("ref", 0) != 0;
    return !(spec_.int8 && spec_.channels_last && impl.rfind("jit_uni_int8", 0) == 0);
  }

  Result<std::shared_ptr<const Plan>> make_plan(const std::vector<int64_t>& xs) const {
    const bool wino = impl_ == kWinograd;
    Result<Descs> dr = descs(xs, wino);
    // A shape the Winograd kernel rejects (dynamic shapes) takes the direct kernels.
    if (wino && !dr.ok()) dr = descs(xs, false);
    KILN_ASSIGN_OR_RETURN(Descs d, std::move(dr));
    std::optional<dnnl::convolution_forward::primitive_desc> pd =
        cpu::pick_impl<dnnl::convolution_forward::primitive_desc>(factory(d), wino ? "" : impl_);
    if (pd && !impl_ok(cpu::impl_name(*pd))) {
      // The autotuner never offers such an implementation; the default pick might be one.
      pd.reset();
      std::vector<std::string> ok = impls(xs);
      if (!ok.empty())
        pd = cpu::pick_impl<dnnl::convolution_forward::primitive_desc>(factory(d), ok.front());
      if (!pd || !impl_ok(cpu::impl_name(*pd)))
        return err(Code::kKernelFailed, "no oneDNN ", spec_.bf16 ? "native BF16" : "INT8",
                   " convolution computes this layer here");
    }
    if (!pd && wino) {
      KILN_ASSIGN_OR_RETURN(d, descs(xs, false));
      pd = cpu::pick_impl<dnnl::convolution_forward::primitive_desc>(factory(d), "");
    }
    if (!pd)
      return err(Code::kKernelFailed, "oneDNN has no convolution for X ", Dims::of(xs).to_string(),
                 " W ", Dims::of(spec_.w->shape()).to_string());
    auto plan = std::make_shared<Plan>();
    plan->prim = dnnl::convolution_forward(*pd);
    plan->src = d.src;
    plan->dst = d.dst;
    plan->prim_src = pd->src_desc();
    plan->prim_dst = pd->dst_desc();
    if (spec_.int8) {
      // The scale maps x to x_q = x / x_scale: oneDNN's reorder multiplies by its output scale,
      // rounds to nearest even and saturates.
      if (plan->prim_dst != d.dst || plan->prim_src != d.qsrc)
        return err(Code::kKernelFailed, "oneDNN's INT8 convolution wants blocked tensors");
      dnnl::primitive_attr qa;
      qa.set_output_scales(0, {1.f / spec_.int8->scale});
      if (spec_.int8->zero_point != 0)
        qa.set_zero_points(DNNL_ARG_DST, 0, {spec_.int8->zero_point});
      auto& eng = cpu::dnnl_engine();
      plan->prepad = d.prepad;
      plan->quantize_dst = d.qsrc;
      if (d.prepad) {
        const memory::dims pd_dims = d.qsrc.dims();
        plan->padded_xs.assign(pd_dims.begin(), pd_dims.end());
        plan->pad_begin = d.pad_begin;
      } else {
        plan->quantize =
            dnnl::reorder(dnnl::reorder::primitive_desc(eng, d.src, eng, plan->quantize_dst, qa));
      }
    } else if (spec_.bf16) {
      if (plan->prim_dst != d.dst || plan->prim_src != d.qsrc)
        return err(Code::kKernelFailed, "oneDNN's BF16 convolution wants blocked tensors");
      auto& eng = cpu::dnnl_engine();
      plan->quantize_dst = d.qsrc;
      plan->quantize = dnnl::reorder(dnnl::reorder::primitive_desc(eng, d.src, eng, d.qsrc));
    } else if (plan->prim_src != d.src || plan->prim_dst != d.dst) {
      auto& eng = cpu::dnnl_engine();
      plan->to_src = dnnl::reorder(dnnl::reorder::primitive_desc(eng, d.src, eng, plan->prim_src));
      plan->to_dst = dnnl::reorder(dnnl::reorder::primitive_desc(eng, d.dst, eng, plan->prim_dst));
      plan->from_dst =
          dnnl::reorder(dnnl::reorder::primitive_desc(eng, plan->prim_dst, eng, d.dst));
    }
    plan->ys = d.ys;
    plan->scratch = pd->scratchpad_desc();
    try {
      plan->weights = w_.get(pd->weights_desc(), d.w_user);
      if (has_bias()) plan->bias = b_.get(pd->bias_desc(), d.bias);
    } catch (const std::exception& e) {
      return err(Code::kKernelFailed, "packing the convolution weights failed: ", e.what());
    }
    return std::shared_ptr<const Plan>(std::move(plan));
  }

  // INT8 layers whose input is shifted have a bias even where the model has none.
  bool has_bias() const { return q_ ? q_->bias.numel() > 0 : spec_.b != nullptr; }

  const ir::Node& node_;
  const ops::OpSchema& schema_;
  ConvSpec spec_;
  std::string impl_;
  std::shared_ptr<const cpu::QuantizedWeights> q_;  // INT8 only; w_ and b_ point into it
  mutable std::mutex mu_;
  mutable std::map<std::vector<int64_t>, std::shared_ptr<const Plan>> plans_;
  mutable cpu::PackedConstant w_, b_;  // guarded by mu_
};

// The input shape (NCHW) the node's annotated types give, when fully static.
std::optional<std::vector<int64_t>> static_input_shape(const ir::Node& n, const ConvSpec& s) {
  const ir::Value* x = n.input(0);
  if (x == nullptr || !x->type.shape.rank_known()) return std::nullopt;
  std::vector<int64_t> v;
  for (size_t i = 0; i < x->type.shape.rank(); ++i) {
    if (!x->type.shape[i].is_static()) return std::nullopt;
    v.push_back(x->type.shape[i].value);
  }
  if (v.size() != s.w->shape().size()) return std::nullopt;
  return s.channels_last ? to_nchw(v) : v;
}

class DnnlConvTactic final : public Tactic {
 public:
  explicit DnnlConvTactic(cpu::Arith arith)
      : arith_(arith), name_(std::string("cpu.dnnl.conv") + cpu::arith_suffix(arith)) {}
  std::string_view name() const override { return name_; }
  bool supports(const ir::Node& node, const ops::OpSchema& schema) const override {
    return read_spec(node, schema, arith_).has_value();
  }
  bool allows_inplace(const ir::Node& node, const ops::OpSchema& schema,
                      size_t input) const override {
    // The residual Z is copied into Y before the sum post-op; sharing its slot saves the copy
    // (where they have the same type: the runtime shares only those).
    std::optional<ConvSpec> s = read_spec(node, schema, arith_);
    return s && s->has_z && input == 3 && (s->z_scale > 0) == (s->y_scale > 0) &&
           s->z_signed == s->y_signed;
  }
  std::vector<Variant> variants(const ir::Node& node, const ops::OpSchema& schema) const override {
    std::optional<ConvSpec> s = read_spec(node, schema, arith_);
    if (!s) return {};
    std::optional<std::vector<int64_t>> xs = static_input_shape(node, *s);
    if (!xs) return {Variant{}};
    // A throwaway kernel builds the layer's descriptors; every implementation that accepts it
    // is a candidate.
    Result<std::unique_ptr<DnnlConvKernel>> k = make(node, schema, *s, "", nullptr, false);
    if (!k.ok()) return {};
    std::vector<Variant> out;
    for (const std::string& impl : (*k)->impls(*xs))
      out.push_back({impl, {impl.begin(), impl.end()}});
    if (out.empty()) out.push_back(Variant{});
    return out;
  }
  Result<std::vector<PackedConstant>> pack(const ir::Node& node, const ops::OpSchema& schema,
                                           const std::vector<uint8_t>& params) const override {
    std::optional<ConvSpec> s = read_spec(node, schema, arith_);
    std::optional<std::vector<int64_t>> xs = s ? static_input_shape(node, *s) : std::nullopt;
    if (!xs) return std::vector<PackedConstant>{};
    KILN_ASSIGN_OR_RETURN(
        std::unique_ptr<DnnlConvKernel> k,
        make(node, schema, *s, std::string(params.begin(), params.end()), nullptr, false));
    KILN_ASSIGN_OR_RETURN(Tensor w, k->packed_weights(*xs));
    std::vector<PackedConstant> out;
    out.push_back({arith_ == cpu::Arith::kInt8   ? "weights_s8"
                   : arith_ == cpu::Arith::kBf16 ? "weights_bf16"
                                                 : "weights",
                   std::move(w)});
    return out;
  }
  Result<std::unique_ptr<Kernel>> prepare(const ir::Node& node, const ops::OpSchema& schema,
                                          const std::vector<uint8_t>& params) const override {
    return prepare_packed(node, schema, params, {});
  }
  Result<std::unique_ptr<Kernel>> prepare_packed(
      const ir::Node& node, const ops::OpSchema& schema, const std::vector<uint8_t>& params,
      const std::vector<const Tensor*>& packed) const override {
    std::optional<ConvSpec> s = read_spec(node, schema, arith_);
    if (!s)
      return err(Code::kNoKernel, name(), " cannot run this ", node.op_type())
          .with_node(node.ref());
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<DnnlConvKernel> k,
                          make(node, schema, *s, std::string(params.begin(), params.end()),
                               packed.empty() ? nullptr : packed.front(), true));
    if (std::optional<std::vector<int64_t>> xs = static_input_shape(node, *s)) k->warm(*xs);
    return std::unique_ptr<Kernel>(std::move(k));
  }

 private:
  static Result<std::unique_ptr<DnnlConvKernel>> make(const ir::Node& node,
                                                      const ops::OpSchema& schema,
                                                      const ConvSpec& s, std::string impl,
                                                      const Tensor* packed, bool release) {
    std::shared_ptr<const cpu::QuantizedWeights> q;
    if (s.int8) {
      KILN_ASSIGN_OR_RETURN(cpu::QuantizedWeights qw,
                            cpu::quantize_per_channel(*s.w, 0, s.b, s.int8->scale, s.int8->w_scales,
                                                      s.int8->zero_point));
      q = std::make_shared<const cpu::QuantizedWeights>(std::move(qw));
    }
    return std::make_unique<DnnlConvKernel>(node, schema, s, std::move(impl), packed, release,
                                            std::move(q));
  }

  cpu::Arith arith_;
  std::string name_;
};

}  // namespace

const Tactic& cpu_dnnl_conv_tactic() {
  static const DnnlConvTactic t(cpu::Arith::kFp32);
  return t;
}

const Tactic& cpu_dnnl_conv_int8_tactic() {
  static const DnnlConvTactic t(cpu::Arith::kInt8);
  return t;
}

const Tactic& cpu_dnnl_conv_bf16_tactic() {
  static const DnnlConvTactic t(cpu::Arith::kBf16);
  return t;
}

}  // namespace kiln::backends
