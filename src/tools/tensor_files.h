// Tensors on disk for the CLI: .npy (and ONNX TensorProto .pb as in the ONNX test data),
// output file names, summaries, and the synthetic inputs `kiln bench` feeds.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::tools {

Result<Tensor> read_tensor_file(const std::string& path);
// `--input NAME=FILE` options (run, bench, compare): name -> tensor read with read_tensor_file.
Result<std::map<std::string, Tensor>> read_input_options(const std::vector<std::string>& specs);
// Whether the file starts with the engine magic (else it is treated as an ONNX model).
bool is_engine_file(const std::string& path);
// Output names may contain '/', ':' … (exporters use paths); keep file names portable.
std::string file_name_for(const std::string& name);
// "min … max … mean …" ("" for strings and empty tensors).
std::string tensor_stats(const Tensor& t);
// Deterministic inputs: floats uniform in [-1, 1], integers and booleans 1 (valid as token
// ids, masks and indices into any non-empty axis), strings "a".
Result<Tensor> synthetic_tensor(DataType dtype, const std::vector<int64_t>& shape, uint64_t seed);

}  // namespace kiln::tools
