// The graph section: ir::Model <-> bytes, tensors' bytes in the weights section.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
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
  // Stores bytes made for the file (a converted copy); they live as long as the blob.
  uint64_t add_owned(std::vector<uint8_t> bytes);
  uint64_t size() const { return size_; }
  const std::vector<Part>& parts() const { return parts_; }

 private:
  std::vector<Part> parts_;
  std::deque<std::vector<uint8_t>> owned_;  // deque: elements never move
  std::map<std::pair<const void*, uint64_t>, uint64_t> seen_;
  uint64_t size_ = 0;
};

// Appends the graph section for `model` to `out`. Refuses (before writing anything useful) a
// model that ir::verify rejects, attribute kinds kiln's IR cannot hold (sparse tensors, type
// protos), tensors without data, and subgraphs nested deeper than kMaxGraphDepth.
// `half`: names of main-graph float32 initializers to store as float16 (tensor code
// kHalfStoredFloat32; values that float16 cannot hold exactly are refused as INTERNAL: the
// builder rounds them first).
Status encode_model(const ir::Model& model, std::vector<uint8_t>& out, WeightBlob& weights,
                    const std::set<std::string>& half = {});

// Tensor element code of a float32 tensor whose bytes are float16 (format version 3).
inline constexpr int32_t kHalfStoredFloat32 = -2;

// Rebuilds the model from the graph section of a file whose header `h` parse_header accepted.
// Numeric tensors borrow the file's bytes. Every count, id, enum, size and offset is checked:
// anything out of bounds or inconsistent is ENGINE_CORRUPT (K9504), and the rebuilt graph must
// pass ir::verify.
Result<std::unique_ptr<ir::Model>> decode_model(ByteSpan file, const format::Header& h);

}  // namespace kiln::engine::codec
