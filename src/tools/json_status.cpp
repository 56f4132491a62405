#include "tools/json_status.h"

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

}  // namespace kiln::tools
