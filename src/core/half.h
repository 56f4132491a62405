// IEEE binary16 <-> float32, shared by the reference kernels (ops::Half) and the engine
// file's FP16 weight storage.
#pragma once

#include <cstdint>

namespace kiln {

// Round to nearest even; overflow gives +-inf, NaN stays NaN, tiny values become subnormals or
// signed zero.
uint16_t half_from_float(float f);
// Exact (every binary16 value is a float32).
float float_from_half(uint16_t h);

}  // namespace kiln
