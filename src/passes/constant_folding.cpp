// Computes at build time what does not depend on the inputs:
//  - a node whose inputs are all constants (initializers, Constant outputs; a Constant node
//    itself) runs once with its reference kernel and its outputs become initializers;
//  - shape arithmetic over static dims (Shape/Size of a value whose dims are known, and the
//    Gather/Slice/Squeeze/Unsqueeze/Concat/Cast chains on them) becomes constants even when
//    the tensor the shape is taken of is not;
//  - a Reshape whose target is assembled from its own input's shape (BERT's
//    Shape → Gather → Unsqueeze → Concat → Reshape) gets a constant target with 0 ("copy dim i")
//    where the element is exactly dim i of the Reshape's data input; the chain then dies.
// Never folded: random ops, Dropout in training, nodes with subgraphs, outputs of more than
// kMaxFoldElements elements (the engine would carry them as weights: explained), nodes whose
// output is a graph output (the output's name is part of the interface).
#include <algorithm>
#include <iterator>
#include <string>

#include "core/errors.h"
#include "ops/kernel.h"
#include "passes/patterns.h"
#include "passes/rewrite.h"
#include "passes/shape_values.h"
#include "passes/simplify_util.h"

namespace kiln::passes {
namespace {

// 1M elements: larger results are left to run time (they would bloat the engine and the build).
constexpr int64_t kMaxFoldElements = int64_t{1} << 20;

bool is_random(const ir::Node& n) {
  const std::string& op = n.op_type();
  return op.rfind("Random", 0) == 0 || op == "Bernoulli" || op == "Multinomial";
}

// Whether some output is used (else dead code elimination removes the node: nothing to fold).
bool outputs_used(const ir::Node& n) {
  for (const ir::Value* v : n.outputs())
    if (v != nullptr && (!v->consumers().empty() || v->is_graph_output())) return true;
  return false;
}

bool has_graph_output(const ir::Node& n) {
  for (const ir::Value* v : n.outputs())
    if (v != nullptr && v->is_graph_output()) return true;
  return false;
}

// The node's outputs become initializers holding `results` (same values, same names).
void replace_by_constants(ir::Node* n, std::vector<Tensor> results, Editor& edit) {
  const std::vector<ir::Value*> outs = n->outputs();
  edit.remove(n);
  for (size_t i = 0; i < outs.size(); ++i) {
    ir::Value* v = outs[i];
    if (v == nullptr) continue;
    v->type.kind = ir::ValueKind::kTensor;
    v->type.dtype = results[i].dtype();
    v->type.shape = Dims::of(results[i].shape());
    edit.graph().set_initializer(v, std::move(results[i]));
  }
}

class ConstantFolding final : public Pass {
 public:
  std::string_view name() const override { return "constant_folding"; }

  Status run(ir::Graph& graph, PassContext& ctx, bool* changed) override {
    Editor edit(graph, ctx);
    ShapeTracker shapes(ctx);
    for (ir::Node* n : graph.nodes()) {
      if (edit.removed(n) || !outputs_used(*n)) continue;
      if (fold_by_kernel(n, edit, ctx) || fold_known_shape(n, shapes, edit, ctx) ||
          constant_reshape_target(n, shapes, edit, ctx))
        *changed = true;
    }
    return Status::Ok();
  }

 private:
  static bool fold_by_kernel(ir::Node* n, Editor& edit, PassContext& ctx) {
    std::vector<const Tensor*> inputs;
    for (const ir::Value* v : n->inputs()) {
      if (v == nullptr) {
        inputs.push_back(nullptr);
        continue;
      }
      const Tensor* t = constant_value(v);
      if (t == nullptr || (t->data() == nullptr && t->numel() > 0)) return false;
      inputs.push_back(t);
    }
    if (is_random(*n)) return explain(*n, ctx, "random op");
    if (!n->subgraphs().empty()) return explain(*n, ctx, "it has subgraphs");
    if (n->op_type() == "Dropout" && n->domain().empty()) {
      const std::optional<double> training = scalar_constant(n->input(2));
      if (training && *training != 0) return explain(*n, ctx, "Dropout in training mode");
    }
    if (has_graph_output(*n)) return explain(*n, ctx, "its output is a graph output");
    for (const ir::Value* v : n->outputs())
      if (v != nullptr && v->type.kind != ir::ValueKind::kTensor)
        return explain(*n, ctx, "an output is not a tensor");
    const ops::OpSchema* schema = schema_of(*n, ctx);
    if (schema == nullptr || !schema->reference_kernel())
      return explain(*n, ctx, "no reference kernel to compute it with");

    ops::OutputAllocator bounded = [](size_t, DataType dtype, std::vector<int64_t> shape,
                                      bool) -> Result<Tensor> {
      int64_t numel = 1;
      for (int64_t d : shape)
        if (d < 0 || __builtin_mul_overflow(numel, d, &numel) || numel > kMaxFoldElements)
          return err(Code::kAllocationFailed, "constant folding: output ", dims_text(shape),
                     " exceeds ", kMaxFoldElements, " elements");
      return Tensor::allocate(dtype, std::move(shape));
    };
    ops::KernelContext kc(*n, *schema, std::move(inputs), nullptr);
    kc.set_output_allocator(&bounded);
    Status s = schema->reference_kernel()(kc);
    if (!s.ok()) return explain(*n, ctx, "its kernel failed on the constants: " + s.message());

    std::vector<Tensor> results;
    for (size_t i = 0; i < n->outputs().size(); ++i) {
      const ir::Value* v = n->outputs()[i];
      Tensor t = i < kc.outputs().size() ? std::move(kc.outputs()[i]) : Tensor();
      if (v == nullptr) {
        results.emplace_back();
        continue;
      }
      if (t.empty()) return explain(*n, ctx, "its kernel left an output unset");
      if (t.numel() > kMaxFoldElements)
        return explain(*n, ctx,
                       str("output '", v->name(), "' has ", t.numel(),
                           " elements (folding stops at ", kMaxFoldElements, ")"));
      if (t.dtype() == DataType::kString) return explain(*n, ctx, "string outputs stay");
      if (v->type.known() && v->type.dtype != t.dtype())
        return explain(*n, ctx, "its kernel's output type differs from the value's");
      results.push_back(std::move(t));
    }
    const std::string op = n->op_type();
    replace_by_constants(n, std::move(results), edit);
    ctx.count(op == "Constant" ? "Constant → initializer" : "folded");
    return true;
  }

  // Shape arithmetic whose every element is a known integer although the tensor measured is
  // not a constant (its dims are static).
  static bool fold_known_shape(ir::Node* n, ShapeTracker& shapes, Editor& edit, PassContext& ctx) {
    static const char* const kOps[] = {"Shape",     "Size",   "Gather", "Slice",   "Squeeze",
                                       "Unsqueeze", "Concat", "Cast",   "Identity"};
    if (!n->domain().empty() ||
        std::find(std::begin(kOps), std::end(kOps), n->op_type()) == std::end(kOps))
      return false;
    ir::Value* out = n->output(0);
    if (out == nullptr || out->is_graph_output() || n->outputs().size() != 1) return false;
    const DataType dtype = out->type.dtype;
    if (dtype != DataType::kInt64 && dtype != DataType::kInt32) return false;
    const std::optional<ShapeContents>& c = shapes.eval(out);
    if (!c || !c->known()) return false;
    std::vector<int64_t> shape;
    if (!c->scalar) shape.push_back(static_cast<int64_t>(c->elements.size()));
    Tensor t = Tensor::allocate(dtype, shape).value();
    const std::vector<int64_t> values = c->values();
    for (size_t i = 0; i < values.size(); ++i) {
      if (dtype == DataType::kInt64)
        t.data_as<int64_t>()[i] = values[i];
      else
        t.data_as<int32_t>()[i] = static_cast<int32_t>(values[i]);
    }
    std::vector<Tensor> results;
    results.push_back(std::move(t));
    replace_by_constants(n, std::move(results), edit);
    ctx.count("shape");
    return true;
  }

  static bool constant_reshape_target(ir::Node* n, ShapeTracker& shapes, Editor& edit,
                                      PassContext& ctx) {
    if (n->op_type() != "Reshape" || !n->domain().empty() || opset_of(*n, ctx) < 5) return false;
    ir::Value* data = n->input(0);
    ir::Value* target = n->input(1);
    if (data == nullptr || target == nullptr || is_constant(target)) return false;
    if (attr_int(*n, "allowzero", 0) != 0)
      return explain(*n, ctx, "allowzero = 1 (a 0 in the target cannot mean \"copy\")");
    const std::optional<ShapeContents>& c = shapes.eval(target);
    if (!c || c->scalar)
      return explain(*n, ctx, "its target is not computed from shapes and constants alone");
    std::vector<int64_t> dims;
    for (size_t i = 0; i < c->elements.size(); ++i) {
      const ShapeElement& e = c->elements[i];
      if (e.value) {
        dims.push_back(*e.value);
      } else if (e.of == data && e.axis == static_cast<int64_t>(i)) {
        dims.push_back(0);  // copies dim i of the data input, which is what the target held
      } else {
        return explain(*n, ctx,
                       str("target element ", i, " is dim ", e.axis, " of '", e.of->name(),
                           "', not provably dim ", i, " of the data input '", data->name(), "'"));
      }
    }
    Tensor t = Tensor::allocate(DataType::kInt64, {static_cast<int64_t>(dims.size())}).value();
    std::copy(dims.begin(), dims.end(), t.data_as<int64_t>());
    ir::Value* fixed = edit.new_constant(target->name(), std::move(t));
    edit.graph().replace_input(n, 1, fixed);
    ctx.count("Reshape target");
    return true;
  }

  static bool explain(const ir::Node& n, PassContext& ctx, std::string_view why) {
    ctx.explain(n, why);
    return false;
  }
};

}  // namespace

std::unique_ptr<Pass> make_constant_folding() {
  return std::make_unique<ConstantFolding>();
}

}  // namespace kiln::passes
