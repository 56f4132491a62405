#include "passes/fusion_util.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "ops/shape_inference.h"
#include "passes/patterns.h"

namespace kiln::passes {

namespace {

bool dies_with(const ir::Node* p, const std::unordered_set<ir::Node*>& dead,
               const std::unordered_set<const ir::Value*>& keep) {
  if (!p->subgraphs().empty()) return false;
  for (const ir::Value* out : p->outputs()) {
    if (out == nullptr) continue;
    if (out->is_graph_output() || keep.count(out)) return false;
    for (ir::Node* c : out->consumers())
      if (!dead.count(c)) return false;
  }
  return true;
}

}  // namespace

std::unordered_set<ir::Node*> dead_after_replacing(ir::Node* root,
                                                   const std::vector<ir::Value*>& keep) {
  const std::unordered_set<const ir::Value*> kept(keep.begin(), keep.end());
  std::unordered_set<ir::Node*> dead = {root};
  // A producer may become dead only after all of its readers did (diamonds: x - mean(x) is
  // read by the square and the division), so sweep until nothing changes.
  for (bool grew = true; grew;) {
    grew = false;
    const std::vector<ir::Node*> current(dead.begin(), dead.end());
    for (const ir::Node* n : current)
      for (const ir::Value* in : n->inputs()) {
        if (in == nullptr) continue;
        ir::Node* p = in->producer();
        if (p == nullptr || p->graph() != root->graph() || dead.count(p)) continue;
        if (!dies_with(p, dead, kept)) continue;
        dead.insert(p);
        grew = true;
      }
  }
  return dead;
}

ir::Node* fuse_block(Editor& edit, ir::Node& root, const std::vector<ir::Node*>& matched,
                     std::string op_type, std::string domain, std::vector<ir::Value*> inputs,
                     std::vector<ir::Attribute> attrs, int64_t opset, std::string* why) {
  std::vector<ir::Value*> keep;
  for (ir::Value* v : inputs)
    if (v != nullptr) keep.push_back(v);
  const std::unordered_set<ir::Node*> dead = dead_after_replacing(&root, keep);
  for (const ir::Node* n : matched)
    if (!dead.count(const_cast<ir::Node*>(n))) {
      *why = str(n->op_type(), " '", n->name(), "' has a result read outside the ", op_type,
                 " block (or a graph output)");
      return nullptr;
    }
  // Graph order keeps origins (engine layers' fused_from) deterministic.
  std::vector<ir::Node*> old;
  for (ir::Node* n : edit.graph().nodes())
    if (dead.count(n)) old.push_back(n);
  return edit.replace(old, &root, std::move(op_type), std::move(domain), std::move(inputs),
                      std::move(attrs), opset);
}

void refresh_types(ir::Graph& graph, PassContext& ctx) {
  // Fused nodes were appended; inference visits nodes in order.
  if (graph.parent() != nullptr || !graph.sort_topologically().ok()) return;
  std::vector<ir::ValueType> outputs;
  for (const ir::Value* v : graph.outputs()) outputs.push_back(v->type);
  ops::ShapeInferenceOptions options;
  options.fallback_opset = ctx.opset();
  std::vector<Status> problems;  // the builder reports them; here only the types matter
  ops::infer_shapes(graph, options, problems);
  for (size_t i = 0; i < outputs.size(); ++i) graph.outputs()[i]->type = outputs[i];
}

ir::Node* producer_of(const ir::Value* v, std::string_view op_type) {
  ir::Node* p = v != nullptr ? v->producer() : nullptr;
  if (p == nullptr || !p->domain().empty() || p->op_type() != op_type || p->output(0) != v)
    return nullptr;
  return p;
}

ir::Value* skip_noop_casts(ir::Value* v, std::vector<ir::Node*>* skipped) {
  while (v != nullptr) {
    ir::Node* p = v->producer();
    if (p == nullptr || p->op_type() != "Cast" || !p->domain().empty()) break;
    ir::Value* in = p->input(0);
    if (in == nullptr || !in->type.known() || in->type.dtype != v->type.dtype) break;
    if (attr_int(*p, "to", -1) != static_cast<int64_t>(in->type.dtype)) break;
    if (skipped != nullptr) skipped->push_back(p);
    v = in;
  }
  return v;
}

bool fusable_float(const ir::Value* v) {
  if (v == nullptr) return false;
  const DataType t = v->type.dtype;
  return t == DataType::kFloat32 || t == DataType::kFloat16 || t == DataType::kBFloat16;
}

bool near(double value, double want, DataType dtype) {
  double tol = 1e-4;
  // Twice the unit roundoff: the constant may have been rounded more than once on export.
  if (dtype == DataType::kFloat16) tol = std::ldexp(1.0, -10);
  if (dtype == DataType::kBFloat16) tol = std::ldexp(1.0, -7);
  return std::fabs(value - want) <= tol * std::fabs(want);
}

bool constant_near(const ir::Value* v, double want) {
  const std::optional<double> c = scalar_constant(v);
  return c && near(*c, want, constant_value(v)->dtype());
}

bool known_dim(const Dim& d) {
  return d.is_static() || d.is_symbolic();
}

}  // namespace kiln::passes
