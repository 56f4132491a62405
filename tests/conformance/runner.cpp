// ONNX backend conformance runner: every case of the backend test data (Debian's
// libonnx-testdata) through the importer and the reference interpreter, compared with the
// expected outputs the way ONNX's own runner does (rtol 1e-3, atol 1e-7; exact for integers,
// bool and strings). Writes the per-op table of docs/operators.md.
//
//   conformance_runner [--data DIR]... [--skip FILE] [--filter SUBSTR] [--verbose] [--shape-gaps]
//                      [--markdown FILE | --check-markdown FILE] [--min-pass-rate R]
//                      [--opt-level N]
//
// --opt-level N runs the graph optimizer's level-N pipeline on every model first (after
// shape inference, as the builder does), so the whole suite also checks that optimization
// never changes a result.
//
// --engine builds every case into an engine instead (the builder at --opt-level, default 3,
// a fixed profile at the case's input shapes, the device's tactics: the fast CPU kernels
// wherever they apply) and runs it through the runtime: the suite then checks the kernels
// users get, not only the reference interpreter.
//
// Exit status 0 when no case outside the skip list gives a wrong answer or an unexpected
// error, and the pass rate reaches the minimum (from --min-pass-rate or the skip list's
// "# min_pass_rate:" line).
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "kiln/builder.h"
#include "kiln/engine.h"
#include "interp/interpreter.h"
#include "onnx_import/importer.h"
#include "onnx_import/tensor_proto.h"
#include "ops/kernel_util.h"
#include "ops/op_schema.h"
#include "ops/shape_inference.h"
#include "passes/pass_manager.h"

namespace fs = std::filesystem;
using namespace kiln;

namespace {

const char* kDefaultRoot = "/usr/include/onnx/backend/test/data";
int g_opt_level = 0;
bool g_engine = false;
const char* kSuites[] = {"node", "simple", "pytorch-converted", "pytorch-operator"};

enum class Outcome { kPass, kSkip, kMismatch, kNoKernel, kError, kUnsupportedData };

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPass:
      return "PASS";
    case Outcome::kSkip:
      return "SKIP";
    case Outcome::kMismatch:
      return "MISMATCH";
    case Outcome::kNoKernel:
      return "NO_KERNEL";
    case Outcome::kError:
      return "ERROR";
    case Outcome::kUnsupportedData:
      return "UNSUPPORTED_DATA";
  }
  return "?";
}

// Static shape inference measured against execution: every node output of a case's first data
// set, its inferred type (with the fed input shapes) compared with the computed tensor.
struct ShapeCheck {
  int64_t values = 0;  // node outputs computed
  int64_t exact = 0;   // inferred dtype and every dim static and right
  int64_t contradicted = 0;
};
ShapeCheck g_shapes;
std::map<std::string, int64_t> g_shape_gaps;  // op type -> outputs not inferred exactly

// Empty when the inferred type admits the tensor; else what differs.
std::string shape_disagreement(const ir::ValueType& t, const Tensor& x) {
  if (t.kind != ir::ValueKind::kTensor) return "";
  if (t.dtype != DataType::kUndefined && t.dtype != x.dtype())
    return str("inferred ", t.to_string(), ", computed ", data_type_name(x.dtype()),
               Dims::of(x.shape()).to_string());
  if (!t.shape.rank_known()) return "";
  bool ok = t.shape.rank() == x.rank();
  for (size_t k = 0; ok && k < x.rank(); ++k)
    ok = !t.shape[k].is_static() || t.shape[k].value == x.shape()[k];
  return ok ? ""
            : str("inferred ", t.to_string(), ", computed ", data_type_name(x.dtype()),
                  Dims::of(x.shape()).to_string());
}

// Forgets what the model declares about node outputs (graph outputs, value_info), so the check
// measures kiln's inference rather than the exporter's annotations.
void forget_declared_types(ir::Graph& g) {
  for (ir::Node* n : g.nodes()) {
    for (ir::Value* v : n->outputs())
      if (v != nullptr && v->type.kind == ir::ValueKind::kTensor) v->type = ir::ValueType{};
    for (ir::Graph* sub : n->subgraphs()) forget_declared_types(*sub);
  }
}

struct CaseResult {
  std::string name;
  Outcome outcome = Outcome::kPass;
  std::string detail;
  std::set<std::string> ops;
};

// Op-support gaps: the case cannot run yet. Everything else that fails is a defect.
bool is_support_gap(const Status& s) {
  const int c = s.code();
  return c == 2001 || c == 2002 || c == 2004 || c == 2005 || c == 2010 || c == 2011 || c == 1004 ||
         c == 1006;
}

// ONNX 1.12's test data stores bfloat16 tensors as UINT16 (same bits); give them the type the
// model declares.
Tensor as_declared(Tensor t, DataType declared) {
  if (declared != DataType::kBFloat16 || t.dtype() != DataType::kUInt16) return t;
  auto r = Tensor::allocate(DataType::kBFloat16, t.shape());
  if (!r.ok()) return t;
  if (t.nbytes()) std::memcpy(r->data(), t.data(), t.nbytes());
  return std::move(r).value();
}

Result<Tensor> read_pb(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  onnx::TensorProto proto;
  if (!proto.ParseFromString(ss.str()) || (!proto.has_data_type() && proto.dims_size() == 0))
    return err(Code::kUnsupportedFeature, path.string(),
               " is not a TensorProto (sequence, map "
               "or optional test data)");
  onnx_import::TensorReadOptions opts;
  opts.base_dir = path.parent_path().string();
  return onnx_import::read_tensor(proto, opts, path.filename().string());
}

// Compares one output; returns "" when equal, else a description of the first difference.
std::string compare(const Tensor& got, const Tensor& want) {
  if (got.dtype() != want.dtype())
    return str("dtype ", data_type_name(got.dtype()), " vs expected ",
               data_type_name(want.dtype()));
  if (got.shape() != want.shape())
    return str("shape ", Dims::of(got.shape()).to_string(), " vs expected ",
               Dims::of(want.shape()).to_string());
  if (got.dtype() == DataType::kString) {
    for (int64_t i = 0; i < got.numel(); ++i)
      if (got.string_data()[i] != want.string_data()[i])
        return str("element ", i, ": \"", got.string_data()[i], "\" vs \"", want.string_data()[i],
                   "\"");
    return "";
  }
  std::string diff;
  Status s = ops::dispatch_numeric(got.dtype(), "compare", [&]<typename T>() -> Status {
    const T* a = got.data_as<T>();
    const T* b = want.data_as<T>();
    for (int64_t i = 0; i < got.numel(); ++i) {
      if constexpr (ops::is_float_v<T>) {
        const double x = static_cast<double>(static_cast<ops::compute_t<T>>(a[i]));
        const double y = static_cast<double>(static_cast<ops::compute_t<T>>(b[i]));
        if (std::isnan(x) && std::isnan(y)) continue;
        if (x == y) continue;  // also equal infinities
        if (std::fabs(x - y) <= 1e-7 + 1e-3 * std::fabs(y)) continue;
        diff = str("element ", i, ": ", x, " vs expected ", y);
      } else {
        if (a[i] == b[i]) continue;
        diff = str("element ", i, ": ", +a[i], " vs expected ", +b[i]);
      }
      break;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s.message();
  return diff;
}

// The case as an engine: built for exactly these input shapes, run once.
Result<interp::TensorMap> run_engine(const fs::path& model_path, const interp::TensorMap& inputs) {
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<Network> net, Network::from_onnx_file(model_path.string()));
  BuilderConfig cfg;
  cfg.optimization_level = g_opt_level > 0 ? g_opt_level : 3;
  // The default variant of each tactic (timing every variant of every case would be slow; the
  // unit tests run every variant).
  cfg.autotune = false;
  OptimizationProfile profile;
  for (const auto& [name, t] : inputs) profile.set(name, t.shape());
  cfg.profiles = {profile};
  Builder builder;
  KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, builder.build_serialized(*net, cfg));
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<Engine> engine, Engine::deserialize(bytes));
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<ExecutionContext> ctx, engine->create_context());
  for (const auto& [name, t] : inputs) KILN_RETURN_IF_ERROR(ctx->set_input(name, t));
  KILN_RETURN_IF_ERROR(ctx->execute());
  interp::TensorMap out;
  for (const TensorInfo& io : engine->io_tensors()) {
    if (io.mode != TensorIOMode::kOutput) continue;
    KILN_ASSIGN_OR_RETURN(Tensor t, ctx->output(io.name));
    if (t.dtype() == DataType::kString) {
      out[io.name] = t;
      continue;
    }
    KILN_ASSIGN_OR_RETURN(Tensor c, Tensor::allocate(t.dtype(), t.shape()));
    if (t.nbytes() > 0) std::memcpy(c.data(), t.data(), t.nbytes());
    out[io.name] = std::move(c);
  }
  return out;
}

CaseResult run_case(const fs::path& dir) {
  CaseResult r;
  r.name = dir.filename().string();
  auto imported = onnx_import::import_file((dir / "model.onnx").string());
  if (!imported.ok()) {
    r.outcome = is_support_gap(imported.status()) ? Outcome::kNoKernel : Outcome::kError;
    r.detail = imported.status().to_string();
    return r;
  }
  ir::Model& model = imported->model;
  for (const ir::Node* n : model.graph->nodes())
    r.ops.insert(n->domain().empty() ? n->op_type() : n->domain() + "::" + n->op_type());
  for (const Status& p : imported->problems) {
    if (p.severity() != Severity::kError) continue;
    r.outcome = is_support_gap(p) ? Outcome::kNoKernel : Outcome::kError;
    r.detail = p.to_string();
    return r;
  }
  if (g_opt_level > 0 && !g_engine) {
    std::vector<Status> problems;
    ops::infer_shapes(*model.graph, {}, problems);
    passes::OptimizeOptions o;
    o.level = g_opt_level;
    auto report = passes::optimize(model, o);
    if (!report.ok()) {
      r.outcome = Outcome::kError;
      r.detail = "optimizer: " + report.status().to_string();
      return r;
    }
  }
  std::vector<const ir::Value*> feeds;
  for (const ir::Value* v : model.graph->inputs())
    if (!v->is_initializer()) feeds.push_back(v);

  std::vector<fs::path> sets;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  for (const fs::path& set : sets) {
    interp::TensorMap inputs;
    for (size_t i = 0;; ++i) {
      fs::path p = set / ("input_" + std::to_string(i) + ".pb");
      if (!fs::exists(p)) break;
      auto t = read_pb(p);
      if (!t.ok()) {
        r.outcome = Outcome::kUnsupportedData;
        r.detail = t.status().message();
        return r;
      }
      if (i >= feeds.size()) {
        r.outcome = Outcome::kError;
        r.detail = str("test data has more inputs than the model (", feeds.size(), ")");
        return r;
      }
      inputs[feeds[i]->name()] = as_declared(std::move(t).value(), feeds[i]->type.dtype);
    }
    interp::RunOptions options;
    std::string shape_problem;
    if (set == sets.front()) {
      // Infer with the fed shapes, then hold every computed value against the inference.
      for (const ir::Value* v : feeds) {
        auto it = inputs.find(v->name());
        if (it == inputs.end()) continue;
        const_cast<ir::Value*>(v)->type.shape = Dims::of(it->second.shape());
      }
      forget_declared_types(*model.graph);
      std::vector<Status> problems;
      ops::infer_shapes(*model.graph, {}, problems);
      for (const Status& p : problems)
        if (p.severity() == Severity::kError && shape_problem.empty())
          shape_problem = "shape inference rejected a model that runs: " + p.to_string();
      options.on_value = [&](const ir::Node& n, const ir::Value& v, const Tensor& x) {
        ++g_shapes.values;
        std::string d = shape_disagreement(v.type, x);
        if (!d.empty()) {
          ++g_shapes.contradicted;
          if (shape_problem.empty())
            shape_problem = str("shape inference: value '", v.name(), "' of node #", n.index(),
                                " (", n.op_type(), "): ", d);
          return;
        }
        if (v.type.dtype == x.dtype() && v.type.shape.is_static())
          ++g_shapes.exact;
        else {
          ++g_shape_gaps[n.op_type()];
          if (std::getenv("KILN_GAP_DEBUG"))
            std::fprintf(stderr, "gap %s %s %s %s\n", r.name.c_str(), n.op_type().c_str(),
                         v.name().c_str(), v.type.to_string().c_str());
        }
      };
    }
    auto out = g_engine ? run_engine(dir / "model.onnx", inputs) : interp::run(model, inputs, options);
    if (out.ok() && !shape_problem.empty()) {
      r.outcome = Outcome::kMismatch;
      r.detail = shape_problem;
      return r;
    }
    if (!out.ok()) {
      r.outcome = is_support_gap(out.status()) ? Outcome::kNoKernel : Outcome::kError;
      r.detail = out.status().to_string();
      return r;
    }
    for (size_t i = 0; i < model.graph->outputs().size(); ++i) {
      fs::path p = set / ("output_" + std::to_string(i) + ".pb");
      if (!fs::exists(p)) continue;
      auto want = read_pb(p);
      if (!want.ok()) {
        r.outcome = Outcome::kUnsupportedData;
        r.detail = want.status().message();
        return r;
      }
      const ir::Value* ov = model.graph->outputs()[i];
      const std::string& name = ov->name();
      std::string d = compare(out->at(name), as_declared(std::move(want).value(), ov->type.dtype));
      if (!d.empty()) {
        r.outcome = Outcome::kMismatch;
        r.detail = str(set.filename().string(), " output ", i, " '", name, "': ", d);
        return r;
      }
    }
  }
  return r;
}

struct SkipList {
  std::map<std::string, std::string> reasons;  // case → reason
  double min_pass_rate = 0;
};

SkipList read_skip_list(const std::string& path) {
  SkipList s;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# min_pass_rate:", 0) == 0) {
      s.min_pass_rate = std::stod(line.substr(16));
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.find_first_of(" \t");
    std::string name = line.substr(0, sp);
    std::string reason =
        sp == std::string::npos ? "" : line.substr(line.find_first_not_of(" \t", sp));
    s.reasons[name] = reason;
  }
  return s;
}

std::string operators_markdown(const std::vector<CaseResult>& results) {
  std::map<std::string, std::pair<int, int>> per_op;  // op → (passed, total)
  for (const CaseResult& r : results)
    for (const std::string& op : r.ops) {
      per_op[op].second++;
      if (r.outcome == Outcome::kPass) per_op[op].first++;
    }
  const auto& reg = ops::OpRegistry::builtin();
  std::string md =
      "# Operators\n\n"
      "<!-- Generated by tests/conformance (conformance_runner --markdown docs/operators.md); "
      "do not edit. -->\n\n"
      "kiln implements ai.onnx opsets " +
      std::to_string(ops::kMinOpset) + "–" + std::to_string(ops::kMaxOpset) + " and " +
      std::string(ops::kTrainingDomain) + " version " + std::to_string(ops::kTrainingOpset) +
      " (its ops listed as domain::op). *Cases* counts the ONNX backend test cases (Debian "
      "libonnx-testdata 1.12) whose model uses the op, and how many of them kiln's reference "
      "interpreter passes. *Kernel* says whether every supported revision has a reference "
      "kernel.\n\n"
      "| op | revisions (opsets) | kernel | types | cases passed/total |\n|---|---|---|---|---|\n";
  // ai.onnx first (the empty domain sorts first), then other domains' ops as domain::op, the
  // name the cases' op sets use.
  std::set<std::string> domains;
  for (const ops::OpSchema* s : reg.all()) domains.insert(s->domain());
  std::vector<std::pair<std::string, std::string>> domain_ops;
  for (const std::string& d : domains)
    for (const std::string& op : reg.op_types(d)) domain_ops.emplace_back(d, op);
  auto qualified = [](const std::string& domain, const std::string& op) {
    return domain.empty() ? op : domain + "::" + op;
  };
  for (const auto& [domain, op] : domain_ops) {
    auto revs = reg.revisions(domain, op);
    std::string versions, types;
    bool all_kernels = true;
    for (const ops::OpSchema* s : revs) {
      versions += (versions.empty() ? "" : ", ") + std::to_string(s->since()) +
                  (s->is_supported() ? "" : " (not implemented)");
      if (s->is_supported() && !s->reference_kernel()) all_kernels = false;
    }
    std::set<std::string> tset;
    for (const auto& tc : revs.back()->type_constraints())
      for (DataType t : tc.types) tset.insert(data_type_name(t));
    for (const auto& t : tset) types += (types.empty() ? "" : ", ") + t;
    auto it = per_op.find(qualified(domain, op));
    std::string cases = it == per_op.end() ? "–"
                                           : std::to_string(it->second.first) + "/" +
                                                 std::to_string(it->second.second);
    md += "| " + qualified(domain, op) + " | " + versions + " | " + (all_kernels ? "yes" : "no") +
          " | " + types + " | " + cases + " |\n";
  }
  std::string unknown;
  for (const auto& [op, pt] : per_op) {
    const size_t sep = op.rfind("::");
    const std::string domain = sep == std::string::npos ? "" : op.substr(0, sep);
    if (!reg.revisions(domain, sep == std::string::npos ? op : op.substr(sep + 2)).size())
      unknown += "| " + op + " | " + std::to_string(pt.first) + "/" + std::to_string(pt.second) + " |\n";
  }
  if (!unknown.empty())
    md +=
        "\nOps used by the test data that kiln does not implement:\n\n| op | cases |\n|---|---|\n" +
        unknown;
  return md;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> data_dirs;
  std::string skip_path, filter, markdown, check_markdown;
  bool verbose = false, shape_gaps = false;
  double min_rate = -1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--data")
      data_dirs.push_back(next());
    else if (a == "--skip")
      skip_path = next();
    else if (a == "--filter")
      filter = next();
    else if (a == "--markdown")
      markdown = next();
    else if (a == "--check-markdown")
      check_markdown = next();
    else if (a == "--min-pass-rate")
      min_rate = std::stod(next());
    else if (a == "--verbose" || a == "-v")
      verbose = true;
    else if (a == "--shape-gaps")
      shape_gaps = true;
    else if (a == "--opt-level")
      g_opt_level = std::stoi(next());
    else if (a == "--engine")
      g_engine = true;
    else {
      std::fprintf(stderr, "%s\n",
                   err(Code::kInvalidArgument, "unknown argument '", a, "'").to_string().c_str());
      return 2;
    }
  }
  if (data_dirs.empty())
    for (const char* s : kSuites) data_dirs.push_back(std::string(kDefaultRoot) + "/" + s);
  SkipList skip = skip_path.empty() ? SkipList{} : read_skip_list(skip_path);
  if (min_rate < 0) min_rate = skip.min_pass_rate;

  std::vector<CaseResult> results;
  std::map<Outcome, int> counts;
  const auto t0 = std::chrono::steady_clock::now();
  int unexpected = 0;
  for (const std::string& root : data_dirs) {
    if (!fs::is_directory(root)) {
      std::fprintf(stderr, "conformance: %s missing (install libonnx-testdata)\n", root.c_str());
      return 2;
    }
    std::vector<fs::path> cases;
    for (const auto& e : fs::directory_iterator(root))
      if (fs::exists(e.path() / "model.onnx")) cases.push_back(e.path());
    std::sort(cases.begin(), cases.end());
    for (const fs::path& c : cases) {
      const std::string name = c.filename().string();
      if (!filter.empty() && name.find(filter) == std::string::npos) continue;
      CaseResult r;
      auto sk = skip.reasons.find(name);
      if (sk != skip.reasons.end()) {
        r.name = name;
        r.outcome = Outcome::kSkip;
        r.detail = sk->second;
      } else {
        r = run_case(c);
      }
      counts[r.outcome]++;
      const bool bad = r.outcome == Outcome::kMismatch || r.outcome == Outcome::kError;
      unexpected += bad;
      if (verbose || bad)
        std::printf("%-16s %s%s%s\n", outcome_name(r.outcome), name.c_str(),
                    r.detail.empty() ? "" : "  ", r.detail.substr(0, 400).c_str());
      results.push_back(std::move(r));
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int total = static_cast<int>(results.size());
  const int passed = counts[Outcome::kPass];
  const double rate = total ? static_cast<double>(passed) / total : 0;
  std::printf(
      "\nconformance: %d cases in %.1f s: %d pass, %d skip, %d no-kernel, %d "
      "unsupported-data, %d mismatch, %d error; pass rate %.1f%% (minimum %.1f%%)\n",
      total, secs, passed, counts[Outcome::kSkip], counts[Outcome::kNoKernel],
      counts[Outcome::kUnsupportedData], counts[Outcome::kMismatch], counts[Outcome::kError],
      100 * rate, 100 * min_rate);
  std::printf(
      "shape inference: %lld node outputs checked against execution, %lld (%.1f%%) "
      "inferred exactly, %lld contradicted\n",
      static_cast<long long>(g_shapes.values), static_cast<long long>(g_shapes.exact),
      g_shapes.values
          ? 100.0 * static_cast<double>(g_shapes.exact) / static_cast<double>(g_shapes.values)
          : 0.0,
      static_cast<long long>(g_shapes.contradicted));

  if (shape_gaps)
    for (const auto& [op, n] : g_shape_gaps)
      std::printf("  not inferred exactly: %-24s %lld\n", op.c_str(), static_cast<long long>(n));
  const std::string md = operators_markdown(results);
  if (!markdown.empty()) std::ofstream(markdown) << md;
  int status = 0;
  if (!check_markdown.empty()) {
    std::ifstream in(check_markdown);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str() != md) {
      std::printf(
          "%s is stale: regenerate with conformance_runner --skip "
          "tests/conformance/skiplist.txt --markdown docs/operators.md\n",
          check_markdown.c_str());
      status = 1;
    }
  }
  if (unexpected > 0) status = 1;
  if (filter.empty() && rate + 1e-9 < min_rate) status = 1;
  std::printf("%d passed, %d failed\n", passed, total - passed);
  return status;
}
