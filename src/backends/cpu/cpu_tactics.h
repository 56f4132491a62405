// The CPU backend's tactics, in preference order.
#pragma once

#include <vector>

#include "backends/backend.h"

namespace kiln::backends {

// The fast tactics first (each supports only the layers it is fast for), then "cpu.reference":
// the ops' reference kernels (every op kiln implements), the universal fallback and the oracle
// the others are tested against.
std::vector<const Tactic*> cpu_tactics();

// kiln's own float32 kernels (layernorm_tactic.cpp, softmax_tactic.cpp, eltwise_tactic.cpp).
const Tactic& cpu_layernorm_tactic();
const Tactic& cpu_softmax_tactic();
const Tactic& cpu_eltwise_tactic();

const Tactic& cpu_reference_tactic();
const Tactic& cpu_dnnl_conv_tactic();
// INT8 layers the builder calibrated (int8_x_scale set); dnnl_conv_tactic.cpp,
// dnnl_matmul_tactic.cpp.
const Tactic& cpu_dnnl_conv_int8_tactic();
const Tactic& cpu_dnnl_matmul_int8_tactic();
// BF16 layers the builder allowed (--bf16: attribute bf16), on CPUs with native BF16.
const Tactic& cpu_dnnl_conv_bf16_tactic();
const Tactic& cpu_dnnl_matmul_bf16_tactic();
const Tactic& cpu_dnnl_matmul_tactic();
const Tactic& cpu_attention_tactic();
const Tactic& cpu_dnnl_pool_tactic();
const Tactic& cpu_transpose_tactic();
const Tactic& cpu_resize_tactic();
const Tactic& cpu_concat_tactic();
const Tactic& cpu_dnnl_deconv_tactic();

}  // namespace kiln::backends
