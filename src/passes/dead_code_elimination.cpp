// Removes nodes none of whose outputs is read by a node (here or in a subgraph) or returned as
// a graph output — what exporters leave behind and what other passes orphan — and initializers
// nothing reads any more.
#include "passes/rewrite.h"

namespace kiln::passes {
namespace {

class DeadCodeElimination final : public Pass {
 public:
  std::string_view name() const override { return "dead_code_elimination"; }
  Status run(ir::Graph& graph, PassContext& ctx, bool* changed) override {
    Editor edit(graph, ctx);
    const int64_t n = edit.remove_unused();
    if (n > 0) {
      ctx.count("removed", n);
      *changed = true;
    }
    // Weights orphaned by folding and fusions (not counted: the summary counts nodes).
    if (edit.remove_unused_initializers() > 0) *changed = true;
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Pass> make_dead_code_elimination() { return std::make_unique<DeadCodeElimination>(); }

}  // namespace kiln::passes
