// Two shape-only rearrangements in a row (Reshape, Flatten, Squeeze, Unsqueeze: none moves an
// element) are one Reshape from the first one's input to the second one's result, when the
// value between them is read by nothing else. The new target is written from what is provable
// about each result dim: a static size; 0 ("copy") where the dim is the first input's dim at the
// same position (tracked through the chain, so symbolic batch/sequence dims survive); at most
// one -1 for a dim known only through the element count, and only when every other target
// entry is a positive size (a copied dim could be 0 and leave -1 unsolvable). When the result
// keeps the first input's dims in order and only inserts or only drops 1s, it is one Unsqueeze
// or Squeeze instead (BERT's attention mask: Unsqueeze(1) → Unsqueeze(2)); when it is the first
// input itself (Unsqueeze then Squeeze of the same axis), both nodes go.
#include <algorithm>
#include <optional>
#include <string>

#include "core/errors.h"
#include "passes/patterns.h"
#include "passes/rewrite.h"
#include "passes/simplify_util.h"

namespace kiln::passes {
namespace {

// One dim of a value in the chain: its static size when known, and which dim of the chain's
// source it is (-1: none, or not provably).
struct ChainDim {
  std::optional<int64_t> size;
  int64_t from = -1;
};
using ChainDims = std::vector<ChainDim>;

bool is_shape_op(const ir::Node& n) {
  const std::string& op = n.op_type();
  return n.domain().empty() &&
         (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze");
}

std::optional<int64_t> normalize(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

// The dims of `n`'s output from the dims of its input (nullopt: not tracked), refined by the
// output's inferred static dims.
std::optional<ChainDims> through(const ir::Node& n, const ChainDims& in, const PassContext& ctx,
                                 std::string* why) {
  const std::string& op = n.op_type();
  const int64_t rank = static_cast<int64_t>(in.size());
  ChainDims out;
  if (op == "Reshape") {
    if (opset_of(n, ctx) < 5) return none_because(why, "Reshape-1 (shape attribute)");
    std::optional<std::vector<int64_t>> target = constant_ints(n.input(1));
    if (!target) return none_because(why, str("the target of '", n.name(), "' is not a constant"));
    const bool allowzero = attr_int(n, "allowzero", 0) != 0;
    for (size_t k = 0; k < target->size(); ++k) {
      const int64_t t = (*target)[k];
      if (t == 0 && !allowzero) {
        if (static_cast<int64_t>(k) >= rank)
          return none_because(why, "target copies a missing dim");
        out.push_back(in[k]);
      } else if (t >= 0) {
        out.push_back({t, -1});
      } else {
        out.push_back({});  // -1: solved from the element count
      }
    }
  } else if (op == "Flatten") {
    int64_t axis = attr_int(n, "axis", 1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis > rank) return none_because(why, "Flatten axis out of range");
    auto side = [&](int64_t lo, int64_t hi) -> ChainDim {
      if (hi - lo == 1) return in[static_cast<size_t>(lo)];
      int64_t p = 1;
      for (int64_t k = lo; k < hi; ++k) {
        const std::optional<int64_t>& s = in[static_cast<size_t>(k)].size;
        if (!s || __builtin_mul_overflow(p, *s, &p)) return {};
      }
      return {p, -1};
    };
    out = {side(0, axis), side(axis, rank)};
  } else {
    const Axes axes = squeeze_axes(n, ctx);
    if (!axes.known) return none_because(why, str("the axes of '", n.name(), "' are not constant"));
    if (op == "Squeeze") {
      std::vector<bool> drop(in.size(), false);
      if (!axes.present || axes.values.empty()) {
        for (size_t k = 0; k < in.size(); ++k) {
          if (!in[k].size) return none_because(why, "Squeeze of all size-1 dims with unknown dims");
          drop[k] = *in[k].size == 1;
        }
      }
      for (int64_t a : axes.values) {
        std::optional<int64_t> k = normalize(a, rank);
        if (!k) return none_because(why, "Squeeze axis out of range");
        drop[static_cast<size_t>(*k)] = true;
      }
      for (size_t k = 0; k < in.size(); ++k)
        if (!drop[k]) out.push_back(in[k]);
    } else {
      const int64_t out_rank = rank + static_cast<int64_t>(axes.values.size());
      std::vector<bool> added(static_cast<size_t>(out_rank), false);
      for (int64_t a : axes.values) {
        std::optional<int64_t> k = normalize(a, out_rank);
        if (!k || added[static_cast<size_t>(*k)])
          return none_because(why, "Unsqueeze axes out of range or repeated");
        added[static_cast<size_t>(*k)] = true;
      }
      size_t next = 0;
      for (int64_t k = 0; k < out_rank; ++k)
        out.push_back(added[static_cast<size_t>(k)] ? ChainDim{1, -1} : in[next++]);
    }
  }
  // Inference may know sizes the chain cannot tell (a -1 it solved).
  const Dims& inferred = n.output(0)->type.shape;
  if (inferred.rank_known() && inferred.rank() == out.size())
    for (size_t k = 0; k < out.size(); ++k)
      if (inferred[k].is_static()) out[k].size = inferred[k].value;
  return out;
}

// The chain keeps the source dims in order and only adds or only drops size-1 dims: one
// Unsqueeze or Squeeze says exactly that, with no -1 to solve (symbolic dims stay symbolic).
struct AxesForm {
  std::string op;
  std::vector<int64_t> axes;
};

std::optional<AxesForm> axes_form(const ChainDims& z, const ChainDims& src) {
  std::vector<int64_t> kept, others;
  for (size_t k = 0; k < z.size(); ++k) {
    if (z[k].from >= 0)
      kept.push_back(z[k].from);
    else
      others.push_back(static_cast<int64_t>(k));
  }
  if (!std::is_sorted(kept.begin(), kept.end()) ||
      std::adjacent_find(kept.begin(), kept.end()) != kept.end())
    return std::nullopt;
  if (z.size() > src.size() && kept.size() == src.size()) {
    for (int64_t k : others)
      if (z[static_cast<size_t>(k)].size != 1) return std::nullopt;
    return AxesForm{"Unsqueeze", others};
  }
  if (z.size() < src.size() && others.empty()) {
    std::vector<int64_t> dropped;
    for (size_t j = 0, next = 0; j < src.size(); ++j) {
      if (next < kept.size() && kept[next] == static_cast<int64_t>(j)) {
        ++next;
        continue;
      }
      if (src[j].size != 1) return std::nullopt;
      dropped.push_back(static_cast<int64_t>(j));
    }
    return AxesForm{"Squeeze", dropped};
  }
  return std::nullopt;
}

bool collapse(ir::Node& second, Editor& edit, PassContext& ctx, std::string* why) {
  if (!is_shape_op(second)) return false;
  ir::Value* mid = second.input(0);
  ir::Node* first = mid != nullptr ? mid->producer() : nullptr;
  if (first == nullptr || !is_shape_op(*first) || first->output(0) != mid) return false;
  if (!single_consumer(mid)) return no_because(why, "the value between them has other readers");
  if (ctx.opset() < 5)
    return no_because(why, "the model's opset has no Reshape with a shape input");
  ir::Value* x = first->input(0);
  if (x == nullptr || !x->type.shape.rank_known())
    return no_because(why, "the rank of the chain's input is unknown");
  ChainDims dims;
  for (size_t k = 0; k < x->type.shape.rank(); ++k) {
    const Dim& d = x->type.shape[k];
    dims.push_back(
        {d.is_static() ? std::optional<int64_t>(d.value) : std::nullopt, static_cast<int64_t>(k)});
  }
  std::optional<ChainDims> m = through(*first, dims, ctx, why);
  if (!m) return false;
  std::optional<ChainDims> z = through(second, *m, ctx, why);
  if (!z) return false;

  ir::Value* out = second.output(0);
  bool same_as_input = z->size() == dims.size();
  for (size_t k = 0; k < z->size() && same_as_input; ++k)
    same_as_input = (*z)[k].from == static_cast<int64_t>(k);
  if (same_as_input && edit.redirect(out, x)) {
    edit.remove(&second);
    edit.remove(first);
    return true;
  }
  const bool all_static =
      std::all_of(z->begin(), z->end(), [](const ChainDim& d) { return d.size.has_value(); });
  if (!all_static) {
    if (std::optional<AxesForm> f = axes_form(*z, dims)) {
      std::vector<ir::Value*> inputs = {x};
      std::vector<ir::Attribute> attrs;
      if (ctx.opset() >= 13) {
        Tensor t =
            Tensor::allocate(DataType::kInt64, {static_cast<int64_t>(f->axes.size())}).value();
        std::copy(f->axes.begin(), f->axes.end(), t.data_as<int64_t>());
        inputs.push_back(edit.new_constant(second.name().empty() ? "axes" : second.name() + "_axes",
                                           std::move(t)));
      } else {
        attrs.push_back(ir::Attribute::make_ints("axes", f->axes));
      }
      edit.replace({first, &second}, &second, f->op, "", std::move(inputs), std::move(attrs));
      return true;
    }
  }
  std::vector<int64_t> target;
  int64_t unknown = 0, copies = 0;
  for (size_t k = 0; k < z->size(); ++k) {
    const ChainDim& d = (*z)[k];
    if (d.size) {
      if (*d.size == 0) return no_because(why, "a result dim is 0 (0 in a target means copy)");
      target.push_back(*d.size);
    } else if (d.from == static_cast<int64_t>(k)) {
      target.push_back(0);
      ++copies;
    } else {
      target.push_back(-1);
      ++unknown;
    }
  }
  if (unknown > 1) return no_because(why, "more than one result dim is neither static nor copied");
  if (unknown == 1 && copies > 0)
    return no_because(why, "a -1 next to copied dims (a copied 0 would leave -1 unsolvable)");
  Tensor t = Tensor::allocate(DataType::kInt64, {static_cast<int64_t>(target.size())}).value();
  std::copy(target.begin(), target.end(), t.data_as<int64_t>());
  ir::Value* shape =
      edit.new_constant(second.name().empty() ? "shape" : second.name() + "_shape", std::move(t));
  edit.replace({first, &second}, &second, "Reshape", "", {x, shape}, {});
  return true;
}

}  // namespace

std::unique_ptr<Pass> make_reshape_chain_collapse() {
  return std::make_unique<RewritePass>(
      "reshape_chain_collapse",
      std::vector<Rewrite>{
          {"reshape chain", 1, [](ir::Node& n, Editor& e, PassContext& c, std::string* why) {
             return collapse(n, e, c, why);
           }}});
}

}  // namespace kiln::passes
