// Test-only fluent builder over onnx::ModelProto for hand-made (often deliberately broken)
// models, plus a per-test temporary directory and helpers to look through problem lists.
//
// The builder writes exactly what it is told: it never repairs or validates, so a test can
// produce any malformation the importer must diagnose.
#pragma once

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "kiln/status.h"

namespace kiln::test {

namespace fs = std::filesystem;

// One dimension of a declared shape: a fixed size, a symbolic name, or unknown (neither set).
struct TDim {
  TDim(int v) : value(v) {}      // NOLINT: implicit so shapes read {1, "batch", 3}
  TDim(int64_t v) : value(v) {}  // NOLINT
  TDim(const char* p) : param(p), symbolic(true) {}             // NOLINT
  TDim(std::string p) : param(std::move(p)), symbolic(true) {}  // NOLINT
  static TDim unknown() {
    TDim d(0);
    d.is_unknown = true;
    return d;
  }
  int64_t value = 0;
  std::string param;
  bool symbolic = false;
  bool is_unknown = false;
};
using Shape = std::vector<TDim>;

// Fills `tp` as a tensor type; no shape at all (unknown rank) when `shape` is empty.
inline void set_tensor_type(onnx::TypeProto* tp, int elem_type, const std::optional<Shape>& shape) {
  auto* tt = tp->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  if (!shape) return;
  auto* sp = tt->mutable_shape();
  for (const TDim& d : *shape) {
    auto* dim = sp->add_dim();
    if (d.is_unknown) continue;
    if (d.symbolic)
      dim->set_dim_param(d.param);
    else
      dim->set_dim_value(d.value);
  }
}

// ---- tensors ----------------------------------------------------------------------------------

inline onnx::TensorProto tensor_header(const std::string& name, int data_type,
                                       const std::vector<int64_t>& dims) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(data_type);
  for (int64_t d : dims) t.add_dims(d);
  return t;
}

// A tensor whose raw_data holds exactly `nbytes` bytes, whatever dims and type say.
inline onnx::TensorProto raw_tensor(const std::string& name, int data_type,
                                    const std::vector<int64_t>& dims, const void* data,
                                    size_t nbytes) {
  onnx::TensorProto t = tensor_header(name, data_type, dims);
  t.set_raw_data(std::string(static_cast<const char*>(data), nbytes));
  return t;
}

template <typename T>
onnx::TensorProto raw_tensor_of(const std::string& name, int data_type,
                                const std::vector<int64_t>& dims, const std::vector<T>& values) {
  return raw_tensor(name, data_type, dims, values.data(), values.size() * sizeof(T));
}

inline onnx::TensorProto float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                      const std::vector<float>& values) {
  return raw_tensor_of(name, onnx::TensorProto::FLOAT, dims, values);
}

inline onnx::TensorProto int64_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                      const std::vector<int64_t>& values) {
  return raw_tensor_of(name, onnx::TensorProto::INT64, dims, values);
}

// A tensor stored in an external file. Entries are written verbatim as external_data key/value
// pairs (so offsets may be non-numeric), in the order given.
inline onnx::TensorProto external_tensor(
    const std::string& name, int data_type, const std::vector<int64_t>& dims,
    const std::vector<std::pair<std::string, std::string>>& entries) {
  onnx::TensorProto t = tensor_header(name, data_type, dims);
  t.set_data_location(onnx::TensorProto::EXTERNAL);
  for (const auto& [k, v] : entries) {
    auto* kv = t.add_external_data();
    kv->set_key(k);
    kv->set_value(v);
  }
  return t;
}

// ---- graphs and nodes -------------------------------------------------------------------------

class NodeBuilder {
 public:
  explicit NodeBuilder(onnx::NodeProto* n) : n_(n) {}

  NodeBuilder& domain(const std::string& d) {
    n_->set_domain(d);
    return *this;
  }
  NodeBuilder& attr_i(const std::string& name, int64_t v) {
    auto* a = add(name, onnx::AttributeProto::INT);
    a->set_i(v);
    return *this;
  }
  NodeBuilder& attr_f(const std::string& name, float v) {
    auto* a = add(name, onnx::AttributeProto::FLOAT);
    a->set_f(v);
    return *this;
  }
  NodeBuilder& attr_s(const std::string& name, const std::string& v) {
    auto* a = add(name, onnx::AttributeProto::STRING);
    a->set_s(v);
    return *this;
  }
  NodeBuilder& attr_ints(const std::string& name, const std::vector<int64_t>& v) {
    auto* a = add(name, onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
    return *this;
  }
  NodeBuilder& attr_floats(const std::string& name, const std::vector<float>& v) {
    auto* a = add(name, onnx::AttributeProto::FLOATS);
    for (float x : v) a->add_floats(x);
    return *this;
  }
  NodeBuilder& attr_t(const std::string& name, const onnx::TensorProto& t) {
    *add(name, onnx::AttributeProto::TENSOR)->mutable_t() = t;
    return *this;
  }
  NodeBuilder& attr_g(const std::string& name, const onnx::GraphProto& g) {
    *add(name, onnx::AttributeProto::GRAPH)->mutable_g() = g;
    return *this;
  }
  // A bare attribute for malformations the typed helpers cannot express.
  onnx::AttributeProto* attr_raw() { return n_->add_attribute(); }
  onnx::NodeProto& proto() { return *n_; }

 private:
  onnx::AttributeProto* add(const std::string& name, onnx::AttributeProto::AttributeType type) {
    auto* a = n_->add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  }
  onnx::NodeProto* n_;
};

class GraphBuilder {
 public:
  // A standalone graph (If/Loop bodies); copy proto() into an attribute with attr_g.
  explicit GraphBuilder(const std::string& name)
      : owned_(std::make_unique<onnx::GraphProto>()), g_(owned_.get()) {
    g_->set_name(name);
  }
  // A view of a graph owned elsewhere (the model's).
  explicit GraphBuilder(onnx::GraphProto* g) : g_(g) {}

  GraphBuilder& name(const std::string& n) {
    g_->set_name(n);
    return *this;
  }
  GraphBuilder& input(const std::string& name, int elem_type, const Shape& shape) {
    set_tensor_type(add_vi(g_->add_input(), name), elem_type, shape);
    return *this;
  }
  GraphBuilder& input_unranked(const std::string& name, int elem_type) {
    set_tensor_type(add_vi(g_->add_input(), name), elem_type, std::nullopt);
    return *this;
  }
  GraphBuilder& output(const std::string& name, int elem_type, const Shape& shape) {
    set_tensor_type(add_vi(g_->add_output(), name), elem_type, shape);
    return *this;
  }
  // An output with an element type but no shape field (unknown rank).
  GraphBuilder& output_unranked(const std::string& name, int elem_type) {
    set_tensor_type(add_vi(g_->add_output(), name), elem_type, std::nullopt);
    return *this;
  }
  // An output with a name only (no type): allowed in subgraphs.
  GraphBuilder& output_untyped(const std::string& name) {
    add_vi(g_->add_output(), name);
    return *this;
  }
  GraphBuilder& value_info(const std::string& name, int elem_type, const Shape& shape) {
    set_tensor_type(add_vi(g_->add_value_info(), name), elem_type, shape);
    return *this;
  }
  GraphBuilder& initializer(const onnx::TensorProto& t) {
    *g_->add_initializer() = t;
    return *this;
  }
  NodeBuilder node(const std::string& op_type, const std::vector<std::string>& inputs,
                   const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* n = g_->add_node();
    n->set_op_type(op_type);
    if (!name.empty()) n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return NodeBuilder(n);
  }
  onnx::GraphProto& proto() { return *g_; }

 private:
  static onnx::TypeProto* add_vi(onnx::ValueInfoProto* vi, const std::string& name) {
    vi->set_name(name);
    return vi->mutable_type();
  }
  std::unique_ptr<onnx::GraphProto> owned_;
  onnx::GraphProto* g_;
};

// Defaults (IR 8, ai.onnx opset 17) are within what the linked libonnx checker knows, so its
// reference checks run on models built here unless a test changes the versions.
class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset = 17, int64_t ir_version = 8)
      : model_(std::make_unique<onnx::ModelProto>()),
        graph_(std::make_unique<GraphBuilder>(model_->mutable_graph())) {
    model_->set_ir_version(ir_version);
    model_->set_producer_name("kiln-tests");
    add_opset(opset);
    model_->mutable_graph()->set_name("main");
  }

  ModelBuilder& ir_version(int64_t v) {
    model_->set_ir_version(v);
    return *this;
  }
  // Sets the version of `domain`, replacing an existing entry.
  ModelBuilder& opset(int64_t v, const std::string& domain = "") {
    for (auto& op : *model_->mutable_opset_import())
      if (op.domain() == domain) {
        op.set_version(v);
        return *this;
      }
    return add_opset(v, domain);
  }
  // Appends an entry even when the domain is already imported.
  ModelBuilder& add_opset(int64_t v, const std::string& domain = "") {
    auto* op = model_->add_opset_import();
    op->set_domain(domain);
    op->set_version(v);
    return *this;
  }
  ModelBuilder& clear_opsets() {
    model_->clear_opset_import();
    return *this;
  }
  // Serializes without a graph field.
  ModelBuilder& no_graph() {
    with_graph_ = false;
    return *this;
  }

  GraphBuilder& graph() { return *graph_; }
  onnx::ModelProto& proto() { return *model_; }

  std::string bytes() const {
    if (with_graph_) return model_->SerializeAsString();
    onnx::ModelProto copy = *model_;
    copy.clear_graph();
    return copy.SerializeAsString();
  }

 private:
  std::unique_ptr<onnx::ModelProto> model_;
  std::unique_ptr<GraphBuilder> graph_;  // views model_'s graph; stable across moves
  bool with_graph_ = true;
};

// x:float32[1,3] → Relu → y: the smallest model every checker accepts.
inline ModelBuilder relu_model(int64_t opset = 17) {
  ModelBuilder m(opset);
  m.graph()
      .input("x", onnx::TensorProto::FLOAT, {1, 3})
      .output("y", onnx::TensorProto::FLOAT, {1, 3});
  m.graph().node("Relu", {"x"}, {"y"}, "relu");
  return m;
}

// ---- files ------------------------------------------------------------------------------------

// A fresh directory per test under the system temp directory, removed (with its contents) when
// the test ends.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    std::string test = "test";
    if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info())
      test = std::string(info->test_suite_name()) + "." + info->name();
    for (char& c : test)
      if (c == '/') c = '_';
    path_ = fs::temp_directory_path() /
            ("kiln_" + test + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Writes `bytes` to `name` inside the directory; returns the full path.
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::string p = file(name);
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    EXPECT_TRUE(out.good()) << "cannot write " << p;
    return p;
  }
  std::string write(const std::string& name, const ModelBuilder& m) const {
    return write(name, m.bytes());
  }

 private:
  fs::path path_;
};

// ---- problem lists ----------------------------------------------------------------------------

// Code::kNotOnnx → 1001, for comparisons with Status::code().
inline constexpr int num(Code c) {
  return static_cast<int>(c);
}

inline std::vector<int> codes_of(const std::vector<Status>& problems) {
  std::vector<int> out;
  for (const Status& s : problems) out.push_back(s.code());
  return out;
}

// Every problem rendered, for assertion messages.
inline std::string describe(const std::vector<Status>& problems) {
  std::string out;
  for (const Status& s : problems) out += "  " + s.to_string() + "\n";
  return out.empty() ? "  (no problems)\n" : out;
}

inline std::vector<const Status*> with_code(const std::vector<Status>& problems, int code) {
  std::vector<const Status*> out;
  for (const Status& s : problems)
    if (s.code() == code) out.push_back(&s);
  return out;
}

inline const Status* first_with_code(const std::vector<Status>& problems, int code) {
  auto all = with_code(problems, code);
  return all.empty() ? nullptr : all.front();
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace kiln::test
