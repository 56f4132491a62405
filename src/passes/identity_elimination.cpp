// Removes nodes that pass their input through unchanged: Identity, Dropout in inference (its
// mask output unused), Cast to the type the input already has, Reshape to the input's own
// static shape. Readers of the output read the input instead; a node whose output is a graph
// output stays (the output's name is part of the interface).
#include "passes/patterns.h"
#include "passes/rewrite.h"

namespace kiln::passes {
namespace {

bool pass_through(const ir::Node& n, std::string* why) {
  if (!n.domain().empty() || n.inputs().empty() || n.input(0) == nullptr) return false;
  const std::string& op = n.op_type();
  if (op == "Identity") return true;
  if (op == "Dropout") {
    // Training mode (input 2 true) or a ratio input that is not a constant 0… is not a no-op
    // unless training_mode is absent/false; the mask output must be unused.
    if (n.output(1) != nullptr && (!n.output(1)->consumers().empty() || n.output(1)->is_graph_output())) {
      *why = "its mask output is read";
      return false;
    }
    const ir::Value* training = n.input(2);
    if (training != nullptr) {
      std::optional<double> t = scalar_constant(training);
      if (!t || *t != 0) {
        *why = "training_mode is not a constant false";
        return false;
      }
    }
    if (n.opset() < 7 && attr_int(n, "is_test", 0) == 0) {
      *why = "is_test = 0 (training) in this Dropout revision";
      return false;
    }
    return true;
  }
  if (op == "Cast") {
    const ir::Attribute* to = n.attr("to");
    const ir::Value* in = n.input(0);
    if (to == nullptr || to->type != ir::AttrType::kInt || !in->type.known()) return false;
    if (static_cast<int64_t>(in->type.dtype) != to->i) {
      *why = "it changes the type";
      return false;
    }
    return true;
  }
  if (op == "Reshape" || op == "Squeeze" || op == "Unsqueeze" || op == "Flatten") {
    const std::optional<std::vector<int64_t>> in = static_shape(n.input(0));
    const std::optional<std::vector<int64_t>> out = static_shape(n.output(0));
    if (!in || !out || *in != *out) {
      *why = "the shape changes (or is not static)";
      return false;
    }
    return true;
  }
  return false;
}

class IdentityElimination final : public Pass {
 public:
  std::string_view name() const override { return "identity_elimination"; }
  Status run(ir::Graph& graph, PassContext& ctx, bool* changed) override {
    Editor edit(graph, ctx);
    for (ir::Node* n : graph.nodes()) {
      std::string why;
      if (!pass_through(*n, &why)) {
        if (!why.empty()) ctx.explain(*n, why);
        continue;
      }
      ir::Value* out = n->output(0);
      ir::Value* in = n->input(0);
      // Types must agree exactly for readers to see no difference.
      if (in->type.dtype != out->type.dtype && out->type.known()) {
        ctx.explain(*n, "input and output types differ");
        continue;
      }
      if (!edit.redirect(out, in)) {
        ctx.explain(*n, "its output is a graph output");
        continue;
      }
      edit.remove(n);
      ctx.count("removed");
      *changed = true;
    }
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Pass> make_identity_elimination() { return std::make_unique<IdentityElimination>(); }

}  // namespace kiln::passes
