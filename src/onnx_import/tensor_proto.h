// onnx.TensorProto → kiln::Tensor, including external data with path-escape protection.
#pragma once

#include <cstdint>
#include <string>

#include "kiln/status.h"
#include "kiln/tensor.h"

namespace onnx {
class TensorProto;
}

namespace kiln::onnx_import {

struct TensorReadOptions {
  // Directory external data locations are relative to; empty: external data is refused
  // (in-memory models have no directory).
  std::string base_dir;
  // false: validate external data (file present, inside base_dir, range fits) without reading
  // it; the tensor then has shape and dtype but no storage.
  bool load_external = true;
};

struct ExternalRef {
  std::string location;  // as written in the model
  int64_t offset = 0;
  int64_t length = 0;
};

// Converts one tensor. `where` names it in messages ("initializer 'conv1.weight'").
// When the tensor uses external data, `external` (if non-null) receives its reference.
Result<Tensor> read_tensor(const onnx::TensorProto& proto, const TensorReadOptions& options,
                           const std::string& where, ExternalRef* external = nullptr);

// Resolves an external data location under base_dir, refusing absolute paths, '..' and
// symlinks that leave the directory (ExternalDataEscape), and missing files
// (ExternalDataMissing). Returns the resolved path.
Result<std::string> resolve_external_path(const std::string& base_dir, const std::string& location,
                                          const std::string& where);

}  // namespace kiln::onnx_import
