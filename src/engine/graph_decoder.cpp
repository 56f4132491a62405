// Rebuilds an ir::Model from the graph section. Nothing read from the file is trusted: every
// count is bounded by the bytes left before anything is reserved, every id, enum, offset and
// size is range-checked, and the result must pass ir::verify.
#include <cstring>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/half.h"
#include "engine/byte_io.h"
#include "engine/graph_codec.h"
#include "ir/verifier.h"

namespace kiln::engine::codec {
namespace {

// Smallest encodings, for bounding counts (see docs/engine-format.md).
constexpr size_t kMinValue = 4 + 1 + 4 + 1 + 4;     // name, kind, dtype, rank_known, rank
constexpr size_t kMinDim = 8 + 4;                   // value, symbol
constexpr size_t kMinTensor = 4 + 4;                // dtype, rank (undefined tensor)
constexpr size_t kMinNode = 3 * 4 + 2 * 8 + 3 * 4;  // strings, opset, index, three counts
constexpr size_t kMinAttribute = 4 + 1;             // name, type
constexpr size_t kMinGraph = 4 + 5 * 4;             // name, five counts
constexpr size_t kRef = 8;

struct Scope {
  ir::Graph* graph;
  std::vector<ir::Value*> values;
  std::vector<uint8_t> defined;  // 1 once an initializer or node output defines the value
};

class Decoder {
 public:
  Decoder(ByteSpan file, const format::Header& h)
      : r_(file.data + h.graph.offset, h.graph.size, h.graph.offset),
        weights_(file.data + h.weights.offset),
        weights_size_(h.weights.size) {}

  Result<std::unique_ptr<ir::Model>> model() {
    auto m = std::make_unique<ir::Model>();
    m->ir_version = r_.i64("ir_version");
    const uint32_t n_opsets = r_.count("opset count", 4 + 8);
    for (uint32_t i = 0; i < n_opsets && r_.ok(); ++i) {
      std::string domain = r_.str("opset domain");
      int64_t version = r_.i64("opset version");
      if (r_.ok() && !m->opsets.emplace(domain, version).second)
        r_.fail("opset domain '" + domain + "' is listed twice");
    }
    m->producer_name = r_.str("producer_name");
    m->producer_version = r_.str("producer_version");
    m->domain = r_.str("model domain");
    m->doc = r_.str("model doc");
    m->model_version = r_.i64("model_version");
    const uint32_t n_meta = r_.count("metadata_props count", 8);
    for (uint32_t i = 0; i < n_meta && r_.ok(); ++i) {
      std::string key = r_.str("metadata key");
      std::string value = r_.str("metadata value");
      m->metadata.emplace_back(std::move(key), std::move(value));
    }
    m->path = r_.str("model path");
    m->file_bytes = r_.i64("model file_bytes");
    const uint32_t n_ext = r_.count("external file count", 4);
    for (uint32_t i = 0; i < n_ext && r_.ok(); ++i)
      m->external_files.push_back(r_.str("external file"));
    m->external_bytes = r_.i64("external_bytes");
    m->graph = graph(nullptr, 0);
    if (r_.ok() && r_.left() != 0)
      r_.fail(std::to_string(r_.left()) + " unexpected bytes after the main graph");
    if (!r_.ok()) return err(Code::kEngineMalformed, "engine graph section: ", r_.error());
    // The runtime relies on the graph invariants (definitions, order, scopes); a forged file
    // must not reach it with a graph the importer could never have produced.
    Status verified = ir::verify(*m->graph);
    if (!verified.ok())
      return err(Code::kEngineMalformed, "engine graph fails verification: ", verified.to_string());
    return m;
  }

 private:
  std::unique_ptr<ir::Graph> graph(ir::Graph* parent, int depth) {
    if (depth > format::kMaxGraphDepth) {
      r_.fail("subgraphs are nested more than " + std::to_string(format::kMaxGraphDepth) +
              " levels deep");
      return nullptr;
    }
    auto g = std::make_unique<ir::Graph>(r_.str("graph name"), parent);
    scopes_.push_back(Scope{g.get(), {}, {}});
    // A reference into scopes_ would dangle when a subgraph pushes its own scope.
    const size_t me = scopes_.size() - 1;
    const uint32_t n_inputs = r_.u32("graph input count");
    const uint32_t n_values = r_.count("graph value count", kMinValue);
    if (r_.ok() && n_inputs > n_values)
      r_.fail("graph '" + g->name() + "' declares " + std::to_string(n_inputs) +
              " inputs but only " + std::to_string(n_values) + " values");
    scopes_[me].values.reserve(n_values);
    scopes_[me].defined.assign(n_values, 0);
    for (uint32_t i = 0; i < n_values && r_.ok(); ++i) {
      std::string name = r_.str("value name");
      ir::ValueType t = type();
      if (!r_.ok()) break;
      auto v = i < n_inputs ? g->add_input(name, std::move(t)) : g->add_value(name, std::move(t));
      if (!v.ok()) {
        r_.fail("value '" + name + "' is listed twice in graph '" + g->path() + "'");
        break;
      }
      scopes_[me].values.push_back(*v);
      if (i < n_inputs) scopes_[me].defined[i] = 1;
    }

    const uint32_t n_inits = r_.count("initializer count", 4 + kMinTensor);
    for (uint32_t i = 0; i < n_inits && r_.ok(); ++i) {
      const uint32_t id = r_.u32("initializer value id");
      if (r_.ok() && id >= scopes_[me].values.size()) {
        r_.fail("initializer value id " + std::to_string(id) + " is out of range (graph '" +
                g->path() + "' has " + std::to_string(scopes_[me].values.size()) + " values)");
        break;
      }
      Tensor t = tensor();
      if (!r_.ok()) break;
      ir::Value* v = scopes_[me].values[id];
      if (v->is_initializer()) {
        r_.fail("value '" + v->name() + "' has two initializers");
        break;
      }
      g->set_initializer(v, std::move(t));
      scopes_[me].defined[id] = 1;
    }

    const uint32_t n_nodes = r_.count("node count", kMinNode);
    for (uint32_t i = 0; i < n_nodes && r_.ok(); ++i) node(*g, me, depth);

    const uint32_t n_outputs = r_.count("graph output count", kRef);
    for (uint32_t i = 0; i < n_outputs && r_.ok(); ++i) {
      ir::Value* v = ref("graph output");
      if (r_.ok() && v == nullptr) r_.fail("graph '" + g->path() + "' has an absent output");
      if (r_.ok()) g->add_output(v);
    }
    scopes_.pop_back();
    return g;
  }

  // A value reference from the innermost scope: (scope levels up, index there).
  ir::Value* ref(const char* what) {
    const uint32_t scope = r_.u32(what);
    const uint32_t index = r_.u32(what);
    if (!r_.ok()) return nullptr;
    if (scope == format::kAbsent && index == format::kAbsent) return nullptr;
    if (scope >= scopes_.size()) {
      r_.fail(std::string(what) + " refers " + std::to_string(scope) +
              " graphs up, but it is nested only " + std::to_string(scopes_.size() - 1) + " deep");
      return nullptr;
    }
    const Scope& s = scopes_[scopes_.size() - 1 - scope];
    if (index >= s.values.size()) {
      r_.fail(std::string(what) + " refers to value " + std::to_string(index) + " of graph '" +
              s.graph->path() + "', which has " + std::to_string(s.values.size()));
      return nullptr;
    }
    return s.values[index];
  }

  ir::ValueType type() {
    ir::ValueType t;
    const uint8_t kind = r_.u8("value kind");
    if (r_.ok() && kind > static_cast<uint8_t>(ir::ValueKind::kUnknown))
      r_.fail("value kind " + std::to_string(kind) + " is not a kind kiln knows");
    t.kind = static_cast<ir::ValueKind>(kind);
    t.dtype = dtype("value element type");
    const bool rank_known = r_.boolean("rank_known");
    const uint32_t rank = r_.count("value rank", kMinDim);
    if (r_.ok() && !rank_known && rank != 0)
      r_.fail("a value of unknown rank lists " + std::to_string(rank) + " dims");
    if (!r_.ok() || !rank_known) return t;
    std::vector<Dim> dims;
    dims.reserve(rank);
    for (uint32_t i = 0; i < rank && r_.ok(); ++i) {
      Dim d;
      d.value = r_.i64("dim value");
      d.symbol = r_.str("dim symbol");
      if (r_.ok() && d.value < -1) r_.fail("dim value " + std::to_string(d.value) + " is negative");
      dims.push_back(std::move(d));
    }
    t.shape = Dims(std::move(dims));
    return t;
  }

  DataType dtype(const char* what) {
    const int32_t raw = r_.i32(what);
    if (r_.ok() && (raw < 0 || raw > kMaxDataType))
      r_.fail(std::string(what) + " " + std::to_string(raw) + " is not an ONNX data type");
    return r_.ok() ? static_cast<DataType>(raw) : DataType::kUndefined;
  }

  Tensor tensor() {
    if (r_.ok() && r_.peek_i32() == kHalfStoredFloat32) {
      r_.i32("tensor element type");
      return half_tensor();
    }
    const DataType dt = dtype("tensor element type");
    const uint32_t rank = r_.count("tensor rank", 8);
    std::vector<int64_t> shape;
    shape.reserve(rank);
    for (uint32_t i = 0; i < rank && r_.ok(); ++i) {
      shape.push_back(r_.i64("tensor dim"));
      if (r_.ok() && shape.back() < 0)
        r_.fail("tensor dim " + std::to_string(shape.back()) + " is negative");
    }
    if (!r_.ok()) return {};
    auto numel = checked_numel(shape);
    if (!numel) {
      r_.fail("tensor element count overflows");
      return {};
    }
    if (dt == DataType::kUndefined)
      return shape.empty() ? Tensor() : Tensor::borrow(dt, std::move(shape), nullptr);
    if (dt == DataType::kString) {
      if (static_cast<uint64_t>(*numel) > r_.left() / 4) {
        r_.fail("string tensor of " + std::to_string(*numel) + " elements cannot fit in the " +
                std::to_string(r_.left()) + " bytes left");
        return {};
      }
      std::vector<std::string> values;
      values.reserve(static_cast<size_t>(*numel));
      for (int64_t i = 0; i < *numel && r_.ok(); ++i) values.push_back(r_.str("string element"));
      if (!r_.ok()) return {};
      auto t = Tensor::strings(std::move(shape), std::move(values));
      if (!t.ok()) {
        r_.fail("string tensor: " + t.status().message());
        return {};
      }
      return std::move(t).value();
    }
    const uint64_t offset = r_.u64("tensor weight offset");
    const uint64_t bytes = r_.u64("tensor byte count");
    if (!r_.ok()) return {};
    auto expected = data_type_bytes(dt, *numel);
    if (!expected || *expected != bytes) {
      r_.fail(std::string("tensor of ") + std::to_string(*numel) + " " + data_type_name(dt) +
              " elements declares " + std::to_string(bytes) + " bytes");
      return {};
    }
    if (offset % format::kWeightAlignment != 0 || offset > weights_size_ ||
        bytes > weights_size_ - offset) {
      r_.fail("tensor bytes [" + std::to_string(offset) + ", +" + std::to_string(bytes) +
              ") are not a 64-byte-aligned range of the " + std::to_string(weights_size_) +
              "-byte weights section");
      return {};
    }
    const uint8_t* p = weights_ + offset;
    if (dt == DataType::kBool) {
      // Kernels read these as C++ bool, for which any byte but 0 and 1 is undefined behaviour.
      for (uint64_t i = 0; i < bytes; ++i)
        if (p[i] > 1) {
          r_.fail("bool tensor holds byte " + std::to_string(p[i]) + " at element " +
                  std::to_string(i));
          return {};
        }
    }
    // const_cast: Tensor::borrow takes a mutable pointer, but the engine's bytes are read-only
    // (an mmap with PROT_READ: a write would fault, not corrupt) and kernels take their inputs
    // const. Nothing writes through initializers or attribute tensors.
    return Tensor::borrow(dt, std::move(shape), const_cast<uint8_t*>(p));
  }

  // A float32 tensor stored as float16: expanded into memory of its own.
  Tensor half_tensor() {
    const uint32_t rank = r_.count("tensor rank", 8);
    std::vector<int64_t> shape;
    for (uint32_t i = 0; i < rank && r_.ok(); ++i) {
      shape.push_back(r_.i64("tensor dim"));
      if (r_.ok() && shape.back() < 0)
        r_.fail("tensor dim " + std::to_string(shape.back()) + " is negative");
    }
    const uint64_t offset = r_.u64("tensor weight offset");
    const uint64_t bytes = r_.u64("tensor byte count");
    if (!r_.ok()) return {};
    auto numel = checked_numel(shape);
    if (!numel || static_cast<uint64_t>(*numel) > weights_size_ / 2 ||
        bytes != static_cast<uint64_t>(*numel) * 2) {
      r_.fail("float16-stored tensor declares " + std::to_string(bytes) + " bytes for its shape");
      return {};
    }
    if (offset % format::kWeightAlignment != 0 || offset > weights_size_ ||
        bytes > weights_size_ - offset) {
      r_.fail("float16-stored tensor bytes [" + std::to_string(offset) + ", +" +
              std::to_string(bytes) + ") are not a 64-byte-aligned range of the " +
              std::to_string(weights_size_) + "-byte weights section");
      return {};
    }
    Result<Tensor> t = Tensor::allocate(DataType::kFloat32, std::move(shape));
    if (!t.ok()) {
      r_.fail("float16-stored tensor: " + t.status().message());
      return {};
    }
    const uint8_t* p = weights_ + offset;
    float* out = t->data_as<float>();
    for (int64_t i = 0; i < *numel; ++i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      out[i] = float_from_half(h);
    }
    return std::move(t).value();
  }

  void node(ir::Graph& g, size_t me, int depth) {
    std::string op_type = r_.str("node op_type");
    std::string domain = r_.str("node domain");
    std::string name = r_.str("node name");
    const int64_t opset = r_.i64("node opset");
    const int64_t index = r_.i64("node index");
    const uint32_t n_in = r_.count("node input count", kRef);
    std::vector<ir::Value*> inputs;
    inputs.reserve(n_in);
    for (uint32_t i = 0; i < n_in && r_.ok(); ++i) inputs.push_back(ref("node input"));
    const uint32_t n_out = r_.count("node output count", 4);
    std::vector<ir::Value*> outputs;
    outputs.reserve(n_out);
    for (uint32_t i = 0; i < n_out && r_.ok(); ++i) {
      const uint32_t id = r_.u32("node output");
      if (!r_.ok()) break;
      if (id == format::kAbsent) {
        outputs.push_back(nullptr);
        continue;
      }
      Scope& s = scopes_[me];
      if (id >= s.values.size()) {
        r_.fail("output " + std::to_string(i) + " of node '" + name + "' (" + op_type +
                ") is value " + std::to_string(id) + ", graph '" + g.path() + "' has " +
                std::to_string(s.values.size()));
        break;
      }
      if (s.defined[id]) {
        r_.fail("output '" + s.values[id]->name() + "' of node '" + name + "' (" + op_type +
                ") is already defined");
        break;
      }
      s.defined[id] = 1;
      outputs.push_back(s.values[id]);
    }
    const uint32_t n_attrs = r_.count("node attribute count", kMinAttribute);
    std::vector<ir::Attribute> attrs;
    attrs.reserve(n_attrs);
    for (uint32_t i = 0; i < n_attrs && r_.ok(); ++i) attrs.push_back(attribute(g, depth));
    if (!r_.ok()) return;
    g.add_node(std::move(op_type), std::move(domain), std::move(name), std::move(inputs),
               std::move(outputs), std::move(attrs), opset, index);
  }

  ir::Attribute attribute(ir::Graph& g, int depth) {
    using T = ir::AttrType;
    ir::Attribute a;
    a.name = r_.str("attribute name");
    const uint8_t type = r_.u8("attribute type");
    if (!r_.ok()) return a;
    a.type = static_cast<T>(type);
    switch (a.type) {
      case T::kFloat:
        a.f = r_.f32("float attribute");
        break;
      case T::kInt:
        a.i = r_.i64("int attribute");
        break;
      case T::kString:
        a.s = r_.str("string attribute");
        break;
      case T::kTensor:
        a.t = tensor();
        break;
      case T::kGraph:
        a.g = graph(&g, depth + 1);
        break;
      case T::kFloats: {
        const uint32_t n = r_.count("floats attribute length", 4);
        a.floats.reserve(n);
        for (uint32_t i = 0; i < n && r_.ok(); ++i) a.floats.push_back(r_.f32("float"));
        break;
      }
      case T::kInts: {
        const uint32_t n = r_.count("ints attribute length", 8);
        a.ints.reserve(n);
        for (uint32_t i = 0; i < n && r_.ok(); ++i) a.ints.push_back(r_.i64("int"));
        break;
      }
      case T::kStrings: {
        const uint32_t n = r_.count("strings attribute length", 4);
        a.strings.reserve(n);
        for (uint32_t i = 0; i < n && r_.ok(); ++i) a.strings.push_back(r_.str("string"));
        break;
      }
      case T::kTensors: {
        const uint32_t n = r_.count("tensors attribute length", kMinTensor);
        a.tensors.reserve(n);
        for (uint32_t i = 0; i < n && r_.ok(); ++i) a.tensors.push_back(tensor());
        break;
      }
      case T::kGraphs: {
        const uint32_t n = r_.count("graphs attribute length", kMinGraph);
        a.graphs.reserve(n);
        for (uint32_t i = 0; i < n && r_.ok(); ++i) a.graphs.push_back(graph(&g, depth + 1));
        break;
      }
      default:
        // The writer refuses undefined, sparse and type-proto attributes.
        r_.fail("attribute '" + a.name + "' has type " + std::to_string(type) +
                ", which engines never hold");
    }
    return a;
  }

  ByteReader r_;
  const uint8_t* weights_;
  uint64_t weights_size_;
  std::vector<Scope> scopes_;
};

}  // namespace

Result<std::unique_ptr<ir::Model>> decode_model(ByteSpan file, const format::Header& h) {
  Decoder d(file, h);
  return d.model();
}

}  // namespace kiln::engine::codec
