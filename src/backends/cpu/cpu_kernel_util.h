// Small pieces shared by kiln's own CPU kernels (cpu.layernorm, cpu.softmax, cpu.eltwise).
#pragma once

#include <algorithm>
#include <cstdint>

#include "ir/graph.h"

// The binary targets baseline x86-64; hot loops get AVX-512 and AVX2 clones picked at load
// time by CPU (GCC function multiversioning). The loops are plain C++ written to vectorize.
#define KILN_CPU_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

namespace kiln::backends::cpu {

// Work per parallel range below which splitting costs more than it saves (floats touched).
inline constexpr int64_t kMinFloatsPerThread = 16384;

// Items of `per_item` floats each per parallel range.
inline int64_t grain_for(int64_t per_item) {
  return std::max<int64_t>(1, kMinFloatsPerThread / std::max<int64_t>(1, per_item));
}

// A present value whose type is known to be float32.
inline bool is_f32(const ir::Value* v) {
  return v != nullptr && v->type.known() && v->type.dtype == DataType::kFloat32;
}

}  // namespace kiln::backends::cpu
