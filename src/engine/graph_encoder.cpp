// Writes the graph section (layout: docs/engine-format.md, "Graph section").
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/errors.h"
#include "core/half.h"
#include "engine/byte_io.h"
#include "engine/graph_codec.h"
#include "ir/verifier.h"

namespace kiln::engine::codec {

uint64_t WeightBlob::add(const void* data, uint64_t bytes) {
  // Views of one storage (an initializer shared through Tensor::view) are stored once.
  auto key = std::make_pair(data, bytes);
  if (auto it = seen_.find(key); it != seen_.end()) return it->second;
  uint64_t offset =
      (size_ + format::kWeightAlignment - 1) / format::kWeightAlignment * format::kWeightAlignment;
  parts_.push_back({static_cast<const uint8_t*>(data), offset, bytes});
  size_ = offset + bytes;
  seen_.emplace(key, offset);
  return offset;
}

uint64_t WeightBlob::add_owned(std::vector<uint8_t> bytes) {
  owned_.push_back(std::move(bytes));
  const std::vector<uint8_t>& b = owned_.back();
  uint64_t offset =
      (size_ + format::kWeightAlignment - 1) / format::kWeightAlignment * format::kWeightAlignment;
  parts_.push_back({b.data(), offset, b.size()});
  size_ = offset + b.size();
  return offset;
}

namespace {

// A graph's values as the section lists them: inputs first (in input order), then
// initializers, node outputs, and anything else referenced (by this graph's nodes and outputs
// or from its subgraphs), each once.
struct ValueTable {
  std::vector<const ir::Value*> values;
  std::unordered_map<const ir::Value*, uint32_t> index;
  void add(const ir::Value* v) {
    if (index.emplace(v, static_cast<uint32_t>(values.size())).second) values.push_back(v);
  }
};

class Encoder {
 public:
  Encoder(std::vector<uint8_t>& out, WeightBlob& weights, const std::set<std::string>& half)
      : w_(out), weights_(weights), half_(half) {}

  Status model(const ir::Model& m) {
    if (!m.graph) return err(Code::kInternal, "write_engine: the model has no graph");
    KILN_RETURN_IF_ERROR(ir::verify(*m.graph));
    KILN_RETURN_IF_ERROR(collect(*m.graph, 0));

    w_.i64(m.ir_version);
    w_.count(m.opsets.size());
    for (const auto& [domain, version] : m.opsets) {
      w_.str(domain);
      w_.i64(version);
    }
    w_.str(m.producer_name);
    w_.str(m.producer_version);
    w_.str(m.domain);
    w_.str(m.doc);
    w_.i64(m.model_version);
    w_.count(m.metadata.size());
    for (const auto& [key, value] : m.metadata) {
      w_.str(key);
      w_.str(value);
    }
    w_.str(m.path);
    w_.i64(m.file_bytes);
    w_.count(m.external_files.size());
    for (const std::string& f : m.external_files) w_.str(f);
    w_.i64(m.external_bytes);
    KILN_RETURN_IF_ERROR(graph(*m.graph));
    if (w_.overflowed())
      return err(Code::kUnsupportedFeature,
                 "the model holds a string or list longer than the engine format's 2^32 limit");
    return Status::Ok();
  }

 private:
  // Pre-pass: every graph's value table must be complete before the graph is written, since
  // a subgraph written later may reference any value of an enclosing graph.
  Status collect(const ir::Graph& g, int depth) {
    if (depth > format::kMaxGraphDepth)
      return err(Code::kUnsupportedFeature, "subgraph '", g.path(), "' is nested ", depth,
                 " levels deep; engines hold at most ", format::kMaxGraphDepth);
    ValueTable& t = tables_[&g];
    for (const ir::Value* v : g.inputs()) t.add(v);
    for (const ir::Value* v : g.initializers()) t.add(v);
    for (const ir::Node* n : g.nodes())
      for (const ir::Value* v : n->outputs()) {
        if (v == nullptr) continue;
        if (v->graph() != &g)
          return err(Code::kInternal, "write_engine: output '", v->name(), "' of node '", n->name(),
                     "' (", n->op_type(), ") belongs to graph '", v->graph()->path(),
                     "', not to the node's graph '", g.path(), "'");
        t.add(v);
      }
    for (const ir::Node* n : g.nodes()) {
      for (const ir::Value* v : n->inputs())
        if (v != nullptr) KILN_RETURN_IF_ERROR(note(g, v));
      for (const ir::Attribute& a : n->attributes()) {
        KILN_RETURN_IF_ERROR(check_attribute(*n, a));
        for (const ir::Graph* sub : attribute_graphs(a)) {
          if (sub->parent() != &g)
            return err(Code::kInternal, "write_engine: subgraph '", sub->name(), "' of node '",
                       n->name(), "' does not have the node's graph '", g.path(), "' as parent");
          KILN_RETURN_IF_ERROR(collect(*sub, depth + 1));
        }
      }
    }
    for (const ir::Value* v : g.outputs()) KILN_RETURN_IF_ERROR(note(g, v));
    return Status::Ok();
  }

  // A value read by `g`: it must belong to `g` or an enclosing graph.
  Status note(const ir::Graph& g, const ir::Value* v) {
    for (const ir::Graph* s = &g; s != nullptr; s = s->parent())
      if (v->graph() == s) {
        tables_[s].add(v);
        return Status::Ok();
      }
    return err(Code::kInternal, "write_engine: graph '", g.path(), "' reads value '", v->name(),
               "' of graph '", v->graph() ? v->graph()->path() : "?",
               "', which is not in its scope");
  }

  static std::vector<const ir::Graph*> attribute_graphs(const ir::Attribute& a) {
    std::vector<const ir::Graph*> out;
    if (a.type == ir::AttrType::kGraph) out.push_back(a.g.get());
    if (a.type == ir::AttrType::kGraphs)
      for (const auto& g : a.graphs) out.push_back(g.get());
    return out;
  }

  static Status check_attribute(const ir::Node& n, const ir::Attribute& a) {
    using T = ir::AttrType;
    switch (a.type) {
      case T::kSparseTensor:
      case T::kSparseTensors:
      case T::kTypeProto:
      case T::kTypeProtos:
        return err(Code::kUnsupportedFeature, "attribute '", a.name, "' of node '", n.name(), "' (",
                   n.op_type(), ") is a ", ir::attr_type_name(a.type),
                   ": kiln's IR does not keep its value, so an engine cannot hold it");
      case T::kUndefined:
        return err(Code::kInvalidAttribute, "attribute '", a.name, "' of node '", n.name(), "' (",
                   n.op_type(), ") has no type");
      case T::kGraph:
        if (!a.g)
          return err(Code::kInternal, "write_engine: graph attribute '", a.name, "' of node '",
                     n.name(), "' holds no graph");
        break;
      case T::kGraphs:
        for (const auto& g : a.graphs)
          if (!g)
            return err(Code::kInternal, "write_engine: graphs attribute '", a.name, "' of node '",
                       n.name(), "' holds a null graph");
        break;
      default:
        break;
    }
    return Status::Ok();
  }

  // (scope, index): how many graphs up from `g` the value lives, and its place there.
  void ref(const ir::Graph& g, const ir::Value* v) {
    if (v == nullptr) {
      w_.u32(format::kAbsent);
      w_.u32(format::kAbsent);
      return;
    }
    uint32_t scope = 0;
    const ir::Graph* s = &g;
    while (s != v->graph()) {  // collect() proved the value is in scope
      s = s->parent();
      ++scope;
    }
    w_.u32(scope);
    w_.u32(tables_.at(s).index.at(v));
  }

  void type(const ir::ValueType& t) {
    w_.u8(static_cast<uint8_t>(t.kind));
    w_.i32(static_cast<int32_t>(t.dtype));
    w_.u8(t.shape.rank_known() ? 1 : 0);
    w_.count(t.shape.rank());
    for (const Dim& d : t.shape.dims()) {
      // Every negative size means "not static"; -1 is the one spelling the reader accepts.
      w_.i64(d.value < 0 ? -1 : d.value);
      w_.str(d.symbol);
    }
  }

  Status tensor(const Tensor& t, const std::string& what) {
    w_.i32(static_cast<int32_t>(t.dtype()));
    w_.count(t.rank());
    for (int64_t d : t.shape()) w_.i64(d);
    if (t.dtype() == DataType::kUndefined) return Status::Ok();
    auto numel = checked_numel(t.shape());
    if (!numel) return err(Code::kInternal, "write_engine: ", what, " has an invalid shape");
    if (t.dtype() == DataType::kString) {
      const auto& s = t.string_data();
      if (static_cast<int64_t>(s.size()) != *numel)
        return err(Code::kInternal, "write_engine: string ", what, " holds ", s.size(),
                   " strings for ", *numel, " elements");
      for (const std::string& e : s) w_.str(e);
      return Status::Ok();
    }
    auto bytes = data_type_bytes(t.dtype(), *numel);
    if (!bytes || *bytes != t.nbytes())
      return err(Code::kInternal, "write_engine: ", what, " (", data_type_name(t.dtype()), ") has ",
                 t.nbytes(), " bytes for ", *numel, " elements");
    if (*bytes > 0 && t.data() == nullptr)
      return err(Code::kInternal, "write_engine: ", what,
                 " has no data (its external data was not loaded, or it failed to import)");
    w_.u64(*bytes > 0 ? weights_.add(t.data(), *bytes) : 0);
    w_.u64(*bytes);
    return Status::Ok();
  }

  // A float32 tensor whose values float16 holds exactly, stored as float16.
  Status half_tensor(const Tensor& t, const std::string& what) {
    w_.i32(kHalfStoredFloat32);
    w_.count(t.rank());
    for (int64_t d : t.shape()) w_.i64(d);
    std::vector<uint8_t> bytes(static_cast<size_t>(t.numel()) * 2);
    const float* p = t.data_as<float>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const uint16_t h = half_from_float(p[i]);
      if (float_from_half(h) != p[i] && !(p[i] != p[i]))
        return err(Code::kInternal, "write_engine: ", what, " element ", i, " (", p[i],
                   ") is not a float16 value; it cannot be stored as float16");
      std::memcpy(bytes.data() + 2 * i, &h, 2);
    }
    const uint64_t n = bytes.size();
    w_.u64(n > 0 ? weights_.add_owned(std::move(bytes)) : 0);
    w_.u64(n);
    return Status::Ok();
  }

  Status graph(const ir::Graph& g) {
    const ValueTable& t = tables_.at(&g);
    w_.str(g.name());
    // The first `inputs` values are the graph inputs, in order (collect() put them there).
    w_.count(g.inputs().size());
    w_.count(t.values.size());
    for (const ir::Value* v : t.values) {
      w_.str(v->name());
      type(v->type);
    }
    w_.count(g.initializers().size());
    for (const ir::Value* v : g.initializers()) {
      w_.u32(t.index.at(v));
      if (g.parent() == nullptr && half_.count(v->name()) != 0 &&
          v->initializer()->dtype() == DataType::kFloat32) {
        KILN_RETURN_IF_ERROR(half_tensor(*v->initializer(), "initializer '" + v->name() + "'"));
        continue;
      }
      KILN_RETURN_IF_ERROR(tensor(*v->initializer(), "initializer '" + v->name() + "'"));
    }
    const auto nodes = g.nodes();
    w_.count(nodes.size());
    for (const ir::Node* n : nodes) KILN_RETURN_IF_ERROR(node(g, *n));
    w_.count(g.outputs().size());
    for (const ir::Value* v : g.outputs()) ref(g, v);
    return Status::Ok();
  }

  Status node(const ir::Graph& g, const ir::Node& n) {
    w_.str(n.op_type());
    w_.str(n.domain());
    w_.str(n.name());
    w_.i64(n.opset());
    w_.i64(n.index());
    w_.count(n.inputs().size());
    for (const ir::Value* v : n.inputs()) ref(g, v);
    w_.count(n.outputs().size());
    const ValueTable& t = tables_.at(&g);
    for (const ir::Value* v : n.outputs()) w_.u32(v ? t.index.at(v) : format::kAbsent);
    w_.count(n.attributes().size());
    for (const ir::Attribute& a : n.attributes()) KILN_RETURN_IF_ERROR(attribute(n, a));
    return Status::Ok();
  }

  Status attribute(const ir::Node& n, const ir::Attribute& a) {
    using T = ir::AttrType;
    w_.str(a.name);
    w_.u8(static_cast<uint8_t>(a.type));
    const std::string what = "tensor of attribute '" + a.name + "' of node '" + n.name() + "'";
    switch (a.type) {
      case T::kFloat:
        w_.f32(a.f);
        break;
      case T::kInt:
        w_.i64(a.i);
        break;
      case T::kString:
        w_.str(a.s);
        break;
      case T::kTensor:
        return tensor(a.t, what);
      case T::kGraph:
        return graph(*a.g);
      case T::kFloats:
        w_.count(a.floats.size());
        for (float f : a.floats) w_.f32(f);
        break;
      case T::kInts:
        w_.count(a.ints.size());
        for (int64_t i : a.ints) w_.i64(i);
        break;
      case T::kStrings:
        w_.count(a.strings.size());
        for (const std::string& s : a.strings) w_.str(s);
        break;
      case T::kTensors:
        w_.count(a.tensors.size());
        for (const Tensor& t : a.tensors) KILN_RETURN_IF_ERROR(tensor(t, what));
        break;
      case T::kGraphs:
        w_.count(a.graphs.size());
        for (const auto& g : a.graphs) KILN_RETURN_IF_ERROR(graph(*g));
        break;
      default:  // refused by check_attribute during collect()
        return err(Code::kInternal, "write_engine: attribute type ", ir::attr_type_name(a.type));
    }
    return Status::Ok();
  }

  ByteWriter w_;
  WeightBlob& weights_;
  const std::set<std::string>& half_;
  std::unordered_map<const ir::Graph*, ValueTable> tables_;
};

}  // namespace

Status encode_model(const ir::Model& model, std::vector<uint8_t>& out, WeightBlob& weights,
                    const std::set<std::string>& half) {
  Encoder e(out, weights, half);
  return e.model(model);
}

}  // namespace kiln::engine::codec
