// kiln/types.h — element types and (possibly symbolic) dimensions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

// Numbered exactly as onnx.TensorProto.DataType so importing is a range check, not a table.
enum class DataType : int32_t {
  kUndefined = 0,
  kFloat32 = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kFloat64 = 11,
  kUInt32 = 12,
  kUInt64 = 13,
  kComplex64 = 14,
  kComplex128 = 15,
  kBFloat16 = 16,
  kFloat8E4M3FN = 17,
  kFloat8E4M3FNUZ = 18,
  kFloat8E5M2 = 19,
  kFloat8E5M2FNUZ = 20,
  kUInt4 = 21,
  kInt4 = 22,
  kFloat4E2M1 = 23,
};
inline constexpr int32_t kMaxDataType = 23;

struct DataTypeInfo {
  DataType type;
  const char* name;       // kiln / numpy-style spelling: "float32", "int4"
  const char* onnx_name;  // "FLOAT", "INT4"
  int bits;               // storage bits per element; 0 for string
  bool is_float;
  bool is_signed;
  bool is_integer;
};

// nullptr for numbers outside ONNX's DataType enum.
const DataTypeInfo* data_type_info(int32_t onnx_type);
const DataTypeInfo& data_type_info(DataType type);
const char* data_type_name(DataType type);
std::optional<DataType> parse_data_type(std::string_view name);  // "float32", "FLOAT", "f32"
// Bytes for n elements (packed for sub-byte types); nullopt on overflow or for strings.
std::optional<size_t> data_type_bytes(DataType type, int64_t count);

// Where an engine runs.
enum class DeviceKind : uint8_t { kCpu = 0, kCuda };
const char* device_kind_name(DeviceKind device);  // "cpu", "cuda"

// One dimension: a known size, a named symbol ("batch"), or unknown.
struct Dim {
  int64_t value = -1;  // >= 0 when known
  std::string symbol;  // non-empty when symbolic

  static Dim fixed(int64_t v) { return Dim{v, {}}; }
  static Dim symbolic(std::string name) { return Dim{-1, std::move(name)}; }
  static Dim unknown() { return Dim{}; }
  bool is_static() const { return value >= 0; }
  bool is_symbolic() const { return value < 0 && !symbol.empty(); }
  bool operator==(const Dim&) const = default;
  std::string to_string() const;  // "3", "batch", "?"
};

// A shape whose rank may itself be unknown.
class Dims {
 public:
  Dims() = default;  // unknown rank
  explicit Dims(std::vector<Dim> dims) : dims_(std::move(dims)), rank_known_(true) {}
  static Dims of(const std::vector<int64_t>& sizes);
  static Dims unknown_rank() { return Dims(); }

  bool rank_known() const { return rank_known_; }
  size_t rank() const { return dims_.size(); }
  const Dim& operator[](size_t i) const { return dims_[i]; }
  Dim& operator[](size_t i) { return dims_[i]; }
  const std::vector<Dim>& dims() const { return dims_; }
  bool is_static() const;
  // Sizes if every dim is static.
  std::optional<std::vector<int64_t>> static_sizes() const;
  // Element count of a static shape; nullopt if dynamic or it overflows int64.
  std::optional<int64_t> numel() const;
  bool operator==(const Dims&) const = default;
  std::string to_string() const;  // "[batch,3,224,224]", "[]" scalar, "?" unknown rank

 private:
  std::vector<Dim> dims_;
  bool rank_known_ = false;
};

// Checked product of sizes; nullopt on a negative size or int64 overflow.
std::optional<int64_t> checked_numel(const std::vector<int64_t>& sizes);

}  // namespace kiln
