#include "passes/pass_manager.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "ops/op_schema.h"

namespace kiln::passes {
namespace {

std::string interface_of(const ir::Graph& g) {
  std::string s;
  for (const ir::Value* v : g.inputs()) s += "in " + v->name() + ":" + v->type.to_string() + ";";
  for (const ir::Value* v : g.outputs()) s += "out " + v->name() + ":" + v->type.to_string() + ";";
  return s;
}

Status internal(std::string_view pass, const std::string& what) {
  return err(Code::kInternal, "optimizer pass '", pass, "' ", what)
      .with_fix(str("build without it: kiln build … --disable-pass ", pass,
                    " (BuilderConfig::disabled_passes), and report the model"));
}

// Runs `pass` on `g` and then on every subgraph below it.
Status visit(Pass& pass, ir::Graph& g, PassContext& ctx, bool* changed) {
  bool here = false;
  Status s = pass.run(g, ctx, &here);
  if (!s.ok()) {
    Status wrapped = internal(pass.name(), "failed: " + s.to_string());
    if (s.node() != nullptr) wrapped.with_node(*s.node());
    return wrapped;
  }
  if (here) {
    *changed = true;
    Status sorted = g.sort_topologically();
    if (!sorted.ok()) return internal(pass.name(), "left a cycle: " + sorted.message());
  }
  for (ir::Node* n : g.nodes()) {
    // Bodies of kiln's own fused nodes are the optimizer's output, not model code: rewriting
    // them again would regroup a group forever.
    if (n->domain() == ops::kKilnDomain) continue;
    for (ir::Graph* sub : n->subgraphs()) KILN_RETURN_IF_ERROR(visit(pass, *sub, ctx, changed));
  }
  return Status::Ok();
}

Status dump(const std::string& dir, int index, std::string_view what, const ir::Model& m) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%03d_", index);
  const std::string path = dir + "/" + prefix + std::string(what) + ".txt";
  std::ofstream out(path);
  if (!(out << ir::print(m)))
    return err(Code::kFileWriteFailed, "cannot write IR dump '", path, "'");
  return Status::Ok();
}

}  // namespace

void PassContext::count(std::string_view what, int64_t n) { counts_[pass_][std::string(what)] += n; }

void PassContext::explain(const ir::Node& node, std::string_view reason) {
  if (logger_ == nullptr) return;
  logger_->log(LogSeverity::kVerbose, str(pass_, ": ", node.op_type(), " '", node.name(),
                                          "' not rewritten: ", reason));
}

void PassContext::verbose(const std::string& message) {
  if (logger_ != nullptr) logger_->log(LogSeverity::kVerbose, pass_ + ": " + message);
}

std::vector<std::string> pipeline_for(int level, const std::vector<std::string>& disabled) {
  std::vector<std::string> out;
  for (const PassInfo& p : all_passes())
    if (p.level <= level &&
        std::find(disabled.begin(), disabled.end(), p.name) == disabled.end())
      out.emplace_back(p.name);
  return out;
}

std::string OptimizeReport::summary() const {
  std::string s = str(nodes_before, " nodes → ", nodes_after, " layers");
  std::string parts;
  for (const auto& [pass, whats] : counts) {
    int64_t n = 0;
    for (const auto& [what, c] : whats) n += c;
    if (n > 0) parts += str(parts.empty() ? "" : ", ", pass, " ", n);
  }
  if (!parts.empty()) s += " (" + parts + ")";
  if (!reached_fixed_point) s += str("; stopped after ", iterations, " rounds");
  return s;
}

Result<OptimizeReport> optimize(ir::Model& model, const OptimizeOptions& options) {
  if (options.level < 0 || options.level > 3)
    return err(Code::kInvalidOption, "optimization level ", options.level, " is outside 0..3");
  std::vector<std::string> named = options.disabled;
  named.insert(named.end(), options.only.begin(), options.only.end());
  for (const std::string& name : named)
    if (find_pass(name) == nullptr) {
      std::string names;
      for (const PassInfo& p : all_passes()) names += (names.empty() ? "" : ", ") + std::string(p.name);
      return err(Code::kInvalidOption, "--disable-pass '", name, "' names no pass (passes: ",
                 names, ")");
    }
  OptimizeReport report;
  ir::Graph& g = *model.graph;
  report.nodes_before = g.num_nodes();
  report.pipeline =
      options.only.empty() ? pipeline_for(options.level, options.disabled) : options.only;
  // The interface is the model's contract with its users: no pass may change it.
  const std::string before = interface_of(g);
  PassContext ctx(model, options.logger);
  int dumps = 0;
  if (!options.dump_dir.empty()) KILN_RETURN_IF_ERROR(dump(options.dump_dir, dumps++, "input", model));

  std::vector<std::shared_ptr<Pass>> passes;
  for (const std::string& name : report.pipeline) passes.push_back(find_pass(name)->make());
  for (const auto& p : options.extra) {
    passes.push_back(p);
    report.pipeline.emplace_back(p->name());
  }
  report.reached_fixed_point = passes.empty();
  for (int round = 0; round < options.max_iterations && !passes.empty(); ++round) {
    report.iterations = round + 1;
    bool any = false;
    for (auto& pass : passes) {
      ctx.set_pass(pass->name());
      bool changed = false;
      KILN_RETURN_IF_ERROR(visit(*pass, g, ctx, &changed));
      if (!changed) continue;
      any = true;
      if (options.verify_each) {
        std::vector<Status> problems;
        ir::verify(g, problems);
        if (!problems.empty()) {
          Status s = internal(pass->name(), "left the graph invalid: " + problems.front().message());
          if (problems.front().node() != nullptr) s.with_node(*problems.front().node());
          return s;
        }
      }
      if (interface_of(g) != before)
        return internal(pass->name(), "changed the model's inputs or outputs (" + before + " → " +
                                          interface_of(g) + ")");
      if (!options.dump_dir.empty())
        KILN_RETURN_IF_ERROR(dump(options.dump_dir, dumps++, pass->name(), model));
    }
    if (!any) {
      report.reached_fixed_point = true;
      break;
    }
  }
  if (!report.reached_fixed_point && options.logger != nullptr)
    options.logger->log(LogSeverity::kWarning,
                        str("optimizer stopped after ", report.iterations,
                            " rounds without reaching a fixed point (the graph is valid; some "
                            "rewrites may have been left undone)"));
  report.nodes_after = g.num_nodes();
  report.counts = ctx.counts();
  return report;
}

}  // namespace kiln::passes
