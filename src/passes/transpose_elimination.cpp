// Transposes that cancel or compose: Transpose(Transpose(x, p1), p2) is one Transpose of x
// with perm[k] = p1[p2[k]] (when the inner result has no other reader), and nothing at all
// when that is the identity; a Transpose whose perm is the identity is removed. A Transpose of
// a constant is constant folding's (it runs first).
#include <numeric>
#include <optional>
#include <string>

#include "core/errors.h"
#include "passes/patterns.h"
#include "passes/rewrite.h"
#include "passes/simplify_util.h"

namespace kiln::passes {
namespace {

// The node's perm (default: reversed dims, which needs the input's rank).
std::optional<std::vector<int64_t>> perm_of(const ir::Node& n) {
  if (const ir::Attribute* a = n.attr("perm"); a != nullptr && a->type == ir::AttrType::kInts)
    return a->ints;
  const ir::Value* x = n.input(0);
  if (x == nullptr || !x->type.shape.rank_known()) return std::nullopt;
  std::vector<int64_t> p(x->type.shape.rank());
  std::iota(p.rbegin(), p.rend(), 0);
  return p;
}

bool is_identity(const std::vector<int64_t>& p) {
  for (size_t k = 0; k < p.size(); ++k)
    if (p[k] != static_cast<int64_t>(k)) return false;
  return true;
}

bool is_transpose(const ir::Node* n) {
  return n != nullptr && n->op_type() == "Transpose" && n->domain().empty();
}

// Removes `last` (and `also`, when given) by letting readers of `last`'s output read `x`; a
// graph output keeps its name through an Identity instead.
void bypass(ir::Node& last, ir::Node* also, ir::Value* x, Editor& edit) {
  if (edit.redirect(last.output(0), x)) {
    edit.remove(&last);
    if (also != nullptr) edit.remove(also);
    return;
  }
  std::vector<ir::Node*> old = {&last};
  if (also != nullptr) old.push_back(also);
  edit.replace(old, &last, "Identity", "", {x}, {});
}

bool eliminate(ir::Node& n, Editor& edit, PassContext&, std::string* why) {
  if (!is_transpose(&n)) return false;
  std::optional<std::vector<int64_t>> p2 = perm_of(n);
  if (!p2) return no_because(why, "perm absent and the input's rank unknown");
  if (is_identity(*p2)) {
    bypass(n, nullptr, n.input(0), edit);
    return true;
  }
  ir::Value* mid = n.input(0);
  ir::Node* inner = mid != nullptr ? mid->producer() : nullptr;
  if (!is_transpose(inner) || inner->output(0) != mid) return false;
  if (!single_consumer(mid))
    return no_because(why, "the inner Transpose's result has other readers");
  std::optional<std::vector<int64_t>> p1 = perm_of(*inner);
  if (!p1 || p1->size() != p2->size()) return no_because(why, "the inner perm is unknown");
  std::vector<int64_t> perm(p2->size());
  for (size_t k = 0; k < perm.size(); ++k) {
    const int64_t j = (*p2)[k];
    if (j < 0 || j >= static_cast<int64_t>(p1->size())) return no_because(why, "perm out of range");
    perm[k] = (*p1)[static_cast<size_t>(j)];
  }
  ir::Value* x = inner->input(0);
  if (is_identity(perm)) {
    bypass(n, inner, x, edit);
    return true;
  }
  std::vector<ir::Attribute> attrs;
  attrs.push_back(ir::Attribute::make_ints("perm", perm));
  edit.replace({inner, &n}, &n, "Transpose", "", {x}, std::move(attrs));
  return true;
}

}  // namespace

std::unique_ptr<Pass> make_transpose_elimination() {
  return std::make_unique<RewritePass>("transpose_elimination",
                                       std::vector<Rewrite>{{"transpose", 1, eliminate}});
}

}  // namespace kiln::passes
