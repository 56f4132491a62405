// write_engine: header, metadata section, graph section, aligned weights.
#include <cstring>

#include "core/errors.h"
#include "engine/byte_io.h"
#include "engine/engine_format.h"
#include "engine/graph_codec.h"

namespace kiln::engine {
namespace {

void write_fingerprint(ByteWriter& w, const Fingerprint& f) {
  w.str(f.device);
  w.str(f.arch);
  w.str(f.cpu_name);
  w.count(f.features.size());
  for (const std::string& s : f.features) w.str(s);
}

Status write_metadata(ByteWriter& w, const EngineData& d) {
  w.str(d.kiln_version);
  w.str(d.build_options);
  write_fingerprint(w, d.built_on);
  write_fingerprint(w, d.target);
  w.count(d.layers.size());
  for (const Layer& l : d.layers) {
    w.str(l.tactic);
    w.str(l.precision);
    w.count(l.fused_from.size());
    for (const std::string& s : l.fused_from) w.str(s);
    w.count(l.params.size());
    w.raw(l.params.data(), l.params.size());
    w.count(l.packed.size());
    for (const std::string& s : l.packed) w.str(s);
  }
  w.count(d.profiles.size());
  for (size_t p = 0; p < d.profiles.size(); ++p) {
    const ProfilePlan& plan = d.profiles[p];
    w.count(plan.inputs.size());
    for (const auto& [name, range] : plan.inputs) {
      // One rank for all three shapes: the format cannot express a ragged range.
      if (range.opt.size() != range.min.size() || range.max.size() != range.min.size())
        return err(Code::kInternal, "write_engine: profile ", p, " input '", name,
                   "' has min/opt/max shapes of ranks ", range.min.size(), "/", range.opt.size(),
                   "/", range.max.size());
      w.str(name);
      w.count(range.min.size());
      for (int64_t v : range.min) w.i64(v);
      for (int64_t v : range.opt) w.i64(v);
      for (int64_t v : range.max) w.i64(v);
    }
    w.u64(plan.arena_bytes);
    w.u64(plan.naive_bytes);
    w.u64(plan.lower_bound_bytes);
    w.count(plan.slots.size());
    for (const TensorSlot& s : plan.slots) {
      w.str(s.value);
      w.u64(s.offset);
      w.u64(s.bytes);
      w.str(s.inplace_of);
      w.u8(s.dynamic ? 1 : 0);
    }
  }
  return Status::Ok();
}

void store_u32(std::vector<uint8_t>& f, uint64_t at, uint32_t v) {
  std::memcpy(&f[at], &v, 4);
}
void store_u64(std::vector<uint8_t>& f, uint64_t at, uint64_t v) {
  std::memcpy(&f[at], &v, 8);
}

}  // namespace

Result<std::vector<uint8_t>> write_engine(const EngineData& data, const ir::Model& model) {
  if (!model.graph) return err(Code::kInternal, "write_engine: the model has no graph");
  if (data.layers.size() != model.graph->num_nodes())
    return err(Code::kInternal, "write_engine: ", data.layers.size(), " layers for ",
               model.graph->num_nodes(), " main-graph nodes (one layer per node expected)");

  std::vector<uint8_t> metadata;
  ByteWriter mw(metadata);
  KILN_RETURN_IF_ERROR(write_metadata(mw, data));
  if (mw.overflowed())
    return err(Code::kUnsupportedFeature,
               "engine metadata holds a string or list longer than the format's 2^32 limit");
  std::vector<uint8_t> graph;
  codec::WeightBlob weights;
  KILN_RETURN_IF_ERROR(codec::encode_model(model, graph, weights, data.half_initializers));

  const uint64_t meta_off = format::kHeaderSize;
  const uint64_t graph_off = meta_off + metadata.size();
  const uint64_t a = format::kWeightAlignment;
  const uint64_t weights_off = (graph_off + graph.size() + a - 1) / a * a;
  const uint64_t file_size = weights_off + weights.size();

  std::vector<uint8_t> file;
  file.reserve(file_size);
  file.resize(format::kHeaderSize, 0);
  std::memcpy(file.data(), format::kMagic, sizeof format::kMagic);
  store_u32(file, format::kOffVersion, kFormatVersion);
  store_u32(file, format::kOffHeaderSize, format::kHeaderSize);
  store_u64(file, format::kOffFileSize, file_size);
  const uint64_t table[format::kNumSections][2] = {
      {meta_off, metadata.size()}, {graph_off, graph.size()}, {weights_off, weights.size()}};
  for (uint64_t i = 0; i < format::kNumSections; ++i) {
    store_u64(file, format::kOffSections + 16 * i, table[i][0]);
    store_u64(file, format::kOffSections + 16 * i + 8, table[i][1]);
  }
  file.insert(file.end(), metadata.begin(), metadata.end());
  file.insert(file.end(), graph.begin(), graph.end());
  file.resize(file_size, 0);  // zero padding before and between tensors
  for (const auto& part : weights.parts())
    std::memcpy(file.data() + weights_off + part.offset, part.data, part.bytes);
  restamp_checksum(file);
  return file;
}

}  // namespace kiln::engine
