// Turns validated engine bytes into a Program: graph decoded (weights borrowed from the file),
// every layer bound to its tactic's prepared kernel, values numbered, slots resolved per
// profile. Anything inconsistent is ENGINE_CORRUPT (K9504) — a file can pass its checksum and
// still be forged.
#include <limits>

#include "core/errors.h"
#include "runtime/program.h"

namespace kiln::runtime {
namespace {

Status malformed(const std::string& what) {
  return err(Code::kEngineMalformed, "engine is inconsistent: ", what);
}

std::vector<int64_t> io_shape(const ir::ValueType& t) {
  std::vector<int64_t> s;
  if (!t.shape.rank_known()) return s;
  for (size_t i = 0; i < t.shape.rank(); ++i)
    s.push_back(t.shape[i].is_static() ? t.shape[i].value : -1);
  return s;
}

Status add_value(Program& p, const ir::Value* v, ValueRole role) {
  if (p.id_of.count(v)) return Status::Ok();
  ValueInfo info;
  info.value = v;
  info.role = role;
  p.id_of[v] = static_cast<int>(p.values.size());
  p.values.push_back(info);
  return Status::Ok();
}

Status resolve_profiles(Program& p) {
  const ir::Graph& g = *p.model->graph;
  for (size_t k = 0; k < p.data.profiles.size(); ++k) {
    const engine::ProfilePlan& plan = p.data.profiles[k];
    ProfileInfo info;
    info.arena_bytes = plan.arena_bytes;
    info.slots.resize(p.values.size());
    for (int id : p.inputs) {
      const std::string& name = p.values[id].value->name();
      const engine::ShapeRange* r = nullptr;
      for (const auto& [n, range] : plan.inputs)
        if (n == name) r = &range;
      if (r == nullptr)
        return malformed("profile " + std::to_string(k) + " has no range for '" + name + "'");
      const size_t rank = r->min.size();
      if (r->opt.size() != rank || r->max.size() != rank)
        return malformed("profile " + std::to_string(k) + " range of '" + name + "' mixes ranks");
      for (size_t d = 0; d < rank; ++d)
        if (r->min[d] < 0 || r->min[d] > r->opt[d] || r->opt[d] > r->max[d])
          return malformed("profile " + std::to_string(k) + " range of '" + name +
                           "' is unordered");
      info.ranges.push_back(*r);
    }
    for (const engine::TensorSlot& s : plan.slots) {
      const ir::Value* v = g.find(s.value);
      const int id = v ? p.value_id(v) : -1;
      if (id < 0 || p.values[id].role != ValueRole::kActivation)
        return malformed("profile " + std::to_string(k) + " plans '" + s.value +
                         "', which is not an activation");
      Slot& slot = info.slots[id];
      if (s.dynamic) continue;
      if (s.offset % engine::kArenaAlignment != 0 || s.bytes > plan.arena_bytes ||
          s.offset > plan.arena_bytes - s.bytes)
        return malformed("slot of '" + s.value + "' lies outside the arena");
      slot.planned = true;
      slot.offset = s.offset;
      slot.bytes = s.bytes;
      if (!s.inplace_of.empty()) {
        const ir::Value* src = g.find(s.inplace_of);
        const int sid = src ? p.value_id(src) : -1;
        if (sid < 0 || p.values[sid].role != ValueRole::kActivation)
          return malformed("'" + s.value + "' reuses '" + s.inplace_of + "', not an activation");
        slot.inplace_of = sid;
      }
    }
    // In-place pairs must share memory; anything else would let a kernel read what it wrote.
    for (size_t id = 0; id < info.slots.size(); ++id) {
      const Slot& s = info.slots[id];
      if (s.inplace_of < 0) continue;
      const Slot& src = info.slots[s.inplace_of];
      if (!src.planned || src.offset != s.offset)
        return malformed("in-place pair '" + p.values[id].value->name() +
                         "' does not share memory");
    }
    p.profiles.push_back(std::move(info));
  }
  if (p.profiles.empty()) return malformed("no optimization profile");
  return Status::Ok();
}

}  // namespace

Status load_program(Program& p, Logger* logger) {
  KILN_ASSIGN_OR_RETURN(p.data, engine::read_engine(p.bytes, engine::host_fingerprint()));
  DeviceKind kind = DeviceKind::kCpu;
  if (p.data.target.device == "cuda")
    kind = DeviceKind::kCuda;
  else if (p.data.target.device != "cpu")
    return err(Code::kEngineTargetMismatch, "engine targets device '", p.data.target.device,
               "', which this kiln does not know; rebuild the engine on this machine");
  KILN_ASSIGN_OR_RETURN(p.device, backends::device_for(kind));
  KILN_ASSIGN_OR_RETURN(p.model, engine::read_engine_model(p.bytes));
  const ir::Graph& g = *p.model->graph;
  const std::vector<ir::Node*> nodes = g.nodes();
  if (nodes.size() != p.data.layers.size())
    return malformed(std::to_string(p.data.layers.size()) + " layers for " +
                     std::to_string(nodes.size()) + " graph nodes");

  for (const ir::Value* v : g.inputs())
    add_value(p, v, v->is_initializer() ? ValueRole::kWeight : ValueRole::kInput);
  for (const ir::Value* v : g.initializers()) add_value(p, v, ValueRole::kWeight);
  for (const ir::Node* n : nodes)
    for (const ir::Value* v : n->outputs())
      if (v != nullptr) add_value(p, v, ValueRole::kActivation);

  for (const ir::Value* v : g.inputs()) {
    const int id = p.value_id(v);
    if (p.values[id].role != ValueRole::kInput) continue;
    p.values[id].io_index = static_cast<int>(p.io.size());
    p.inputs.push_back(id);
    p.io.push_back({v->name(), TensorIOMode::kInput, v->type.dtype, io_shape(v->type)});
  }
  for (const ir::Value* v : g.outputs()) {
    const int id = p.value_id(v);
    if (id < 0) return malformed("graph output '" + v->name() + "' is never defined");
    if (p.values[id].is_output) continue;  // listed twice
    p.values[id].is_output = true;
    p.values[id].io_index = static_cast<int>(p.io.size());
    p.outputs.push_back(id);
    p.io.push_back({v->name(), TensorIOMode::kOutput, v->type.dtype, io_shape(v->type)});
  }

  for (size_t i = 0; i < nodes.size(); ++i) {
    const ir::Node& n = *nodes[i];
    const engine::Layer& layer = p.data.layers[i];
    Step step;
    step.node = &n;
    step.schema = ops::OpRegistry::builtin().find(n.domain(), n.op_type(),
                                                  ops::effective_opset(n.domain(), n.opset()));
    if (step.schema == nullptr)
      return err(Code::kEngineTargetMismatch, "layer ", i, " runs ", n.op_type(), " (opset ",
                 n.opset(), "), which this kiln does not implement; rebuild the engine with it")
          .with_node(n.ref());
    const backends::Tactic* tactic = p.device->find_tactic(layer.tactic);
    if (tactic == nullptr)
      return err(Code::kEngineTargetMismatch, "layer ", i, " uses tactic '", layer.tactic,
                 "', which this kiln does not have; rebuild the engine on this machine")
          .with_node(n.ref());
    std::vector<const Tensor*> packed;
    for (const std::string& name : layer.packed) {
      const ir::Value* v = g.find(name);  // read_engine checked: a 1-D uint8 initializer
      if (v == nullptr || v->initializer() == nullptr)
        return malformed("packed constant '" + name + "' is not an initializer");
      packed.push_back(v->initializer());
    }
    KILN_ASSIGN_OR_RETURN(step.kernel,
                          tactic->prepare_packed(n, *step.schema, layer.params, packed));
    step.tactic = std::string(tactic->name());
    if (!layer.params.empty()) step.tactic += " " + tactic->describe(layer.params);
    for (const ir::Value* v : n.inputs()) {
      const int id = v ? p.value_id(v) : -1;
      if (v != nullptr && id < 0) return malformed("node input '" + v->name() + "' is undefined");
      step.inputs.push_back(id);
    }
    for (const ir::Value* v : n.outputs()) step.outputs.push_back(v ? p.value_id(v) : -1);
    // Captured outer values count as reads: a subgraph may read them while this layer runs.
    for (const ir::Value* v : n.dependencies()) {
      const int id = p.value_id(v);
      if (id >= 0) p.values[id].last_step = static_cast<int64_t>(i);
    }
    p.steps.push_back(std::move(step));
  }
  for (size_t id = 0; id < p.values.size(); ++id) {
    ValueInfo& v = p.values[id];
    if (v.is_output || v.role == ValueRole::kWeight) continue;
    if (v.last_step >= 0) p.steps[v.last_step].release.push_back(static_cast<int>(id));
  }
  // Packing at load ran on this thread's workers; nothing should spin once loading is done.
  p.device->run_finished();
  KILN_RETURN_IF_ERROR(resolve_profiles(p));
  if (logger != nullptr)
    logger->log(LogSeverity::kInfo,
                str("engine: ", p.steps.size(), " layers, ", p.profiles.size(), " profile(s), ",
                    p.inputs.size(), " inputs, ", p.outputs.size(), " outputs"));
  return Status::Ok();
}

}  // namespace kiln::runtime
