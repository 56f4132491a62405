// Multi-head attention as transformers exports it (BertSelfAttention, GPT2Attention eager):
//
//   q, k, v [B, S, H*D]   (projection outputs: MatMul+Add, Gemm, a Split of a fused QKV, …)
//   Qh = Transpose(Reshape(q, [B, S, H, D]), [0,2,1,3])     Kh^T: perm [0,2,3,1] (or two
//   Transposes composing to it), Vh like Qh
//   s  = MatMul(Qh, Kh^T) scaled by constants (Div by sqrt(D), Mul by 1/sqrt(D), computed from
//        a shape as GPT-2 does, or applied to Qh and Kh separately)
//   s  = Where(causal band, s, lowest)      (optional: GPT-2's slice of its tril buffer)
//   s  = s + mask (+ mask2)                 (optional: BERT's (1 - mask) * min, GPT-2's padding)
//   y  = Reshape(Transpose(MatMul(Softmax(s, last axis), Vh), [0,2,1,3]), [B, S, H*Dv])
//
// → kiln::Attention(q, k, v, mask?) {num_heads, scale, causal} (src/ops/fused_attention.cpp).
// The mask computation stays as ordinary nodes; two additive masks become one Add feeding the
// mask input. The shape arithmetic behind the Reshape targets, the scale and the causal slice
// is read with shape_expr.h (so this works with or without constant folding first) and is
// removed with the block when nothing else reads it. Every node on the path from the
// projections to the output must be read only inside the block (the scores read elsewhere, a
// probability output: no fusion).
#include <cmath>
#include <limits>

#include "core/errors.h"
#include "ops/kernel_util.h"
#include "ops/op_schema.h"
#include "ops/shape_infer.h"
#include "passes/fusion_util.h"
#include "passes/patterns.h"
#include "passes/rewrite.h"
#include "passes/shape_expr.h"

namespace kiln::passes {
namespace {

using Perm = std::vector<int64_t>;

// One of Q, K, V: the [B, S, H*D] value the block reads and its head layout.
struct Side {
  ir::Value* src = nullptr;
  int64_t heads = 0, head = 0;
  double scale = 1;
};

struct Block {
  std::vector<ir::Node*> nodes;  // everything that must die with the fusion
  Side q, k, v;
  double scale = 1;
  ir::Node* where = nullptr;  // the causal fill
  std::vector<ir::Value*> masks;
  std::vector<ir::Node*> mask_adds;
  ir::Value* scores = nullptr;  // MatMul(Qh, Kh^T)
};

bool fail(std::string* why, std::string message) {
  *why = std::move(message);
  return false;
}

// Mul/Div of `n` by a one-element value computed from constants and shapes: the factor, with
// the other operand in *rest.
std::optional<double> scalar_factor(const ir::Node& n, ir::Value** rest) {
  auto factor_of = [](const ir::Value* v) -> std::optional<double> {
    // A higher-rank "scalar" would broadcast the result to more dims.
    if (v == nullptr || !v->type.shape.rank_known() || v->type.shape.rank() > 4)
      return std::nullopt;
    return evaluate_scalar(v);
  };
  if (!n.domain().empty() || n.inputs().size() != 2) return std::nullopt;
  if (n.op_type() == "Div") {
    const std::optional<double> c = factor_of(n.input(1));
    if (!c || *c == 0) return std::nullopt;
    *rest = n.input(0);
    return 1 / *c;
  }
  if (n.op_type() != "Mul") return std::nullopt;
  for (int i = 1; i >= 0; --i)
    if (const std::optional<double> c = factor_of(n.input(static_cast<size_t>(i)))) {
      *rest = n.input(static_cast<size_t>(1 - i));
      return c;
    }
  return std::nullopt;
}

// A Reshape target entry that keeps dim `axis` of `data`: 0 (copy, unless allowzero) or a
// size known to be that dim.
bool copies_dim(const DimExpr& e, const ir::Value* data, size_t axis, bool allowzero) {
  if (e.minus) return false;
  if (e.term.is_const) return e.term.value == 0 && !allowzero;
  return same_size(e.term, data, axis);
}

bool same_known(const Dim& a, const Dim& b) {
  return known_dim(a) && a == b;
}

// Reshape [B, S, H*D] → [B, S, H, D]: read from the target (constant or shape arithmetic), or
// else from the inferred output shape.
bool split_heads(const ir::Node& reshape, Side& side) {
  ir::Value* src = reshape.input(0);
  const Dims& in = src->type.shape;
  const Dims& out = reshape.output(0)->type.shape;
  if (!in.rank_known() || in.rank() != 3) return false;
  const bool allowzero = attr_int(reshape, "allowzero", 0) != 0;
  int64_t heads = 0, head = 0;
  if (std::optional<std::vector<DimExpr>> t = resolve_ints(reshape.input(1));
      t && t->size() == 4 && copies_dim((*t)[0], src, 0, allowzero) &&
      copies_dim((*t)[1], src, 1, allowzero) && (*t)[2].term.is_const && !(*t)[2].minus &&
      (*t)[3].term.is_const && !(*t)[3].minus) {
    heads = (*t)[2].term.value;
    head = (*t)[3].term.value;
    if (head == -1 && heads > 0 && in[2].is_static() && in[2].value % heads == 0)
      head = in[2].value / heads;
  } else if (out.rank_known() && out.rank() == 4 && same_known(out[0], in[0]) &&
             same_known(out[1], in[1]) && out[2].is_static() && out[3].is_static()) {
    heads = out[2].value;
    head = out[3].value;
  }
  if (heads <= 0 || head <= 0 || (in[2].is_static() && in[2].value != heads * head)) return false;
  side.src = src;
  side.heads = heads;
  side.head = head;
  return true;
}

// Reshape [B, S, H, Dv] → [B, S, H*Dv].
bool merge_heads(const ir::Node& reshape, int64_t hidden) {
  const ir::Value* data = reshape.input(0);
  const Dims& in = data->type.shape;
  const Dims& out = reshape.output(0)->type.shape;
  const bool allowzero = attr_int(reshape, "allowzero", 0) != 0;
  if (std::optional<std::vector<DimExpr>> t = resolve_ints(reshape.input(1));
      t && t->size() == 3 && copies_dim((*t)[0], data, 0, allowzero) &&
      copies_dim((*t)[1], data, 1, allowzero) && (*t)[2].term.is_const && !(*t)[2].minus &&
      ((*t)[2].term.value == hidden || (*t)[2].term.value == -1))
    return true;
  return in.rank_known() && in.rank() == 4 && out.rank_known() && out.rank() == 3 &&
         same_known(out[0], in[0]) && same_known(out[1], in[1]) && out[2].is_static() &&
         out[2].value == hidden;
}

// From a MatMul operand down to the Reshape that split the heads: Transposes (composed),
// scalar Mul/Div (into side.scale) and no-op Casts in between. The composed permutation must
// be `want` ([0,2,1,3] for Q and V, [0,2,3,1] for K^T).
bool head_chain(ir::Value* v, const Perm& want, Side& side, Block& b) {
  Perm perm = {0, 1, 2, 3};  // result = Transpose(current v, perm)
  for (int step = 0; step < 8 && v != nullptr; ++step) {
    v = skip_noop_casts(v, &b.nodes);
    ir::Node* p = v->producer();
    if (p == nullptr || !p->domain().empty() || p->output(0) != v) return false;
    if (p->op_type() == "Transpose") {
      const Perm inner = attr_ints(*p, "perm", {3, 2, 1, 0});
      if (inner.size() != 4) return false;
      Perm composed(4);
      for (size_t i = 0; i < 4; ++i) {
        if (perm[i] < 0 || perm[i] > 3 || inner[static_cast<size_t>(perm[i])] < 0) return false;
        composed[i] = inner[static_cast<size_t>(perm[i])];
      }
      perm = composed;
    } else if (p->op_type() == "Reshape") {
      if (perm != want || !split_heads(*p, side)) return false;
      b.nodes.push_back(p);
      return true;
    } else {
      ir::Value* rest = nullptr;
      const std::optional<double> f = scalar_factor(*p, &rest);
      if (!f) return false;
      side.scale *= *f;
      v = rest;
      b.nodes.push_back(p);
      continue;
    }
    b.nodes.push_back(p);
    v = p->input(0);
  }
  return false;
}

// Down from the Softmax input: additive masks (phase 0), the causal Where (phases 0–1),
// scalar scales (any phase before the MatMul), then MatMul(Qh, Kh^T). Masks must be added
// after scaling and after the causal fill, as the fused op does.
bool score_chain(ir::Value* v, Block& b, int phase) {
  v = skip_noop_casts(v, &b.nodes);
  ir::Node* p = v->producer();
  if (p == nullptr || !p->domain().empty() || p->output(0) != v) return false;
  const std::string& op = p->op_type();
  if (op == "MatMul") {
    b.scores = v;
    b.nodes.push_back(p);
    return true;
  }
  if (op == "Add" && phase == 0 && b.masks.size() < 2) {
    for (size_t chain = 0; chain < 2; ++chain) {
      Block trial = b;
      trial.masks.push_back(p->input(1 - chain));
      trial.mask_adds.push_back(p);
      trial.nodes.push_back(p);
      if (score_chain(p->input(chain), trial, 0)) {
        b = std::move(trial);
        return true;
      }
    }
    return false;
  }
  if (op == "Where" && phase == 0) {
    b.where = p;
    b.nodes.push_back(p);
    return score_chain(p->input(1), b, 1);
  }
  ir::Value* rest = nullptr;
  const std::optional<double> f = scalar_factor(*p, &rest);
  if (!f) return false;
  b.scale *= *f;
  b.nodes.push_back(p);
  return score_chain(rest, b, 2);
}

// The most negative finite value of `t` (torch.finfo(t).min, the exporters' masked fill).
std::optional<double> lowest_finite(DataType t) {
  if (t == DataType::kFloat32) return std::numeric_limits<float>::lowest();
  if (t == DataType::kFloat16) return -65504.0;
  if (t == DataType::kBFloat16) return ops::BFloat16::to_float(0xFF7F);
  return std::nullopt;
}

// Where(cond, s, lowest) is the causal band: cond[i][j] = j <= i + (Sk - Sq), taken from a
// constant lower-triangular buffer by slicing rows [Sk - Sq, Sk) and columns [0, Sk).
bool is_causal(const ir::Node& where, const Block& b, std::string* why) {
  const std::optional<double> fill = scalar_constant(where.input(2));
  if (!fill || fill != lowest_finite(b.scores->type.dtype))
    return fail(why, "the causal Where does not fill with the type's lowest value");
  struct Bound {
    int64_t axis;
    DimExpr start, end;
  };
  std::vector<Bound> bounds;
  const ir::Value* v = skip_noop_casts(where.input(0));
  const Tensor* tril = nullptr;
  for (int step = 0; step < 4 && tril == nullptr; ++step) {
    tril = constant_value(v);
    if (tril != nullptr) break;
    const ir::Node* s = producer_of(v, "Slice");
    if (s == nullptr || s->opset() < 10) return fail(why, "the causal condition is not a Slice");
    std::optional<std::vector<DimExpr>> starts = resolve_ints(s->input(1));
    std::optional<std::vector<DimExpr>> ends = resolve_ints(s->input(2));
    if (!starts || !ends || starts->size() != ends->size())
      return fail(why, "the causal Slice bounds are not shape arithmetic");
    std::vector<int64_t> axes;
    for (size_t i = 0; i < starts->size(); ++i) axes.push_back(static_cast<int64_t>(i));
    if (s->input(3) != nullptr) {
      std::optional<std::vector<DimExpr>> a = resolve_ints(s->input(3));
      if (!a || a->size() != starts->size()) return fail(why, "the causal Slice axes vary");
      for (size_t i = 0; i < a->size(); ++i) {
        if (!(*a)[i].term.is_const || (*a)[i].minus) return fail(why, "causal Slice axes vary");
        axes[i] = (*a)[i].term.value;
      }
    }
    if (s->input(4) != nullptr) {
      std::optional<std::vector<DimExpr>> st = resolve_ints(s->input(4));
      if (!st) return fail(why, "the causal Slice steps vary");
      for (const DimExpr& e : *st)
        if (!e.term.is_const || e.minus || e.term.value != 1)
          return fail(why, "the causal Slice has steps other than 1");
    }
    for (size_t i = 0; i < axes.size(); ++i) bounds.push_back({axes[i], (*starts)[i], (*ends)[i]});
    v = skip_noop_casts(s->input(0));
  }
  if (tril == nullptr || tril->dtype() != DataType::kBool || tril->rank() < 2)
    return fail(why, "the causal condition does not slice a constant bool buffer");
  const int64_t rank = static_cast<int64_t>(tril->rank());
  for (int64_t i = 0; i + 2 < rank; ++i)
    if (tril->shape()[static_cast<size_t>(i)] != 1)
      return fail(why, "the causal buffer has leading dims other than 1");
  const int64_t rows = tril->shape()[static_cast<size_t>(rank - 2)];
  const int64_t cols = tril->shape()[static_cast<size_t>(rank - 1)];
  const bool* t = tril->data_as<bool>();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      if (t[i * cols + j] != (j <= i))
        return fail(why, "the causal buffer is not lower-triangular");
  const Side& q = b.q;
  const Side& k = b.k;
  bool rows_ok = false, cols_ok = false;
  for (const Bound& bd : bounds) {
    const int64_t axis = bd.axis < 0 ? bd.axis + rank : bd.axis;
    const bool ends_at_key_len = !bd.end.minus && same_size(bd.end.term, k.src, 1);
    if (axis == rank - 2 && !rows_ok) {
      // Rows [Sk - Sq, Sk): written as Sk - Sq, or as 0 when Sq and Sk are the same size.
      const DimExpr& s = bd.start;
      const bool offset = s.minus && same_size(s.term, k.src, 1) && same_size(*s.minus, q.src, 1);
      const bool zero = !s.minus && s.term.is_const && s.term.value == 0 &&
                        same_known(q.src->type.shape[1], k.src->type.shape[1]);
      rows_ok = ends_at_key_len && (offset || zero);
      if (!rows_ok) return fail(why, "the causal rows are not [key_len - query_len, key_len)");
    } else if (axis == rank - 1 && !cols_ok) {
      cols_ok =
          ends_at_key_len && !bd.start.minus && bd.start.term.is_const && bd.start.term.value == 0;
      if (!cols_ok) return fail(why, "the causal columns are not [0, key_len)");
    } else {
      return fail(why, "the causal Slice cuts other axes");
    }
  }
  if (!rows_ok || !cols_ok) return fail(why, "the causal buffer is not cut to the scores' size");
  return true;
}

// An additive mask of the scores' type that broadcasts to [B, H, Sq, Sk] without growing it.
bool mask_fits(const ir::Value* m, const Block& b) {
  if (m->type.dtype != b.scores->type.dtype || !m->type.shape.rank_known()) return false;
  const Dims& s = m->type.shape;
  if (s.rank() > 4) return false;
  const Dims& scores = b.scores->type.shape;
  const Dim want[4] = {b.q.src->type.shape[0], Dim::fixed(b.q.heads), b.q.src->type.shape[1],
                       b.k.src->type.shape[1]};
  for (size_t i = 0; i < s.rank(); ++i) {
    const size_t at = 4 - s.rank() + i;
    const Dim& d = s[i];
    if (d.is_static() && d.value == 1) continue;
    if (same_known(d, want[at])) continue;
    if (scores.rank_known() && scores.rank() == 4 && same_known(d, scores[at])) continue;
    return false;
  }
  return true;
}

bool match_block(ir::Node& root, Block& b, std::string* why) {
  if (!root.domain().empty() || root.op_type() != "Reshape") return false;
  ir::Node* merged = producer_of(skip_noop_casts(root.input(0), &b.nodes), "Transpose");
  if (merged == nullptr || attr_ints(*merged, "perm") != Perm{0, 2, 1, 3}) return false;
  ir::Node* context = producer_of(skip_noop_casts(merged->input(0), &b.nodes), "MatMul");
  if (context == nullptr) return false;
  ir::Node* softmax = producer_of(skip_noop_casts(context->input(0), &b.nodes), "Softmax");
  if (softmax == nullptr) return false;
  b.nodes.insert(b.nodes.end(), {&root, merged, context, softmax});
  // From here on it is an attention block: say why it is not fused.
  const Dims& probs = softmax->input(0)->type.shape;
  const int64_t axis = attr_int(*softmax, "axis", softmax->opset() >= 13 ? -1 : 1);
  if (!(axis == -1 || (probs.rank_known() && probs.rank() == 4 && axis == 3)))
    return fail(why, "the Softmax is not over the last axis");
  if (!score_chain(softmax->input(0), b, 0))
    return fail(why,
                "the scores are not MatMul(Q, K^T) with constant scales, a causal Where and "
                "additive masks");
  const ir::Node* qk = b.scores->producer();
  if (!head_chain(qk->input(0), {0, 2, 1, 3}, b.q, b) ||
      !head_chain(qk->input(1), {0, 2, 3, 1}, b.k, b) ||
      !head_chain(context->input(1), {0, 2, 1, 3}, b.v, b))
    return fail(why, "Q, K or V is not a [B, S, H*D] value reshaped into heads and transposed");
  if (b.q.heads != b.k.heads || b.q.heads != b.v.heads || b.q.head != b.k.head)
    return fail(why, "Q, K and V disagree on the heads");
  if (b.v.scale != 1) return fail(why, "V is scaled");
  if (!merge_heads(root, b.v.heads * b.v.head))
    return fail(why, "the output Reshape does not merge the heads into [B, S, H*D]");
  for (const ir::Value* s : {b.q.src, b.k.src, b.v.src})
    if (!fusable_float(s) || s->type.dtype != b.q.src->type.dtype)
      return fail(why, str("element type ", data_type_name(s->type.dtype),
                           " (fused: float32/16, bfloat16)"));
  for (const ir::Value* m : b.masks)
    if (!mask_fits(m, b))
      return fail(why, str("the mask '", m->name(), "' ", m->type.to_string(),
                           " is not known to broadcast to [batch, heads, query, key] (Q ",
                           b.q.src->type.to_string(), ", K ", b.k.src->type.to_string(),
                           ", scores ", b.scores->type.to_string(), ")"));
  if (b.where != nullptr && !is_causal(*b.where, b, why)) return false;
  return true;
}

bool try_fuse(ir::Node& root, Editor& edit, std::string* kind, std::string* why) {
  Block b;
  if (!match_block(root, b, why)) return false;
  std::vector<ir::Value*> keep = {b.q.src, b.k.src, b.v.src};
  keep.insert(keep.end(), b.masks.begin(), b.masks.end());
  const std::unordered_set<ir::Node*> dead = dead_after_replacing(&root, keep);
  for (const ir::Node* n : b.nodes)
    if (!dead.count(const_cast<ir::Node*>(n)))
      return fail(why, str(n->op_type(), " '", n->name(),
                           "' has a result read outside the attention block"));
  ir::Value* mask = b.masks.empty() ? nullptr : b.masks[0];
  if (b.masks.size() == 2) {
    // (s + m1) + m2 = s + (m1 + m2): one mask input, summed outside.
    ir::ValueType t;
    t.dtype = mask->type.dtype;
    Result<Dims> shape = ops::broadcast_dims({b.masks[0]->type.shape, b.masks[1]->type.shape}, "");
    if (shape.ok()) t.shape = *shape;
    ir::Value* sum = edit.new_value(root.name() + "/mask", t);
    edit.add_node("Add", "", {b.masks[0], b.masks[1]}, {sum}, {},
                  {b.mask_adds[0]->origins().front()});
    mask = sum;
  }
  std::vector<ir::Attribute> attrs;
  attrs.push_back(ir::Attribute::make_int("num_heads", b.q.heads));
  attrs.push_back(
      ir::Attribute::make_float("scale", static_cast<float>(b.scale * b.q.scale * b.k.scale)));
  if (b.where != nullptr) attrs.push_back(ir::Attribute::make_int("causal", 1));
  std::vector<ir::Value*> inputs = {b.q.src, b.k.src, b.v.src};
  if (mask != nullptr) inputs.push_back(mask);
  *kind = b.where != nullptr ? "Attention(causal)" : "Attention";
  return fuse_block(edit, root, b.nodes, "Attention", std::string(ops::kKilnDomain),
                    std::move(inputs), std::move(attrs), 0, why) != nullptr;
}

class AttentionFusion final : public Pass {
 public:
  std::string_view name() const override { return "attention_fusion"; }
  Status run(ir::Graph& graph, PassContext& ctx, bool* changed) override {
    // A sweep whose fusions may have made later blocks provable (their inputs' shapes come
    // from the fused ones) is followed by shape inference and another sweep.
    for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
      Editor edit(graph, ctx);
      bool fused = false;
      std::vector<std::string> declined;  // reported once no further sweep follows
      const std::vector<ir::Node*> nodes = graph.nodes();
      for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
        if (edit.removed(*it)) continue;
        std::string kind, why;
        if (try_fuse(**it, edit, &kind, &why)) {
          ctx.count(kind);
          fused = true;
        } else if (!why.empty()) {
          declined.push_back(str((*it)->op_type(), " '", (*it)->name(), "' not rewritten: ", why));
        }
      }
      *changed = *changed || fused;
      if (!fused || declined.empty() || sweep + 1 == kMaxSweeps) {
        for (const std::string& d : declined) ctx.verbose(d);
        break;
      }
      refresh_types(graph, ctx);
    }
    return Status::Ok();
  }

 private:
  static constexpr int kMaxSweeps = 64;
};

}  // namespace

std::unique_ptr<Pass> make_attention_fusion() {
  return std::make_unique<AttentionFusion>();
}

}  // namespace kiln::passes
