#include "tools/output.h"

#include <cstdio>

#include "tools/commands.h"

namespace kiln::tools {

nlohmann::json status_json(const Status& s) {
  nlohmann::json j = {{"code", s.code_str()},
                      {"category", category_name(s.category())},
                      {"severity", severity_name(s.severity())},
                      {"title", s.title()},
                      {"message", s.message()},
                      {"fix", s.fix()},
                      {"node", nullptr}};
  if (const NodeRef* n = s.node()) {
    j["node"] = {{"index", n->index},   {"name", n->name},   {"op_type", n->op_type},
                 {"domain", n->domain}, {"opset", n->opset}, {"graph", n->graph}};
  }
  return j;
}

int fail(const Status& status) {
  std::fprintf(stderr, "%s\n", status.to_string().c_str());
  return kExitError;
}

}  // namespace kiln::tools
