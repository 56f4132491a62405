#include "onnx_import/tensor_proto.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/errors.h"

namespace kiln::onnx_import {
namespace fs = std::filesystem;
namespace {

std::string dims_str(const std::vector<int64_t>& dims) { return Dims::of(dims).to_string(); }

// Copies `count` typed proto values into the tensor's storage, narrowing to the element type.
template <typename Dst, typename Field>
void copy_narrow(const Field& field, Tensor& t) {
  Dst* out = t.data_as<Dst>();
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<Dst>(field.Get(i));
}

Status count_mismatch(const std::string& where, const char* field, int64_t have, int64_t want,
                      DataType dt, const std::vector<int64_t>& dims) {
  return err(Code::kInvalidTensorData, where, ": ", field, " holds ", have, " value(s) but a ",
             data_type_name(dt), " tensor of shape ", dims_str(dims), " needs ", want);
}

Result<Tensor> read_external(const onnx::TensorProto& p, DataType dt,
                             const std::vector<int64_t>& dims, size_t nbytes,
                             const TensorReadOptions& options, const std::string& where,
                             ExternalRef* external) {
  ExternalRef ref;
  bool has_length = false;
  for (const auto& kv : p.external_data()) {
    const std::string& key = kv.key();
    if (key == "location") {
      ref.location = kv.value();
    } else if (key == "offset" || key == "length") {
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(kv.value().c_str(), &end, 10);
      if (kv.value().empty() || *end != '\0' || errno != 0 || v < 0)
        return err(Code::kExternalDataRange, where, ": external data ", key, " '", kv.value(),
                   "' is not a non-negative integer");
      (key == "offset" ? ref.offset : ref.length) = v;
      if (key == "length") has_length = true;
    }
  }
  if (ref.location.empty())
    return err(Code::kInvalidTensorData, where,
               ": data_location is EXTERNAL but external_data has no 'location'");
  if (external) *external = ref;
  if (options.base_dir.empty())
    return err(Code::kExternalDataMissing, where, ": uses external data '", ref.location,
               "' but the model was loaded from memory, so there is no directory to read it from")
        .with_fix("Load the model from its file path, with the external data files beside it.");
  KILN_ASSIGN_OR_RETURN(std::string path, resolve_external_path(options.base_dir, ref.location, where));
  std::error_code ec;
  const uint64_t file_size = fs::file_size(path, ec);
  if (ec) return err(Code::kFileUnreadable, where, ": cannot stat external data '", path, "'");
  if (!has_length) ref.length = static_cast<int64_t>(nbytes);
  if (static_cast<uint64_t>(ref.length) != nbytes)
    return err(Code::kExternalDataRange, where, ": external data length ", ref.length,
               " bytes, but a ", data_type_name(dt), " tensor of shape ", dims_str(dims),
               " needs ", nbytes);
  if (static_cast<uint64_t>(ref.offset) > file_size ||
      static_cast<uint64_t>(ref.length) > file_size - static_cast<uint64_t>(ref.offset))
    return err(Code::kExternalDataRange, where, ": external data range [", ref.offset, ", ",
               // Unsigned: both are non-negative int64, so the sum cannot wrap in uint64.
               static_cast<uint64_t>(ref.offset) + static_cast<uint64_t>(ref.length),
               ") lies outside '", ref.location, "' (", file_size, " bytes)");
  if (external) *external = ref;
  if (!options.load_external) return Tensor::borrow(dt, dims, nullptr);
  KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, dims));
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(ref.offset));
  if (!in || !in.read(static_cast<char*>(t.data()), static_cast<std::streamsize>(nbytes)))
    return err(Code::kFileUnreadable, where, ": reading ", nbytes, " bytes at offset ", ref.offset,
               " of '", path, "' failed");
  return t;
}

}  // namespace

Result<std::string> resolve_external_path(const std::string& base_dir, const std::string& location,
                                          const std::string& where) {
  fs::path loc(location);
  auto escape = [&](const std::string& why) {
    return err(Code::kExternalDataEscape, where, ": external data location '", location, "' ", why,
               "; it must stay inside the model directory '", base_dir, "'");
  };
  if (location.find('\0') != std::string::npos) return escape("contains a NUL byte");
  if (loc.is_absolute() || loc.has_root_name() || loc.has_root_directory())
    return escape("is an absolute path");
  for (const auto& part : loc)
    if (part == "..") return escape("contains '..'");
  std::error_code ec;
  fs::path base = fs::weakly_canonical(fs::path(base_dir).empty() ? "." : base_dir, ec);
  if (ec) return err(Code::kFileUnreadable, "cannot resolve model directory '", base_dir, "'");
  fs::path full = base / loc;
  if (!fs::exists(full, ec))
    return err(Code::kExternalDataMissing, where, ": external data file '", location,
               "' not found in '", base.string(), "'");
  // Symlinks are followed here; the resolved target must still be under the base directory.
  fs::path real = fs::canonical(full, ec);
  if (ec) return err(Code::kFileUnreadable, where, ": cannot resolve '", full.string(), "'");
  auto [mismatch, _] = std::mismatch(base.begin(), base.end(), real.begin(), real.end());
  if (mismatch != base.end())
    return escape("resolves (through a symbolic link) to '" + real.string() + "'");
  if (!fs::is_regular_file(real, ec))
    return err(Code::kFileUnreadable, where, ": external data '", location,
               "' is not a regular file");
  return real.string();
}

Result<Tensor> read_tensor(const onnx::TensorProto& p, const TensorReadOptions& options,
                           const std::string& where, ExternalRef* external) {
  const DataTypeInfo* info = data_type_info(p.data_type());
  if (info == nullptr || info->type == DataType::kUndefined)
    return err(Code::kUnknownDataType, where, ": data_type ", p.data_type(),
               " is not an ONNX tensor element type (valid: 1..", kMaxDataType, ")");
  const DataType dt = info->type;
  std::vector<int64_t> dims(p.dims().begin(), p.dims().end());
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i] < 0)
      return err(Code::kInvalidShape, where, ": dim ", i, " is ", dims[i], " in shape ",
                 dims_str(dims));
  auto numel = checked_numel(dims);
  if (!numel) return err(Code::kInvalidShape, where, ": shape ", dims_str(dims), " overflows");
  if (p.has_segment())
    return err(Code::kUnsupportedFeature, where, ": segmented tensors are not supported");

  if (dt == DataType::kString) {
    if (p.has_raw_data() || p.data_location() == onnx::TensorProto::EXTERNAL)
      return err(Code::kInvalidTensorData, where,
                 ": string tensors must use string_data, not raw or external data");
    if (p.string_data_size() != *numel)
      return count_mismatch(where, "string_data", p.string_data_size(), *numel, dt, dims);
    return Tensor::strings(dims, {p.string_data().begin(), p.string_data().end()});
  }

  auto nbytes = data_type_bytes(dt, *numel);
  if (!nbytes)
    return err(Code::kInvalidShape, where, ": ", *numel, " elements of ", data_type_name(dt),
               " overflow the address space");
  if (p.data_location() == onnx::TensorProto::EXTERNAL)
    return read_external(p, dt, dims, *nbytes, options, where, external);

  if (p.has_raw_data()) {
    if (p.raw_data().size() != *nbytes)
      return err(Code::kInvalidTensorData, where, ": raw_data holds ", p.raw_data().size(),
                 " bytes but a ", data_type_name(dt), " tensor of shape ", dims_str(dims),
                 " needs ", *nbytes);
    KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, dims));
    if (*nbytes) std::memcpy(t.data(), p.raw_data().data(), *nbytes);
    return t;
  }

  // Typed fields. Which field carries which type is fixed by onnx.proto's comments.
  using D = DataType;
  const int64_t n = *numel;
  switch (dt) {
    case D::kFloat32:
    case D::kComplex64: {
      const int64_t want = dt == D::kComplex64 ? 2 * n : n;
      if (p.float_data_size() != want)
        return count_mismatch(where, "float_data", p.float_data_size(), want, dt, dims);
      KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, dims));
      if (want) std::memcpy(t.data(), p.float_data().data(), static_cast<size_t>(want) * 4);
      return t;
    }
    case D::kFloat64:
    case D::kComplex128: {
      const int64_t want = dt == D::kComplex128 ? 2 * n : n;
      if (p.double_data_size() != want)
        return count_mismatch(where, "double_data", p.double_data_size(), want, dt, dims);
      KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, dims));
      if (want) std::memcpy(t.data(), p.double_data().data(), static_cast<size_t>(want) * 8);
      return t;
    }
    case D::kInt64: {
      if (p.int64_data_size() != n)
        return count_mismatch(where, "int64_data", p.int64_data_size(), n, dt, dims);
      KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, dims));
      if (n) std::memcpy(t.data(), p.int64_data().data(), static_cast<size_t>(n) * 8);
      return t;
    }
    case D::kUInt32:
    case D::kUInt64: {
      if (p.uint64_data_size() != n)
        return count_mismatch(where, "uint64_data", p.uint64_data_size(), n, dt, dims);
      KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, dims));
      if (dt == D::kUInt32)
        copy_narrow<uint32_t>(p.uint64_data(), t);
      else
        copy_narrow<uint64_t>(p.uint64_data(), t);
      return t;
    }
    case D::kInt32: {
      if (p.int32_data_size() != n)
        return count_mismatch(where, "int32_data", p.int32_data_size(), n, dt, dims);
      KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, dims));
      copy_narrow<int32_t>(p.int32_data(), t);
      return t;
    }
    case D::kInt16: case D::kUInt16: case D::kFloat16: case D::kBFloat16: {
      if (p.int32_data_size() != n)
        return count_mismatch(where, "int32_data", p.int32_data_size(), n, dt, dims);
      KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, dims));
      copy_narrow<uint16_t>(p.int32_data(), t);  // 16-bit patterns, sign handled by the cast
      return t;
    }
    case D::kInt8: case D::kUInt8: case D::kBool: case D::kFloat8E4M3FN:
    case D::kFloat8E4M3FNUZ: case D::kFloat8E5M2: case D::kFloat8E5M2FNUZ: {
      if (p.int32_data_size() != n)
        return count_mismatch(where, "int32_data", p.int32_data_size(), n, dt, dims);
      KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, dims));
      copy_narrow<uint8_t>(p.int32_data(), t);
      return t;
    }
    case D::kInt4: case D::kUInt4: case D::kFloat4E2M1: {
      // Two 4-bit elements per int32_data entry, low nibble first (as onnx.helper packs them).
      const int64_t want = (n + 1) / 2;
      if (p.int32_data_size() != want)
        return count_mismatch(where, "int32_data", p.int32_data_size(), want, dt, dims);
      KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, dims));
      copy_narrow<uint8_t>(p.int32_data(), t);
      return t;
    }
    default:
      return err(Code::kUnknownDataType, where, ": cannot read data of type ", data_type_name(dt));
  }
}

}  // namespace kiln::onnx_import
