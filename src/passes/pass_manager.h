// Runs a pipeline of passes over a model to a fixed point.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/logger.h"
#include "passes/pass.h"

namespace kiln::passes {

struct OptimizeOptions {
  int level = 2;                        // 0 none, 1 simplifications, 2 fusions, 3 layout/precision
  std::vector<std::string> disabled;    // pass names left out (unknown name: K4006)
  std::vector<std::string> only;        // when set: exactly these passes, in this order (tests)
  std::string dump_dir;                 // when set: <dir>/NN_<pass>.before.txt / .after.txt
  bool verify_each = true;              // ir::verify after every pass (INTERNAL_ERROR naming it)
  int max_iterations = 8;               // rounds of the whole pipeline to reach a fixed point
  // Passes run after the pipeline's (plugins; tests of the manager's error handling).
  std::vector<std::shared_ptr<Pass>> extra;
  Logger* logger = nullptr;
};

struct OptimizeReport {
  size_t nodes_before = 0, nodes_after = 0;  // main graph
  int iterations = 0;
  bool reached_fixed_point = true;
  std::vector<std::string> pipeline;         // passes that ran, in order
  std::map<std::string, std::map<std::string, int64_t>> counts;  // pass → what → count
  std::string summary() const;  // "169 nodes → 72 layers (conv_bn_fold 53, …)"
};

// The passes a level runs (names in order), minus `disabled`.
std::vector<std::string> pipeline_for(int level, const std::vector<std::string>& disabled);

// Optimizes the model in place. Errors: K4006 for a bad level or unknown pass name; K901
// (INTERNAL) when a pass fails or leaves the graph invalid or changes its interface — the
// message names the pass (and node) and says how to build without it.
Result<OptimizeReport> optimize(ir::Model& model, const OptimizeOptions& options);

}  // namespace kiln::passes
