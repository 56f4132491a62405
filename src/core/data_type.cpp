#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <limits>

#include "kiln/types.h"

namespace kiln {
namespace {

using D = DataType;
//                     type                   name          onnx           bits float signed int
constexpr std::array<DataTypeInfo, kMaxDataType + 1> kTypes = {{
    {D::kUndefined,      "undefined",     "UNDEFINED",      0,  false, false, false},
    {D::kFloat32,        "float32",       "FLOAT",          32, true,  true,  false},
    {D::kUInt8,          "uint8",         "UINT8",          8,  false, false, true},
    {D::kInt8,           "int8",          "INT8",           8,  false, true,  true},
    {D::kUInt16,         "uint16",        "UINT16",         16, false, false, true},
    {D::kInt16,          "int16",         "INT16",          16, false, true,  true},
    {D::kInt32,          "int32",         "INT32",          32, false, true,  true},
    {D::kInt64,          "int64",         "INT64",          64, false, true,  true},
    {D::kString,         "string",        "STRING",         0,  false, false, false},
    {D::kBool,           "bool",          "BOOL",           8,  false, false, false},
    {D::kFloat16,        "float16",       "FLOAT16",        16, true,  true,  false},
    {D::kFloat64,        "float64",       "DOUBLE",         64, true,  true,  false},
    {D::kUInt32,         "uint32",        "UINT32",         32, false, false, true},
    {D::kUInt64,         "uint64",        "UINT64",         64, false, false, true},
    {D::kComplex64,      "complex64",     "COMPLEX64",      64, true,  true,  false},
    {D::kComplex128,     "complex128",    "COMPLEX128",     128, true, true,  false},
    {D::kBFloat16,       "bfloat16",      "BFLOAT16",       16, true,  true,  false},
    {D::kFloat8E4M3FN,   "float8e4m3fn",  "FLOAT8E4M3FN",   8,  true,  true,  false},
    {D::kFloat8E4M3FNUZ, "float8e4m3fnuz","FLOAT8E4M3FNUZ", 8,  true,  true,  false},
    {D::kFloat8E5M2,     "float8e5m2",    "FLOAT8E5M2",     8,  true,  true,  false},
    {D::kFloat8E5M2FNUZ, "float8e5m2fnuz","FLOAT8E5M2FNUZ", 8,  true,  true,  false},
    {D::kUInt4,          "uint4",         "UINT4",          4,  false, false, true},
    {D::kInt4,           "int4",          "INT4",           4,  false, true,  true},
    {D::kFloat4E2M1,     "float4e2m1",    "FLOAT4E2M1",     4,  true,  true,  false},
}};

constexpr bool table_in_enum_order() {
  for (size_t i = 0; i < kTypes.size(); ++i)
    if (static_cast<size_t>(kTypes[i].type) != i) return false;
  return true;
}
static_assert(table_in_enum_order(), "kTypes must be indexed by the DataType value");

std::string lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
  return r;
}

}  // namespace

const DataTypeInfo* data_type_info(int32_t onnx_type) {
  if (onnx_type < 0 || onnx_type > kMaxDataType) return nullptr;
  return &kTypes[static_cast<size_t>(onnx_type)];
}

const DataTypeInfo& data_type_info(DataType type) {
  const DataTypeInfo* info = data_type_info(static_cast<int32_t>(type));
  if (info == nullptr) std::abort();  // a DataType outside the enum is an internal bug
  return *info;
}

const char* data_type_name(DataType type) {
  const DataTypeInfo* info = data_type_info(static_cast<int32_t>(type));
  return info ? info->name : "invalid";
}

std::optional<DataType> parse_data_type(std::string_view name) {
  std::string n = lower(name);
  static constexpr std::pair<const char*, DataType> kAliases[] = {
      {"f32", D::kFloat32}, {"float", D::kFloat32},  {"f16", D::kFloat16}, {"half", D::kFloat16},
      {"bf16", D::kBFloat16}, {"f64", D::kFloat64},  {"double", D::kFloat64}, {"i8", D::kInt8},
      {"u8", D::kUInt8},     {"i16", D::kInt16},     {"u16", D::kUInt16}, {"i32", D::kInt32},
      {"u32", D::kUInt32},   {"i64", D::kInt64},     {"u64", D::kUInt64}};
  for (const auto& [alias, type] : kAliases)
    if (n == alias) return type;
  for (const DataTypeInfo& t : kTypes) {
    if (t.type == D::kUndefined) continue;
    if (n == t.name || n == lower(t.onnx_name)) return t.type;
  }
  return std::nullopt;
}

std::optional<size_t> data_type_bytes(DataType type, int64_t count) {
  const DataTypeInfo& info = data_type_info(type);
  if (info.bits == 0 || count < 0) return std::nullopt;
  const uint64_t n = static_cast<uint64_t>(count);
  if (info.bits < 8) {
    const uint64_t per_byte = 8 / static_cast<uint64_t>(info.bits);
    return static_cast<size_t>((n + per_byte - 1) / per_byte);
  }
  const uint64_t bytes = static_cast<uint64_t>(info.bits / 8);
  if (n > std::numeric_limits<uint64_t>::max() / bytes) return std::nullopt;
  if (n * bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<size_t>(n * bytes);
}

const char* device_kind_name(DeviceKind device) {
  return device == DeviceKind::kCuda ? "cuda" : "cpu";
}

}  // namespace kiln
