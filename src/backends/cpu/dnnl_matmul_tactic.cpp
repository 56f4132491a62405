// "cpu.dnnl.matmul": MatMul, Gemm, kiln.FusedMatMul and kiln.FusedGemm as one oneDNN matmul
// with the bias and the activation fused in. Transposed operands are strides, not copies;
// batch dimensions broadcast as ONNX's MatMul does. A constant 2-D B (a linear layer's
// weights) comes packed from the build in the blocked format the implementation wants at the
// opt shape (reordered once per kernel for another format); activations multiply in place.
//
// "cpu.dnnl.matmul.int8": a linear layer (constant 2-D B, constant or no bias) the builder's
// calibration annotated (int8_x_scale): A quantized per tensor on the way in, B per output
// column once (int8_weights.h), s32 accumulation, dequantization + bias + activation fused into
// the epilogue, float32 out.
//
// "cpu.dnnl.matmul.bf16": a linear layer (constant 2-D B) the builder allowed BF16 (--bf16):
// A converted to bfloat16 on the way in, B converted once while it is packed, FP32
// accumulation, bias and activation in FP32, float32 out. Only where the CPU has native BF16.
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "backends/cpu/cpu_tactics.h"
#include "backends/cpu/dnnl_util.h"
#include "backends/cpu/int8_weights.h"
#include "core/errors.h"
#include "ops/fused_kernels.h"

namespace kiln::backends {
namespace {

using cpu::to_dims;
using dnnl::memory;
using Tag = dnnl::memory::format_tag;

enum class Kind { kMatMul, kGemm };

struct MatMulSpec {
  Kind kind = Kind::kMatMul;
  bool trans_a = false, trans_b = false;
  float alpha = 1.f;
  ops::ActivationSpec act;
  const Tensor* b_const = nullptr;  // packed once when 2-D
  bool has_bias = false;
  std::optional<ops::fused::Int8Input> int8;  // set only for the INT8 tactic
  bool bf16 = false;                          // set only for the BF16 tactic
};

bool f32(const ir::Value* v) {
  return v != nullptr && v->type.dtype == DataType::kFloat32;
}

std::optional<MatMulSpec> read_spec(const ir::Node& n, const ops::OpSchema& schema,
                                    cpu::Arith arith = cpu::Arith::kFp32) {
  const bool int8 = arith == cpu::Arith::kInt8;
  MatMulSpec s;
  const bool kiln = n.domain() == ops::kKilnDomain;
  if (!kiln && !n.domain().empty()) return std::nullopt;
  const std::string& op = n.op_type();
  if (op == "MatMul" && !kiln) {
    s.kind = Kind::kMatMul;
  } else if (op == "Gemm" && !kiln) {
    s.kind = Kind::kGemm;
  } else if (op == "FusedMatMul" && kiln) {
    s.kind = Kind::kMatMul;
  } else if (op == "FusedGemm" && kiln) {
    s.kind = Kind::kGemm;
  } else {
    return std::nullopt;
  }
  if (!f32(n.input(0)) || !f32(n.input(1)) || n.outputs().size() != 1) return std::nullopt;
  ops::NodeAttrs attrs(n, schema);
  s.trans_a = attrs.attr_int("transA", 0) != 0;
  s.trans_b = attrs.attr_int("transB", 0) != 0;
  s.alpha = attrs.attr_float("alpha", 1.f);
  if (kiln) {
    Result<ops::ActivationSpec> a = ops::fused::read_activation(attrs);
    if (!a.ok() || !cpu::activation_supported(*a)) return std::nullopt;
    s.act = *a;
  }
  s.has_bias = n.input(2) != nullptr;
  if (s.has_bias && !f32(n.input(2))) return std::nullopt;
  // oneDNN adds the bias before post-ops: alpha can only scale an unbiased product.
  if (s.alpha != 1.f && s.has_bias) return std::nullopt;
  if (s.kind == Kind::kGemm && attrs.attr_float("beta", 1.f) != 1.f && s.has_bias)
    return std::nullopt;
  // Vectors (rank 1) and unknown ranks go to the reference kernel.
  for (size_t i = 0; i < 2; ++i) {
    const ir::Value* v = n.input(i);
    if (!v->type.shape.rank_known() || v->type.shape.rank() < 2) return std::nullopt;
    if (s.kind == Kind::kGemm && v->type.shape.rank() != 2) return std::nullopt;
  }
  if (const Tensor* b = n.input(1)->initializer(); b != nullptr && b->rank() == 2) s.b_const = b;
  if (arith == cpu::Arith::kBf16) {
    if (!kiln || s.b_const == nullptr || !cpu::native_bf16() || !ops::fused::read_bf16(attrs))
      return std::nullopt;
    s.bf16 = true;
  }
  if (int8) {
    if (!kiln || s.b_const == nullptr || s.alpha != 1.f) return std::nullopt;
    s.int8 = ops::fused::read_int8(attrs);
    // Zero points (asymmetric uint8 inputs of explicitly quantized models) are the convolution's
    // only: the linear layer stays FP32 on the pair's clipped values.
    if (!s.int8 || s.int8->zero_point != 0) return std::nullopt;
    // The bias is folded into the accumulator once: it must be a constant row of N values.
    if (s.has_bias) {
      const Tensor* c = n.input(2)->initializer();
      const int64_t cols = s.b_const->shape()[s.trans_b ? 0 : 1];
      if (c == nullptr || c->numel() != cols || c->shape().back() != cols) return std::nullopt;
    }
  }
  return s;
}

// Dims/strides of a contiguous tensor of `shape` padded to `rank`, last two swapped when `t`.
struct Operand {
  memory::dims dims, strides;
};
Operand operand(const std::vector<int64_t>& shape, size_t rank, bool t) {
  std::vector<int64_t> s(rank - shape.size(), 1);
  s.insert(s.end(), shape.begin(), shape.end());
  std::vector<int64_t> st(rank, 1);
  for (size_t i = rank - 1; i-- > 0;) st[i] = st[i + 1] * s[i + 1];
  if (t) {
    std::swap(s[rank - 1], s[rank - 2]);
    std::swap(st[rank - 1], st[rank - 2]);
  }
  return {to_dims(s), to_dims(st)};
}

struct Plan {
  dnnl::matmul prim;
  memory::desc a, b, bias, dst, scratch;
  memory::desc qa;                        // INT8 / BF16: A as the primitive reads it
  std::optional<dnnl::reorder> quantize;  // INT8 / BF16: A float32 -> qa
  std::shared_ptr<memory> packed_b;
  std::vector<int64_t> y_shape;
};

class DnnlMatMulKernel final : public Kernel {
 public:
  // INT8 (spec.int8): `q` holds the quantized B and bias.
  DnnlMatMulKernel(const ir::Node& node, const ops::OpSchema& schema, MatMulSpec spec,
                   std::string impl, const Tensor* packed_b = nullptr, bool release = true,
                   std::shared_ptr<const cpu::QuantizedWeights> q = nullptr)
      : node_(node),
        schema_(schema),
        spec_(spec),
        impl_(std::move(impl)),
        q_(std::move(q)),
        b_(q_ ? &q_->weights : spec.b_const, packed_b, release && !q_) {}

  // B as the plan at these shapes runs it, for the engine; empty when it runs B as stored.
  Result<std::optional<Tensor>> packed_b(const std::vector<int64_t>& as,
                                         const std::vector<int64_t>& bs,
                                         const std::vector<int64_t>& cs) const {
    KILN_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, plan_for(as, bs, cs));
    if (!plan->packed_b) return std::optional<Tensor>{};
    try {
      KILN_ASSIGN_OR_RETURN(Tensor t, cpu::encode_packed(*plan->packed_b));
      return std::optional<Tensor>(std::move(t));
    } catch (const dnnl::error& e) {
      return err(Code::kKernelFailed, "oneDNN: ", e.what());
    }
  }
  void warm(const std::vector<int64_t>& as, const std::vector<int64_t>& bs,
            const std::vector<int64_t>& cs) const {
    (void)plan_for(as, bs, cs);
  }
  int adopted() const { return b_.adopted(); }

  Status run(ops::KernelContext& ctx) const override {
    const Tensor* a = ctx.input(0);
    const Tensor* b = ctx.input(1);
    const Tensor* bias = spec_.has_bias ? ctx.input(2) : nullptr;
    if (a == nullptr || b == nullptr || a->rank() < 2 || b->rank() < 2 ||
        (spec_.has_bias && bias == nullptr))
      return schema_.reference_kernel()(ctx);
    Result<std::shared_ptr<const Plan>> plan =
        plan_for(a->shape(), b->shape(), bias ? bias->shape() : std::vector<int64_t>{});
    if (!plan.ok()) {
      // Shapes the plan cannot express (non-broadcastable bias, …) keep the reference
      // semantics, errors included.
      return schema_.reference_kernel()(ctx);
    }
    const Plan& p = **plan;
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output_uninit(0, DataType::kFloat32, p.y_shape));
    if (y->numel() == 0) return Status::Ok();
    auto& eng = cpu::dnnl_engine();
    memory src(p.a, eng, const_cast<void*>(a->data()));
    if (p.quantize) {
      thread_local std::vector<uint8_t> qa;
      qa.resize(p.qa.get_size() + 64);
      memory q(p.qa, eng, qa.data());
      try {
        p.quantize->execute(cpu::dnnl_thread_stream(), src, q);
      } catch (const dnnl::error& e) {
        return err(Code::kKernelFailed, "oneDNN quantization of A failed: ", e.what());
      }
      src = q;
      if (q_ && q_->bias.numel() > 0) bias = &q_->bias;
    }
    // Unpacked (a batched product: oneDNN packs 2-D weights only), INT8 reads the quantized
    // copy: the float B read as int8 was garbage (PP-OCR rec's transA classifier).
    const void* b_data = q_ ? q_->weights.data() : b->data();
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, src},
        {DNNL_ARG_WEIGHTS, p.packed_b ? *p.packed_b : memory(p.b, eng, const_cast<void*>(b_data))},
        {DNNL_ARG_DST, memory(p.dst, eng, y->data())},
        {DNNL_ARG_SCRATCHPAD, cpu::dnnl_scratchpad(p.scratch)}};
    if (bias != nullptr)
      args.emplace(DNNL_ARG_BIAS, memory(p.bias, eng, const_cast<void*>(bias->data())));
    try {
      p.prim.execute(cpu::dnnl_thread_stream(), args);
    } catch (const dnnl::error& e) {
      return err(Code::kKernelFailed, "oneDNN matmul failed: ", e.what());
    }
    return Status::Ok();
  }

  struct Descs {
    memory::desc a, b, b_any, b_user, bias, dst;
    memory::desc qa;  // INT8 / BF16: A converted, contiguous
    dnnl::primitive_attr attr;
    std::vector<int64_t> y_shape;
    std::optional<dnnl::matmul::desc> op;  // outlives the primitive descriptors (next_impl)
  };

  // A linear layer (constant 2-D B) over a batch of rows multiplies [rows, K] by B: as a 2-D
  // product oneDNN can use its blocked-weights (brgemm) kernels.
  Result<Descs> descs(const std::vector<int64_t>& as, const std::vector<int64_t>& bs,
                      const std::vector<int64_t>& cs) const {
    bool bias_is_row = true;
    for (size_t i = 0; i + 1 < cs.size(); ++i) bias_is_row = bias_is_row && cs[i] == 1;
    if (spec_.kind == Kind::kMatMul && spec_.b_const != nullptr && bs.size() == 2 &&
        as.size() > 2 && !spec_.trans_a && bias_is_row) {
      int64_t rows = 1;
      for (size_t i = 0; i + 1 < as.size(); ++i) rows *= as[i];
      std::vector<int64_t> c2;
      if (!cs.empty()) c2 = {1, cs.back()};
      KILN_ASSIGN_OR_RETURN(Descs d, descs_nd({rows, as.back()}, bs, c2));
      d.y_shape.assign(as.begin(), as.end() - 1);
      d.y_shape.push_back(spec_.trans_b ? bs[0] : bs[1]);
      return d;
    }
    return descs_nd(as, bs, cs);
  }

  Result<Descs> descs_nd(const std::vector<int64_t>& as, const std::vector<int64_t>& bs,
                         const std::vector<int64_t>& cs) const {
    const size_t rank = std::max(as.size(), bs.size());
    const Operand oa = operand(as, rank, spec_.trans_a);
    const Operand ob = operand(bs, rank, spec_.trans_b);
    const int64_t m = oa.dims[rank - 2], k = oa.dims[rank - 1], n = ob.dims[rank - 1];
    if (ob.dims[rank - 2] != k)
      return err(Code::kIncompatibleShapes, node_.op_type(), " inner dimensions differ");
    memory::dims out(rank);
    for (size_t i = 0; i + 2 < rank; ++i) {
      const int64_t x = oa.dims[i], w = ob.dims[i];
      if (x != w && x != 1 && w != 1)
        return err(Code::kIncompatibleShapes, node_.op_type(), " batch dimensions differ");
      out[i] = std::max(x, w);
      if (x == 0 || w == 0) out[i] = 0;
    }
    out[rank - 2] = m;
    out[rank - 1] = n;
    Descs d;
    const auto f = memory::data_type::f32;
    const auto wdt = spec_.int8 ? memory::data_type::s8 : f;
    d.a = memory::desc(oa.dims, f, oa.strides);
    d.b = memory::desc(ob.dims, wdt, ob.strides);
    d.b_user = d.b;
    d.b_any = spec_.b_const != nullptr && rank == 2 ? memory::desc(ob.dims, wdt, Tag::any) : d.b;
    if (spec_.bf16) {
      // B is converted while it is packed, which needs the 2-D (linear layer) form.
      if (spec_.b_const == nullptr || rank != 2)
        return err(Code::kKernelFailed, "BF16 matmul needs a constant 2-D B");
      d.b_any = memory::desc(ob.dims, memory::data_type::bf16, Tag::any);
      d.qa = memory::desc(oa.dims, memory::data_type::bf16, Tag::ab);
    }
    if (spec_.int8) {
      std::vector<int64_t> st(rank, 1);
      for (size_t i = rank - 1; i-- > 0;) st[i] = st[i + 1] * oa.dims[i + 1];
      d.qa = memory::desc(oa.dims,
                          spec_.int8->is_unsigned ? memory::data_type::u8 : memory::data_type::s8,
                          to_dims(st));
      // Per output column; oneDNN 2.x adds the bias (q_->bias, in accumulator units) first.
      d.attr.set_output_scales(1 << (rank - 1), q_->out_scales);
    }
    d.dst = memory::desc(out, f, rank == 2 ? Tag::ab : memory::format_tag::undef);
    if (rank != 2) {
      std::vector<int64_t> st(rank, 1);
      for (size_t i = rank - 1; i-- > 0;) st[i] = st[i + 1] * out[i + 1];
      d.dst = memory::desc(out, f, to_dims(st));
    }
    if (spec_.has_bias) {
      if (cs.size() > rank) return err(Code::kIncompatibleShapes, "bias rank too large");
      memory::dims c(rank - cs.size(), 1);
      c.insert(c.end(), cs.begin(), cs.end());
      for (size_t i = 0; i < rank; ++i)
        if (c[i] != 1 && c[i] != out[i])
          return err(Code::kIncompatibleShapes, "bias does not broadcast to the product");
      std::vector<int64_t> st(rank, 1);
      for (size_t i = rank - 1; i-- > 0;) st[i] = st[i + 1] * c[i + 1];
      d.bias = memory::desc(c, f, to_dims(st));
    }
    d.attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::post_ops po;
    if (spec_.alpha != 1.f)
      po.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, spec_.alpha, 0.f);
    cpu::append_activation(po, spec_.act);
    d.attr.set_post_ops(po);
    d.y_shape = {out.begin(), out.end()};
    // ONNX's result keeps the larger operand rank only (padding dims were ours).
    if (spec_.kind == Kind::kMatMul) {
      const size_t keep = std::max(as.size(), bs.size());
      d.y_shape.erase(d.y_shape.begin(), d.y_shape.begin() + (rank - keep));
    }
    try {
      d.op.emplace(spec_.int8 || spec_.bf16 ? d.qa : d.a, d.b_any, d.bias, d.dst);
    } catch (const dnnl::error& e) {
      return err(Code::kKernelFailed, "oneDNN rejects the matmul: ", e.what());
    }
    return d;
  }

  static auto factory(const Descs& d) {
    return [&d] { return dnnl::matmul::primitive_desc(*d.op, d.attr, cpu::dnnl_engine()); };
  }

  std::vector<std::string> impls(const std::vector<int64_t>& as, const std::vector<int64_t>& bs,
                                 const std::vector<int64_t>& cs) const {
    Result<Descs> d = descs(as, bs, cs);
    if (!d.ok()) return {};
    return cpu::list_impls<dnnl::matmul::primitive_desc>(factory(*d));
  }

 private:
  Result<std::shared_ptr<const Plan>> plan_for(const std::vector<int64_t>& as,
                                               const std::vector<int64_t>& bs,
                                               const std::vector<int64_t>& cs) const {
    std::vector<int64_t> key = as;
    key.push_back(-1);
    key.insert(key.end(), bs.begin(), bs.end());
    key.push_back(-1);
    key.insert(key.end(), cs.begin(), cs.end());
    std::lock_guard<std::mutex> lock(mu_);
    auto it = plans_.find(key);
    if (it != plans_.end()) return it->second;
    KILN_ASSIGN_OR_RETURN(Descs d, descs(as, bs, cs));
    std::optional<dnnl::matmul::primitive_desc> pd =
        cpu::pick_impl<dnnl::matmul::primitive_desc>(factory(d), impl_);
    if (!pd) return err(Code::kKernelFailed, "oneDNN has no matmul for these shapes");
    auto plan = std::make_shared<Plan>();
    plan->prim = dnnl::matmul(*pd);
    plan->a = d.a;
    plan->b = d.b;
    plan->bias = d.bias;
    plan->dst = d.dst;
    plan->scratch = pd->scratchpad_desc();
    plan->y_shape = d.y_shape;
    if (spec_.int8) {
      plan->qa = d.qa;
      dnnl::primitive_attr qa;
      qa.set_output_scales(0, {1.f / spec_.int8->scale});
      auto& eng = cpu::dnnl_engine();
      try {
        plan->quantize = dnnl::reorder(dnnl::reorder::primitive_desc(eng, d.a, eng, d.qa, qa));
      } catch (const dnnl::error& e) {
        return err(Code::kKernelFailed, "oneDNN cannot quantize A: ", e.what());
      }
      if (pd->src_desc() != d.qa) return err(Code::kKernelFailed, "oneDNN wants A blocked");
    }
    if (spec_.bf16) {
      if (cpu::impl_name(*pd).rfind("ref", 0) == 0)
        return err(Code::kKernelFailed, "oneDNN has no native BF16 matmul for these shapes");
      plan->qa = d.qa;
      auto& eng = cpu::dnnl_engine();
      try {
        plan->quantize = dnnl::reorder(dnnl::reorder::primitive_desc(eng, d.a, eng, d.qa));
      } catch (const dnnl::error& e) {
        return err(Code::kKernelFailed, "oneDNN cannot convert A to bf16: ", e.what());
      }
      if (pd->src_desc() != d.qa) return err(Code::kKernelFailed, "oneDNN wants A blocked");
    }
    if (spec_.b_const != nullptr && d.b_any != d.b) {
      try {
        plan->packed_b = b_.get(pd->weights_desc(), d.b_user);
      } catch (const std::exception& e) {
        return err(Code::kKernelFailed, "packing the matmul weights failed: ", e.what());
      }
    }
    std::shared_ptr<const Plan> p = std::move(plan);
    plans_.emplace(key, p);
    return p;
  }

  const ir::Node& node_;
  const ops::OpSchema& schema_;
  MatMulSpec spec_;
  std::string impl_;
  std::shared_ptr<const cpu::QuantizedWeights> q_;  // INT8 only; b_ points into it
  mutable std::mutex mu_;
  mutable std::map<std::vector<int64_t>, std::shared_ptr<const Plan>> plans_;
  mutable cpu::PackedConstant b_;  // guarded by mu_
};

std::optional<std::vector<int64_t>> static_shape(const ir::Value* v) {
  if (v == nullptr || !v->type.shape.rank_known()) return std::nullopt;
  std::vector<int64_t> s;
  for (size_t i = 0; i < v->type.shape.rank(); ++i) {
    if (!v->type.shape[i].is_static()) return std::nullopt;
    s.push_back(v->type.shape[i].value);
  }
  return s;
}

class DnnlMatMulTactic final : public Tactic {
 public:
  explicit DnnlMatMulTactic(cpu::Arith arith)
      : arith_(arith), name_(std::string("cpu.dnnl.matmul") + cpu::arith_suffix(arith)) {}
  std::string_view name() const override { return name_; }
  bool supports(const ir::Node& node, const ops::OpSchema& schema) const override {
    return read_spec(node, schema, arith_).has_value() && schema.reference_kernel();
  }
  std::vector<Variant> variants(const ir::Node& node, const ops::OpSchema& schema) const override {
    std::optional<MatMulSpec> s = read_spec(node, schema, arith_);
    if (!s) return {};
    std::optional<Shapes> sh = shapes(node, *s);
    if (!sh) return {Variant{}};
    Result<std::unique_ptr<DnnlMatMulKernel>> k = make(node, schema, *s, "", nullptr, false);
    if (!k.ok()) return {};
    std::vector<Variant> out;
    for (const std::string& impl : (*k)->impls(sh->a, sh->b, sh->c))
      out.push_back({impl, {impl.begin(), impl.end()}});
    if (out.empty()) out.push_back(Variant{});
    return out;
  }
  Result<std::vector<PackedConstant>> pack(const ir::Node& node, const ops::OpSchema& schema,
                                           const std::vector<uint8_t>& params) const override {
    std::optional<MatMulSpec> s = read_spec(node, schema, arith_);
    std::optional<Shapes> sh = s && s->b_const ? shapes(node, *s) : std::nullopt;
    if (!sh) return std::vector<PackedConstant>{};
    KILN_ASSIGN_OR_RETURN(
        std::unique_ptr<DnnlMatMulKernel> k,
        make(node, schema, *s, std::string(params.begin(), params.end()), nullptr, false));
    KILN_ASSIGN_OR_RETURN(std::optional<Tensor> b, k->packed_b(sh->a, sh->b, sh->c));
    std::vector<PackedConstant> out;
    if (b)
      out.push_back({arith_ == cpu::Arith::kInt8   ? "weights_s8"
                     : arith_ == cpu::Arith::kBf16 ? "weights_bf16"
                                                   : "weights",
                     std::move(*b)});
    return out;
  }
  Result<std::unique_ptr<Kernel>> prepare(const ir::Node& node, const ops::OpSchema& schema,
                                          const std::vector<uint8_t>& params) const override {
    return prepare_packed(node, schema, params, {});
  }
  Result<std::unique_ptr<Kernel>> prepare_packed(
      const ir::Node& node, const ops::OpSchema& schema, const std::vector<uint8_t>& params,
      const std::vector<const Tensor*>& packed) const override {
    std::optional<MatMulSpec> s = read_spec(node, schema, arith_);
    if (!s)
      return err(Code::kNoKernel, name(), " cannot run this ", node.op_type())
          .with_node(node.ref());
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<DnnlMatMulKernel> k,
                          make(node, schema, *s, std::string(params.begin(), params.end()),
                               packed.empty() ? nullptr : packed.front(), true));
    if (std::optional<Shapes> sh = shapes(node, *s)) k->warm(sh->a, sh->b, sh->c);
    return std::unique_ptr<Kernel>(std::move(k));
  }

 private:
  static Result<std::unique_ptr<DnnlMatMulKernel>> make(const ir::Node& node,
                                                        const ops::OpSchema& schema,
                                                        const MatMulSpec& s, std::string impl,
                                                        const Tensor* packed, bool release) {
    std::shared_ptr<const cpu::QuantizedWeights> q;
    if (s.int8) {
      const Tensor* c = s.has_bias ? node.input(2)->initializer() : nullptr;
      KILN_ASSIGN_OR_RETURN(cpu::QuantizedWeights qw,
                            cpu::quantize_per_channel(*s.b_const, s.trans_b ? 0 : 1, c,
                                                      s.int8->scale, s.int8->w_scales));
      q = std::make_shared<const cpu::QuantizedWeights>(std::move(qw));
    }
    return std::make_unique<DnnlMatMulKernel>(node, schema, s, std::move(impl), packed, release,
                                              std::move(q));
  }
  cpu::Arith arith_;
  std::string name_;

  struct Shapes {
    std::vector<int64_t> a, b, c;
  };
  // The operand shapes when the node's types make them static.
  static std::optional<Shapes> shapes(const ir::Node& node, const MatMulSpec& s) {
    auto as = static_shape(node.input(0)), bs = static_shape(node.input(1));
    std::optional<std::vector<int64_t>> cs = std::vector<int64_t>{};
    if (s.has_bias) cs = static_shape(node.input(2));
    if (!as || !bs || !cs) return std::nullopt;
    return Shapes{*as, *bs, *cs};
  }
};

}  // namespace

const Tactic& cpu_dnnl_matmul_tactic() {
  static const DnnlMatMulTactic t(cpu::Arith::kFp32);
  return t;
}

const Tactic& cpu_dnnl_matmul_int8_tactic() {
  static const DnnlMatMulTactic t(cpu::Arith::kInt8);
  return t;
}

const Tactic& cpu_dnnl_matmul_bf16_tactic() {
  static const DnnlMatMulTactic t(cpu::Arith::kBf16);
  return t;
}

}  // namespace kiln::backends
