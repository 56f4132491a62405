// `kiln passes [--level N] [--json]`: the optimizer's passes, in pipeline order, with the
// lowest optimization level that runs each (names for --disable-pass).
#include <cstdio>

#include "passes/pass_manager.h"
#include "tools/commands.h"
#include "tools/output.h"

namespace kiln::tools {

Runner add_passes(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  auto level = std::make_shared<int>(-1);
  CLI::App* cmd =
      app.add_subcommand("passes", "List the graph optimizer's passes (pipeline order).");
  cmd->add_flag("--json", *json, "Print [{name, level, summary}] as JSON");
  cmd->add_option("--level", *level, "Only the passes optimization level N runs");
  return [json, level] {
    nlohmann::json list = nlohmann::json::array();
    for (const passes::PassInfo& p : passes::all_passes()) {
      if (*level >= 0 && p.level > *level) continue;
      list.push_back({{"name", p.name}, {"level", p.level}, {"summary", p.summary}});
      if (!*json)
        std::printf("%-34s level %d  %.*s\n", std::string(p.name).c_str(), p.level,
                    static_cast<int>(p.summary.size()), p.summary.data());
    }
    if (*json) std::printf("%s\n", list.dump(2).c_str());
    return kExitOk;
  };
}

}  // namespace kiln::tools
