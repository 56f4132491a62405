#include <memory>

#include "passes/pass.h"

namespace kiln::passes {

#define KILN_PASS(name, level, summary) std::unique_ptr<Pass> make_##name();
#include "passes/passes.def"
#undef KILN_PASS

const std::vector<PassInfo>& all_passes() {
  static const std::vector<PassInfo> passes = {
#define KILN_PASS(name, level, summary) {#name, level, summary, &make_##name},
#include "passes/passes.def"
#undef KILN_PASS
  };
  return passes;
}

const PassInfo* find_pass(std::string_view name) {
  for (const PassInfo& p : all_passes())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace kiln::passes
