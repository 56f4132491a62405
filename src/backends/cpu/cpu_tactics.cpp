#include "backends/cpu/cpu_tactics.h"

namespace kiln::backends {

std::vector<const Tactic*> cpu_tactics() {
  return {
      &cpu_dnnl_conv_int8_tactic(),   &cpu_dnnl_conv_bf16_tactic(),   &cpu_dnnl_conv_tactic(),
      &cpu_dnnl_matmul_int8_tactic(), &cpu_dnnl_matmul_bf16_tactic(), &cpu_dnnl_matmul_tactic(),
      &cpu_attention_tactic(),        &cpu_dnnl_pool_tactic(),        &cpu_transpose_tactic(),
      &cpu_resize_tactic(),           &cpu_concat_tactic(),           &cpu_dnnl_deconv_tactic(),
      &cpu_layernorm_tactic(),        &cpu_softmax_tactic(),          &cpu_eltwise_tactic(),
      &cpu_reference_tactic(),
  };
}

}  // namespace kiln::backends
