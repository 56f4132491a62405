// `kiln run MODEL.engine|MODEL.onnx --input NAME=FILE.npy … [--output-dir DIR] [--json]`:
// runs an engine (built by `kiln build`) or an ONNX model through the reference interpreter
// (the correctness oracle), and writes one DIR/<output name>.npy per output.
#include <cstdio>
#include <filesystem>

#include "core/errors.h"
#include "core/npy.h"
#include "interp/interpreter.h"
#include "kiln/engine.h"
#include "onnx_import/importer.h"
#include "ops/shape_inference.h"
#include "tools/commands.h"
#include "tools/output.h"
#include "tools/tensor_files.h"

namespace kiln::tools {
namespace {
namespace fs = std::filesystem;

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string output_dir;
  int profile = 0;
  bool json = false;
  bool saturation = false;
};

using Outputs = std::vector<std::pair<std::string, Tensor>>;

Result<Outputs> run_onnx(const RunArgs& args, const interp::TensorMap& inputs) {
  KILN_ASSIGN_OR_RETURN(auto imported, onnx_import::import_file(args.model, {}));
  std::vector<Status> problems;
  for (const Status& p : imported.problems)
    if (p.severity() == Severity::kError) problems.push_back(p);
  interp::validate_inputs(*imported.model.graph, inputs, problems);
  if (problems.empty()) {
    // Shapes first, with the sizes actually fed: a node that cannot take them is named before
    // anything runs, and every such node at once.
    for (ir::Value* v : imported.model.graph->inputs()) {
      auto it = inputs.find(v->name());
      if (it != inputs.end()) v->type.shape = Dims::of(it->second.shape());
    }
    ops::infer_shapes(*imported.model.graph, {}, problems);
    std::erase_if(problems, [](const Status& p) { return p.severity() != Severity::kError; });
  }
  if (!problems.empty()) {
    for (size_t i = 1; i < problems.size(); ++i)
      std::fprintf(stderr, "%s\n", problems[i].to_string().c_str());
    return problems.front();
  }
  KILN_ASSIGN_OR_RETURN(interp::TensorMap out, interp::run(imported.model, inputs));
  Outputs result;
  for (const ir::Value* v : imported.model.graph->outputs())
    result.emplace_back(v->name(), out.at(v->name()));
  return result;
}

// `sat`: the INT8 saturation monitor's counts of the run (--saturation).
Result<Outputs> run_engine(const RunArgs& args, const interp::TensorMap& inputs,
                           std::vector<ExecutionContext::SaturationStat>* sat) {
  StderrLogger logger(LogSeverity::kWarning);
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<Engine> engine, Engine::load(args.model, &logger));
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<ExecutionContext> ctx, engine->create_context());
  KILN_RETURN_IF_ERROR(ctx->set_profile(args.profile));
  std::vector<Status> problems;
  for (const TensorInfo& t : engine->io_tensors())
    if (t.mode == TensorIOMode::kInput && !inputs.count(t.name))
      problems.push_back(err(Code::kInputMissing, "engine input '", t.name, "' (",
                             data_type_name(t.dtype), Dims::of(t.shape).to_string(),
                             ") was not given")
                             .with_fix(str("pass --input ", t.name, "=FILE.npy")));
  for (const auto& [name, tensor] : inputs) {
    Status s = ctx->set_input(name, tensor);
    if (!s.ok()) problems.push_back(s);
  }
  if (!problems.empty()) {
    for (size_t i = 1; i < problems.size(); ++i)
      std::fprintf(stderr, "%s\n", problems[i].to_string().c_str());
    return problems.front();
  }
  if (args.saturation) ctx->set_saturation_monitor(true);
  KILN_RETURN_IF_ERROR(ctx->execute());
  if (sat != nullptr) *sat = ctx->saturation();
  Outputs result;
  for (const TensorInfo& t : engine->io_tensors()) {
    if (t.mode != TensorIOMode::kOutput) continue;
    KILN_ASSIGN_OR_RETURN(Tensor out, ctx->output(t.name));
    result.emplace_back(t.name, std::move(out));
  }
  return result;
}

}  // namespace

Runner add_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run an engine (from `kiln build`) or an ONNX model (reference interpreter) on given "
      "inputs and save the outputs.");
  cmd->add_option("model", args->model, "Engine file (.engine) or ONNX model (.onnx)")->required();
  cmd->add_option("--input,-i", args->inputs,
                  "NAME=FILE: a model input from a .npy file (or an ONNX TensorProto .pb); "
                  "repeat for every input")
      ->take_all();
  cmd->add_option("--output-dir,-o", args->output_dir,
                  "Write each output to DIR/<output name>.npy (name characters outside "
                  "[A-Za-z0-9._-] become '_')");
  cmd->add_option("--profile", args->profile, "Optimization profile of the engine to run under")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", args->json, "Print {outputs:[{name, dtype, shape, file}]} as JSON");
  cmd->add_flag("--saturation", args->saturation,
                "INT8 engines: per INT8 layer, the fraction of its input values outside the "
                "calibrated range (clipped)");
  return [args] {
    auto given = read_input_options(args->inputs);
    if (!given.ok()) return fail(given.status());
    const interp::TensorMap inputs = std::move(given).value();
    std::vector<ExecutionContext::SaturationStat> sat;
    Result<Outputs> outputs =
        is_engine_file(args->model) ? run_engine(*args, inputs, &sat) : run_onnx(*args, inputs);
    if (!outputs.ok()) return fail(outputs.status());

    nlohmann::json list = nlohmann::json::array();
    if (!args->output_dir.empty()) {
      std::error_code ec;
      fs::create_directories(args->output_dir, ec);
    }
    for (const auto& [name, t] : *outputs) {
      std::string file;
      if (!args->output_dir.empty()) {
        file = (fs::path(args->output_dir) / (file_name_for(name) + ".npy")).string();
        Status w = npy::write_file(file, t);
        if (!w.ok()) return fail(w);
      }
      list.push_back({{"name", name},
                      {"dtype", data_type_name(t.dtype())},
                      {"shape", t.shape()},
                      {"file", file}});
      if (!args->json)
        std::printf("%s: %s%s  %s%s%s\n", name.c_str(), data_type_name(t.dtype()),
                    Dims::of(t.shape()).to_string().c_str(), tensor_stats(t).c_str(),
                    file.empty() ? "" : "  -> ", file.c_str());
    }
    nlohmann::json sat_list = nlohmann::json::array();
    for (const ExecutionContext::SaturationStat& s : sat) {
      sat_list.push_back({{"layer", s.layer},
                          {"tensor", s.tensor},
                          {"range", {s.range_lo, s.range_hi}},
                          {"values", s.values},
                          {"saturated", s.saturated},
                          {"rate", s.rate()}});
      if (!args->json)
        std::printf(
            "int8 saturation: %6.3f%% of %lld values of '%s' (layer %s) outside [%.4g, "
            "%.4g]\n",
            s.rate() * 100, static_cast<long long>(s.values), s.tensor.c_str(), s.layer.c_str(),
            s.range_lo, s.range_hi);
    }
    if (args->saturation && sat.empty() && !args->json)
      std::printf("int8 saturation: no INT8 layer in this run\n");
    nlohmann::json j{{"outputs", list}};
    if (args->saturation) j["saturation"] = sat_list;
    if (args->json) std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  };
}

}  // namespace kiln::tools
