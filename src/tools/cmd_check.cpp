// `kiln check MODEL.onnx [--json] [--strict]`: every problem at once, before any build.
#include <cstdio>

#include "core/errors.h"
#include "kiln/kiln.h"
#include "onnx_import/checker.h"
#include "tools/commands.h"
#include "tools/output.h"

namespace kiln::tools {
namespace {

struct CheckArgs {
  std::string model;
  bool json = false;
  bool strict = false;
  bool shapes = false;
  bool no_onnx_checker = false;
};

std::string human_bytes(int64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string human_count(int64_t n) {
  char buf[32];
  if (n >= 1000000)
    std::snprintf(buf, sizeof buf, "%.1f M", static_cast<double>(n) / 1e6);
  else if (n >= 1000)
    std::snprintf(buf, sizeof buf, "%.1f k", static_cast<double>(n) / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  return buf;
}

nlohmann::json summary_json(const onnx_import::ModelSummary& s) {
  auto io = [](const std::vector<onnx_import::IoSummary>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& x : v)
      a.push_back({{"name", x.name}, {"type", x.type}, {"dynamic_dims", x.dynamic_dims}});
    return a;
  };
  nlohmann::json opsets = nlohmann::json::object();
  for (const auto& [d, v] : s.opsets) opsets[d.empty() ? "ai.onnx" : d] = v;
  nlohmann::json ops = nlohmann::json::object();
  for (const auto& [op, n] : s.op_counts) ops[op] = n;
  return {{"file_bytes", s.file_bytes},
          {"ir_version", s.ir_version},
          {"opsets", opsets},
          {"producer", s.producer},
          {"graph", s.graph_name},
          {"nodes", s.nodes},
          {"nodes_total", s.nodes_total},
          {"subgraphs", s.subgraphs},
          {"inputs", io(s.inputs)},
          {"outputs", io(s.outputs)},
          {"initializers", s.initializers},
          {"parameters", s.parameters},
          {"weight_bytes", s.weight_bytes},
          {"external_files", s.external_files},
          {"external_bytes", s.external_bytes},
          {"op_counts", ops},
          {"shapes",
           {{"values", s.shapes.values},
            {"typed", s.shapes.typed},
            {"rank_known", s.shapes.rank_known},
            {"fully_known", s.shapes.fully_known}}}};
}

void print_human(const onnx_import::CheckReport& r, const std::string& path) {
  std::printf("kiln check: %s\n", path.c_str());
  const auto& s = r.summary;
  if (r.parsed) {
    std::string opsets;
    for (const auto& [d, v] : s.opsets)
      opsets += (opsets.empty() ? "" : ", ") + (d.empty() ? std::string("ai.onnx") : d) + " " +
                std::to_string(v);
    std::printf("  model     IR %lld, opset %s%s%s\n", static_cast<long long>(s.ir_version),
                opsets.c_str(), s.producer.empty() ? "" : ", producer ", s.producer.c_str());
    std::printf("  size      %s file, %s parameters in %lld initializers (%s)\n",
                human_bytes(s.file_bytes).c_str(), human_count(s.parameters).c_str(),
                static_cast<long long>(s.initializers), human_bytes(s.weight_bytes).c_str());
    std::printf("  graph     '%s': %lld nodes", s.graph_name.c_str(),
                static_cast<long long>(s.nodes));
    if (s.subgraphs)
      std::printf(", %lld subgraphs (%lld nodes in all)", static_cast<long long>(s.subgraphs),
                  static_cast<long long>(s.nodes_total));
    std::printf("\n");
    for (const auto& in : s.inputs) {
      std::printf("  input     %s: %s", in.name.c_str(), in.type.c_str());
      if (!in.dynamic_dims.empty()) {
        std::string dims;
        for (size_t d : in.dynamic_dims) dims += (dims.empty() ? "" : ",") + std::to_string(d);
        std::printf("  (dynamic dims: %s)", dims.c_str());
      }
      std::printf("\n");
    }
    for (const auto& out : s.outputs)
      std::printf("  output    %s: %s\n", out.name.c_str(), out.type.c_str());
    std::string ops;
    for (const auto& [op, n] : s.op_counts)
      ops += (ops.empty() ? "" : ", ") + op + " x" + std::to_string(n);
    std::printf("  ops       %s\n", ops.empty() ? "(none)" : ops.c_str());
    std::printf(
        "  shapes    %lld of %lld node outputs fully known (static or symbolic dims), "
        "%lld with a known rank, %lld typed\n",
        static_cast<long long>(s.shapes.fully_known), static_cast<long long>(s.shapes.values),
        static_cast<long long>(s.shapes.rank_known), static_cast<long long>(s.shapes.typed));
    for (const auto& v : s.values)
      std::printf("    %s: %s  (%s)\n", v.name.c_str(), v.type.c_str(), v.op.c_str());
    if (!s.external_files.empty()) {
      std::string files;
      for (const auto& f : s.external_files) files += (files.empty() ? "" : ", ") + f;
      std::printf("  external  %s (%s)\n", files.c_str(), human_bytes(s.external_bytes).c_str());
    }
  }
  if (!r.problems.empty()) std::printf("\n");
  for (const Status& p : r.problems)
    std::printf("%-7s %s\n", severity_name(p.severity()), p.to_string().c_str());
  const int e = r.errors(), w = r.warnings();
  std::printf("\nresult: %s (%d error%s, %d warning%s)\n", e ? "FAILED" : "OK", e,
              e == 1 ? "" : "s", w, w == 1 ? "" : "s");
}

}  // namespace

Runner add_check(CLI::App& app) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* cmd = app.add_subcommand(
      "check",
      "Check an ONNX model before building: validity, opset, unsupported nodes, dynamic "
      "dimensions, external data, unused weights. Reports every problem at once.\n"
      "Exit status: 0 = no errors, 1 = warnings with --strict, 2 = errors.");
  cmd->add_option("model", args->model, "ONNX model file (.onnx)")->required();
  cmd->add_flag("--json", args->json,
                "Print a JSON report: {ok, errors, warnings, problems[{code, category, severity, "
                "title, message, fix, node}], summary{…}} (schema in docs/cli.md)");
  cmd->add_flag("--strict", args->strict, "Exit with status 1 when there are warnings");
  cmd->add_flag("--shapes", args->shapes,
                "List every node output with its inferred type and shape (symbolic dims keep "
                "the model's names)");
  cmd->add_flag("--no-onnx-checker", args->no_onnx_checker,
                "Skip libonnx's reference checker (kiln's own checks still run)");
  return [args] {
    onnx_import::CheckOptions opts;
    opts.run_onnx_checker = !args->no_onnx_checker;
    opts.list_values = args->shapes;
    onnx_import::CheckReport r = onnx_import::check_model_file(args->model, opts);
    if (args->json) {
      nlohmann::json problems = nlohmann::json::array();
      for (const Status& p : r.problems) problems.push_back(status_json(p));
      nlohmann::json j = {
          {"kiln_version", version()}, {"model", args->model}, {"ok", r.ok()},
          {"parsed", r.parsed},        {"errors", r.errors()}, {"warnings", r.warnings()},
          {"problems", problems},      {"summary", nullptr}};
      if (r.parsed) j["summary"] = summary_json(r.summary);
      if (r.parsed && args->shapes) {
        nlohmann::json values = nlohmann::json::array();
        for (const auto& v : r.summary.values)
          values.push_back({{"name", v.name}, {"type", v.type}, {"producer", v.op}});
        j["summary"]["values"] = values;
      }
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      print_human(r, args->model);
    }
    if (r.errors() > 0) {
      // Scripts that only watch stderr still see the coded reason.
      for (const Status& p : r.problems)
        if (p.severity() == Severity::kError) {
          std::fprintf(stderr, "kiln check: %d error(s); first: %s\n", r.errors(),
                       p.to_string().c_str());
          break;
        }
      return kExitError;
    }
    if (args->strict && r.warnings() > 0) return kExitWarnings;
    return kExitOk;
  };
}

}  // namespace kiln::tools
