// Constants and header handling shared by the engine writer and reader (layout:
// docs/engine-format.md, summary in engine_file.h).
#pragma once

#include <cstdint>

#include "engine/engine_file.h"
#include "kiln/status.h"

namespace kiln::engine::format {

inline constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'E', 'N', 'G', '\0'};

// Bytes 0..31 (magic, version, header size, file size, checksum) keep their place in every
// format version, so any kiln can name the version of any engine and detect truncation.
inline constexpr uint64_t kOffVersion = 8;
inline constexpr uint64_t kOffHeaderSize = 12;
inline constexpr uint64_t kOffFileSize = 16;
inline constexpr uint64_t kOffChecksum = 24;
inline constexpr uint64_t kFrozenPrefix = 32;
inline constexpr uint64_t kOffSections = 32;
inline constexpr uint64_t kNumSections = 3;  // metadata, graph, weights
inline constexpr uint32_t kHeaderSize = kOffSections + kNumSections * 16;  // 80 in version 1

inline constexpr uint64_t kWeightAlignment = 64;
// Subgraph nesting the reader accepts (real models nest a few levels); bounds recursion.
inline constexpr int kMaxGraphDepth = 64;
// A value reference: (scope, index). scope 0 = the graph being decoded, 1 = its parent, ….
// An omitted optional input/output is (kAbsent, kAbsent).
inline constexpr uint32_t kAbsent = 0xFFFFFFFFu;

struct Section {
  uint64_t offset = 0;
  uint64_t size = 0;
};

struct Header {
  uint32_t version = 0;
  uint32_t header_size = 0;
  uint64_t file_size = 0;
  uint64_t checksum = 0;
  Section metadata, graph, weights;
};

// The frozen prefix: magic (K9501), size (K9503; a file longer than declared is K9504) and
// format version (K9001), in that order. Leaves the section table alone.
Result<Header> parse_header(ByteSpan file);

// Header size and section table of a version-1 header (K9504): sections in order, inside the
// file, weights 64-byte aligned. Run after the checksum so a damaged table reads as K9502.
Status parse_sections(ByteSpan file, Header& h);

// XXH3-64 of the whole file with the checksum field (bytes 24..31) read as zeros.
// `file.size` must be at least kFrozenPrefix.
uint64_t compute_checksum(ByteSpan file);

}  // namespace kiln::engine::format
