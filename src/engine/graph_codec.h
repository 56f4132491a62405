// The graph section: ir::Model <-> bytes, tensors' bytes in the weights section.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "engine/engine_format.h"
#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::engine::codec {

// The weights section being assembled: where each tensor's bytes will go. Bytes are copied
// only once, into the final file.
class WeightBlob {
 public:
  struct Part {
    const uint8_t* data;
    uint64_t offset;  // from the section start, a multiple of kWeightAlignment
    uint64_t bytes;
  };
  // Offset of `bytes` bytes at `data` in the section; the same storage is stored once.
  uint64_t add(const void* data, uint64_t bytes);
  uint64_t size() const { return size_; }
  const std::vector<Part>& parts() const { return parts_; }

 private:
  std::vector<Part> parts_;
  std::map<std::pair<const void*, uint64_t>, uint64_t> seen_;
  uint64_t size_ = 0;
};

// Appends the graph section for `model` to `out`. Refuses (before writing anything useful) a
// model that ir::verify rejects, attribute kinds kiln's IR cannot hold (sparse tensors, type
// protos), tensors without data, and subgraphs nested deeper than kMaxGraphDepth.
Status encode_model(const ir::Model& model, std::vector<uint8_t>& out, WeightBlob& weights);

// Rebuilds the model from the graph section of a file whose header `h` parse_header accepted.
// Numeric tensors borrow the file's bytes. Every count, id, enum, size and offset is checked:
// anything out of bounds or inconsistent is ENGINE_CORRUPT (K9504), and the rebuilt graph must
// pass ir::verify.
Result<std::unique_ptr<ir::Model>> decode_model(ByteSpan file, const format::Header& h);

}  // namespace kiln::engine::codec
