#include "tools/tensor_files.h"

#include <onnx/onnx_pb.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/errors.h"
#include "core/npy.h"
#include "onnx_import/tensor_proto.h"
#include "ops/kernel_util.h"

namespace kiln::tools {
namespace fs = std::filesystem;

// .npy, or an ONNX TensorProto (.pb) as in the ONNX test data.
Result<Tensor> read_tensor_file(const std::string& path) {
  if (fs::path(path).extension() != ".pb") return npy::read_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return err(Code::kFileNotFound, "tensor file '", path, "' does not exist");
  std::stringstream ss;
  ss << in.rdbuf();
  onnx::TensorProto proto;
  if (!proto.ParseFromString(ss.str()))
    return err(Code::kNotOnnx, "'", path, "' is not a serialized onnx.TensorProto");
  onnx_import::TensorReadOptions opts;
  opts.base_dir = fs::path(path).parent_path().string();
  return onnx_import::read_tensor(proto, opts, "'" + path + "'");
}

// Output names may contain '/', ':' … (exporters use paths); keep file names portable.
std::string file_name_for(const std::string& name) {
  std::string f;
  for (char c : name)
    f +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return f.empty() ? "output" : f;
}

std::string tensor_stats(const Tensor& t) {
  if (t.numel() == 0 || t.dtype() == DataType::kString) return "";
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  Status s = ops::dispatch_numeric(t.dtype(), "stats", [&]<typename T>() -> Status {
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double v = static_cast<double>(static_cast<ops::compute_t<T>>(t.data_as<T>()[i]));
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      sum += v;
    }
    return Status::Ok();
  });
  if (!s.ok()) return "";
  return str("min ", lo, " max ", hi, " mean ", sum / static_cast<double>(t.numel()));
}

Result<std::map<std::string, Tensor>> read_input_options(const std::vector<std::string>& specs) {
  std::map<std::string, Tensor> out;
  for (const std::string& spec : specs) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0)
      return err(Code::kInvalidArgument, "--input '", spec, "' is not NAME=FILE");
    KILN_ASSIGN_OR_RETURN(out[spec.substr(0, eq)], read_tensor_file(spec.substr(eq + 1)));
  }
  return out;
}

bool is_engine_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, sizeof magic);
  return in.gcount() == 8 && std::string(magic, 7) == "KILNENG";
}

Result<Tensor> synthetic_tensor(DataType dtype, const std::vector<int64_t>& shape, uint64_t seed) {
  const std::optional<int64_t> n = checked_numel(shape);
  if (!n) return err(Code::kInvalidArgument, "shape ", Dims::of(shape).to_string(), " is too large");
  if (dtype == DataType::kString)
    return Tensor::strings(shape, std::vector<std::string>(static_cast<size_t>(*n), "a"));
  KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dtype, shape));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  KILN_RETURN_IF_ERROR(ops::dispatch_numeric(dtype, "synthetic input", [&]<typename T>() -> Status {
    T* p = t.data_as<T>();
    for (int64_t i = 0; i < *n; ++i) {
      if constexpr (std::is_floating_point_v<ops::compute_t<T>>)
        p[i] = static_cast<T>(static_cast<ops::compute_t<T>>(uni(rng)));
      else
        p[i] = static_cast<T>(1);
    }
    return Status::Ok();
  }));
  return t;
}

}  // namespace kiln::tools
