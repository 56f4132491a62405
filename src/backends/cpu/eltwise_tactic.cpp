// "cpu.eltwise": standalone float32 elementwise ops and kiln.FusedElementwise bodies, run as an
// EwProgram over chunks of the output.
//
// Broadcasting: every loaded input gets strides over the output's dims (0 where it is
// broadcast); dims of size 1 are dropped and neighbours that every input walks the same way are
// merged, so the innermost loop is as long as possible and, within it, each input is either
// contiguous or one repeated value. The output is cut into tasks of at most kChunk elements of
// one innermost row; a task loads (or fills) its inputs' registers, runs the program chunk-wise
// and writes its output range last, so element k of every input is read before element k of
// the output is written (in-place safe).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>

#include "backends/cpu/cpu_kernel_util.h"
#include "backends/cpu/cpu_tactics.h"
#include "backends/cpu/cpu_threads.h"
#include "backends/cpu/eltwise_program.h"
#include "core/errors.h"

namespace kiln::backends {
namespace {

using cpu::EwInstr;
using cpu::EwOp;
using cpu::EwProgram;
using cpu::is_f32;

constexpr int64_t kChunk = 512;

using Shape = std::vector<int64_t>;

std::optional<Shape> broadcast(const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t x = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const int64_t y = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (x != y && x != 1 && y != 1) return std::nullopt;
    out[i] = x == 1 ? y : x;
  }
  return out;
}

// How the output's (collapsed) index space maps onto each loaded input.
struct Plan {
  Shape dims;                          // collapsed output dims, innermost last
  std::vector<Shape> strides;          // per input (empty for inputs not loaded)
  std::vector<bool> inner_contiguous;  // per input: stride 1 (else 0) in the innermost dim
};

Plan make_plan(const Shape& out, const std::vector<const Tensor*>& in,
               const std::vector<bool>& loaded) {
  const size_t r = out.size();
  std::vector<Shape> full(in.size());
  for (size_t k = 0; k < in.size(); ++k) {
    if (!loaded[k]) continue;
    const Shape& s = in[k]->shape();
    full[k].assign(r, 0);
    int64_t stride = 1;
    for (size_t i = s.size(); i-- > 0;) {
      if (s[i] != 1) full[k][r - s.size() + i] = stride;
      stride *= s[i];
    }
  }
  Plan p;
  p.strides.resize(in.size());
  for (size_t d = 0; d < r; ++d) {
    if (out[d] == 1) continue;
    bool merge = !p.dims.empty();
    for (size_t k = 0; merge && k < in.size(); ++k)
      if (loaded[k]) merge = p.strides[k].back() == full[k][d] * out[d];
    if (merge) {
      p.dims.back() *= out[d];
      for (size_t k = 0; k < in.size(); ++k)
        if (loaded[k]) p.strides[k].back() = full[k][d];
    } else {
      p.dims.push_back(out[d]);
      for (size_t k = 0; k < in.size(); ++k)
        if (loaded[k]) p.strides[k].push_back(full[k][d]);
    }
  }
  if (p.dims.empty()) {
    p.dims.push_back(1);
    for (size_t k = 0; k < in.size(); ++k)
      if (loaded[k]) p.strides[k].push_back(0);
  }
  p.inner_contiguous.resize(in.size());
  for (size_t k = 0; k < in.size(); ++k)
    p.inner_contiguous[k] = loaded[k] && p.strides[k].back() == 1;
  return p;
}

class EltwiseKernel final : public Kernel {
 public:
  EltwiseKernel(const ops::OpSchema& schema, EwProgram prog)
      : schema_(schema), prog_(std::move(prog)) {}

  Status run(ops::KernelContext& ctx) const override {
    const size_t nin = static_cast<size_t>(prog_.num_inputs);
    if (ctx.num_inputs() != nin) return schema_.reference_kernel()(ctx);
    std::vector<const Tensor*> in(nin);
    for (size_t k = 0; k < nin; ++k) {
      in[k] = ctx.input(k);
      if (in[k] == nullptr && prog_.loaded[k]) return schema_.reference_kernel()(ctx);
      if (in[k] == nullptr) continue;  // an omitted Clip bound
      if (prog_.loaded[k] && in[k]->dtype() != DataType::kFloat32)
        return schema_.reference_kernel()(ctx);
    }
    std::optional<std::vector<EwInstr>> code = resolve(in);
    std::optional<Shape> out_shape = code ? infer_shape(in, *code) : std::nullopt;
    if (!out_shape) return schema_.reference_kernel()(ctx);
    KILN_ASSIGN_OR_RETURN(Tensor * out,
                          ctx.allocate_output_uninit(0, DataType::kFloat32, *out_shape));
    if (out->numel() == 0) return Status::Ok();
    const Plan plan = make_plan(*out_shape, in, prog_.loaded);
    execute(plan, in, *code, out->data_as<float>(), out->numel());
    return Status::Ok();
  }

 private:
  // The program with this run's scalar parameters read (Clip bounds, Pow's exponent); nullopt
  // when one is not what the program handles.
  std::optional<std::vector<EwInstr>> resolve(const std::vector<const Tensor*>& in) const {
    std::vector<EwInstr> code = prog_.code;
    for (EwInstr& i : code) {
      if (i.op == EwOp::kClip) {
        for (int k = 0; k < 2; ++k) {
          if (i.param[k] < 0 || in[static_cast<size_t>(i.param[k])] == nullptr) continue;
          const Tensor& t = *in[static_cast<size_t>(i.param[k])];
          if (t.dtype() != DataType::kFloat32 || t.numel() != 1) return std::nullopt;
          (k == 0 ? i.p0 : i.p1) = t.data_as<float>()[0];
        }
      } else if (i.op == EwOp::kPow) {
        const Tensor* e = in[static_cast<size_t>(i.param[0])];
        const std::optional<double> v = e != nullptr ? cpu::scalar_value(*e) : std::nullopt;
        if (!v) return std::nullopt;
        if (*v == 2.0)
          i.op = EwOp::kSquare;
        else if (*v == 3.0)
          i.op = EwOp::kCube;
        else if (*v == 0.5)
          i.op = EwOp::kPowHalf;
        else
          return std::nullopt;
      }
    }
    return code;
  }

  // The output shape the ops' own broadcasting gives; nullopt when shapes do not combine or a
  // loaded input does not broadcast to the result (the reference kernel reports or handles it).
  std::optional<Shape> infer_shape(const std::vector<const Tensor*>& in,
                                   const std::vector<EwInstr>& code) const {
    std::vector<Shape> reg(static_cast<size_t>(prog_.num_registers()));
    for (size_t k = 0; k < in.size(); ++k)
      if (in[k] != nullptr) reg[k] = in[k]->shape();
    for (size_t j = 0; j < code.size(); ++j) {
      const EwInstr& i = code[j];
      Shape s = reg[static_cast<size_t>(i.a)];
      if (cpu::is_binary(i.op)) {
        std::optional<Shape> b = broadcast(s, reg[static_cast<size_t>(i.b)]);
        if (!b) return std::nullopt;
        s = *b;
      } else if (i.param[0] >= 0 && i.op != EwOp::kClip) {  // Pow broadcasts its exponent
        std::optional<Shape> b = broadcast(s, in[static_cast<size_t>(i.param[0])]->shape());
        if (!b) return std::nullopt;
        s = *b;
      }
      reg[in.size() + j] = std::move(s);
    }
    Shape out = reg[static_cast<size_t>(prog_.result)];
    for (size_t k = 0; k < in.size(); ++k) {
      if (!prog_.loaded[k]) continue;
      std::optional<Shape> b = broadcast(out, in[k]->shape());
      if (!b || *b != out) return std::nullopt;
    }
    return out;
  }

  void execute(const Plan& plan, const std::vector<const Tensor*>& in,
               const std::vector<EwInstr>& code, float* out, int64_t numel) const {
    const int64_t inner = plan.dims.back();
    const int64_t per_row = (inner + kChunk - 1) / kChunk;
    const int64_t rows = numel / inner;
    const size_t nin = in.size(), rank = plan.dims.size();
    const int nreg = prog_.num_registers();
    // Output 0 may share memory with an input: then results go through a register first.
    bool overlaps = false;
    for (size_t k = 0; k < nin; ++k) {
      if (!prog_.loaded[k]) continue;
      const auto p = reinterpret_cast<uintptr_t>(in[k]->data());
      const auto o = reinterpret_cast<uintptr_t>(out);
      overlaps = overlaps ||
                 (p < o + static_cast<uintptr_t>(numel) * sizeof(float) && o < p + in[k]->nbytes());
    }
    cpu::parallel_for(
        rows * per_row, cpu::grain_for(std::min(inner, kChunk)), [&](int64_t t0, int64_t t1) {
          std::unique_ptr<float[]> scratch(new float[static_cast<size_t>(nreg) * kChunk]);
          std::vector<const float*> regs(static_cast<size_t>(nreg));
          std::vector<int64_t> idx(rank);
          std::vector<const float*> filled(nin, nullptr);
          std::vector<int64_t> filled_len(nin, 0);
          for (int64_t t = t0; t < t1; ++t) {
            const int64_t row = t / per_row, c0 = (t % per_row) * kChunk;
            const int64_t len = std::min(kChunk, inner - c0);
            // Multi-index of the row over the outer dims.
            int64_t rem = row;
            for (size_t d = rank - 1; d-- > 0;) {
              idx[d] = rem % plan.dims[d];
              rem /= plan.dims[d];
            }
            for (size_t k = 0; k < nin; ++k) {
              if (!prog_.loaded[k]) continue;
              int64_t off = 0;
              for (size_t d = 0; d + 1 < rank; ++d) off += idx[d] * plan.strides[k][d];
              const float* base = in[k]->data_as<float>() + off;
              if (plan.inner_contiguous[k]) {
                regs[k] = base + c0;
              } else {
                // Refilled only when the value changes (a per-channel bias keeps it for a
                // whole row of chunks).
                float* fill = scratch.get() + k * kChunk;
                if (filled[k] != base || filled_len[k] < len) {
                  std::fill(fill, fill + len, *base);
                  filled[k] = base;
                  filled_len[k] = len;
                }
                regs[k] = fill;
              }
            }
            float* dst_out = out + row * inner + c0;
            for (size_t j = 0; j < code.size(); ++j) {
              const size_t r = nin + j;
              const bool last =
                  static_cast<int>(r) == prog_.result && j + 1 == code.size() && !overlaps;
              float* dst = last ? dst_out : scratch.get() + r * kChunk;
              const EwInstr& i = code[j];
              cpu::ew_apply(i, regs[static_cast<size_t>(i.a)],
                            i.b >= 0 ? regs[static_cast<size_t>(i.b)] : nullptr, dst, len);
              regs[r] = dst;
            }
            const float* res = regs[static_cast<size_t>(prog_.result)];
            if (res != dst_out) std::memcpy(dst_out, res, static_cast<size_t>(len) * sizeof(float));
          }
        });
  }

  const ops::OpSchema& schema_;
  EwProgram prog_;
};

class EltwiseTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.eltwise"; }

  bool supports(const ir::Node& node, const ops::OpSchema& schema) const override {
    return static_cast<bool>(schema.reference_kernel()) && cpu::compile_eltwise(node, true);
  }

  // Only an input of exactly the output's (fully known) shape: it is walked in step with the
  // output, each chunk read before its output range is written.
  bool allows_inplace(const ir::Node& node, const ops::OpSchema& schema,
                      size_t input) const override {
    const std::optional<EwProgram> p = cpu::compile_eltwise(node, true);
    if (!p || input >= p->loaded.size() || !p->loaded[input]) return false;
    const ir::Value* in = node.input(input);
    const ir::Value* out = node.output(0);
    if (!is_f32(in) || !is_f32(out) || !in->type.shape.rank_known()) return false;
    for (const Dim& d : in->type.shape.dims())
      if (!d.is_static() && !d.is_symbolic()) return false;
    return in->type.shape == out->type.shape;
  }

  Result<std::unique_ptr<Kernel>> prepare(const ir::Node& node, const ops::OpSchema& schema,
                                          const std::vector<uint8_t>& params) const override {
    std::optional<EwProgram> p = cpu::compile_eltwise(node, false);
    if (!p)
      return err(Code::kNoKernel, "cpu.eltwise cannot compile ", node.op_type(),
                 "; rebuild the engine")
          .with_node(node.ref());
    return std::unique_ptr<Kernel>(new EltwiseKernel(schema, std::move(*p)));
  }
};

}  // namespace

const Tactic& cpu_eltwise_tactic() {
  static const EltwiseTactic tactic;
  return tactic;
}

}  // namespace kiln::backends
