// The CPU backend's tactics, in preference order.
#pragma once

#include <vector>

#include "backends/backend.h"

namespace kiln::backends {

// "cpu.reference": the ops' reference kernels (every op kiln implements). Faster tactics join
// this list as they are written; the reference one stays last as the universal fallback.
std::vector<const Tactic*> cpu_tactics();

}  // namespace kiln::backends
