#include "backends/cpu/cpu_tactics.h"

namespace kiln::backends {

std::vector<const Tactic*> cpu_tactics() {
  return {
      &cpu_layernorm_tactic(),
      &cpu_softmax_tactic(),
      &cpu_eltwise_tactic(),
      &cpu_reference_tactic(),
  };
}

}  // namespace kiln::backends
