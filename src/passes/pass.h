// Graph optimization passes: named, composable rewrites of an ir::Graph.
//
// A pass implements run(graph, ctx, &changed) for ONE graph; the pass manager visits the main
// graph and every subgraph (If branches, Loop/Scan bodies) itself, so no pass walks subgraphs
// on its own. A pass must keep the graph's interface (its inputs and outputs, their names,
// dtypes and shapes) and its results (within float rounding): every pass has golden-IR tests
// (fires / does not fire) and a numeric before/after test (tests/unit/pass_test_util.h).
//
// Adding a pass: src/passes/<name>.cpp defining a Pass subclass and a factory, one line in
// passes.def with the lowest optimization level that runs it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "kiln/logger.h"
#include "kiln/status.h"

namespace kiln::passes {

// What passes share while one pipeline runs.
class PassContext {
 public:
  PassContext(ir::Model& model, Logger* logger) : model_(model), logger_(logger) {}

  ir::Model& model() { return model_; }
  // The ai.onnx opset of the model (new standard nodes are created at it when it has the op).
  int64_t opset() const { return model_.default_opset(); }

  // Counts one rewrite of kind `what` by the running pass ("Conv+Relu", "folded"): the
  // summary line of kiln build and the per-pass report.
  void count(std::string_view what, int64_t n = 1);
  // Why a candidate did not match or was skipped; shown with kiln build --verbose.
  void explain(const ir::Node& node, std::string_view reason);
  void verbose(const std::string& message);

  // Set by the pass manager around each pass.
  void set_pass(std::string_view name) { pass_ = name; }
  const std::string& pass() const { return pass_; }
  // pass → (what → count), over the whole pipeline.
  const std::map<std::string, std::map<std::string, int64_t>>& counts() const { return counts_; }

 private:
  ir::Model& model_;
  Logger* logger_;
  std::string pass_;
  std::map<std::string, std::map<std::string, int64_t>> counts_;
};

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string_view name() const = 0;
  // Rewrites `graph` (one graph; not its subgraphs); sets *changed when it changed anything.
  virtual Status run(ir::Graph& graph, PassContext& ctx, bool* changed) = 0;
};

struct PassInfo {
  std::string_view name;
  int level;                 // lowest optimization level whose pipeline runs it
  std::string_view summary;  // one line for --help / docs
  std::unique_ptr<Pass> (*make)();
};

// Every registered pass, in pipeline order (passes.def).
const std::vector<PassInfo>& all_passes();
const PassInfo* find_pass(std::string_view name);

}  // namespace kiln::passes
