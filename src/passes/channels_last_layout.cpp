// Channels-last layout for CNNs (level 3). CPU convolution kernels (oneDNN's brgemm ones) and
// tensor-core GPU kernels run fastest on [N, H, W, C] activations, while ONNX models are NCHW.
// Converting per layer would reorder every activation twice; instead this pass
//
//   1. makes every 2-D convolution channels-last between two Transposes:
//        Conv/FusedConv(x, W, B, z)  ->  T_nchw(FusedConv{channels_last}(T_nhwc(x), W, B,
//        T_nhwc(z)))
//      and every pool whose input comes out of such a T_nchw a kiln.PoolNhwc the same way;
//   2. sinks each T_nchw down through layout-agnostic ops — elementwise/broadcast ops (their
//      constant operands are permuted once, here), Concat (the axis is remapped), Resize with
//      constant scales/sizes — so it meets the next layer's T_nhwc;
//   3. cancels T_nhwc(T_nchw(a)) to a.
//
// What is left are Transposes at the CNN's boundaries (the image input, a flatten at the end,
// ops that need NCHW) — the only places a reorder happens. W keeps its ONNX [M, C/g, kh, kw]
// layout here; kernels pack it once for their own blocking.
#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "core/errors.h"
#include "ops/layout_util.h"
#include "ops/op_schema.h"
#include "passes/rewrite.h"

namespace kiln::passes {
namespace {

const std::vector<int64_t> kToLast = {0, 2, 3, 1};   // NCHW -> NHWC
const std::vector<int64_t> kToFirst = {0, 3, 1, 2};  // NHWC -> NCHW

bool is_transpose_with(const ir::Node* n, const std::vector<int64_t>& perm) {
  if (n == nullptr || n->op_type() != "Transpose" || !n->domain().empty()) return false;
  const ir::Attribute* a = n->attr("perm");
  return a != nullptr && a->type == ir::AttrType::kInts && a->ints == perm;
}

// The NHWC value `v` is a T_nchw of, or nullptr.
ir::Value* nhwc_source(const ir::Value* v) {
  if (v == nullptr) return nullptr;
  const ir::Node* p = v->producer();
  return is_transpose_with(p, kToFirst) ? p->input(0) : nullptr;
}

bool rank4_float(const ir::Value* v) {
  if (v == nullptr || !v->type.shape.rank_known() || v->type.shape.rank() != 4) return false;
  const DataType d = v->type.dtype;
  return d == DataType::kFloat32 || d == DataType::kFloat16;
}

ir::ValueType permuted_type(const ir::ValueType& t, const std::vector<int64_t>& perm) {
  ir::ValueType r = t;
  if (t.shape.rank_known() && t.shape.rank() == perm.size())
    r.shape = ops::layout::permuted_dims(t.shape, perm);
  return r;
}

std::vector<ir::Attribute> perm_attr(const std::vector<int64_t>& perm) {
  std::vector<ir::Attribute> v;
  v.push_back(ir::Attribute::make_ints("perm", perm));
  return v;
}

const ops::OpSchema* schema_of(const ir::Node& n) {
  return ops::OpRegistry::builtin().find(n.domain(), n.op_type(),
                                         ops::effective_opset(n.domain(), n.opset()));
}

class ChannelsLastLayout final : public Pass {
 public:
  std::string_view name() const override { return "channels_last_layout"; }

  Status run(ir::Graph& g, PassContext& ctx, bool* changed) override {
    Editor edit(g, ctx);
    bool any = false;
    for (ir::Node* n : g.nodes())
      if (!edit.removed(n) && convert_conv(*n, edit, ctx)) any = true;
    for (ir::Node* n : g.nodes())
      if (!edit.removed(n) && convert_pool(*n, edit, ctx)) any = true;
    for (bool again = true; again;) {
      again = false;
      for (ir::Node* n : g.nodes()) {
        if (edit.removed(n) || !is_transpose_with(n, kToFirst)) continue;
        if (sink(*n, edit, ctx)) again = any = true;
      }
    }
    if (any) edit.remove_unused();
    *changed = any;
    return Status::Ok();
  }

 private:
  // T(v, perm) as a new node; its output's type is v's permuted.
  ir::Value* transpose(ir::Value* v, const std::vector<int64_t>& perm, Editor& edit,
                       const std::vector<std::string>& origins) {
    // Reuse the T_nhwc another layer already made of v.
    for (ir::Node* c : v->consumers())
      if (!edit.removed(c) && is_transpose_with(c, perm) && c->input(0) == v) return c->output(0);
    if (perm == kToLast)
      if (ir::Value* src = nhwc_source(v)) return src;  // T_nhwc(T_nchw(a)) = a
    ir::Value* out = edit.new_value(v->name() + (perm == kToLast ? "_nhwc" : "_nchw"),
                                    permuted_type(v->type, perm));
    edit.add_node("Transpose", "", {v}, {out}, perm_attr(perm), origins);
    return out;
  }

  // Replaces `n` (one output y) by T_nchw(op'(inputs')) where op' computes y in NHWC.
  void rebuild(ir::Node& n, std::string op, std::string domain, std::vector<ir::Value*> inputs,
               std::vector<ir::Attribute> attrs, Editor& edit) {
    ir::Value* y = n.output(0);
    ir::Value* y_last = edit.new_value(y->name() + "_nhwc", permuted_type(y->type, kToLast));
    const int64_t opset = domain.empty() ? n.opset() : 0;
    edit.add_node(std::move(op), std::move(domain), std::move(inputs), {y_last}, std::move(attrs),
                  n.origins(), opset);
    edit.replace({&n}, &n, "Transpose", "", {y_last}, perm_attr(kToFirst));
  }

  bool convert_conv(ir::Node& n, Editor& edit, PassContext& ctx) {
    const bool plain = n.domain().empty() && n.op_type() == "Conv";
    const bool fused = n.domain() == ops::kKilnDomain && n.op_type() == "FusedConv";
    if (!plain && !fused) return false;
    if (const ir::Attribute* a = n.attr("channels_last"); a != nullptr && a->i != 0) return false;
    ir::Value* w = n.input(1);
    if (!rank4_float(n.input(0)) || n.outputs().size() != 1 || w == nullptr ||
        !w->is_initializer() || w->initializer()->rank() != 4) {
      ctx.explain(n, "stays NCHW: needs a 4-D float X and constant 4-D W");
      return false;
    }
    const std::vector<std::string> origins = n.origins();
    std::vector<ir::Value*> in = {transpose(n.input(0), kToLast, edit, origins), w, n.input(2)};
    if (fused && n.input(3) != nullptr) in.push_back(transpose(n.input(3), kToLast, edit, origins));
    while (!in.empty() && in.back() == nullptr) in.pop_back();
    std::vector<ir::Attribute> attrs = copy_attrs(n, {"channels_last"});
    attrs.push_back(ir::Attribute::make_int("channels_last", 1));
    rebuild(n, "FusedConv", std::string(ops::kKilnDomain), std::move(in), std::move(attrs), edit);
    ctx.count("Conv->NHWC");
    return true;
  }

  bool convert_pool(ir::Node& n, Editor& edit, PassContext& ctx) {
    static const std::set<std::string> kPools = {"MaxPool", "AveragePool", "GlobalAveragePool",
                                                 "GlobalMaxPool"};
    if (!n.domain().empty() || kPools.count(n.op_type()) == 0) return false;
    ir::Value* src = nhwc_source(n.input(0));
    if (src == nullptr || !rank4_float(n.input(0))) return false;
    // MaxPool's Indices output and storage_order are NCHW concepts.
    if (n.outputs().size() != 1 || n.output(0) == nullptr) return false;
    if (const ir::Attribute* a = n.attr("storage_order"); a != nullptr && a->i != 0) return false;
    std::vector<ir::Attribute> attrs = copy_attrs(n, {"storage_order"});
    const std::string op = n.op_type();  // n is gone after rebuild
    attrs.push_back(ir::Attribute::make_string("mode", op));
    rebuild(n, "PoolNhwc", std::string(ops::kKilnDomain), {src}, std::move(attrs), edit);
    ctx.count(op + "->NHWC");
    return true;
  }

  // `c` reads T_nchw(a); rewrite it to read NHWC values when every operand allows it.
  bool sink(ir::Node& t, Editor& edit, PassContext& ctx) {
    ir::Value* b = t.output(0);
    bool any = false;
    const std::vector<ir::Node*> readers = b->consumers();
    for (ir::Node* c : readers) {
      if (edit.removed(c)) continue;
      if (is_transpose_with(c, kToLast) && !c->output(0)->is_graph_output()) {
        edit.redirect(c->output(0), t.input(0));
        edit.remove(c);
        ctx.count("T_nhwc(T_nchw) cancelled");
        any = true;
        continue;
      }
      if (c->outputs().size() != 1 || c->output(0) == nullptr || !c->subgraphs().empty()) continue;
      if (!c->output(0)->type.shape.rank_known() || c->output(0)->type.shape.rank() != 4) continue;
      const ops::OpSchema* s = schema_of(*c);
      if (s == nullptr) continue;
      bool done = false;
      const std::string op = c->op_type();  // c is gone once rewritten
      if (c->domain().empty() && (s->fusion_kind() == ops::FusionKind::kElementwise ||
                                  s->fusion_kind() == ops::FusionKind::kBroadcast))
        done = sink_elementwise(*c, edit);
      else if (c->domain().empty() && c->op_type() == "Concat")
        done = sink_concat(*c, edit);
      else if (c->domain().empty() && c->op_type() == "Resize")
        done = sink_resize(*c, edit);
      if (done) {
        ctx.count("Transpose sunk through " + op);
        any = true;
      }
    }
    return any;
  }

  // An operand of an op on NCHW values, as the same op on NHWC values needs it: the NHWC
  // source of a T_nchw, a constant permuted once, or a rank-0 / all-ones-shaped value as is.
  ir::Value* nhwc_operand(ir::Value* v, Editor& edit) {
    if (v == nullptr) return nullptr;
    if (ir::Value* src = nhwc_source(v)) return src;
    const ir::ValueType& ty = v->type;
    if (!ty.shape.rank_known()) return nullptr;
    bool ones = true;
    for (size_t i = 0; i < ty.shape.rank(); ++i)
      if (!ty.shape[i].is_static() || ty.shape[i].value != 1) ones = false;
    if (ty.shape.rank() == 0 || (ones && ty.shape.rank() < 4)) return v;
    const Tensor* k = v->initializer();
    if (k == nullptr || k->rank() > 4 || ty.shape.rank() > 4) return nullptr;
    // Right-aligned broadcast against a 4-D NCHW value, then permuted.
    std::vector<int64_t> shape4(4 - k->rank(), 1);
    shape4.insert(shape4.end(), k->shape().begin(), k->shape().end());
    Result<Tensor> r = Tensor::allocate(k->dtype(), shape4);
    if (!r.ok()) return nullptr;
    Tensor k4 = std::move(r).value();
    if (k->nbytes() > 0) std::memcpy(k4.data(), k->data(), k->nbytes());
    Result<Tensor> p = ops::layout::permuted(k4, kToLast);
    if (!p.ok()) return nullptr;
    return edit.new_constant(v->name() + "_nhwc", std::move(p).value());
  }

  bool sink_elementwise(ir::Node& c, Editor& edit) {
    std::vector<ir::Value*> in;
    bool reads_nhwc = false;
    for (ir::Value* v : c.inputs()) {
      if (v == nullptr) {
        in.push_back(nullptr);
        continue;
      }
      // Non-data operands (Clip's min/max) are rank 0 and pass through unchanged.
      ir::Value* u = nhwc_operand(v, edit);
      if (u == nullptr) return false;
      reads_nhwc = reads_nhwc || nhwc_source(v) != nullptr;
      in.push_back(u);
    }
    if (!reads_nhwc) return false;
    rebuild(c, c.op_type(), c.domain(), std::move(in), copy_attrs(c), edit);
    return true;
  }

  bool sink_concat(ir::Node& c, Editor& edit) {
    const ir::Attribute* a = c.attr("axis");
    if (a == nullptr) return false;
    const int64_t axis = a->i < 0 ? a->i + 4 : a->i;
    if (axis < 0 || axis > 3) return false;
    std::vector<ir::Value*> in;
    for (ir::Value* v : c.inputs()) {
      ir::Value* src = nhwc_source(v);
      if (src == nullptr) return false;
      in.push_back(src);
    }
    // NCHW axis k is NHWC axis kToFirst[k].
    std::vector<ir::Attribute> attrs = copy_attrs(c, {"axis"});
    attrs.push_back(ir::Attribute::make_int("axis", kToFirst[static_cast<size_t>(axis)]));
    rebuild(c, "Concat", "", std::move(in), std::move(attrs), edit);
    return true;
  }

  // Resize(x, roi?, scales?, sizes?) with constant per-dim operands: permute them.
  bool sink_resize(ir::Node& c, Editor& edit) {
    ir::Value* src = nhwc_source(c.input(0));
    if (src == nullptr || c.attr("axes") != nullptr) return false;
    std::vector<ir::Value*> in = {src};
    for (size_t i = 1; i < c.inputs().size(); ++i) {
      ir::Value* v = c.input(i);
      if (v == nullptr ||
          (v->initializer() != nullptr && v->initializer()->shape() == std::vector<int64_t>{0})) {
        in.push_back(v);
        continue;
      }
      const Tensor* k = v->initializer();
      if (k == nullptr || k->rank() != 1) return false;
      const int64_t n = k->shape()[0];
      // roi is [starts..., ends...] (8 values), scales and sizes one per dim (4).
      const int64_t parts = n == 8 ? 2 : 1;
      if (n != 4 * parts) return false;
      Result<Tensor> r = Tensor::allocate(k->dtype(), k->shape());
      if (!r.ok()) return false;
      Tensor out = std::move(r).value();
      const size_t w = k->nbytes() / static_cast<size_t>(n);
      const auto* from = static_cast<const uint8_t*>(k->data());
      auto* to = static_cast<uint8_t*>(out.data());
      for (int64_t part = 0; part < parts; ++part)
        for (size_t j = 0; j < 4; ++j)
          std::memcpy(to + (part * 4 + j) * w,
                      from + (part * 4 + kToLast[j]) * static_cast<int64_t>(w), w);
      in.push_back(edit.new_constant(v->name() + "_nhwc", std::move(out)));
    }
    rebuild(c, "Resize", "", std::move(in), copy_attrs(c), edit);
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> make_channels_last_layout() {
  return std::make_unique<ChannelsLastLayout>();
}

}  // namespace kiln::passes
