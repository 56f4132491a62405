#include "interp/interpreter.h"

#include <unordered_map>

#include "core/errors.h"
#include "ops/kernel.h"
#include "ops/op_schema.h"

namespace kiln::interp {
namespace {

// Values computed so far in one graph invocation; outer-scope reads go to the parent frame.
struct Frame {
  const Frame* parent = nullptr;
  const RunOptions* options = nullptr;
  const OuterLookup* outer = nullptr;  // beyond the outermost frame (engine executors)
  std::unordered_map<const ir::Value*, Tensor> values;

  const Tensor* find(const ir::Value* v) const {
    for (const Frame* f = this; f != nullptr; f = f->parent) {
      auto it = f->values.find(v);
      if (it != f->values.end()) return &it->second;
      if (f->parent == nullptr && f->outer != nullptr)
        if (const Tensor* t = (*f->outer)(v)) return t;
    }
    return v->initializer();
  }
};

const ops::OpSchema* schema_for(const ir::Node& n) {
  return ops::OpRegistry::builtin().find(n.domain(), n.op_type(),
                                         ops::effective_opset(n.domain(), n.opset()));
}

Result<std::vector<Tensor>> run_graph(const ir::Graph& g, std::vector<Tensor> inputs,
                                      const Frame* parent, const RunOptions* options,
                                      const OuterLookup* outer = nullptr);

Status run_node(const ir::Node& n, Frame& frame) {
  const ops::OpSchema* schema = schema_for(n);
  if (schema == nullptr || !schema->reference_kernel())
    return err(Code::kNoKernel, n.op_type(), " has no reference kernel at opset ", n.opset())
        .with_node(n.ref());
  std::vector<const Tensor*> inputs;
  for (const ir::Value* v : n.inputs()) {
    if (v == nullptr) {
      inputs.push_back(nullptr);
      continue;
    }
    const Tensor* t = frame.find(v);
    if (t == nullptr || (t->data() == nullptr && t->numel() > 0 && t->dtype() != DataType::kString))
      return err(Code::kInternal, "value '", v->name(), "' has no data when node runs")
          .with_node(n.ref());
    inputs.push_back(t);
  }
  ops::SubgraphRunner sub = [&frame](const ir::Graph& g, std::vector<Tensor> in) {
    return run_graph(g, std::move(in), &frame, frame.options);
  };
  ops::KernelContext ctx(n, *schema, std::move(inputs), std::move(sub));
  Status s = schema->reference_kernel()(ctx);
  if (!s.ok()) {
    if (s.node() == nullptr) s.with_node(n.ref());
    return s;
  }
  for (size_t i = 0; i < n.outputs().size(); ++i) {
    const ir::Value* out = n.outputs()[i];
    if (out == nullptr) continue;
    Tensor& t = ctx.outputs()[i];
    if (t.empty())
      return err(Code::kInternal, n.op_type(), " kernel did not produce output ", i, " '",
                 out->name(), "'")
          .with_node(n.ref());
    if (frame.options != nullptr && frame.options->on_value) frame.options->on_value(n, *out, t);
    frame.values[out] = std::move(t);
  }
  return Status::Ok();
}

Result<std::vector<Tensor>> run_graph(const ir::Graph& g, std::vector<Tensor> inputs,
                                      const Frame* parent, const RunOptions* options,
                                      const OuterLookup* outer) {
  Frame frame;
  frame.parent = parent;
  frame.options = options;
  frame.outer = outer;
  const auto& gi = g.inputs();
  if (inputs.size() > gi.size())
    return err(Code::kInternal, "graph '", g.path(), "' takes ", gi.size(), " inputs, got ",
               inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) frame.values[gi[i]] = std::move(inputs[i]);
  for (const ir::Node* n : g.nodes()) KILN_RETURN_IF_ERROR(run_node(*n, frame));
  std::vector<Tensor> outputs;
  for (const ir::Value* v : g.outputs()) {
    const Tensor* t = frame.find(v);
    if (t == nullptr)
      return err(Code::kGraphOutputUndefined, "output '", v->name(), "' of graph '", g.path(),
                 "' was not computed");
    outputs.push_back(t->view());
  }
  return outputs;
}

void missing_in(const ir::Graph& g, std::vector<Status>& problems) {
  for (const ir::Node* n : g.nodes()) {
    const ops::OpSchema* s = schema_for(*n);
    if (s != nullptr && s->is_supported() && !s->reference_kernel())
      problems.push_back(
          err(Code::kNoKernel, n->op_type(), "-", s->since(), " has no reference kernel yet")
              .with_node(n->ref()));
    for (const ir::Graph* sub : n->subgraphs()) missing_in(*sub, problems);
  }
}

}  // namespace

Result<std::vector<Tensor>> run_subgraph(const ir::Graph& graph, std::vector<Tensor> inputs,
                                         const OuterLookup& outer) {
  static const RunOptions kNoOptions;
  return run_graph(graph, std::move(inputs), nullptr, &kNoOptions, &outer);
}

void find_missing_kernels(const ir::Model& model, std::vector<Status>& problems) {
  missing_in(*model.graph, problems);
}

void validate_inputs(const ir::Graph& graph, const TensorMap& inputs,
                     std::vector<Status>& problems) {
  for (const ir::Value* v : graph.inputs()) {
    auto it = inputs.find(v->name());
    if (it == inputs.end()) {
      if (!v->is_initializer())
        problems.push_back(err(Code::kInputMissing, "model input '", v->name(), "' (",
                               v->type.to_string(), ") was not given"));
      continue;
    }
    const Tensor& t = it->second;
    if (v->type.known() && t.dtype() != v->type.dtype)
      problems.push_back(err(Code::kInputTypeMismatch, "input '", v->name(), "' is ",
                             data_type_name(t.dtype()), " but the model expects ",
                             data_type_name(v->type.dtype)));
    const Dims& d = v->type.shape;
    if (!d.rank_known()) continue;
    if (d.rank() != t.rank()) {
      problems.push_back(err(Code::kInputShapeMismatch, "input '", v->name(), "' has rank ",
                             t.rank(), " (shape ", Dims::of(t.shape()).to_string(),
                             ") but the model expects rank ", d.rank(), " ", d.to_string()));
      continue;
    }
    for (size_t i = 0; i < d.rank(); ++i)
      if (d[i].is_static() && d[i].value != t.shape()[i])
        problems.push_back(err(Code::kInputShapeMismatch, "input '", v->name(), "' dim ", i, " is ",
                               t.shape()[i], " but the model fixes it to ", d[i].value,
                               " (expected ", d.to_string(), ", got ",
                               Dims::of(t.shape()).to_string(), ")"));
  }
  for (const auto& [name, t] : inputs) {
    const ir::Value* v = graph.find(name);
    if (v == nullptr || !v->is_graph_input()) {
      std::string names;
      for (const ir::Value* in : graph.inputs())
        if (!in->is_initializer()) names += (names.empty() ? "'" : ", '") + in->name() + "'";
      problems.push_back(err(Code::kInputUnknown, "'", name,
                             "' is not an input of the model (its inputs: ", names, ")"));
    }
  }
}

Result<TensorMap> run(const ir::Model& model, const TensorMap& inputs, const RunOptions& options) {
  const ir::Graph& g = *model.graph;
  std::vector<Status> problems;
  validate_inputs(g, inputs, problems);
  find_missing_kernels(model, problems);
  if (!problems.empty()) return problems.front();
  std::vector<Tensor> in;
  for (const ir::Value* v : g.inputs()) {
    auto it = inputs.find(v->name());
    in.push_back(it != inputs.end() ? it->second.view() : v->initializer()->view());
  }
  KILN_ASSIGN_OR_RETURN(std::vector<Tensor> out, run_graph(g, std::move(in), nullptr, &options));
  TensorMap result;
  for (size_t i = 0; i < out.size(); ++i) result[g.outputs()[i]->name()] = std::move(out[i]);
  return result;
}

}  // namespace kiln::interp
