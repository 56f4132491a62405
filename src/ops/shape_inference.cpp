#include "ops/shape_inference.h"

#include <algorithm>
#include <deque>
#include <string>

#include "core/errors.h"
#include "ops/op_schema.h"
#include "ops/shape_infer.h"

namespace kiln::ops {

namespace {

struct Driver {
  const ShapeInferenceOptions& options;
  std::vector<Status>& problems;
  ShapeInferenceStats& stats;
  InferState state;
  std::deque<Tensor> folded;  // owns folded constants (stable addresses)
  // Inside an If branch: it may only run for other inputs (silero VAD's 8 kHz branch cannot take
  // 16 kHz sizes), so what cannot work there is a warning, not an error.
  int in_branch = 0;

  void report(Status s, const ir::Node& n) {
    if (s.node() == nullptr) s.with_node(n.ref());
    if (in_branch > 0 && s.severity() == Severity::kError) s.with_severity(Severity::kWarning);
    problems.push_back(std::move(s));
  }

  void graph(ir::Graph& g);
  void node(ir::Node& n);
  void control_flow(ir::Node& n, const OpSchema& schema, InferContext& ctx);
  void fold(const ir::Node& n, const OpSchema& schema, const InferContext& inferred);
  void record(ir::Node& n, const InferContext::Output& out, ir::Value* v);
};

const OpSchema* schema_for(const ir::Node& n, int64_t fallback_opset) {
  const int64_t opset = n.opset() > 0 ? n.opset() : fallback_opset;
  return OpRegistry::builtin().find(n.domain(), n.op_type(),
                                    std::clamp(opset, kMinOpset, kMaxOpset));
}

// Output defaults by fusion kind (ops without an infer function).
Status infer_default(InferContext& ctx) {
  const FusionKind kind = ctx.schema().fusion_kind();
  Dims shape = Dims::unknown_rank();
  if (kind == FusionKind::kElementwise && ctx.num_inputs() > 0) {
    shape = ctx.input_shape(0);
  } else if (kind == FusionKind::kBroadcast) {
    std::vector<Dims> shapes;
    for (size_t i = 0; i < ctx.num_inputs(); ++i)
      if (ctx.has_input(i)) shapes.push_back(ctx.input_shape(i));
    KILN_ASSIGN_OR_RETURN(shape, broadcast_dims(shapes, ctx.node().op_type()));
  }
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    // Optional extra outputs of elementwise ops (e.g. Dropout's mask) share the shape too.
    ctx.set_output_shape(i, shape);
  }
  return Status::Ok();
}

// Folding is for shape arithmetic: cheap ops (cost linear in their bounded inputs/outputs),
// deterministic, without subgraphs. Convolutions, matrix products, recurrences and pools on
// constant data are left to the optimizer's constant folding, which can afford them.
bool foldable(const ir::Node& n, const OpSchema& schema) {
  const std::string& op = n.op_type();
  if (op.rfind("Random", 0) == 0 || op == "Bernoulli" || op == "Multinomial" ||
      !n.subgraphs().empty())
    return false;
  switch (schema.fusion_kind()) {
    case FusionKind::kElementwise:
    case FusionKind::kBroadcast:
    case FusionKind::kInjective:
      return true;
    case FusionKind::kReduction:
      return op.rfind("Reduce", 0) == 0 || op == "ArgMax" || op == "ArgMin";
    case FusionKind::kOpaque:
      return op == "Constant" || op == "ConstantOfShape" || op == "Range" || op == "Shape" ||
             op == "Size" || op == "NonZero" || op == "CumSum" || op == "OneHot";
  }
  return false;
}

std::string describe_conflict(const ir::ValueType& declared, const ir::ValueType& inferred) {
  return "declared " + declared.to_string() + ", computed " + inferred.to_string();
}

void Driver::record(ir::Node& n, const InferContext::Output& out, ir::Value* v) {
  ir::ValueType& t = v->type;
  const ir::ValueType& got = out.type;
  if (t.kind == ir::ValueKind::kUnknown) t.kind = ir::ValueKind::kTensor;  // declared "?"
  if (t.kind != ir::ValueKind::kTensor) return;
  bool conflict = false;
  if (got.dtype != DataType::kUndefined) {
    if (t.dtype == DataType::kUndefined)
      t.dtype = got.dtype;
    else if (t.dtype != got.dtype)
      conflict = true;
  }
  if (got.shape.rank_known()) {
    if (!t.shape.rank_known()) {
      t.shape = got.shape;
    } else if (t.shape.rank() != got.shape.rank()) {
      conflict = true;
    } else {
      std::vector<Dim> dims = t.shape.dims();
      for (size_t k = 0; k < dims.size(); ++k) {
        std::optional<Dim> u = unify_dim(dims[k], got.shape[k]);
        if (!u) {
          conflict = true;
          break;
        }
        // A declared symbol stays (it is the user's name for the dim) unless a size is known.
        if (!(dims[k].is_symbolic() && !u->is_static())) dims[k] = *u;
      }
      if (!conflict) t.shape = Dims(std::move(dims));
    }
  }
  if (conflict) {
    ir::ValueType declared = v->type;
    report(err(Code::kShapeConflict, "output '", v->name(), "' of ", n.op_type(), ": ",
               describe_conflict(declared, got)),
           n);
    return;
  }
  if (out.values) state.values[v] = *out.values;
}

void Driver::fold(const ir::Node& n, const OpSchema& schema, const InferContext& inferred) {
  if (!schema.reference_kernel() || !foldable(n, schema)) return;
  // Shape arithmetic is integer arithmetic: fold only integer/bool values (Constant aside), so
  // check time never runs float kernels on data the file chose.
  auto integral = [](const ir::Value* v) {
    if (v == nullptr) return true;
    const DataType t = v->type.dtype;
    return t == DataType::kInt64 || t == DataType::kInt32 || t == DataType::kBool;
  };
  // Shape/Size read only the input's shape; ConstantOfShape only fills.
  const std::string& op = n.op_type();
  if (op != "Constant" && op != "Shape" && op != "Size")
    for (const ir::Value* v : n.inputs())
      if (!integral(v)) return;
  if (op != "Constant" && op != "ConstantOfShape")
    for (const ir::Value* v : n.outputs())
      if (!integral(v)) return;
  std::vector<const Tensor*> inputs;
  for (const ir::Value* v : n.inputs()) {
    if (v == nullptr) {
      inputs.push_back(nullptr);
      continue;
    }
    const Tensor* t = nullptr;
    if (v->initializer() != nullptr && !v->is_graph_input())
      t = v->initializer();
    else if (auto it = state.constants.find(v); it != state.constants.end())
      t = it->second;
    if (t == nullptr || t->numel() > options.fold_limit || (t->data() == nullptr && t->numel() > 0))
      return;
    inputs.push_back(t);
  }
  // Only outputs whose inferred size is static and small: a kernel must not allocate without
  // bound at check time (ConstantOfShape of a hostile shape). The bound is this node's own
  // inference (what the kernel will compute from these constants), never the value's declared type,
  // which a hostile file may set small.
  for (size_t i = 0; i < n.outputs().size(); ++i) {
    if (n.outputs()[i] == nullptr) continue;
    if (i >= inferred.outputs().size() || !inferred.outputs()[i].set) return;
    const ir::ValueType& t = inferred.outputs()[i].type;
    std::optional<int64_t> numel = t.shape.numel();
    const ir::ValueType& recorded = n.outputs()[i]->type;  // differs after a conflict
    if (!numel || *numel > options.fold_limit || t.dtype != recorded.dtype ||
        t.shape != recorded.shape)
      return;
  }
  KernelContext ctx(n, schema, std::move(inputs), nullptr);
  if (!schema.reference_kernel()(ctx).ok()) return;  // the run reports it with its data
  for (size_t i = 0; i < n.outputs().size(); ++i) {
    const ir::Value* v = n.outputs()[i];
    if (v == nullptr || ctx.outputs()[i].empty()) continue;
    folded.push_back(std::move(ctx.outputs()[i]));
    state.constants[v] = &folded.back();
    ++stats.folded;
  }
}

void Driver::node(ir::Node& n) {
  const OpSchema* schema = schema_for(n, options.fallback_opset);
  if (schema == nullptr || !schema->is_supported()) return;  // check_op_support reports it
  InferContext ctx(n, *schema, state);
  Status s = Status::Ok();
  // Control flow is inferred from its subgraphs; other ops with graph attributes (kiln's fused
  // nodes) bring their own infer function.
  if (!n.subgraphs().empty() && !(n.domain() == kKilnDomain && schema->infer_fn())) {
    control_flow(n, *schema, ctx);
  } else {
    s = schema->infer_fn() ? schema->infer_fn()(ctx) : infer_default(ctx);
  }
  if (!s.ok()) {
    report(std::move(s), n);
    return;
  }
  for (size_t i = 0; i < n.outputs().size(); ++i) {
    ir::Value* v = n.outputs()[i];
    if (v == nullptr || i >= ctx.outputs().size() || !ctx.outputs()[i].set) continue;
    record(n, ctx.outputs()[i], v);
  }
  fold(n, *schema, ctx);
  // Static integer contents become constants too, so kernels can fold what consumes them.
  for (ir::Value* v : n.outputs()) {
    if (v == nullptr || state.constants.count(v) != 0) continue;
    auto it = state.values.find(v);
    if (it == state.values.end() || v->type.dtype != DataType::kInt64 ||
        !v->type.shape.rank_known() || v->type.shape.rank() > 1)
      continue;
    std::vector<int64_t> ints;
    for (const IntValue& d : it->second) {
      if (!d.value) break;
      ints.push_back(*d.value);
    }
    if (ints.size() != it->second.size()) continue;
    std::vector<int64_t> shape;
    if (v->type.shape.rank() == 1)
      shape.push_back(static_cast<int64_t>(ints.size()));
    else if (ints.size() != 1)
      continue;
    Result<Tensor> t = Tensor::allocate(DataType::kInt64, shape);
    if (!t.ok()) continue;
    std::copy(ints.begin(), ints.end(), t->data_as<int64_t>());
    folded.push_back(std::move(*t));
    state.constants[v] = &folded.back();
  }
}

// The common description of two types a value may take (If branches, loop iterations).
ir::ValueType generalize(const ir::ValueType& a, const ir::ValueType& b) {
  ir::ValueType t;
  t.dtype = a.dtype == b.dtype ? a.dtype : DataType::kUndefined;
  if (a.shape.rank_known() && b.shape.rank_known() && a.shape.rank() == b.shape.rank()) {
    std::vector<Dim> dims;
    for (size_t k = 0; k < a.shape.rank(); ++k)
      dims.push_back(a.shape[k] == b.shape[k] ? a.shape[k] : Dim::unknown());
    t.shape = Dims(std::move(dims));
  }
  return t;
}

// Types a subgraph's inputs get from the node (only where the body declares less).
void seed_input(ir::Value* v, const ir::ValueType& t) {
  if (v == nullptr) return;
  if (v->type.kind == ir::ValueKind::kUnknown) v->type.kind = ir::ValueKind::kTensor;
  if (v->type.kind != ir::ValueKind::kTensor) return;
  if (!v->type.known()) v->type.dtype = t.dtype;
  if (!v->type.shape.rank_known()) v->type.shape = t.shape;
}

ir::ValueType tensor_type(DataType dtype, Dims shape) {
  ir::ValueType t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  return t;
}

void Driver::control_flow(ir::Node& n, const OpSchema& schema, InferContext& ctx) {
  const std::string& op = n.op_type();
  auto out_type = [](const ir::Graph* g, size_t i) -> ir::ValueType {
    return g && i < g->outputs().size() ? g->outputs()[i]->type : ir::ValueType{};
  };
  if (op == "If") {
    ir::Graph* then_g = const_cast<ir::Graph*>(ctx.attr_graph("then_branch"));
    ir::Graph* else_g = const_cast<ir::Graph*>(ctx.attr_graph("else_branch"));
    ++in_branch;
    if (then_g) graph(*then_g);
    if (else_g) graph(*else_g);
    --in_branch;
    for (size_t i = 0; i < n.outputs().size(); ++i) {
      ir::ValueType t = generalize(out_type(then_g, i), out_type(else_g, i));
      ctx.set_output(i, t.dtype, t.shape);
    }
    return;
  }
  if (op == "Loop") {
    ir::Graph* body = const_cast<ir::Graph*>(ctx.attr_graph("body"));
    if (body == nullptr) return;
    const size_t carried = n.inputs().size() >= 2 ? n.inputs().size() - 2 : 0;
    const auto& in = body->inputs();
    if (in.size() > 0) seed_input(in[0], tensor_type(DataType::kInt64, Dims::of({})));
    if (in.size() > 1) seed_input(in[1], tensor_type(DataType::kBool, Dims::of({})));
    for (size_t k = 0; k < carried && 2 + k < in.size(); ++k) {
      // A carried value may change shape between iterations: seed only its type and rank.
      ir::ValueType t = ctx.input_type(2 + k);
      if (t.shape.rank_known()) t.shape = unknown_dims(static_cast<int64_t>(t.shape.rank()));
      seed_input(in[2 + k], t);
    }
    graph(*body);
    for (size_t i = 0; i < n.outputs().size(); ++i) {
      ir::ValueType b = out_type(body, 1 + i);
      if (i < carried) {
        ir::ValueType t = generalize(ctx.input_type(2 + i), b);
        ctx.set_output(i, t.dtype, t.shape);
      } else {
        Dims shape = Dims::unknown_rank();
        if (b.shape.rank_known()) {
          std::vector<Dim> dims{Dim::unknown()};
          dims.insert(dims.end(), b.shape.dims().begin(), b.shape.dims().end());
          shape = Dims(std::move(dims));
        }
        ctx.set_output(i, b.dtype, shape);
      }
    }
    return;
  }
  if (op == "Scan" && schema.since() >= 9) {
    ir::Graph* body = const_cast<ir::Graph*>(ctx.attr_graph("body"));
    if (body == nullptr) return;
    const int64_t m = ctx.attr_int("num_scan_inputs", 0);
    const size_t states = n.inputs().size() >= static_cast<size_t>(m) ? n.inputs().size() - m : 0;
    const std::vector<int64_t> in_axes = ctx.attr_ints("scan_input_axes");
    const std::vector<int64_t> out_axes = ctx.attr_ints("scan_output_axes");
    const auto& in = body->inputs();
    Dim length = Dim::unknown();
    for (size_t k = 0; k < n.inputs().size() && k < in.size(); ++k) {
      ir::ValueType t = ctx.input_type(k);
      if (k >= states && t.shape.rank_known()) {
        const int64_t r = static_cast<int64_t>(t.shape.rank());
        int64_t axis = k - states < in_axes.size() ? in_axes[k - states] : 0;
        if (axis < 0) axis += r;
        if (axis < 0 || axis >= r) continue;
        std::vector<Dim> dims = t.shape.dims();
        if (auto u = unify_dim(length, dims[axis]); u) length = *u;
        dims.erase(dims.begin() + axis);
        t.shape = Dims(std::move(dims));
      }
      seed_input(in[k], t);
    }
    graph(*body);
    for (size_t i = 0; i < n.outputs().size(); ++i) {
      ir::ValueType b = out_type(body, i);
      if (i < states || !b.shape.rank_known()) {
        ctx.set_output(i, b.dtype, b.shape);
        continue;
      }
      std::vector<Dim> dims = b.shape.dims();
      const int64_t r = static_cast<int64_t>(dims.size()) + 1;
      int64_t axis = i - states < out_axes.size() ? out_axes[i - states] : 0;
      if (axis < 0) axis += r;
      if (axis < 0 || axis >= r) continue;
      dims.insert(dims.begin() + axis, length);
      ctx.set_output(i, b.dtype, Dims(std::move(dims)));
    }
    return;
  }
  for (ir::Graph* g : n.subgraphs()) graph(*g);
}

void Driver::graph(ir::Graph& g) {
  for (ir::Node* n : g.nodes()) {
    node(*n);
    for (ir::Value* v : n->outputs()) {
      if (v == nullptr) continue;
      ++stats.values;
      if (v->type.known()) ++stats.typed;
      if (v->type.shape.rank_known()) {
        ++stats.rank_known;
        if (std::all_of(v->type.shape.dims().begin(), v->type.shape.dims().end(),
                        [](const Dim& d) { return d.is_static() || d.is_symbolic(); }))
          ++stats.fully_known;
      }
    }
  }
}

}  // namespace

void infer_shapes(ir::Graph& graph, const ShapeInferenceOptions& options,
                  std::vector<Status>& problems, ShapeInferenceStats* stats) {
  ShapeInferenceStats local;
  Driver d{options, problems, stats ? *stats : local, {}, {}};
  d.state.fallback_opset = options.fallback_opset;
  d.graph(graph);
}

}  // namespace kiln::ops
