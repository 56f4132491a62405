#include "ops/kernel_util.h"

#include "core/half.h"

#include <bit>
#include <cmath>

namespace kiln::ops {

uint16_t Half::from_float(float f) {
  return half_from_float(f);
}

float Half::to_float(uint16_t h) {
  return float_from_half(h);
}

uint16_t BFloat16::from_float(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if (std::isnan(f)) return static_cast<uint16_t>((x >> 16) | 0x40u);
  const uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

float BFloat16::to_float(uint16_t b) {
  return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

std::vector<int64_t> strides_of(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

Result<std::vector<int64_t>> broadcast_shapes(const std::vector<std::vector<int64_t>>& shapes,
                                              std::string_view op) {
  size_t rank = 0;
  for (const auto& s : shapes) rank = std::max(rank, s.size());
  std::vector<int64_t> out(rank, 1);
  for (const auto& s : shapes) {
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t& o = out[rank - s.size() + i];
      const int64_t d = s[i];
      if (d == o || d == 1) continue;
      if (o == 1) {
        o = d;
        continue;
      }
      std::string all;
      for (const auto& x : shapes) all += (all.empty() ? "" : " and ") + Dims::of(x).to_string();
      return err(Code::kIncompatibleShapes, op, " cannot broadcast shapes ", all, ": dimension ",
                 s.size() - 1 - i, " from the right is ", o, " vs ", d);
    }
  }
  return out;
}

BroadcastIndexer::BroadcastIndexer(const std::vector<int64_t>& in_shape,
                                   const std::vector<int64_t>& out_shape)
    : out_dims_(out_shape), in_strides_(out_shape.size(), 0), identity_(in_shape == out_shape) {
  const std::vector<int64_t> s = strides_of(in_shape);
  const size_t offset = out_shape.size() - in_shape.size();
  for (size_t i = 0; i < in_shape.size(); ++i)
    in_strides_[offset + i] = in_shape[i] == 1 ? 0 : s[i];
}

int64_t BroadcastIndexer::operator()(int64_t out_index) const {
  if (identity_) return out_index;
  int64_t in = 0;
  for (size_t i = out_dims_.size(); i-- > 0;) {
    const int64_t d = out_dims_[i];
    in += (out_index % d) * in_strides_[i];
    out_index /= d;
  }
  return in;
}

Result<int64_t> normalize_axis(int64_t axis, int64_t rank, std::string_view op) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    return err(Code::kInvalidArgument, op, " axis ", axis, " is out of range for rank ", rank,
               " (valid: ", -rank, "..", rank - 1, ")");
  return axis < 0 ? axis + rank : axis;
}

Result<std::vector<int64_t>> read_int_values(const Tensor& t, std::string_view what) {
  std::vector<int64_t> v(static_cast<size_t>(t.numel()));
  if (t.dtype() == DataType::kInt64) {
    if (t.numel()) std::memcpy(v.data(), t.data(), v.size() * 8);
  } else if (t.dtype() == DataType::kInt32) {
    for (size_t i = 0; i < v.size(); ++i) v[i] = t.data_as<int32_t>()[i];
  } else {
    return err(Code::kTypeUnsupported, what, " must be int64 or int32, not ",
               data_type_name(t.dtype()));
  }
  return v;
}

Result<std::vector<int64_t>> read_integral_values(const Tensor& t, std::string_view what) {
  if (t.dtype() == DataType::kInt64 || t.dtype() == DataType::kInt32)
    return read_int_values(t, what);
  std::vector<int64_t> v(static_cast<size_t>(t.numel()));
  Status s = dispatch_numeric(t.dtype(), what, [&]<typename T>() -> Status {
    for (size_t i = 0; i < v.size(); ++i) {
      const double d = static_cast<double>(static_cast<compute_t<T>>(t.data_as<T>()[i]));
      // 2^63 is the first double beyond int64; the comparison also rejects NaN.
      if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != std::trunc(d))
        return err(Code::kInvalidArgument, what, " must hold integers, got ", d, " at index ", i);
      v[i] = static_cast<int64_t>(d);
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return v;
}

Result<double> read_scalar(const Tensor& t, std::string_view what) {
  if (t.numel() != 1)
    return err(Code::kInvalidArgument, what, " must hold one value, not ", t.numel());
  double out = 0;
  Status s = dispatch_numeric(t.dtype(), what, [&]<typename T>() -> Status {
    out = static_cast<double>(static_cast<compute_t<T>>(t.data_as<T>()[0]));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace kiln::ops
