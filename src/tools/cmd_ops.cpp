// `kiln ops [--json] [OP]`: the operators kiln supports, per opset.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "ops/op_schema.h"
#include "tools/commands.h"

namespace kiln::tools {
namespace {

struct OpsArgs {
  std::string op;
  bool json = false;
};

const char* arity_name(ops::Arity a) {
  switch (a) {
    case ops::Arity::kSingle:
      return "single";
    case ops::Arity::kOptional:
      return "optional";
    case ops::Arity::kVariadic:
      return "variadic";
  }
  return "single";
}

nlohmann::json io_json(const std::vector<ops::IoSpec>& specs) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& s : specs)
    a.push_back({{"name", s.name}, {"type_var", s.type_var}, {"arity", arity_name(s.arity)}});
  return a;
}

nlohmann::json schema_json(const ops::OpSchema& s) {
  nlohmann::json attrs = nlohmann::json::array();
  for (const auto& a : s.attrs()) {
    nlohmann::json d = nullptr;
    std::visit(
        [&](const auto& v) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(v)>, std::monostate>) d = v;
        },
        a.default_value);
    attrs.push_back({{"name", a.name},
                     {"type", ir::attr_type_name(a.type)},
                     {"required", a.required},
                     {"default", d},
                     {"allowed", a.allowed},
                     {"allowed_ints", a.allowed_ints}});
  }
  nlohmann::json types = nlohmann::json::object();
  for (const auto& tc : s.type_constraints()) {
    nlohmann::json t = nlohmann::json::array();
    for (DataType dt : tc.types) t.push_back(data_type_name(dt));
    types[tc.var] = t;
  }
  return {{"domain", s.domain()},
          {"op_type", s.op_type()},
          {"since", s.since()},
          {"until", s.until()},
          {"supported", s.is_supported()},
          {"unsupported_reason", s.unsupported_reason()},
          {"inputs", io_json(s.inputs())},
          {"outputs", io_json(s.outputs())},
          {"attributes", attrs},
          {"types", types},
          {"fusion", ops::fusion_kind_name(s.fusion_kind())}};
}

}  // namespace

Runner add_ops(CLI::App& app) {
  auto args = std::make_shared<OpsArgs>();
  CLI::App* cmd =
      app.add_subcommand("ops", "List the ONNX operators (and revisions) kiln supports.");
  cmd->add_option("op", args->op, "Show only this op type");
  cmd->add_flag("--json", args->json,
                "JSON output: {opset_range, ops:[{op_type, since, until, …}]}");
  return [args] {
    const auto& registry = ops::OpRegistry::builtin();
    std::vector<const ops::OpSchema*> schemas;
    for (const ops::OpSchema* s : registry.all())
      if (args->op.empty() || s->op_type() == args->op) schemas.push_back(s);
    if (!args->op.empty() && schemas.empty())
      return fail(err(Code::kUnknownOp, "op '", args->op, "' is not an operator kiln implements")
                      .with_fix("Run `kiln ops` for the full list."));
    if (args->json) {
      nlohmann::json a = nlohmann::json::array();
      for (const ops::OpSchema* s : schemas) a.push_back(schema_json(*s));
      nlohmann::json j = {{"opset_range", {ops::kMinOpset, ops::kMaxOpset}}, {"ops", a}};
      std::printf("%s\n", j.dump(2).c_str());
      return kExitOk;
    }
    std::printf("ai.onnx opsets %lld–%lld, %s version %lld\n",
                static_cast<long long>(ops::kMinOpset), static_cast<long long>(ops::kMaxOpset),
                std::string(ops::kTrainingDomain).c_str(),
                static_cast<long long>(ops::kTrainingOpset));
    for (const ops::OpSchema* s : schemas) {
      std::printf("  %-24s rev %-3lld opsets %2lld–%-2lld %-11s %s\n",
                  (s->domain().empty() ? s->op_type() : s->domain() + "::" + s->op_type()).c_str(),
                  static_cast<long long>(s->since()),
                  // ai.onnx revisions older than kiln's range serve from its first opset.
                  static_cast<long long>(s->domain().empty() ? std::max(s->since(), ops::kMinOpset)
                                                             : s->since()),
                  static_cast<long long>(s->until()), ops::fusion_kind_name(s->fusion_kind()),
                  s->is_supported() ? "" : ("unsupported: " + s->unsupported_reason()).c_str());
    }
    return kExitOk;
  };
}

}  // namespace kiln::tools
