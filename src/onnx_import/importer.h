// ONNX ModelProto → ir::Model.
//
// The importer translates; it does not optimise and does not judge op support (that is the
// checker's job). It imports as much as it can and records every non-fatal problem, so
// `kiln check` can report them all at once; only a file that yields no model at all is a
// fatal error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/status.h"

namespace onnx {
class ModelProto;
}

namespace kiln::onnx_import {

// IR versions kiln reads (IR 3 is ONNX 1.0's, with opset 1; IR 11 came with onnx 1.18).
inline constexpr int64_t kMinIrVersion = 3;
inline constexpr int64_t kMaxIrVersion = 11;

struct ImportOptions {
  // Read external data into memory (false: only validate it, as `kiln check` does).
  bool load_external_data = true;
};

struct Imported {
  ir::Model model;
  std::vector<Status> problems;  // non-fatal, in discovery order
};

// Parses and imports a file; external data is resolved relative to the file's directory.
Result<Imported> import_file(const std::string& path, const ImportOptions& options = {});
// Parses and imports serialized bytes; external data is refused (no directory).
Result<Imported> import_bytes(const void* data, size_t size, const ImportOptions& options = {},
                              const std::string& what = "model");

// Parses bytes into a ModelProto, diagnosing failures (NotOnnx, TruncatedModel, EmptyGraph).
Status parse_model_proto(const void* data, size_t size, const std::string& what,
                         onnx::ModelProto& out);

// Imports an already parsed proto. base_dir: directory for external data ("" refuses it).
Result<Imported> import_proto(const onnx::ModelProto& proto, const std::string& base_dir,
                              const ImportOptions& options);

}  // namespace kiln::onnx_import
