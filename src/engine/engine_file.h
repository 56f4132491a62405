// Reading and writing .engine files (full spec: docs/engine-format.md).
//
// The writer serializes EngineData and the model graph (subgraphs, attributes of every type,
// value types with symbolic dims) and puts every tensor's bytes (initializers at any depth,
// tensor attributes) into a 64-byte-aligned weight blob. The reader never trusts a size, count
// or offset before bounds-checking it against the file: a truncated, corrupted or forged file
// gives ENGINE_CORRUPT (K95xx), an engine from another format version or for a target this
// machine does not match gives ENGINE_INCOMPATIBLE (K90xx) naming both fingerprints.
//
// Layout (format version 1; all numbers little-endian; str = u32 length + bytes):
//
//   offset size  field
//        0    8  magic "KILNENG\0"              ┐ bytes 0..31 keep their place in every
//        8    4  u32 format version (1)         │ format version, so any kiln can name an
//       12    4  u32 header size (80)           │ engine's version and detect truncation
//       16    8  u64 file size                  │
//       24    8  u64 checksum                   ┘
//       32   48  section table: metadata, graph, weights — u64 offset + u64 size each
//       80       metadata section: kiln version, build options (JSON), built_on and target
//                fingerprints, layers, profile plans
//                graph section: the ir::Model — model fields, then the main graph recursively
//                (value table with types, inputs, initializers, nodes with attributes, outputs);
//                value references are (scope levels up, index in that graph's value table)
//                weights section at a 64-byte-aligned file offset: each numeric tensor's bytes
//                at a 64-byte-aligned offset inside it (so from the file start too); string
//                tensors are stored inline in the graph section
//
// Checksum: XXH3-64 over the whole file with the checksum field (bytes 24..31) read as zeros.
// Sections follow one another in this order, each inside the file; each must be consumed
// exactly by its decoder.
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
// model.graph->num_nodes(): INTERNAL otherwise). The file always gets kFormatVersion
// (data.format_version is ignored). Refused: a graph ir::verify rejects (its error), sparse-tensor
// or type-proto attributes (UNSUPPORTED_NODE K2010: the IR keeps no value for them), tensors
// without data (INTERNAL), profile ranges whose min/opt/max ranks differ (INTERNAL).
Result<std::vector<uint8_t>> write_engine(const EngineData& data, const ir::Model& model);

// A read-only view of a whole engine file (an mmap of it, or memory the caller owns). The
// bytes must stay valid and unchanged while anything read from them is alive.
struct ByteSpan {
  const uint8_t* data = nullptr;
  size_t size = 0;
  // The bytes are a read-only mapping of the engine file: pages the reader only checksums are
  // handed back as it goes (clean file pages, re-read on demand), so checking a large engine
  // does not make all of it resident at once.
  bool file_backed = false;
};

// Validates the file — magic, format version, checksum, structure and bounds of everything,
// target compatibility with `host` — and decodes the metadata. Checks run in this order so the
// error names the real cause: magic (K9501), size (K9503), format version (K9001), checksum
// (K9502), structure (K9504), then target (K9002).
Result<EngineData> read_engine(ByteSpan file, const Fingerprint& host);
// The same checks except the target: for tools that describe engines built for other machines
// (kiln inspect), never for running one.
Result<EngineData> read_engine_any_target(ByteSpan file);

// Decodes the graph of an engine that read_engine accepted. Numeric tensors (initializers,
// tensor attributes) are borrowed views into `file` (no copy, read-only); string tensors are
// owned copies. Each call returns an independent Model, so callers can give a private copy to
// anything that annotates the graph (e.g. shape inference per execution context).
// Re-checks magic, size, version and the whole graph structure (safe on arbitrary bytes), but
// not the checksum: read_engine verifies that once per load. Numeric tensor pointers are
// 64-byte aligned when file.data is (an mmap is; a std::vector's buffer need not be).
Result<std::unique_ptr<ir::Model>> read_engine_model(ByteSpan file);

// Recomputes the checksum field of an engine image (no-op below 32 bytes). For tests and the
// fuzzer, which edit engines and still want the edits to reach the structure checks.
void restamp_checksum(std::vector<uint8_t>& file);

// The fingerprint of this machine (CPU device, architecture, ISA features via cpuid).
const Fingerprint& host_fingerprint();

// What the engine needs that `host` does not offer (arch, device or ISA feature names), empty
// when compatible. Informational fields (cpu_name) are never compared.
std::vector<std::string> missing_capabilities(const Fingerprint& target, const Fingerprint& host);

// Hands the whole pages inside [data, data + bytes) back to the kernel (MADV_PAGEOUT): clean
// pages of a file mapping are dropped and re-read on demand, anonymous ones kept or swapped —
// no data is ever lost, only residency. Neighbouring partial pages stay. Failure is harmless.
void release_pages(const void* data, size_t bytes);

// A file mapped read-only into memory (mmap). IO_ERROR codes when it cannot be opened or mapped.
class MappedFile {
 public:
  static Result<std::shared_ptr<const MappedFile>> open(const std::string& path);
  ~MappedFile();
  ByteSpan bytes() const { return {static_cast<const uint8_t*>(addr_), size_, true}; }

 private:
  MappedFile() = default;
  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace kiln::engine
