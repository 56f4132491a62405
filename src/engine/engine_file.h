// Reading and writing .engine files (layout: docs/engine-format.md).
//
// The writer serializes EngineData and the model graph (subgraphs, attributes of every type,
// value types with symbolic dims) and puts every tensor's bytes (initializers at any depth,
// tensor attributes) into a 64-byte-aligned weight blob. The reader never trusts a size, count
// or offset before bounds-checking it against the file: a truncated, corrupted or forged file
// gives ENGINE_CORRUPT (K95xx), an engine from another format version or for a target this
// machine does not match gives ENGINE_INCOMPATIBLE (K90xx) naming both fingerprints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine_data.h"
#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::engine {

// Serializes an engine. `model` is the graph the layers belong to (layers.size() must equal
// model.graph->num_nodes(): INTERNAL otherwise).
Result<std::vector<uint8_t>> write_engine(const EngineData& data, const ir::Model& model);

// A read-only view of a whole engine file (an mmap of it, or memory the caller owns). The
// bytes must stay valid and unchanged while anything read from them is alive.
struct ByteSpan {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

// Validates the file — magic, format version, checksum, structure and bounds of everything,
// target compatibility with `host` — and decodes the metadata. Checks run in this order so the
// error names the real cause: magic (K9501), size (K9503), format version (K9001), checksum
// (K9502), structure (K9504), then target (K9002).
Result<EngineData> read_engine(ByteSpan file, const Fingerprint& host);

// Decodes the graph of an engine that read_engine accepted. Numeric tensors (initializers,
// tensor attributes) are borrowed views into `file` (no copy, read-only); string tensors are
// owned copies. Each call returns an independent Model, so callers can give a private copy to
// anything that annotates the graph (e.g. shape inference per execution context).
Result<std::unique_ptr<ir::Model>> read_engine_model(ByteSpan file);

// The fingerprint of this machine (CPU device, architecture, ISA features via cpuid).
const Fingerprint& host_fingerprint();

// What the engine needs that `host` does not offer (arch, device or ISA feature names), empty
// when compatible. Informational fields (cpu_name) are never compared.
std::vector<std::string> missing_capabilities(const Fingerprint& target, const Fingerprint& host);

// A file mapped read-only into memory (mmap). IO_ERROR codes when it cannot be opened or mapped.
class MappedFile {
 public:
  static Result<std::shared_ptr<const MappedFile>> open(const std::string& path);
  ~MappedFile();
  ByteSpan bytes() const { return {static_cast<const uint8_t*>(addr_), size_}; }

 private:
  MappedFile() = default;
  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace kiln::engine
