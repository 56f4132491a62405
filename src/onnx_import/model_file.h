// Reading an ONNX file into memory and diagnosing bytes protobuf refuses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/status.h"

namespace kiln::onnx_import {

// Protobuf's hard limit for one serialized message (2 GiB - 1).
inline constexpr uint64_t kMaxProtobufBytes = (uint64_t{1} << 31) - 1;

// Reads the whole file: FileNotFound / FileUnreadable, ModelTooLarge past the protobuf limit.
Result<std::vector<uint8_t>> read_model_file(const std::string& path);

// Explains why `bytes` are not a parseable ModelProto: walks the protobuf wire format through
// the ModelProto → GraphProto → NodeProto/TensorProto structure and returns TruncatedModel
// (naming the field, its byte offset, declared and available lengths) or NotOnnx (naming the
// first invalid byte, and the format the bytes look like: ZIP/TorchScript, text/HTML, …).
// `what` names the source in messages.
Status diagnose_unparseable(const uint8_t* data, size_t size, const std::string& what);

// Recognises common non-ONNX formats from their first bytes ("" if none).
std::string sniff_format(const uint8_t* data, size_t size);

}  // namespace kiln::onnx_import
