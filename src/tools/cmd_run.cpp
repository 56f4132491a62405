// `kiln run MODEL.onnx --input NAME=FILE.npy … [--output-dir DIR] [--json]`: runs a model
// through the reference interpreter (engines take over in a later milestone) and writes one
// DIR/<output>.npy per model output.
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "core/npy.h"
#include "interp/interpreter.h"
#include "onnx_import/importer.h"
#include "onnx_import/tensor_proto.h"
#include "ops/kernel_util.h"
#include "ops/shape_inference.h"
#include "tools/commands.h"
#include "tools/output.h"

namespace kiln::tools {
namespace {
namespace fs = std::filesystem;

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string output_dir;
  bool json = false;
};

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

std::string stats(const Tensor& t) {
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

}  // namespace

Runner add_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run a model on given inputs with kiln's reference interpreter and save the outputs.");
  cmd->add_option("model", args->model, "ONNX model file (.onnx)")->required();
  cmd->add_option("--input,-i", args->inputs,
                  "NAME=FILE: a model input from a .npy file (or an ONNX TensorProto .pb); "
                  "repeat for every input")
      ->take_all();
  cmd->add_option("--output-dir,-o", args->output_dir,
                  "Write each output to DIR/<output name>.npy (name characters outside "
                  "[A-Za-z0-9._-] become '_')");
  cmd->add_flag("--json", args->json, "Print {outputs:[{name, dtype, shape, file}]} as JSON");
  return [args] {
    onnx_import::ImportOptions io;
    auto imported = onnx_import::import_file(args->model, io);
    if (!imported.ok()) return fail(imported.status());
    int errors = 0;
    for (const Status& p : imported->problems)
      if (p.severity() == Severity::kError) {
        if (errors++ == 0)
          std::fprintf(stderr, "kiln run: the model has errors (see `kiln check`):\n");
        std::fprintf(stderr, "%s\n", p.to_string().c_str());
      }
    if (errors) return kExitError;

    interp::TensorMap inputs;
    for (const std::string& spec : args->inputs) {
      const size_t eq = spec.find('=');
      if (eq == std::string::npos || eq == 0)
        return fail(err(Code::kInvalidArgument, "--input '", spec, "' is not NAME=FILE"));
      auto t = read_tensor_file(spec.substr(eq + 1));
      if (!t.ok()) return fail(t.status());
      inputs[spec.substr(0, eq)] = std::move(t).value();
    }
    std::vector<Status> problems;
    interp::validate_inputs(*imported->model.graph, inputs, problems);
    if (!problems.empty()) {
      for (size_t i = 1; i < problems.size(); ++i)
        std::fprintf(stderr, "%s\n", problems[i].to_string().c_str());
      return fail(problems.front());
    }
    // Shapes first, with the sizes actually fed: a node that cannot take them is named before
    // anything runs, and every such node at once.
    for (ir::Value* v : imported->model.graph->inputs()) {
      auto it = inputs.find(v->name());
      if (it != inputs.end()) v->type.shape = Dims::of(it->second.shape());
    }
    ops::infer_shapes(*imported->model.graph, {}, problems);
    std::erase_if(problems, [](const Status& p) { return p.severity() != Severity::kError; });
    if (!problems.empty()) {
      for (size_t i = 1; i < problems.size(); ++i)
        std::fprintf(stderr, "%s\n", problems[i].to_string().c_str());
      return fail(problems.front());
    }
    auto outputs = interp::run(imported->model, inputs);
    if (!outputs.ok()) return fail(outputs.status());

    nlohmann::json list = nlohmann::json::array();
    if (!args->output_dir.empty()) {
      std::error_code ec;
      fs::create_directories(args->output_dir, ec);
    }
    for (const ir::Value* v : imported->model.graph->outputs()) {
      const Tensor& t = outputs->at(v->name());
      std::string file;
      if (!args->output_dir.empty()) {
        file = (fs::path(args->output_dir) / (file_name_for(v->name()) + ".npy")).string();
        Status w = npy::write_file(file, t);
        if (!w.ok()) return fail(w);
      }
      list.push_back({{"name", v->name()},
                      {"dtype", data_type_name(t.dtype())},
                      {"shape", t.shape()},
                      {"file", file}});
      if (!args->json)
        std::printf("%s: %s%s  %s%s%s\n", v->name().c_str(), data_type_name(t.dtype()),
                    Dims::of(t.shape()).to_string().c_str(), stats(t).c_str(),
                    file.empty() ? "" : "  -> ", file.c_str());
    }
    if (args->json) std::printf("%s\n", nlohmann::json{{"outputs", list}}.dump(2).c_str());
    return kExitOk;
  };
}

}  // namespace kiln::tools
