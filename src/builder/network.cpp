// Network: an ONNX model imported, verified and checked for support, ready to build.
#include "core/errors.h"
#include "interp/interpreter.h"
#include "ir/verifier.h"
#include "kiln/builder.h"
#include "onnx_import/checker.h"
#include "onnx_import/importer.h"
#include "ops/shape_inference.h"

namespace kiln {
namespace {

Result<std::unique_ptr<ir::Model>> check_imported(Result<onnx_import::Imported> imported,
                                                  ErrorRecorder* recorder) {
  if (!imported.ok()) {
    if (recorder) recorder->report(imported.status());
    return imported.status();
  }
  auto model = std::make_unique<ir::Model>(std::move(imported->model));
  std::vector<Status> problems = std::move(imported->problems);
  ir::verify(*model->graph, problems);
  onnx_import::check_op_support(*model, ops::OpRegistry::builtin(), problems);
  interp::find_missing_kernels(*model, problems);
  ops::infer_shapes(*model->graph, {}, problems);
  Status first;
  for (const Status& p : problems) {
    if (p.severity() != Severity::kError) continue;
    if (recorder) recorder->report(p);
    if (first.ok()) first = p;
  }
  if (!first.ok()) return first;
  return model;
}

}  // namespace

Network::Network(std::unique_ptr<ir::Model> model) : model_(std::move(model)) {}
Network::~Network() = default;

std::unique_ptr<Network> Network::adopt(std::unique_ptr<ir::Model> model) {
  return std::unique_ptr<Network>(new Network(std::move(model)));
}

Result<std::unique_ptr<Network>> Network::from_onnx_file(const std::string& path,
                                                         ErrorRecorder* recorder) {
  KILN_ASSIGN_OR_RETURN(auto model, check_imported(onnx_import::import_file(path), recorder));
  return std::unique_ptr<Network>(new Network(std::move(model)));
}

Result<std::unique_ptr<Network>> Network::from_onnx_bytes(std::string_view bytes,
                                                          ErrorRecorder* recorder) {
  KILN_ASSIGN_OR_RETURN(
      auto model, check_imported(onnx_import::import_bytes(bytes.data(), bytes.size()), recorder));
  return std::unique_ptr<Network>(new Network(std::move(model)));
}

std::vector<Network::Input> Network::inputs() const {
  std::vector<Input> out;
  for (const ir::Value* v : model_->graph->inputs()) {
    if (v->is_initializer()) continue;
    Input in{v->name(), v->type.dtype, {}, {}};
    if (v->type.shape.rank_known())
      for (size_t i = 0; i < v->type.shape.rank(); ++i) {
        const Dim& d = v->type.shape[i];
        in.shape.push_back(d.is_static() ? d.value : -1);
        in.dim_names.push_back(d.symbol);
      }
    out.push_back(std::move(in));
  }
  return out;
}

std::vector<std::string> Network::outputs() const {
  std::vector<std::string> out;
  for (const ir::Value* v : model_->graph->outputs()) out.push_back(v->name());
  return out;
}

size_t Network::num_nodes() const {
  return model_->graph->num_nodes();
}

OptimizationProfile& OptimizationProfile::set(std::string input, std::vector<int64_t> min,
                                              std::vector<int64_t> opt, std::vector<int64_t> max) {
  shapes_[std::move(input)] = {std::move(min), std::move(opt), std::move(max)};
  return *this;
}

OptimizationProfile& OptimizationProfile::set(std::string input, std::vector<int64_t> shape) {
  return set(std::move(input), shape, shape, shape);
}

}  // namespace kiln
