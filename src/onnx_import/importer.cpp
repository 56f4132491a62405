#include "onnx_import/importer.h"

#include <onnx/onnx_pb.h>

#include <climits>
#include <filesystem>
#include <limits>
#include <set>
#include <unordered_map>

#include "core/errors.h"
#include "onnx_import/model_file.h"
#include "onnx_import/tensor_proto.h"
#include "ops/op_schema.h"

namespace kiln::onnx_import {
namespace {

ir::ValueType convert_type(const onnx::TypeProto& tp, const std::string& where,
                           std::vector<Status>& problems) {
  ir::ValueType vt;
  const onnx::TypeProto* elem = &tp;
  switch (tp.value_case()) {
    case onnx::TypeProto::kTensorType: vt.kind = ir::ValueKind::kTensor; break;
    case onnx::TypeProto::kSequenceType:
      vt.kind = ir::ValueKind::kSequence;
      elem = &tp.sequence_type().elem_type();
      break;
    case onnx::TypeProto::kOptionalType:
      vt.kind = ir::ValueKind::kOptional;
      elem = &tp.optional_type().elem_type();
      break;
    case onnx::TypeProto::kMapType: vt.kind = ir::ValueKind::kMap; return vt;
    case onnx::TypeProto::kSparseTensorType: vt.kind = ir::ValueKind::kSparseTensor; break;
    default: vt.kind = ir::ValueKind::kUnknown; return vt;
  }
  // Element type and shape come from the (innermost) tensor or sparse tensor type.
  int32_t elem_type = 0;
  const onnx::TensorShapeProto* shape = nullptr;
  if (elem->has_tensor_type()) {
    elem_type = elem->tensor_type().elem_type();
    if (elem->tensor_type().has_shape()) shape = &elem->tensor_type().shape();
  } else if (elem->has_sparse_tensor_type()) {
    elem_type = elem->sparse_tensor_type().elem_type();
    if (elem->sparse_tensor_type().has_shape()) shape = &elem->sparse_tensor_type().shape();
  }
  if (elem_type != 0) {
    const DataTypeInfo* info = data_type_info(elem_type);
    if (info == nullptr)
      problems.push_back(err(Code::kUnknownDataType, where, " declares element type ", elem_type,
                             ", which is not an ONNX type (valid: 1..", kMaxDataType, ")"));
    else
      vt.dtype = info->type;
  }
  if (shape) {
    std::vector<Dim> dims;
    for (const auto& d : shape->dim()) {
      if (d.has_dim_value()) {
        // Several exporters (Paddle2ONNX, older TF converters) write -1 for "dynamic"; ONNX
        // Runtime reads it that way too. Other negative sizes are corrupt.
        if (d.dim_value() < -1)
          problems.push_back(err(Code::kInvalidShape, where, " declares dimension ", dims.size(),
                                 " = ", d.dim_value()));
        dims.push_back(d.dim_value() >= 0 ? Dim::fixed(d.dim_value()) : Dim::unknown());
      } else if (d.has_dim_param() && !d.dim_param().empty()) {
        dims.push_back(Dim::symbolic(d.dim_param()));
      } else {
        dims.push_back(Dim::unknown());
      }
    }
    vt.shape = Dims(std::move(dims));
  }
  return vt;
}

class GraphImporter {
 public:
  GraphImporter(const std::map<std::string, int64_t>& opsets, const std::string& base_dir,
                const ImportOptions& options, ir::Model& model, std::vector<Status>& problems)
      : opsets_(opsets), model_(model), problems_(problems) {
    tensor_opts_.base_dir = base_dir;
    tensor_opts_.load_external = options.load_external_data;
  }

  std::unique_ptr<ir::Graph> import_graph(const onnx::GraphProto& gp, std::string name,
                                          ir::Graph* parent) {
    auto g = std::make_unique<ir::Graph>(std::move(name), parent);
    const std::string gpath = g->path();
    std::map<std::string, ir::ValueType> value_info;
    for (const auto& vi : gp.value_info())
      value_info[vi.name()] = convert_type(vi.type(), "value_info '" + vi.name() + "'", problems_);

    for (const auto& vi : gp.input()) {
      ir::ValueType t = convert_type(vi.type(), "graph input '" + vi.name() + "'", problems_);
      auto r = g->add_input(vi.name(), std::move(t));
      if (!r.ok()) problems_.push_back(r.status());
    }
    for (int i = 0; i < gp.initializer_size(); ++i) import_initializer(gp.initializer(i), *g);
    for (const auto& sp : gp.sparse_initializer())
      problems_.push_back(err(Code::kUnsupportedFeature, "graph '", gpath,
                              "' has sparse initializer '", sp.values().name(),
                              "'; kiln supports dense initializers only"));

    // Pass 1 defines every node output so inputs may refer forward (unsorted graphs) and
    // subgraphs may capture values produced later in the list.
    std::vector<std::vector<ir::Value*>> outputs(static_cast<size_t>(gp.node_size()));
    // Nodes are added in pass 2, so until then a value's first writer is only known here.
    std::unordered_map<std::string, int> first_writer;
    for (int i = 0; i < gp.node_size(); ++i) {
      const auto& np = gp.node(i);
      for (const std::string& out : np.output()) {
        if (out.empty()) {
          outputs[i].push_back(nullptr);
          continue;
        }
        auto it = value_info.find(out);
        auto r = g->add_value(out, it != value_info.end() ? it->second : ir::ValueType{});
        if (r.ok()) {
          outputs[i].push_back(*r);
          first_writer.emplace(out, i);
          continue;
        }
        auto w = first_writer.find(out);
        const std::string definer = w == first_writer.end()
                                        ? describe_definer(g->find(out))
                                        : str("node #", w->second, " '", gp.node(w->second).name(),
                                              "' (", gp.node(w->second).op_type(), ")");
        problems_.push_back(err(Code::kDuplicateValue, "output '", out, "' of node #", i, " '",
                                np.name(), "' (", np.op_type(), ") in graph '", gpath,
                                "' is already defined by ", definer));
        // Keep the graph consistent under a private name so later checks still run.
        // The private name must be new: a node may repeat an output, and a model may itself
        // use a name like "<out>#dup<i>".
        std::string alias = out + "#dup" + std::to_string(i);
        for (int k = 1; g->find(alias) != nullptr; ++k)
          alias = out + "#dup" + std::to_string(i) + "." + std::to_string(k);
        outputs[i].push_back(*g->add_value(alias));
      }
    }
    for (int i = 0; i < gp.node_size(); ++i) import_node(gp.node(i), i, *g, outputs[i]);

    for (const auto& vi : gp.output()) {
      ir::Value* v = g->lookup(vi.name());
      if (v == nullptr) v = placeholder(*g, vi.name());
      ir::ValueType t = convert_type(vi.type(), "graph output '" + vi.name() + "'", problems_);
      if (!v->type.known() && t.known()) v->type = t;
      g->add_output(v);
    }
    if (gp.output_size() == 0 && parent == nullptr)
      problems_.push_back(err(Code::kEmptyGraph, "graph '", gpath, "' declares no outputs"));
    Status sorted = g->sort_topologically();
    if (!sorted.ok()) problems_.push_back(sorted);
    return g;
  }

 private:
  static std::string describe_definer(const ir::Value* v) {
    if (v == nullptr) return "another definition";
    if (v->producer())
      return str("node #", v->producer()->index(), " '", v->producer()->name(), "' (",
                 v->producer()->op_type(), ")");
    if (v->is_initializer()) return "an initializer";
    if (v->is_graph_input()) return "a graph input";
    return "another definition";
  }

  // A stand-in for a name nothing defines; the verifier reports it with full context.
  static ir::Value* placeholder(ir::Graph& g, const std::string& name) {
    if (ir::Value* v = g.find(name)) return v;
    return *g.add_value(name);
  }

  void import_initializer(const onnx::TensorProto& tp, ir::Graph& g) {
    const std::string where = "initializer '" + tp.name() + "'";
    if (tp.name().empty()) {
      problems_.push_back(err(Code::kInvalidTensorData, "graph '", g.path(),
                              "' has an initializer without a name"));
      return;
    }
    ExternalRef ext;
    auto t = read_tensor(tp, tensor_opts_, where, &ext);
    if (!ext.location.empty()) note_external(ext);
    Tensor tensor;
    if (t.ok()) {
      tensor = std::move(t).value();
    } else {
      problems_.push_back(t.status());
      tensor = failed_tensor(tp, g.find(tp.name()));
    }
    if (ir::Value* existing = g.find(tp.name())) {
      if (existing->is_graph_input() && !existing->is_initializer()) {
        g.set_initializer(existing, std::move(tensor));
        return;
      }
      problems_.push_back(err(Code::kDuplicateValue, where, " in graph '", g.path(),
                              "' is defined more than once"));
      return;
    }
    (void)g.add_initializer(tp.name(), std::move(tensor));
  }

  // Stands in (without data) for an initializer that could not be read, keeping its name
  // defined so its consumers are not reported as well. A graph input declaring the value
  // lends its type, so the one broken tensor is not reported again as disagreeing with it.
  static Tensor failed_tensor(const onnx::TensorProto& tp, const ir::Value* declared) {
    if (declared != nullptr && declared->is_graph_input() && declared->type.known()) {
      auto sizes = declared->type.shape.static_sizes();
      return Tensor::borrow(declared->type.dtype, sizes.value_or(std::vector<int64_t>{}), nullptr);
    }
    const DataTypeInfo* info = data_type_info(tp.data_type());
    return Tensor::borrow(info ? info->type : DataType::kUndefined, {}, nullptr);
  }

  void note_external(const ExternalRef& ext) {
    auto& files = model_.external_files;
    if (std::find(files.begin(), files.end(), ext.location) == files.end())
      files.push_back(ext.location);
    // Lengths are as the file states them (also for tensors refused as out of range), so a
    // hostile file could overflow the total: saturate instead.
    const int64_t room = std::numeric_limits<int64_t>::max() - model_.external_bytes;
    model_.external_bytes += std::min(ext.length, room);
  }

  int64_t opset_for(const std::string& domain) const {
    auto it = opsets_.find(domain == "ai.onnx" ? "" : domain);
    return it == opsets_.end() ? 0 : it->second;
  }

  void import_node(const onnx::NodeProto& np, int index, ir::Graph& g,
                   std::vector<ir::Value*>& outputs) {
    const std::string domain = np.domain() == "ai.onnx" ? "" : np.domain();
    NodeRef ref{index, np.name(), np.op_type(), domain, opset_for(domain), {}};
    if (g.parent()) ref.graph = g.path();

    std::vector<ir::Value*> inputs;
    for (const std::string& in : np.input()) {
      if (in.empty()) {
        inputs.push_back(nullptr);
        continue;
      }
      ir::Value* v = g.lookup(in);
      inputs.push_back(v ? v : placeholder(g, in));
    }

    std::vector<ir::Attribute> attrs;
    std::set<std::string> seen;
    for (const auto& ap : np.attribute()) {
      if (ap.name().empty() || !seen.insert(ap.name()).second) {
        problems_.push_back(err(Code::kInvalidAttribute,
                                ap.name().empty() ? std::string("an attribute has no name")
                                                  : "attribute '" + ap.name() + "' appears twice")
                                .with_node(ref));
        continue;
      }
      attrs.push_back(import_attribute(ap, ref, g));
    }
    if (np.op_type().empty())
      problems_.push_back(err(Code::kUnknownOp, "node has an empty op_type").with_node(ref));
    g.add_node(np.op_type(), domain, np.name(), std::move(inputs), std::move(outputs),
               std::move(attrs), ref.opset, index);
  }

  ir::Attribute import_attribute(const onnx::AttributeProto& ap, const NodeRef& ref,
                                 ir::Graph& g) {
    using T = ir::AttrType;
    ir::Attribute a;
    a.name = ap.name();
    const int raw_type = static_cast<int>(ap.type());
    T type = raw_type >= 0 && raw_type <= 14 ? static_cast<T>(raw_type) : T::kUndefined;
    if (ap.type() == onnx::AttributeProto::UNDEFINED) type = infer_attr_type(ap);
    a.type = type;
    const std::string where = "attribute '" + ap.name() + "'";
    auto tensor = [&](const onnx::TensorProto& tp) {
      ExternalRef ext;
      auto t = read_tensor(tp, tensor_opts_, where, &ext);
      if (!ext.location.empty()) note_external(ext);
      if (t.ok()) return std::move(t).value();
      problems_.push_back(Status(t.status()).with_node(ref));
      return Tensor();
    };
    auto subgraph = [&](const onnx::GraphProto& gp, size_t i, bool many) {
      std::string name = (ref.name.empty() ? ref.op_type + "#" + std::to_string(ref.index) : ref.name) +
                         ":" + ap.name() + (many ? "[" + std::to_string(i) + "]" : "");
      return import_graph(gp, name, &g);
    };
    switch (type) {
      case T::kFloat: a.f = ap.f(); break;
      case T::kInt: a.i = ap.i(); break;
      case T::kString: a.s = ap.s(); break;
      case T::kTensor: a.t = tensor(ap.t()); break;
      case T::kGraph: a.g = subgraph(ap.g(), 0, false); break;
      case T::kFloats: a.floats.assign(ap.floats().begin(), ap.floats().end()); break;
      case T::kInts: a.ints.assign(ap.ints().begin(), ap.ints().end()); break;
      case T::kStrings: a.strings.assign(ap.strings().begin(), ap.strings().end()); break;
      case T::kTensors:
        for (const auto& tp : ap.tensors()) a.tensors.push_back(tensor(tp));
        break;
      case T::kGraphs:
        for (int i = 0; i < ap.graphs_size(); ++i)
          a.graphs.push_back(subgraph(ap.graphs(i), static_cast<size_t>(i), true));
        break;
      case T::kUndefined:
        problems_.push_back(err(Code::kInvalidAttribute, where, " has type ", ap.type(),
                                " and no value field kiln recognises")
                                .with_node(ref));
        break;
      default: break;  // sparse tensors and type protos: kept typed, judged by the checker
    }
    return a;
  }

  static ir::AttrType infer_attr_type(const onnx::AttributeProto& ap) {
    using T = ir::AttrType;
    if (ap.has_f()) return T::kFloat;
    if (ap.has_i()) return T::kInt;
    if (ap.has_s()) return T::kString;
    if (ap.has_t()) return T::kTensor;
    if (ap.has_g()) return T::kGraph;
    if (ap.floats_size()) return T::kFloats;
    if (ap.ints_size()) return T::kInts;
    if (ap.strings_size()) return T::kStrings;
    if (ap.tensors_size()) return T::kTensors;
    if (ap.graphs_size()) return T::kGraphs;
    return T::kUndefined;
  }

  const std::map<std::string, int64_t>& opsets_;
  ir::Model& model_;
  std::vector<Status>& problems_;
  TensorReadOptions tensor_opts_;
};

// The first node of `g` or its subgraphs in the default domain, or nullptr.
const onnx::NodeProto* first_default_domain_node(const onnx::GraphProto& g) {
  for (const auto& n : g.node()) {
    if (n.domain().empty() || n.domain() == "ai.onnx") return &n;
    for (const auto& a : n.attribute()) {
      if (a.has_g())
        if (const onnx::NodeProto* found = first_default_domain_node(a.g())) return found;
      for (const auto& sub : a.graphs())
        if (const onnx::NodeProto* found = first_default_domain_node(sub)) return found;
    }
  }
  return nullptr;
}

void check_versions(const onnx::ModelProto& proto, ir::Model& model,
                    std::vector<Status>& problems) {
  if (model.ir_version < kMinIrVersion || model.ir_version > kMaxIrVersion)
    problems.push_back(err(Code::kIrVersionUnsupported, "model has IR version ", model.ir_version,
                           "; kiln reads IR versions ", kMinIrVersion, "–", kMaxIrVersion));
  for (const auto& op : proto.opset_import()) {
    std::string domain = op.domain() == "ai.onnx" ? "" : op.domain();
    if (model.opsets.count(domain) && model.opsets[domain] != op.version())
      problems.push_back(err(Code::kOpsetOutOfRange, "model imports domain '",
                             domain.empty() ? "ai.onnx" : domain, "' twice, at versions ",
                             model.opsets[domain], " and ", op.version()));
    model.opsets[domain] = op.version();
  }
  if (!model.opsets.count("")) {
    // Only a model that uses ai.onnx ops needs to import it: training-only graphs import just
    // ai.onnx.preview.training. Nodes of other domains are judged by the checker.
    if (const onnx::NodeProto* n = first_default_domain_node(proto.graph()))
      problems.push_back(err(Code::kMissingDefaultOpset,
                             "model has no opset_import entry for the default domain (ai.onnx), "
                             "which its ",
                             n->op_type(), " node '", n->name(), "' uses"));
    return;
  }
  const int64_t v = model.opsets[""];
  if (v > ops::kMaxOpset) {
    const int64_t target = ops::kMaxOpset;
    problems.push_back(
        err(Code::kOpsetOutOfRange, "model uses opset ", v, " (ai.onnx); kiln supports opsets ",
            ops::kMinOpset, "–", ops::kMaxOpset)
            .with_fix(str("Re-export with opset_version=", target,
                          " (torch.onnx.export(..., opset_version=", target,
                          ")), or convert: onnx.version_converter.convert_version(model, ", target,
                          ").")));
  } else if (v < ops::kMinOpset) {
    // ai.onnx starts at opset 1, so this is a broken opset_import rather than an old model.
    problems.push_back(
        err(Code::kOpsetOutOfRange, "model uses opset ", v, " (ai.onnx); kiln supports opsets ",
            ops::kMinOpset, "–", ops::kMaxOpset, " and ai.onnx has no opset below ", ops::kMinOpset)
            .with_fix("Set the model's opset_import version for the default domain to the opset "
                      "its exporter targeted (onnx.helper.make_opsetid('', N)), or re-export it."));
  }
}

}  // namespace

Status parse_model_proto(const void* data, size_t size, const std::string& what,
                         onnx::ModelProto& out) {
  if (size > kMaxProtobufBytes)
    return err(Code::kModelTooLarge, what, " is ", size, " bytes; a protobuf message is limited "
               "to ", kMaxProtobufBytes, " bytes");
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (size == 0 || !out.ParseFromArray(data, static_cast<int>(size)))
    return diagnose_unparseable(bytes, size, what);
  if (!out.has_graph() && out.ir_version() == 0 && out.opset_import_size() == 0) {
    std::string sniff = sniff_format(bytes, size);
    return err(Code::kNotOnnx, what, " (", size, " bytes) decodes as protobuf but has none of "
               "ModelProto's fields (ir_version, opset_import, graph)",
               sniff.empty() ? "" : "; it looks like " + sniff);
  }
  if (!out.has_graph()) return err(Code::kEmptyGraph, what, " has no graph");
  return Status::Ok();
}

Result<Imported> import_proto(const onnx::ModelProto& proto, const std::string& base_dir,
                              const ImportOptions& options) {
  Imported result;
  ir::Model& model = result.model;
  model.ir_version = proto.ir_version();
  model.producer_name = proto.producer_name();
  model.producer_version = proto.producer_version();
  model.domain = proto.domain();
  model.model_version = proto.model_version();
  model.doc = proto.doc_string();
  for (const auto& kv : proto.metadata_props()) model.metadata.emplace_back(kv.key(), kv.value());
  check_versions(proto, model, result.problems);
  if (proto.functions_size() > 0) {
    std::string names;
    for (const auto& f : proto.functions())
      names += (names.empty() ? "" : ", ") + f.domain() + "::" + f.name();
    result.problems.push_back(
        err(Code::kUnsupportedFeature, "model defines ", proto.functions_size(),
            " local function(s) (", names, "); kiln does not execute model-local functions")
            .with_fix("Inline them before passing the model to kiln: "
                      "onnx.inliner.inline_local_functions(model)."));
  }
  if (proto.training_info_size() > 0)
    result.problems.push_back(err(Code::kUnsupportedFeature, "model carries training information, "
                                  "which kiln ignores (inference only)")
                                  .with_severity(Severity::kWarning));
  GraphImporter importer(model.opsets, base_dir, options, model, result.problems);
  model.graph = importer.import_graph(proto.graph(),
                                      proto.graph().name().empty() ? "main" : proto.graph().name(),
                                      nullptr);
  return result;
}

Result<Imported> import_bytes(const void* data, size_t size, const ImportOptions& options,
                              const std::string& what) {
  onnx::ModelProto proto;
  KILN_RETURN_IF_ERROR(parse_model_proto(data, size, what, proto));
  auto r = import_proto(proto, "", options);
  if (r.ok()) r->model.file_bytes = static_cast<int64_t>(size);
  return r;
}

Result<Imported> import_file(const std::string& path, const ImportOptions& options) {
  KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, read_model_file(path));
  onnx::ModelProto proto;
  KILN_RETURN_IF_ERROR(parse_model_proto(bytes.data(), bytes.size(), "'" + path + "'", proto));
  bytes = {};  // the proto owns what it needs; drop the file image early
  std::string dir = std::filesystem::path(path).parent_path().string();
  auto r = import_proto(proto, dir.empty() ? "." : dir, options);
  if (r.ok()) {
    r->model.path = path;
    std::error_code ec;
    r->model.file_bytes = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  }
  return r;
}

}  // namespace kiln::onnx_import
