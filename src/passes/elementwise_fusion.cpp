// Groups trees of elementwise/broadcasting nodes into one kiln::FusedElementwise layer whose
// `body` graph holds them: the group's interior values are read only inside the group, so one
// kernel can compute the root from the group's external inputs in a single pass over memory.
// Runs last (after the fusions that need to see individual ops). Arithmetic is unchanged: the
// body runs the same ops.
#include <algorithm>
#include <map>
#include <set>

#include "core/errors.h"
#include "ops/op_schema.h"
#include "ops/shape_infer.h"
#include "passes/patterns.h"
#include "passes/rewrite.h"

namespace kiln::passes {
namespace {

bool groupable(const ir::Node& n) {
  if (!n.subgraphs().empty() || n.outputs().size() != 1 || n.output(0) == nullptr) return false;
  if (n.domain() == ops::kKilnDomain) return false;
  const ops::OpSchema* s = ops::OpRegistry::builtin().find(
      n.domain(), n.op_type(), ops::effective_opset(n.domain(), n.opset()));
  if (s == nullptr || !s->reference_kernel()) return false;
  const ops::FusionKind k = s->fusion_kind();
  if (k != ops::FusionKind::kElementwise && k != ops::FusionKind::kBroadcast) return false;
  // Random and stateful-looking elementwise ops stay alone; so do outputs of unknown type.
  if (n.op_type() == "Dropout" || n.op_type() == "ConstantOfShape") return false;
  const ir::ValueType& t = n.output(0)->type;
  return t.known() && t.shape.rank_known() && t.kind == ir::ValueKind::kTensor;
}

class ElementwiseFusion final : public Pass {
 public:
  std::string_view name() const override { return "elementwise_fusion"; }

  Status run(ir::Graph& g, PassContext& ctx, bool* changed) override {
    Editor edit(g, ctx);
    std::set<const ir::Node*> grouped;
    std::vector<ir::Node*> order = g.nodes();
    std::map<const ir::Node*, size_t> position;
    for (size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      ir::Node* root = *it;
      if (edit.removed(root) || grouped.count(root) || !groupable(*root)) continue;
      // Grow backwards through producers whose only reader is inside the group.
      std::vector<ir::Node*> group = {root};
      for (size_t k = 0; k < group.size(); ++k)
        for (ir::Value* in : group[k]->inputs()) {
          if (in == nullptr || in->graph() != &g) continue;
          ir::Node* p = in->producer();
          if (p == nullptr || grouped.count(p) || !groupable(*p) || !single_consumer(in)) continue;
          if (std::find(group.begin(), group.end(), p) != group.end()) continue;
          group.push_back(p);
        }
      if (group.size() < 2) continue;
      std::sort(group.begin(), group.end(),
                [&](const ir::Node* a, const ir::Node* b) { return position[a] < position[b]; });
      if (!fuse(g, edit, ctx, group, root)) continue;
      for (const ir::Node* n : group) grouped.insert(n);
      *changed = true;
    }
    return Status::Ok();
  }

 private:
  bool fuse(ir::Graph& g, Editor& edit, PassContext& ctx, const std::vector<ir::Node*>& group,
            ir::Node* root) {
    std::set<const ir::Value*> inside;
    for (const ir::Node* n : group) inside.insert(n->output(0));
    std::vector<ir::Value*> external;
    for (const ir::Node* n : group)
      for (ir::Value* in : n->inputs())
        if (in != nullptr && !inside.count(in) &&
            std::find(external.begin(), external.end(), in) == external.end())
          external.push_back(in);
    // The kernel's output has the broadcast shape of the inputs: only groups where that is the
    // root's shape (no op inside changes shapes otherwise).
    std::vector<Dims> shapes;
    for (const ir::Value* v : external) shapes.push_back(v->type.shape);
    Result<Dims> b = ops::broadcast_dims(shapes, "group");
    if (!b.ok() || b->to_string() != root->output(0)->type.shape.to_string()) {
      ctx.explain(*root, "the group's broadcast shape is not its output's");
      return false;
    }
    auto body = std::make_unique<ir::Graph>(g.unique_name(root->name().empty() ? "fused" : root->name() + "_fused"), &g);
    std::map<const ir::Value*, ir::Value*> inner;
    for (ir::Value* v : external)
      inner[v] = body->add_input(body->unique_name(v->name() + "__in"), v->type).value();
    for (const ir::Node* n : group) {
      std::vector<ir::Value*> ins;
      for (ir::Value* in : n->inputs()) ins.push_back(in ? inner.at(in) : nullptr);
      ir::Value* out = body->add_value(body->unique_name(n->output(0)->name() + "__t"),
                                       n->output(0)->type).value();
      inner[n->output(0)] = out;
      ir::Node* copy = body->add_node(n->op_type(), n->domain(), n->name(), ins, {out},
                                      copy_attrs(*n), n->opset(), n->index());
      copy->set_origins(n->origins());
    }
    body->add_output(inner.at(root->output(0)));
    std::vector<ir::Attribute> attrs(1);
    attrs[0].name = "body";
    attrs[0].type = ir::AttrType::kGraph;
    attrs[0].g = std::move(body);
    edit.replace(group, root, "FusedElementwise", std::string(ops::kKilnDomain), external,
                 std::move(attrs));
    ctx.count(str(group.size(), " ops"));
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> make_elementwise_fusion() { return std::make_unique<ElementwiseFusion>(); }

}  // namespace kiln::passes
