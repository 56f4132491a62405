// Shared helpers for reference kernels: 16-bit float types, dtype dispatch, strides and
// NumPy-style broadcasting. Written for clarity first; the oracle must be obviously right.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "kiln/tensor.h"

namespace kiln::ops {

// IEEE binary16 storage with float conversion (round to nearest even).
struct Half {
  uint16_t bits = 0;
  Half() = default;
  explicit Half(float f) : bits(from_float(f)) {}
  operator float() const { return to_float(bits); }  // NOLINT: implicit by design
  static uint16_t from_float(float f);
  static float to_float(uint16_t h);
};

// bfloat16 storage: the top 16 bits of a float32 (round to nearest even; NaN stays NaN).
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  explicit BFloat16(float f) : bits(from_float(f)) {}
  operator float() const { return to_float(bits); }  // NOLINT: implicit by design
  static uint16_t from_float(float f);
  static float to_float(uint16_t b);
};

static_assert(sizeof(Half) == 2 && sizeof(BFloat16) == 2);

// The type arithmetic is done in: float for 16-bit floats, the type itself otherwise.
template <typename T>
using compute_t =
    std::conditional_t<std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>, float, T>;

template <typename T>
inline constexpr bool is_float_v =
    std::is_floating_point_v<T> || std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

// C++ storage type for a DataType (void for types without one: string, complex, 4/8-bit floats).
template <DataType D> struct storage;
#define KILN_STORAGE(D, T) \
  template <>              \
  struct storage<DataType::D> { using type = T; };
KILN_STORAGE(kFloat32, float)
KILN_STORAGE(kFloat64, double)
KILN_STORAGE(kFloat16, Half)
KILN_STORAGE(kBFloat16, BFloat16)
KILN_STORAGE(kInt8, int8_t)
KILN_STORAGE(kUInt8, uint8_t)
KILN_STORAGE(kInt16, int16_t)
KILN_STORAGE(kUInt16, uint16_t)
KILN_STORAGE(kInt32, int32_t)
KILN_STORAGE(kUInt32, uint32_t)
KILN_STORAGE(kInt64, int64_t)
KILN_STORAGE(kUInt64, uint64_t)
KILN_STORAGE(kBool, bool)
#undef KILN_STORAGE

template <typename T> constexpr DataType data_type_of();
template <> constexpr DataType data_type_of<float>() { return DataType::kFloat32; }
template <> constexpr DataType data_type_of<double>() { return DataType::kFloat64; }
template <> constexpr DataType data_type_of<Half>() { return DataType::kFloat16; }
template <> constexpr DataType data_type_of<BFloat16>() { return DataType::kBFloat16; }
template <> constexpr DataType data_type_of<int8_t>() { return DataType::kInt8; }
template <> constexpr DataType data_type_of<uint8_t>() { return DataType::kUInt8; }
template <> constexpr DataType data_type_of<int16_t>() { return DataType::kInt16; }
template <> constexpr DataType data_type_of<uint16_t>() { return DataType::kUInt16; }
template <> constexpr DataType data_type_of<int32_t>() { return DataType::kInt32; }
template <> constexpr DataType data_type_of<uint32_t>() { return DataType::kUInt32; }
template <> constexpr DataType data_type_of<int64_t>() { return DataType::kInt64; }
template <> constexpr DataType data_type_of<uint64_t>() { return DataType::kUInt64; }
template <> constexpr DataType data_type_of<bool>() { return DataType::kBool; }

// Calls fn.template operator()<T>() with T the storage type of `dtype`, for the numeric types
// plus bool. Other types (string, complex, float8, 4-bit) → TypeUnsupported naming `op`.
//   return dispatch_numeric(x.dtype(), "Relu", [&]<typename T>() -> Status { ... });
template <typename F>
Status dispatch_numeric(DataType dtype, std::string_view op, F&& fn) {
  switch (dtype) {
    case DataType::kFloat32: return fn.template operator()<float>();
    case DataType::kFloat64: return fn.template operator()<double>();
    case DataType::kFloat16: return fn.template operator()<Half>();
    case DataType::kBFloat16: return fn.template operator()<BFloat16>();
    case DataType::kInt8: return fn.template operator()<int8_t>();
    case DataType::kUInt8: return fn.template operator()<uint8_t>();
    case DataType::kInt16: return fn.template operator()<int16_t>();
    case DataType::kUInt16: return fn.template operator()<uint16_t>();
    case DataType::kInt32: return fn.template operator()<int32_t>();
    case DataType::kUInt32: return fn.template operator()<uint32_t>();
    case DataType::kInt64: return fn.template operator()<int64_t>();
    case DataType::kUInt64: return fn.template operator()<uint64_t>();
    case DataType::kBool: return fn.template operator()<bool>();
    default:
      return err(Code::kTypeUnsupported, op, " has no reference kernel for ",
                 data_type_name(dtype));
  }
}

// Only the floating types (f16, bf16, f32, f64).
template <typename F>
Status dispatch_float(DataType dtype, std::string_view op, F&& fn) {
  switch (dtype) {
    case DataType::kFloat32: return fn.template operator()<float>();
    case DataType::kFloat64: return fn.template operator()<double>();
    case DataType::kFloat16: return fn.template operator()<Half>();
    case DataType::kBFloat16: return fn.template operator()<BFloat16>();
    default:
      return err(Code::kTypeUnsupported, op, " has no reference kernel for ",
                 data_type_name(dtype), " (floating-point types only)");
  }
}

// Row-major strides in elements.
std::vector<int64_t> strides_of(const std::vector<int64_t>& shape);

// NumPy (multidirectional) broadcasting of several shapes; IncompatibleShapes when a dim pair
// differs and neither is 1. `op` names the operator in the message.
Result<std::vector<int64_t>> broadcast_shapes(const std::vector<std::vector<int64_t>>& shapes,
                                              std::string_view op);

// Maps linear indices of a broadcast output to linear indices of one input.
class BroadcastIndexer {
 public:
  BroadcastIndexer(const std::vector<int64_t>& in_shape, const std::vector<int64_t>& out_shape);
  int64_t operator()(int64_t out_index) const;

 private:
  std::vector<int64_t> out_dims_, in_strides_;  // in_strides_ 0 on broadcast dims
  bool identity_;
};

// Normalises a possibly negative axis into [0, rank); InvalidArgument naming `op` otherwise.
Result<int64_t> normalize_axis(int64_t axis, int64_t rank, std::string_view op);

// Reads an int64/int32 tensor's values (shape inputs, axes, pads …).
Result<std::vector<int64_t>> read_int_values(const Tensor& t, std::string_view what);
// Reads integer values held in any numeric tensor: ops before opset 7 passed counts and axes in
// float tensors (Split-1's split, Tile-1's tiles and axis). Non-integral or out-of-range values
// are InvalidArgument.
Result<std::vector<int64_t>> read_integral_values(const Tensor& t, std::string_view what);
// Reads a scalar (or one-element) tensor as double.
Result<double> read_scalar(const Tensor& t, std::string_view what);

}  // namespace kiln::ops
