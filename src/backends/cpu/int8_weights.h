// Symmetric per-channel INT8 weights for the INT8 convolution and matmul tactics.
//
// Each output channel c gets w_scale[c] = max|w[c, …]| / 127 and w_q = round(w / w_scale[c])
// in [-127, 127] (never -128, so negating a product cannot overflow). With the input quantized
// per tensor, x_q = round(x / x_scale), the s32 accumulator of a channel times
// x_scale * w_scale[c] is the float32 result; oneDNN 2.x adds the bias to the accumulator
// before applying those output scales, so the bias is divided by them here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::backends::cpu {

struct QuantizedWeights {
  Tensor weights;                 // int8, the float weights' shape
  Tensor bias;                    // float32 [channels], in accumulator units; empty without bias
  std::vector<float> w_scales;    // per channel
  std::vector<float> out_scales;  // x_scale * w_scales[c]
};

// `w`: float32 weights whose output channels run along `axis`; `bias`: float32 [channels] or
// nullptr; `given`: per-channel scales to use instead of max|w| / 127 (an explicitly quantized
// model's own), ignored unless it holds one positive finite scale per channel.
// `x_zero_point`: the kernel reads x_q + x_zero_point (uint8) instead of x_q; the bias then
// takes back x_zero_point * sum(w_q) per channel (and exists even where `bias` is null). Exact
// only where every input the weights meet is real (no padding).
Result<QuantizedWeights> quantize_per_channel(const Tensor& w, size_t axis, const Tensor* bias,
                                              float x_scale, std::span<const float> given = {},
                                              int32_t x_zero_point = 0);

}  // namespace kiln::backends::cpu
