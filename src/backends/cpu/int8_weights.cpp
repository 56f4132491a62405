#include "backends/cpu/int8_weights.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace kiln::backends::cpu {

Result<QuantizedWeights> quantize_per_channel(const Tensor& w, size_t axis, const Tensor* bias,
                                              float x_scale, std::span<const float> given,
                                              int32_t x_zero_point) {
  const std::vector<int64_t>& shape = w.shape();
  // w viewed as [outer, channels, inner].
  size_t outer = 1, inner = 1;
  for (size_t i = 0; i < axis; ++i) outer *= static_cast<size_t>(shape[i]);
  for (size_t i = axis + 1; i < shape.size(); ++i) inner *= static_cast<size_t>(shape[i]);
  const size_t channels = static_cast<size_t>(shape[axis]);
  const float* src = w.data_as<float>();

  std::vector<float> amax(channels, 0.f);
  for (size_t o = 0; o < outer; ++o)
    for (size_t c = 0; c < channels; ++c) {
      const float* p = src + (o * channels + c) * inner;
      float m = amax[c];
      for (size_t i = 0; i < inner; ++i) m = std::max(m, std::fabs(p[i]));
      amax[c] = m;
    }

  const bool use_given =
      given.size() == channels &&
      std::all_of(given.begin(), given.end(), [](float s) { return s > 0 && std::isfinite(s); });
  QuantizedWeights q;
  q.w_scales.resize(channels);
  q.out_scales.resize(channels);
  std::vector<bool> dead(channels, false);
  for (size_t c = 0; c < channels; ++c) {
    q.w_scales[c] = use_given ? given[c] : amax[c] / 127.f;
    q.out_scales[c] = x_scale * q.w_scales[c];
    // An all-zero channel, or one so small that its output scale is not a normal float
    // (trained models carry pruned channels with weights ~1e-39: PP-OCR rec has 15), gets zero
    // weights and scale 1; a scale of 0 would turn its bias into inf and its output into NaN.
    if (amax[c] == 0 || !std::isnormal(q.out_scales[c]) || !std::isnormal(q.w_scales[c])) {
      dead[c] = true;
      q.w_scales[c] = 1.f;
      q.out_scales[c] = x_scale;
    }
  }
  KILN_ASSIGN_OR_RETURN(q.weights, Tensor::allocate(DataType::kInt8, shape));
  auto* dst = q.weights.data_as<int8_t>();
  for (size_t o = 0; o < outer; ++o)
    for (size_t c = 0; c < channels; ++c) {
      const size_t base = (o * channels + c) * inner;
      const float inv = dead[c] ? 0.f : 1.f / q.w_scales[c];
      for (size_t i = 0; i < inner; ++i) {
        const float v = std::nearbyint(src[base + i] * inv);
        dst[base + i] = static_cast<int8_t>(std::clamp(v, -127.f, 127.f));
      }
    }
  if (bias != nullptr || x_zero_point != 0) {
    KILN_ASSIGN_OR_RETURN(q.bias,
                          Tensor::allocate(DataType::kFloat32, {static_cast<int64_t>(channels)}));
    float* out = q.bias.data_as<float>();
    for (size_t c = 0; c < channels; ++c)
      out[c] = bias != nullptr ? bias->data_as<float>()[c] / q.out_scales[c] : 0.f;
    // The kernel reads x_q + zero_point: each channel's accumulator gains zero_point times the
    // sum of its weights, taken back here. An integer; in float32 like the rest of the bias, so
    // beyond 2^24 (layers of more than ~500 inputs per output) rounded by a few accumulator
    // units, less than one input step times one weight.
    if (x_zero_point != 0)
      for (size_t o = 0; o < outer; ++o)
        for (size_t c = 0; c < channels; ++c) {
          const int8_t* p = dst + (o * channels + c) * inner;
          int64_t sum = 0;
          for (size_t i = 0; i < inner; ++i) sum += p[i];
          out[c] -= static_cast<float>(sum * x_zero_point);
        }
  }
  return q;
}

}  // namespace kiln::backends::cpu
