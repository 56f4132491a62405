// Output helpers shared by subcommands (JSON renderings; fail() is declared in commands.h).
#pragma once

#include <nlohmann/json.hpp>

#include "kiln/status.h"

namespace kiln::tools {

// {"code","category","severity","title","message","fix","node":{…}|null}
nlohmann::json status_json(const Status& s);

}  // namespace kiln::tools
