// `kiln check`: every problem in a model, found before any build.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/status.h"
#include "ops/op_schema.h"

namespace kiln::onnx_import {

struct CheckOptions {
  // Run libonnx's reference checker and shape inference where the model's versions are
  // within what the linked onnx library knows.
  bool run_onnx_checker = true;
  // Record every node output's inferred type in the summary (`kiln check --shapes`).
  bool list_values = false;
};

struct IoSummary {
  std::string name;
  std::string type;  // "float32[batch,3,224,224]"
  std::vector<size_t> dynamic_dims;
};

struct ValueSummary {
  std::string name, type, op;  // type as inferred, "float32[batch,128,768]"; op = "MatMul #12"
};

struct ShapeSummary {
  int64_t values = 0;       // node outputs (all graphs)
  int64_t typed = 0;        // element type known
  int64_t rank_known = 0;   // rank known
  int64_t fully_known = 0;  // every dim static or symbolic
};

struct ModelSummary {
  std::string path;
  int64_t file_bytes = 0;
  int64_t ir_version = 0;
  std::map<std::string, int64_t> opsets;
  std::string producer;
  std::string graph_name;
  int64_t nodes = 0;        // top-level graph
  int64_t nodes_total = 0;  // including subgraphs
  int64_t subgraphs = 0;
  std::vector<IoSummary> inputs, outputs;
  int64_t initializers = 0;
  int64_t parameters = 0;  // elements over all initializers
  int64_t weight_bytes = 0;
  std::vector<std::string> external_files;
  int64_t external_bytes = 0;
  std::vector<std::pair<std::string, int64_t>> op_counts;  // "Conv" / "com.x::Op" → count
  ShapeSummary shapes;                                     // kiln's static shape inference
  std::vector<ValueSummary> values;                        // with CheckOptions::list_values
};

struct CheckReport {
  bool parsed = false;  // false: the file did not yield a model (problems explain why)
  ModelSummary summary;
  std::vector<Status> problems;
  int errors() const;
  int warnings() const;
  bool ok() const { return errors() == 0; }
};

CheckReport check_model_file(const std::string& path, const CheckOptions& options = {});
CheckReport check_model_bytes(const void* data, size_t size, const CheckOptions& options = {});

// Per-node support checks against the op registry (unknown domain/op/version, arity,
// attributes, types, op-specific rules), recursing into subgraphs.
void check_op_support(const ir::Model& model, const ops::OpRegistry& registry,
                      std::vector<Status>& problems);

}  // namespace kiln::onnx_import
