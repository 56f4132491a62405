// ExecutionContext implementation: per-context state (profile, arena, input shapes, bindings,
// outputs of the last run) over a shared, immutable Program.
#pragma once

#include <memory>

#include "kiln/engine.h"
#include "runtime/program.h"

namespace kiln::runtime {

Result<std::unique_ptr<ExecutionContext>> make_context(std::shared_ptr<const Program> program);

}  // namespace kiln::runtime
