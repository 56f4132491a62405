// read_engine and read_engine_model: every check in the documented order, nothing trusted
// before it is bounds-checked.
#include <cstdio>
#include <optional>
#include <string>

#include "core/errors.h"
#include "engine/byte_io.h"
#include "engine/engine_format.h"
#include "engine/graph_codec.h"
#include "kiln/tensor.h"

namespace kiln::engine {
namespace {

Fingerprint read_fingerprint(ByteReader& r) {
  Fingerprint f;
  f.device = r.str("fingerprint device");
  f.arch = r.str("fingerprint arch");
  f.cpu_name = r.str("fingerprint cpu_name");
  const uint32_t n = r.count("fingerprint feature count", 4);
  f.features.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) f.features.push_back(r.str("fingerprint feature"));
  return f;
}

std::vector<int64_t> read_dims(ByteReader& r, uint32_t rank) {
  std::vector<int64_t> v;
  v.reserve(rank);
  for (uint32_t i = 0; i < rank && r.ok(); ++i) v.push_back(r.i64("profile shape dim"));
  return v;
}

void read_metadata(ByteReader& r, EngineData& d) {
  d.kiln_version = r.str("kiln version");
  d.build_options = r.str("build options");
  d.built_on = read_fingerprint(r);
  d.target = read_fingerprint(r);
  const uint32_t n_layers = r.count("layer count", 5 * 4);
  d.layers.reserve(n_layers);
  for (uint32_t i = 0; i < n_layers && r.ok(); ++i) {
    Layer l;
    l.tactic = r.str("layer tactic");
    l.precision = r.str("layer precision");
    const uint32_t n_fused = r.count("layer fused_from count", 4);
    l.fused_from.reserve(n_fused);
    for (uint32_t k = 0; k < n_fused && r.ok(); ++k) l.fused_from.push_back(r.str("fused_from"));
    const uint32_t n_params = r.count("layer params size", 1);
    if (const uint8_t* p = r.bytes(n_params, "layer params")) l.params.assign(p, p + n_params);
    const uint32_t n_packed = r.count("layer packed count", 4);
    l.packed.reserve(n_packed);
    for (uint32_t k = 0; k < n_packed && r.ok(); ++k) l.packed.push_back(r.str("packed constant"));
    d.layers.push_back(std::move(l));
  }
  const uint32_t n_profiles = r.count("profile count", 4 + 3 * 8 + 4);
  d.profiles.reserve(n_profiles);
  for (uint32_t p = 0; p < n_profiles && r.ok(); ++p) {
    ProfilePlan plan;
    const uint32_t n_inputs = r.count("profile input count", 4 + 4);
    plan.inputs.reserve(n_inputs);
    for (uint32_t i = 0; i < n_inputs && r.ok(); ++i) {
      std::string name = r.str("profile input name");
      const uint32_t rank = r.count("profile input rank", 3 * 8);
      ShapeRange range;
      range.min = read_dims(r, rank);
      range.opt = read_dims(r, rank);
      range.max = read_dims(r, rank);
      plan.inputs.emplace_back(std::move(name), std::move(range));
    }
    plan.arena_bytes = r.u64("arena_bytes");
    plan.naive_bytes = r.u64("naive_bytes");
    plan.lower_bound_bytes = r.u64("lower_bound_bytes");
    const uint32_t n_slots = r.count("slot count", 4 + 8 + 8 + 4 + 1);
    plan.slots.reserve(n_slots);
    for (uint32_t i = 0; i < n_slots && r.ok(); ++i) {
      TensorSlot s;
      s.value = r.str("slot value");
      s.offset = r.u64("slot offset");
      s.bytes = r.u64("slot bytes");
      s.inplace_of = r.str("slot inplace_of");
      s.dynamic = r.boolean("slot dynamic");
      plan.slots.push_back(std::move(s));
    }
    d.profiles.push_back(std::move(plan));
  }
  if (r.ok() && r.left() != 0)
    r.fail(std::to_string(r.left()) + " unexpected bytes after the last profile");
}

std::string hex64(uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// What the runtime will index with: layers per node, profile inputs, arena slots.
Status check_against_graph(const EngineData& d, const ir::Graph& g) {
  auto bad = [](const auto&... args) {
    return err(Code::kEngineMalformed, "engine metadata: ", args...);
  };
  if (d.layers.size() != g.num_nodes())
    return bad(d.layers.size(), " layers for ", g.num_nodes(), " main-graph nodes");
  for (size_t i = 0; i < d.layers.size(); ++i)
    for (const std::string& name : d.layers[i].packed) {
      const ir::Value* v = g.find(name);
      const Tensor* t = v != nullptr && v->graph() == &g ? v->initializer() : nullptr;
      if (t == nullptr || t->dtype() != DataType::kUInt8 || t->rank() != 1)
        return bad("layer ", i, " names packed constant '", name,
                   "', which is not a 1-D uint8 initializer of the main graph");
    }
  for (size_t p = 0; p < d.profiles.size(); ++p) {
    const ProfilePlan& plan = d.profiles[p];
    for (const auto& [name, range] : plan.inputs) {
      const ir::Value* v = g.find(name);
      if (v == nullptr || !v->is_graph_input())
        return bad("profile ", p, " names '", name, "', which is not a graph input");
      const Dims& shape = v->type.shape;
      if (shape.rank_known() && shape.rank() == range.max.size())
        for (size_t i = 0; i < shape.rank(); ++i)
          if (shape[i].is_static() &&
              (range.min[i] != shape[i].value || range.max[i] != shape[i].value))
            return bad("profile ", p, " input '", name, "' dim ", i, " ranges over [", range.min[i],
                       ", ", range.max[i], "] but the graph fixes it to ", shape[i].value);
      for (size_t i = 0; i < range.min.size(); ++i)
        if (range.min[i] < 0 || range.min[i] > range.opt[i] || range.opt[i] > range.max[i])
          return bad("profile ", p, " input '", name, "' dim ", i, " has min/opt/max ",
                     range.min[i], "/", range.opt[i], "/", range.max[i],
                     " (need 0 <= min <= opt <= max)");
    }
    for (const TensorSlot& s : plan.slots) {
      const ir::Value* v = g.find(s.value);
      if (v == nullptr)
        return bad("profile ", p, " plans a slot for '", s.value, "', not a main-graph value");
      // A value whose type is fully static fits its slot: the builder sized the slot from that
      // same type. Kernels prepare for these shapes at load, so a graph edited to larger dims
      // would otherwise make them allocate for shapes no run can have.
      if (std::optional<uint64_t> need = v->type.static_bytes();
          !s.dynamic && need && *need > s.bytes)
        return bad("profile ", p, " slot '", s.value, "' holds ", s.bytes,
                   " bytes, but the graph types it ", data_type_name(v->type.dtype),
                   v->type.shape.to_string(), " (", *need, " bytes)");
      if (!s.inplace_of.empty() && g.find(s.inplace_of) == nullptr)
        return bad("profile ", p, " slot '", s.value, "' reuses '", s.inplace_of,
                   "', not a main-graph value");
      if (s.offset % kArenaAlignment != 0 || s.offset > plan.arena_bytes ||
          s.bytes > plan.arena_bytes - s.offset)
        return bad("profile ", p, " slot '", s.value, "' [", s.offset, ", +", s.bytes,
                   ") is not an aligned range of the ", plan.arena_bytes, "-byte arena");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<EngineData> read_engine_any_target(ByteSpan file) {
  KILN_ASSIGN_OR_RETURN(format::Header h, format::parse_header(file));
  const uint64_t actual = format::compute_checksum(file);
  if (actual != h.checksum)
    return err(Code::kEngineChecksumMismatch, "engine header records checksum ", hex64(h.checksum),
               " but the file's bytes hash to ", hex64(actual), " (XXH3-64)");
  KILN_RETURN_IF_ERROR(format::parse_sections(file, h));

  EngineData d;
  d.format_version = h.version;
  ByteReader r(file.data + h.metadata.offset, h.metadata.size, h.metadata.offset);
  read_metadata(r, d);
  if (!r.ok()) return err(Code::kEngineMalformed, "engine metadata section: ", r.error());
  // The graph is decoded (and thrown away) so a file accepted here is a file whose model
  // read_engine_model can rebuild, and the metadata can be checked against it.
  KILN_ASSIGN_OR_RETURN(auto model, codec::decode_model(file, h));
  KILN_RETURN_IF_ERROR(check_against_graph(d, *model->graph));
  return d;
}

Result<EngineData> read_engine(ByteSpan file, const Fingerprint& host) {
  KILN_ASSIGN_OR_RETURN(EngineData d, read_engine_any_target(file));
  std::vector<std::string> missing = missing_capabilities(d.target, host);
  if (!missing.empty()) {
    std::string list;
    for (const std::string& m : missing) list += (list.empty() ? "" : ", ") + m;
    return err(Code::kEngineTargetMismatch, "engine was built for ", d.target.to_string(),
               "; this machine is ", host.to_string(), "; missing: ", list,
               ". Rebuild the engine on this machine (kiln build)");
  }
  return d;
}

Result<std::unique_ptr<ir::Model>> read_engine_model(ByteSpan file) {
  // The checksum is read_engine's job (once per load); this runs per execution context and
  // re-checks everything else, which is what keeps it safe on arbitrary bytes.
  KILN_ASSIGN_OR_RETURN(format::Header h, format::parse_header(file));
  KILN_RETURN_IF_ERROR(format::parse_sections(file, h));
  return codec::decode_model(file, h);
}

}  // namespace kiln::engine
