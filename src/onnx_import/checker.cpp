#include "onnx_import/checker.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <limits>
#include <set>

#include "core/errors.h"
#include "ir/verifier.h"
#include "onnx_import/importer.h"
#include "onnx_import/model_file.h"
#include "ops/shape_inference.h"

namespace kiln::onnx_import {
namespace {

// The newest IR version / opset the linked libonnx (Debian 1.12) understands.
constexpr int64_t kLibOnnxMaxIr = onnx::IR_VERSION;
constexpr int64_t kLibOnnxMaxOpset = 17;

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_op(const std::string& op, const ops::OpRegistry& registry) {
  std::string best;
  // Only near misses: a case slip, or about one typo per four letters.
  size_t best_d = std::max<size_t>(1, op.size() / 4) + 1;
  for (const std::string& known : registry.op_types("")) {
    size_t d = edit_distance(op, known);
    if (d < best_d) {
      best_d = d;
      best = known;
    }
  }
  return best;
}

std::string join_types(const std::vector<DataType>& types) {
  std::string s;
  for (DataType t : types) s += (s.empty() ? "" : ", ") + std::string(data_type_name(t));
  return s;
}

class SupportChecker {
 public:
  SupportChecker(const ir::Model& model, const ops::OpRegistry& registry,
                 std::vector<Status>& problems)
      : model_(model), registry_(registry), problems_(problems) {}

  void run(const ir::Graph& g) {
    for (const ir::Node* n : g.nodes()) {
      check_node(*n);
      for (const ir::Graph* sub : n->subgraphs()) run(*sub);
    }
  }

 private:
  void add(Status s, const ir::Node& n) { problems_.push_back(std::move(s.with_node(n.ref()))); }

  void check_node(const ir::Node& n) {
    const std::string& domain = n.domain();
    if (!domain.empty() && !model_.opsets.count(domain)) {
      add(err(Code::kUnknownDomain, "domain '", domain,
              "' is not declared in the model's opset_import"),
          n);
      return;
    }
    if (!registry_.knows_domain(domain)) {
      add(err(Code::kUnknownDomain, "op '", n.op_type(), "' belongs to domain '", domain,
              "', which kiln does not implement (kiln implements ai.onnx and ",
              ops::kTrainingDomain, ")"),
          n);
      return;
    }
    auto revisions = registry_.revisions(domain, n.op_type());
    if (revisions.empty()) {
      std::string near = closest_op(n.op_type(), registry_);
      Status s = err(Code::kUnknownOp, "op '", n.op_type(), "' is not an operator kiln implements",
                     near.empty() ? "" : " (did you mean '" + near + "'?)");
      add(std::move(s), n);
      return;
    }
    // An out-of-range model opset is reported once for the model; judge nodes at the nearest
    // supported opset so the remaining per-node problems still surface.
    const int64_t opset = ops::effective_opset(domain, n.opset());
    const ops::OpSchema* schema = registry_.find(domain, n.op_type(), opset);
    if (schema == nullptr) {
      add(err(Code::kOpVersionUnsupported, "kiln implements ", n.op_type(), " at opsets ",
              revisions.front()->since(), "–", revisions.back()->until(), "; the model uses opset ",
              n.opset()),
          n);
      return;
    }
    if (!schema->is_supported()) {
      add(err(Code::kOpVersionUnsupported, n.op_type(), "-", schema->since(),
              " (selected by opset ", n.opset(),
              ") is not implemented: ", schema->unsupported_reason()),
          n);
      return;
    }
    check_arity(n, *schema);
    check_attributes(n, *schema);
    check_types(n, *schema);
    if (schema->node_check()) {
      std::vector<Status> extra;
      schema->node_check()(n, *schema, extra);
      for (Status& s : extra) add(std::move(s), n);
    }
  }

  void check_arity(const ir::Node& n, const ops::OpSchema& s) {
    auto count = [&](const char* what, size_t have, int min, int max) {
      if (static_cast<int64_t>(have) >= min && static_cast<int64_t>(have) <= max) return;
      std::string range = max == INT_MAX ? str("at least ", min)
                          : min == max   ? std::to_string(min)
                                         : str(min, "–", max);
      add(err(Code::kArityMismatch, n.op_type(), "-", s.since(), " takes ", range, " ", what,
              "; the node has ", have),
          n);
    };
    count("input(s)", n.inputs().size(), s.min_inputs(), s.max_inputs());
    count("output(s)", n.outputs().size(), s.min_outputs(), s.max_outputs());
    for (size_t i = 0; i < s.inputs().size() && i < n.inputs().size(); ++i)
      if (s.inputs()[i].arity == ops::Arity::kSingle && n.inputs()[i] == nullptr)
        add(err(Code::kArityMismatch, "required input ", i, " '", s.inputs()[i].name, "' is empty"),
            n);
  }

  void check_attributes(const ir::Node& n, const ops::OpSchema& s) {
    for (const ir::Attribute& a : n.attributes()) {
      const ops::AttrSpec* spec = s.find_attr(a.name);
      if (spec == nullptr) {
        std::string known;
        for (const auto& as : s.attrs()) known += (known.empty() ? "" : ", ") + as.name;
        add(err(Code::kUnknownAttribute, "attribute '", a.name, "' is not defined for ",
                n.op_type(), "-", s.since(), " (its attributes: ", known.empty() ? "none" : known,
                ")"),
            n);
        continue;
      }
      if (a.type != spec->type) {
        add(err(Code::kAttributeTypeMismatch, "attribute '", a.name, "' is ",
                ir::attr_type_name(a.type), " but ", n.op_type(), " defines it as ",
                ir::attr_type_name(spec->type)),
            n);
        continue;
      }
      if (!spec->allowed.empty() &&
          std::find(spec->allowed.begin(), spec->allowed.end(), a.s) == spec->allowed.end()) {
        std::string allowed;
        for (const auto& v : spec->allowed) allowed += (allowed.empty() ? "\"" : ", \"") + v + "\"";
        add(err(Code::kAttributeValueUnsupported, "attribute ", a.name, "=\"", a.s,
                "\" is not supported; kiln implements ", allowed),
            n);
      }
      if (!spec->allowed_ints.empty() &&
          std::find(spec->allowed_ints.begin(), spec->allowed_ints.end(), a.i) ==
              spec->allowed_ints.end()) {
        std::string allowed;
        for (int64_t v : spec->allowed_ints)
          allowed += (allowed.empty() ? "" : ", ") + std::to_string(v);
        add(err(Code::kAttributeValueUnsupported, "attribute ", a.name, "=", a.i,
                " is not supported; allowed values: ", allowed),
            n);
      }
    }
    for (const ops::AttrSpec& spec : s.attrs())
      if (spec.required && n.attr(spec.name) == nullptr)
        add(err(Code::kMissingAttribute, n.op_type(), "-", s.since(), " requires attribute '",
                spec.name, "' (", ir::attr_type_name(spec.type), ")"),
            n);
  }

  void check_types(const ir::Node& n, const ops::OpSchema& s) {
    std::map<std::string, std::pair<DataType, size_t>> bound;  // type var → (type, input slot)
    auto spec_for = [&](const std::vector<ops::IoSpec>& specs, size_t i) -> const ops::IoSpec* {
      if (specs.empty()) return nullptr;
      if (i < specs.size()) return &specs[i];
      return specs.back().arity == ops::Arity::kVariadic ? &specs.back() : nullptr;
    };
    for (size_t i = 0; i < n.inputs().size(); ++i) {
      const ir::Value* v = n.inputs()[i];
      const ops::IoSpec* spec = spec_for(s.inputs(), i);
      if (v == nullptr || spec == nullptr || !v->type.known()) continue;
      if (v->type.kind != ir::ValueKind::kTensor) continue;  // sequences judged with kernels
      const ops::TypeConstraint* tc = s.find_types(spec->type_var);
      if (tc == nullptr) continue;
      const DataType dt = v->type.dtype;
      if (std::find(tc->types.begin(), tc->types.end(), dt) == tc->types.end()) {
        add(err(Code::kTypeUnsupported, "input ", i, " '", v->name(), "' is ", data_type_name(dt),
                "; ", n.op_type(), " supports ", spec->type_var, " in {", join_types(tc->types),
                "}"),
            n);
        continue;
      }
      // Each value of a heterogeneous variadic (If/Loop/Scan) has its own type.
      if (spec->arity == ops::Arity::kVariadic && !spec->homogeneous) continue;
      auto [it, inserted] = bound.emplace(spec->type_var, std::make_pair(dt, i));
      if (!inserted && it->second.first != dt)
        add(err(Code::kTypeUnsupported, "inputs ", it->second.second, " and ", i,
                " must have the same type (", spec->type_var, ") but are ",
                data_type_name(it->second.first), " and ", data_type_name(dt)),
            n);
    }
  }

  const ir::Model& model_;
  const ops::OpRegistry& registry_;
  std::vector<Status>& problems_;
};

void add_saturated(int64_t& total, int64_t n) {
  total += std::min(n, std::numeric_limits<int64_t>::max() - total);
}

void summarize(const ir::Model& m, ModelSummary& s) {
  s.ir_version = m.ir_version;
  s.opsets = m.opsets;
  s.producer = m.producer_name + (m.producer_version.empty() ? "" : " " + m.producer_version);
  s.file_bytes = m.file_bytes;
  s.external_files = m.external_files;
  s.external_bytes = m.external_bytes;
  const ir::Graph& g = *m.graph;
  s.graph_name = g.name();
  s.nodes = static_cast<int64_t>(g.num_nodes());
  s.nodes_total = static_cast<int64_t>(g.total_nodes());
  std::map<std::string, int64_t> counts;
  std::vector<const ir::Graph*> stack{&g};
  while (!stack.empty()) {
    const ir::Graph* cur = stack.back();
    stack.pop_back();
    for (const ir::Node* n : cur->nodes()) {
      counts[n->domain().empty() ? n->op_type() : n->domain() + "::" + n->op_type()]++;
      for (const ir::Graph* sub : n->subgraphs()) {
        stack.push_back(sub);
        s.subgraphs++;
      }
    }
  }
  s.op_counts.assign(counts.begin(), counts.end());
  std::stable_sort(s.op_counts.begin(), s.op_counts.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const ir::Value* v : g.inputs()) {
    if (v->is_initializer()) continue;
    IoSummary io{v->name(), v->type.to_string(), {}};
    for (size_t i = 0; i < v->type.shape.rank(); ++i)
      if (!v->type.shape[i].is_static()) io.dynamic_dims.push_back(i);
    s.inputs.push_back(std::move(io));
  }
  for (const ir::Value* v : g.outputs()) s.outputs.push_back({v->name(), v->type.to_string(), {}});
  for (const ir::Value* v : g.initializers()) {
    s.initializers++;
    const Tensor* t = v->initializer();
    // Shapes are as the file declares them (placeholders of broken or unloaded tensors have
    // no data behind them), so a hostile file could overflow the totals: saturate instead.
    add_saturated(s.parameters, checked_numel(t->shape()).value_or(0));
    add_saturated(s.weight_bytes, static_cast<int64_t>(t->nbytes()));
  }
}

void check_inputs_and_weights(const ir::Model& m, std::vector<Status>& problems) {
  const ir::Graph& g = *m.graph;
  int shadowed = 0;
  for (const ir::Value* v : g.inputs()) {
    if (v->is_initializer()) {
      ++shadowed;
      continue;
    }
    const Dims& d = v->type.shape;
    if (!d.rank_known()) {
      problems.push_back(err(Code::kDynamicInputNeedsProfile, "input '", v->name(),
                             "' has unknown rank; its shape must be given at build time")
                             .with_severity(Severity::kInfo));
      continue;
    }
    std::string dyn, lo, mid, hi;
    for (size_t i = 0; i < d.rank(); ++i) {
      auto size = [&](const char* guess) {
        return (i ? "x" : "") + (d[i].is_static() ? std::to_string(d[i].value) : guess);
      };
      lo += size("1");
      mid += size("8");
      hi += size("32");
      if (!d[i].is_static())
        dyn += (dyn.empty() ? "" : ", ") + std::to_string(i) + " ('" + d[i].to_string() + "')";
    }
    if (dyn.empty()) continue;
    problems.push_back(err(Code::kDynamicInputNeedsProfile, "input '", v->name(), "' ",
                           v->type.to_string(), " has dynamic dimension(s) ", dyn)
                           .with_fix(str("Give its range when building, e.g. --min-shapes ",
                                         v->name(), ":", lo, " --opt-shapes ", v->name(), ":", mid,
                                         " --max-shapes ", v->name(), ":", hi,
                                         " (use the sizes you will send), or --shapes for one "
                                         "static shape."))
                           .with_severity(Severity::kInfo));
  }
  if (shadowed > 0 && m.ir_version >= 4)
    problems.push_back(err(Code::kGraphInputShadowed, shadowed,
                           " graph input(s) also have initializers; kiln treats them as "
                           "constants (weights), not as inputs to feed")
                           .with_severity(Severity::kInfo));
  std::vector<std::string> unused;
  for (const ir::Value* v : g.initializers())
    if (v->consumers().empty() && !v->is_graph_output() && !v->is_graph_input())
      unused.push_back(v->name());
  if (!unused.empty()) {
    std::string names;
    for (size_t i = 0; i < unused.size() && i < 8; ++i)
      names += (i ? ", '" : "'") + unused[i] + "'";
    if (unused.size() > 8) names += str(", … (", unused.size() - 8, " more)");
    problems.push_back(
        err(Code::kUnusedInitializer, unused.size(), " initializer(s) are never used: ", names)
            .with_severity(Severity::kWarning));
  }
}

bool has_error(const std::vector<Status>& problems) {
  return std::any_of(problems.begin(), problems.end(),
                     [](const Status& s) { return s.severity() == Severity::kError; });
}

// libonnx's check_model(ModelProto) resolves external data locations against an empty model
// directory, i.e. the current one. kiln has already resolved and validated every location
// against the model's directory (escape, existence, range), so point libonnx at the same files.
void anchor_external_locations(onnx::GraphProto& g, const std::string& base_dir) {
  auto anchor = [&](onnx::TensorProto& t) {
    if (t.data_location() != onnx::TensorProto::EXTERNAL) return;
    for (auto& kv : *t.mutable_external_data())
      if (kv.key() == "location")
        kv.set_value((std::filesystem::path(base_dir) / kv.value()).string());
  };
  for (auto& t : *g.mutable_initializer()) anchor(t);
  for (auto& n : *g.mutable_node())
    for (auto& a : *n.mutable_attribute()) {
      if (a.has_t()) anchor(*a.mutable_t());
      for (auto& t : *a.mutable_tensors()) anchor(t);
      if (a.has_g()) anchor_external_locations(*a.mutable_g(), base_dir);
      for (auto& sub : *a.mutable_graphs()) anchor_external_locations(sub, base_dir);
    }
}

// Ranks kiln knows for a value: its declared type and, for a weight, its initializer's dims.
std::set<size_t> known_ranks(const ir::Value* v) {
  std::set<size_t> ranks;
  if (v == nullptr) return ranks;
  if (v->type.shape.rank_known()) ranks.insert(v->type.shape.rank());
  if (const Tensor* t = v->initializer()) ranks.insert(t->shape().size());
  return ranks;
}

// libonnx 1.12's Conv-family shape inference indexes the input's per-axis attributes and dims by
// the weight's rank when it takes the kernel from the weight, and reads the weight's dim 1 for
// ConvTranspose: a model whose weight rank differs from its input rank makes it read out of
// bounds and crash (onnx/onnx#6180, #8036; found by tests/fuzz). It is safe only where the node
// carries kernel_shape (whose length libonnx checks against the input rank) or kiln knows the
// two ranks to be equal. Returns the first node it is not safe for, and why.
const ir::Node* unsafe_for_onnx_inference(const ir::Graph& g, std::string& why) {
  for (const ir::Node* n : g.nodes()) {
    for (const ir::Graph* sub : n->subgraphs())
      if (const ir::Node* bad = unsafe_for_onnx_inference(*sub, why)) return bad;
    const std::string& op = n->op_type();
    if (!n->domain().empty()) continue;
    size_t w_slot = 1;
    if (op == "QLinearConv")
      w_slot = 3;
    else if (op != "Conv" && op != "ConvInteger" && op != "ConvTranspose")
      continue;
    const ir::Value* x = n->input(0);
    const ir::Value* w = n->input(w_slot);
    const std::set<size_t> xr = known_ranks(x), wr = known_ranks(w);
    if (xr.size() > 1 || wr.size() > 1 || (xr.size() == 1 && wr.size() == 1 && xr != wr)) {
      auto ranks = [](const std::set<size_t>& r) {
        std::string s;
        for (size_t v : r) s += (s.empty() ? "" : " and ") + std::to_string(v);
        return s;
      };
      why = str("reads input '", x ? x->name() : "", "' of rank ", ranks(xr), " with weight '",
                w ? w->name() : "", "' of rank ", ranks(wr));
      return n;
    }
    if (xr.size() == 1 && wr == xr) continue;
    const bool has_kernel = n->attr("kernel_shape") != nullptr;
    const bool w_has_channels = wr.size() == 1 && *wr.begin() >= 2;
    if (has_kernel && (op != "ConvTranspose" || w_has_channels)) continue;
    why = has_kernel ? "has a weight of unknown rank"
                     : "has no kernel_shape and its input and weight ranks are not both known";
    return n;
  }
  return nullptr;
}

// libonnx's checker and shape inference, where the model's versions are within its knowledge.
// Inferred types are copied onto IR values that have none, so type support can be judged.
// The proto is modified (external locations anchored, inferred value_info added). Returns
// whether any IR value gained a type.
bool run_reference_checker(onnx::ModelProto& proto, const std::string& base_dir, ir::Model& model,
                           std::vector<Status>& problems) {
  const int64_t opset = model.default_opset();
  if (model.ir_version > kLibOnnxMaxIr || opset > kLibOnnxMaxOpset) {
    problems.push_back(err(Code::kCheckerSkipped, "the linked onnx checker knows IR ≤ ",
                           kLibOnnxMaxIr, " and opset ≤ ", kLibOnnxMaxOpset, "; this model has IR ",
                           model.ir_version, ", opset ", opset)
                           .with_severity(Severity::kInfo));
    return false;
  }
  if (!base_dir.empty()) anchor_external_locations(*proto.mutable_graph(), base_dir);
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    std::string what = e.what();
    while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
    problems.push_back(err(Code::kOnnxCheckerFailed, "onnx checker: ", what));
    return false;
  }
  std::string why;
  if (const ir::Node* n = unsafe_for_onnx_inference(*model.graph, why)) {
    problems.push_back(err(Code::kCheckerSkipped, "onnx shape inference skipped: the ",
                           n->op_type(), " node ", why,
                           ", and the linked onnx 1.12 reads out of bounds on such nodes")
                           .with_node(n->ref())
                           .with_severity(Severity::kInfo));
    return false;
  }
  try {
    onnx::shape_inference::InferShapes(proto);
  } catch (const std::exception&) {
    return false;  // kiln's own shape inference (op coverage work) does not depend on this
  }
  bool typed = false;
  for (const auto& vi : proto.graph().value_info()) {
    ir::Value* v = model.graph->find(vi.name());
    if (v == nullptr || v->type.known()) continue;
    if (!vi.type().has_tensor_type()) continue;
    const DataTypeInfo* info = data_type_info(vi.type().tensor_type().elem_type());
    if (info == nullptr || info->type == DataType::kUndefined) continue;
    v->type.dtype = info->type;
    typed = true;
  }
  return typed;
}

void list_values(const ir::Graph& g, std::vector<ValueSummary>& out) {
  for (const ir::Node* n : g.nodes()) {
    for (const ir::Value* v : n->outputs())
      if (v != nullptr)
        out.push_back({v->name(), v->type.to_string(),
                       n->op_type() + " #" + std::to_string(n->index()) +
                           (g.parent() ? " in " + g.path() : "")});
    for (const ir::Graph* sub : n->subgraphs()) list_values(*sub, out);
  }
}

// kiln's shape inference: contradictions become problems; inferred element types let the op
// support checks see types the model never declared (they run again; new findings only).
void infer_and_recheck(ir::Model& model, const ops::OpRegistry& registry,
                       const CheckOptions& options, CheckReport& report) {
  ops::ShapeInferenceStats stats;
  ops::infer_shapes(*model.graph, {}, report.problems, &stats);
  report.summary.shapes = {stats.values, stats.typed, stats.rank_known, stats.fully_known};
  if (options.list_values) list_values(*model.graph, report.summary.values);
  std::set<std::string> seen;
  for (const Status& p : report.problems) seen.insert(p.to_string());
  std::vector<Status> typed;
  check_op_support(model, registry, typed);
  for (Status& p : typed)
    if (p.severity() == Severity::kError && seen.insert(p.to_string()).second)
      report.problems.push_back(std::move(p));
}

CheckReport check_parsed(onnx::ModelProto& proto, const std::string& base_dir,
                         const CheckOptions& options, int64_t file_bytes) {
  CheckReport report;
  ImportOptions io;
  io.load_external_data = false;
  auto imported = import_proto(proto, base_dir, io);
  if (!imported.ok()) {
    report.problems.push_back(imported.status());
    return report;
  }
  report.parsed = true;
  ir::Model& model = imported->model;
  model.file_bytes = file_bytes;
  report.problems = std::move(imported->problems);
  ir::verify(*model.graph, report.problems);
  const ops::OpRegistry& registry = ops::OpRegistry::builtin();
  check_op_support(model, registry, report.problems);
  infer_and_recheck(model, registry, options, report);
  // The reference checker repeats kiln's findings in vaguer words ("No Op registered for X");
  // run it only on models kiln found sound, where it can add something.
  if (options.run_onnx_checker && !has_error(report.problems) &&
      run_reference_checker(proto, base_dir, model, report.problems)) {
    // Inferred intermediate types make more type checks possible. The first pass found no
    // errors, so any error now is a new (type) finding.
    std::vector<Status> typed;
    check_op_support(model, registry, typed);
    for (Status& p : typed)
      if (p.severity() == Severity::kError) report.problems.push_back(std::move(p));
  }
  check_inputs_and_weights(model, report.problems);
  summarize(model, report.summary);
  return report;
}

}  // namespace

int CheckReport::errors() const {
  return static_cast<int>(std::count_if(problems.begin(), problems.end(), [](const Status& s) {
    return s.severity() == Severity::kError;
  }));
}

int CheckReport::warnings() const {
  return static_cast<int>(std::count_if(problems.begin(), problems.end(), [](const Status& s) {
    return s.severity() == Severity::kWarning;
  }));
}

void check_op_support(const ir::Model& model, const ops::OpRegistry& registry,
                      std::vector<Status>& problems) {
  SupportChecker(model, registry, problems).run(*model.graph);
}

CheckReport check_model_file(const std::string& path, const CheckOptions& options) {
  CheckReport report;
  report.summary.path = path;
  auto bytes = read_model_file(path);
  if (!bytes.ok()) {
    report.problems.push_back(bytes.status());
    return report;
  }
  report.summary.file_bytes = static_cast<int64_t>(bytes->size());
  onnx::ModelProto proto;
  Status parsed = parse_model_proto(bytes->data(), bytes->size(), "'" + path + "'", proto);
  if (!parsed.ok()) {
    report.problems.push_back(parsed);
    return report;
  }
  const int64_t size = static_cast<int64_t>(bytes->size());
  bytes = std::vector<uint8_t>{};
  std::string dir = std::filesystem::path(path).parent_path().string();
  CheckReport r = check_parsed(proto, dir.empty() ? "." : dir, options, size);
  r.summary.path = path;
  return r;
}

CheckReport check_model_bytes(const void* data, size_t size, const CheckOptions& options) {
  CheckReport report;
  onnx::ModelProto proto;
  Status parsed = parse_model_proto(data, size, "model", proto);
  if (!parsed.ok()) {
    report.problems.push_back(parsed);
    return report;
  }
  return check_parsed(proto, "", options, static_cast<int64_t>(size));
}

}  // namespace kiln::onnx_import
