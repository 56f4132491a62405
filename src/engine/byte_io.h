// Little-endian encoding for .engine files: an appending writer and a bounded reader.
//
// The reader is built for hostile input. Every read checks the bytes left; a failed read
// records the first failure (with its file offset) and every later read returns zero/empty
// without advancing, so a decoder can run to a checkpoint and then ask ok(). Counts are
// checked against the bytes left (times the smallest encoding of one item) before the caller
// reserves anything, so a forged count can never cause an allocation the file cannot back.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::engine {

static_assert(std::endian::native == std::endian::little,
              "the engine format stores little-endian numbers and weights; borrowing weights from "
              "the file needs a little-endian host");

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}

  // Whether a string or list was too long for its u32 length (the output is then unusable).
  bool overflowed() const { return overflowed_; }

  void u8(uint8_t v) { out_.push_back(v); }
  // A u32 length or item count.
  void count(size_t n) {
    if (n > UINT32_MAX) overflowed_ = true;
    u32(static_cast<uint32_t>(n));
  }
  void u32(uint32_t v) { raw(&v, sizeof v); }
  void i32(int32_t v) { raw(&v, sizeof v); }
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void i64(int64_t v) { raw(&v, sizeof v); }
  void f32(float v) { raw(&v, sizeof v); }  // bit pattern: NaN payloads and -0 survive
  // u32 length, then the bytes (no terminator).
  void str(std::string_view s) {
    count(s.size());
    raw(s.data(), s.size());
  }
  void raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  size_t size() const { return out_.size(); }

 private:
  std::vector<uint8_t>& out_;
  bool overflowed_ = false;
};

class ByteReader {
 public:
  // `file_offset` is where `data` starts in the file, for messages only.
  ByteReader(const uint8_t* data, size_t size, uint64_t file_offset)
      : p_(data), left_(size), offset_(file_offset) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t left() const { return left_; }
  uint64_t offset() const { return offset_; }  // file offset of the next byte

  // Records a failure (the first one wins) and stops all further reading.
  void fail(std::string message) {
    if (!error_.empty()) return;
    error_ = message + " (at file offset " + std::to_string(offset_) + ")";
    left_ = 0;
  }

  // The next 4 bytes as an i32 without consuming them (0 when fewer are left).
  int32_t peek_i32() const {
    int32_t v = 0;
    if (left_ >= sizeof v) std::memcpy(&v, p_, sizeof v);
    return v;
  }
  uint8_t u8(const char* what) { return fixed<uint8_t>(what); }
  uint32_t u32(const char* what) { return fixed<uint32_t>(what); }
  int32_t i32(const char* what) { return fixed<int32_t>(what); }
  uint64_t u64(const char* what) { return fixed<uint64_t>(what); }
  int64_t i64(const char* what) { return fixed<int64_t>(what); }
  float f32(const char* what) { return fixed<float>(what); }
  bool boolean(const char* what) {
    uint8_t v = u8(what);
    if (v > 1) fail(std::string(what) + " is " + std::to_string(v) + ", not 0 or 1");
    return v == 1;
  }

  std::string str(const char* what) {
    uint32_t n = u32(what);
    if (!ok()) return {};
    if (n > left_) {
      fail(std::string(what) + ": string of " + std::to_string(n) + " bytes, only " +
           std::to_string(left_) + " left in the section");
      return {};
    }
    std::string s(reinterpret_cast<const char*>(p_), n);
    advance(n);
    return s;
  }

  // A u32 item count, refused unless `count * min_item_bytes` fits in what is left: the caller
  // may reserve `count` items right after. Returns 0 on failure.
  uint32_t count(const char* what, size_t min_item_bytes) {
    uint32_t n = u32(what);
    if (!ok()) return 0;
    if (min_item_bytes > 0 && n > left_ / min_item_bytes) {
      fail(std::string(what) + " is " + std::to_string(n) + ", but " + std::to_string(left_) +
           " bytes left in the section hold at most " + std::to_string(left_ / min_item_bytes));
      return 0;
    }
    return n;
  }

  // Pointer to the next n bytes (nullptr on failure) and skips them.
  const uint8_t* bytes(size_t n, const char* what) {
    if (!need(n, what)) return nullptr;
    const uint8_t* p = p_;
    advance(n);
    return p;
  }

 private:
  template <typename T>
  T fixed(const char* what) {
    T v{};
    if (!need(sizeof(T), what)) return v;
    std::memcpy(&v, p_, sizeof(T));
    advance(sizeof(T));
    return v;
  }
  bool need(size_t n, const char* what) {
    if (!ok()) return false;
    if (n > left_) {
      fail(std::string(what) + " needs " + std::to_string(n) + " bytes, only " +
           std::to_string(left_) + " left in the section");
      return false;
    }
    return true;
  }
  void advance(size_t n) {
    p_ += n;
    left_ -= n;
    offset_ += n;
  }

  const uint8_t* p_;
  size_t left_;
  uint64_t offset_;
  std::string error_;
};

}  // namespace kiln::engine
