// The fixed header: magic, size, version, section table, checksum.
// The stack-allocated XXH3 state needs the struct definition.
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "core/errors.h"
#include "engine/engine_file.h"
#include "engine/engine_format.h"

namespace kiln::engine {
namespace format {
namespace {

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
uint64_t load_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The first bytes as hex, so a user can recognise what they passed instead.
std::string hex_prefix(ByteSpan file) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < file.size && i < 8; ++i) {
    if (i) s += ' ';
    s += kDigits[file.data[i] >> 4];
    s += kDigits[file.data[i] & 15];
  }
  return s;
}

Status bad_magic(ByteSpan file) {
  std::string hint;
  // An ONNX ModelProto almost always starts with field 1 (ir_version, varint): byte 0x08.
  if (file.size > 0 && file.data[0] == 0x08)
    hint =
        "; it looks like an ONNX model: build an engine from it first (kiln build model.onnx "
        "-o model.engine)";
  return err(Code::kEngineBadMagic,
             "file does not start with the kiln engine magic \"KILNENG\\0\" ",
             "(first bytes: ", hex_prefix(file), ")", hint);
}

Status section_error(const char* name, const Section& s, const std::string& why) {
  return err(Code::kEngineMalformed, "engine ", name, " section (offset ", s.offset, ", ", s.size,
             " bytes) ", why);
}

}  // namespace

Result<Header> parse_header(ByteSpan file) {
  if (file.size < sizeof kMagic) {
    if (file.size == 0 || std::memcmp(file.data, kMagic, file.size) == 0)
      return err(Code::kEngineTruncated, "engine file has only ", file.size,
                 " bytes; even its header needs ", kHeaderSize);
    return bad_magic(file);
  }
  if (std::memcmp(file.data, kMagic, sizeof kMagic) != 0) return bad_magic(file);
  if (file.size < kFrozenPrefix)
    return err(Code::kEngineTruncated, "engine file has only ", file.size,
               " bytes; even its header needs ", kHeaderSize);

  Header h;
  h.version = load_u32(file.data + kOffVersion);
  h.header_size = load_u32(file.data + kOffHeaderSize);
  h.file_size = load_u64(file.data + kOffFileSize);
  h.checksum = load_u64(file.data + kOffChecksum);
  if (h.file_size > file.size)
    return err(Code::kEngineTruncated, "engine header declares ", h.file_size,
               " bytes but the file has ", file.size, " (", h.file_size - file.size,
               " bytes missing)");
  if (h.file_size < file.size)
    return err(Code::kEngineMalformed, "engine file has ", file.size,
               " bytes but its header declares ", h.file_size, " (", file.size - h.file_size,
               " unexpected trailing bytes)");
  if (h.version != kFormatVersion)
    return err(Code::kEngineVersionMismatch, "engine format version ", h.version,
               ", this kiln reads ", kFormatVersion,
               "; rebuild the engine with this kiln (kiln build model.onnx -o model.engine)");

  return h;
}

Status parse_sections(ByteSpan file, Header& h) {
  // Version 1 layout from here on.
  if (h.header_size != kHeaderSize)
    return err(Code::kEngineMalformed, "engine header size is ", h.header_size, ", format version ",
               kFormatVersion, " has ", kHeaderSize);
  if (file.size < kHeaderSize)
    return err(Code::kEngineMalformed, "engine file of ", file.size, " bytes is smaller than its ",
               kHeaderSize, "-byte header");
  Section* sections[kNumSections] = {&h.metadata, &h.graph, &h.weights};
  const char* names[kNumSections] = {"metadata", "graph", "weights"};
  uint64_t previous_end = kHeaderSize;
  for (uint64_t i = 0; i < kNumSections; ++i) {
    Section& s = *sections[i];
    s.offset = load_u64(file.data + kOffSections + 16 * i);
    s.size = load_u64(file.data + kOffSections + 16 * i + 8);
    // Sections follow the header and each other in this order, inside the file.
    if (s.offset < previous_end)
      return section_error(
          names[i], s,
          "starts before the end of the previous part (byte " + std::to_string(previous_end) + ")");
    if (s.offset > h.file_size || s.size > h.file_size - s.offset)
      return section_error(
          names[i], s, "ends past the end of the file (" + std::to_string(h.file_size) + " bytes)");
    previous_end = s.offset + s.size;
  }
  if (h.weights.offset % kWeightAlignment != 0)
    return section_error("weights", h.weights, "is not 64-byte aligned");
  return Status::Ok();
}

uint64_t compute_checksum(ByteSpan file) {
  // Streaming gives the same hash as one call over a copy with the field zeroed, without the
  // copy (the file may be an mmap of hundreds of MB).
  static const uint8_t kZeros[8] = {};
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, file.data, kOffChecksum);
  XXH3_64bits_update(&state, kZeros, sizeof kZeros);
  // File mappings in chunks, each handed back after hashing (see ByteSpan::file_backed).
  constexpr size_t kChunk = size_t{8} << 20;
  const uint8_t* p = file.data + kFrozenPrefix;
  size_t left = file.size - kFrozenPrefix;
  while (left > 0) {
    const size_t n = file.file_backed ? std::min(left, kChunk) : left;
    XXH3_64bits_update(&state, p, n);
    if (file.file_backed) release_pages(p, n);
    p += n;
    left -= n;
  }
  return XXH3_64bits_digest(&state);
}

}  // namespace format

void restamp_checksum(std::vector<uint8_t>& file) {
  if (file.size() < format::kFrozenPrefix) return;
  uint64_t sum = format::compute_checksum({file.data(), file.size()});
  std::memcpy(file.data() + format::kOffChecksum, &sum, sizeof sum);
}

}  // namespace kiln::engine
