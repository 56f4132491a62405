// Test helpers for .engine files: a hand-built model that exercises every part of the format,
// matching EngineData, and field-by-field comparisons written independently of the codec.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine_file.h"
#include "ir/graph.h"
#include "ir/verifier.h"

namespace kiln::engine::test {

inline ir::ValueType vtype(DataType dt, Dims shape, ir::ValueKind kind = ir::ValueKind::kTensor) {
  ir::ValueType t;
  t.kind = kind;
  t.dtype = dt;
  t.shape = std::move(shape);
  return t;
}

inline Dims dims(std::vector<Dim> d) {
  return Dims(std::move(d));
}

template <typename T>
Tensor tensor_of(DataType dt, std::vector<int64_t> shape, const std::vector<T>& values) {
  Tensor t = Tensor::allocate(dt, std::move(shape)).value();
  std::memcpy(t.data(), values.data(), std::min(t.nbytes(), values.size() * sizeof(T)));
  return t;
}

inline Tensor string_tensor(std::vector<int64_t> shape, std::vector<std::string> values) {
  return Tensor::strings(std::move(shape), std::move(values)).value();
}

inline ir::Value* must(Result<ir::Value*> r) {
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? *r : nullptr;
}

// A subgraph with its own input, initializer and node; `outer` is read from the enclosing
// scope, so the reader must resolve a reference one level up (or more, through `nested`).
inline std::unique_ptr<ir::Graph> branch(const std::string& name, ir::Graph* parent,
                                         ir::Value* outer, bool nested = false) {
  auto g = std::make_unique<ir::Graph>(name, parent);
  ir::Value* k =
      must(g->add_initializer(name + "_k", tensor_of<float>(DataType::kFloat32, {1}, {2.5f})));
  ir::Value* out = must(g->add_value(name + "_out", vtype(DataType::kFloat32, Dims())));
  std::vector<ir::Attribute> attrs;
  if (nested) {
    // A branch inside a branch reading the main graph's value two scopes up.
    ir::Attribute a;
    a.name = "body";
    a.type = ir::AttrType::kGraph;
    a.g = std::make_unique<ir::Graph>(name + "_inner", g.get());
    ir::Value* r = must(a.g->add_value(name + "_inner_out"));
    a.g->add_node("Identity", "", name + "_inner_id", {outer}, {r}, {}, 17, 0);
    a.g->add_output(r);
    attrs.push_back(std::move(a));
  }
  g->add_node("Mul", "", name + "_mul", {outer, k}, {out}, std::move(attrs), 17, 0);
  g->add_output(out);
  return g;
}

// Every attribute type an engine holds, every value kind, static/symbolic/unknown dims,
// unknown rank, string/fp16/int8/bool/int4/empty initializers, an input with a default, an If
// whose branches read outer values, omitted optional inputs/outputs.
inline std::unique_ptr<ir::Model> make_rich_model() {
  auto m = std::make_unique<ir::Model>();
  m->ir_version = 9;
  m->opsets = {{"", 17}, {"com.kiln.test", 1}};
  m->producer_name = "kiln-test";
  m->producer_version = "1.2.3";
  m->domain = "ai.kiln.test";
  m->doc = std::string("doc with \0 a nul", 16);
  m->model_version = 42;
  m->metadata = {{"author", "engine test"}, {"empty", ""}};
  m->path = "/models/rich.onnx";
  m->file_bytes = 123456;
  m->external_files = {"weights.bin", "more/weights2.bin"};
  m->external_bytes = 9999;
  m->graph = std::make_unique<ir::Graph>("main");
  ir::Graph& g = *m->graph;

  ir::Value* x = must(g.add_input(
      "x", vtype(DataType::kFloat32,
                 dims({Dim::symbolic("batch"), Dim::fixed(3), Dim::unknown(), Dim::fixed(4)}))));
  ir::Value* cond = must(g.add_input("cond", vtype(DataType::kBool, Dims(std::vector<Dim>{}))));
  ir::Value* u = must(g.add_input("u", vtype(DataType::kFloat32, Dims::unknown_rank())));
  must(g.add_input("seq",
                   vtype(DataType::kFloat32, dims({Dim::unknown()}), ir::ValueKind::kSequence)));
  must(g.add_input("opt", vtype(DataType::kInt64, Dims(), ir::ValueKind::kOptional)));
  must(g.add_input("map", vtype(DataType::kUndefined, Dims(), ir::ValueKind::kMap)));
  must(g.add_input(
      "sparse", vtype(DataType::kFloat32, dims({Dim::fixed(10)}), ir::ValueKind::kSparseTensor)));
  must(g.add_input("anything", vtype(DataType::kUndefined, Dims(), ir::ValueKind::kUnknown)));
  // An input with a default value (initializer on a graph input).
  ir::Value* scale = must(g.add_input("scale", vtype(DataType::kFloat32, dims({Dim::fixed(1)}))));
  g.set_initializer(scale, tensor_of<float>(DataType::kFloat32, {1}, {0.5f}));

  std::vector<float> wv(12);
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = 0.25f * static_cast<float>(i) - 1.0f;
  ir::Value* w = must(g.add_initializer("w", tensor_of(DataType::kFloat32, {3, 4}, wv)));
  must(g.add_initializer(
      "h", tensor_of<uint16_t>(DataType::kFloat16, {5}, {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7E00})));
  must(g.add_initializer("i8",
                         tensor_of<int8_t>(DataType::kInt8, {7}, {-128, -1, 0, 1, 2, 64, 127})));
  must(g.add_initializer("b", tensor_of<uint8_t>(DataType::kBool, {3}, {1, 0, 1})));
  // Five int4 values packed into three bytes (last nibble padding).
  must(g.add_initializer("i4", tensor_of<uint8_t>(DataType::kInt4, {5}, {0x21, 0xF8, 0x07})));
  must(g.add_initializer("names", string_tensor({2}, {"h\xC3\xA9llo", ""})));
  must(g.add_initializer("empty", Tensor::allocate(DataType::kFloat32, {0, 3}).value()));
  must(g.add_initializer("d", tensor_of<double>(DataType::kFloat64, {2}, {1e300, -0.0})));

  ir::Value* a = must(g.add_value(
      "a", vtype(DataType::kFloat32,
                 dims({Dim::symbolic("batch"), Dim::fixed(3), Dim::unknown(), Dim::fixed(4)}))));
  g.add_node("Add", "", "add0", {x, w}, {a}, {}, 17, 0);

  // If: both branches read `a` from the main graph; the else branch nests once more.
  ir::Value* y = must(g.add_value("y", vtype(DataType::kFloat32, Dims::unknown_rank())));
  std::vector<ir::Attribute> if_attrs;
  {
    ir::Attribute then_a;
    then_a.name = "then_branch";
    then_a.type = ir::AttrType::kGraph;
    then_a.g = branch("then", &g, a);
    if_attrs.push_back(std::move(then_a));
    ir::Attribute else_a;
    else_a.name = "else_branch";
    else_a.type = ir::AttrType::kGraph;
    else_a.g = branch("else", &g, a, /*nested=*/true);
    if_attrs.push_back(std::move(else_a));
  }
  g.add_node("If", "", "if1", {cond}, {y}, std::move(if_attrs), 17, 1);

  // A custom op holding one attribute of every type, with omitted optional inputs/outputs.
  ir::Value* z = must(g.add_value("z", vtype(DataType::kInt4, dims({Dim::fixed(5)}))));
  ir::Value* z2 = must(g.add_value("z2"));
  std::vector<ir::Attribute> attrs;
  attrs.push_back(ir::Attribute::make_float("f", -0.0f));
  attrs.push_back(ir::Attribute::make_float("nan", std::nanf("0x12345")));
  attrs.push_back(ir::Attribute::make_int("i", INT64_MIN));
  attrs.push_back(ir::Attribute::make_string("s", std::string("bytes\0\xFF", 7)));
  {
    ir::Attribute t;
    t.name = "t";
    t.type = ir::AttrType::kTensor;
    t.t = tensor_of<float>(DataType::kFloat32, {2, 2}, {1, 2, 3, 4});
    attrs.push_back(std::move(t));
  }
  {
    ir::Attribute t;
    t.name = "g";
    t.type = ir::AttrType::kGraph;
    t.g = branch("gattr", &g, u);
    attrs.push_back(std::move(t));
  }
  attrs.push_back(ir::Attribute::make_floats("fs", {1.5f, -2.0f, INFINITY}));
  attrs.push_back(ir::Attribute::make_ints("is", {0, -1, INT64_MAX}));
  attrs.push_back(ir::Attribute::make_floats("fs_empty", {}));
  {
    ir::Attribute t;
    t.name = "ss";
    t.type = ir::AttrType::kStrings;
    t.strings = {"a", "", "ccc"};
    attrs.push_back(std::move(t));
  }
  {
    ir::Attribute t;
    t.name = "ts";
    t.type = ir::AttrType::kTensors;
    t.tensors.push_back(string_tensor({1, 2}, {"x", "yy"}));
    t.tensors.push_back(tensor_of<uint8_t>(DataType::kUInt4, {3}, {0x54, 0x0F}));
    t.tensors.push_back(tensor_of<uint16_t>(DataType::kBFloat16, {2}, {0x3F80, 0xFF80}));
    t.tensors.push_back(Tensor());
    attrs.push_back(std::move(t));
  }
  {
    ir::Attribute t;
    t.name = "gs";
    t.type = ir::AttrType::kGraphs;
    t.graphs.push_back(branch("gs0", &g, x));
    t.graphs.push_back(branch("gs1", &g, a, /*nested=*/true));
    attrs.push_back(std::move(t));
  }
  g.add_node("Everything", "com.kiln.test", "every2", {x, nullptr, u}, {z, nullptr, z2},
             std::move(attrs), 1, 2);
  g.add_output(y);
  g.add_output(z);
  g.add_output(a);
  return m;
}

inline EngineData make_engine_data(const ir::Model& m) {
  EngineData d;
  d.kiln_version = "0.1.0-test";
  d.build_options = R"({"device":"cpu","precision":"fp32","opt_level":2})";
  d.built_on = host_fingerprint();
  d.target.device = "cpu";
  d.target.arch = host_fingerprint().arch;
  // Something the host has, so the engine loads here.
  for (size_t i = 0; i < host_fingerprint().features.size() && i < 2; ++i)
    d.target.features.push_back(host_fingerprint().features[i]);
  for (const ir::Node* n : m.graph->nodes()) {
    Layer l;
    l.tactic = "cpu.reference";
    l.precision = "fp32";
    l.fused_from = {n->name()};
    l.params = {0x00, 0xFF, static_cast<uint8_t>(n->index())};
    d.layers.push_back(std::move(l));
  }
  if (!d.layers.empty()) d.layers[0].fused_from.push_back("fused_extra");
  ProfilePlan p;
  p.inputs = {{"x", ShapeRange{{1, 3, 1, 4}, {4, 3, 8, 4}, {16, 3, 32, 4}}},
              {"cond", ShapeRange{}}};
  p.arena_bytes = 4096;
  p.naive_bytes = 8192;
  p.lower_bound_bytes = 2048;
  p.slots = {TensorSlot{"a", 0, 2048, "", false}, TensorSlot{"y", 2048, 2048, "a", false},
             TensorSlot{"z2", 0, 0, "", true}};
  d.profiles.push_back(p);
  p.arena_bytes = 128;
  p.slots = {TensorSlot{"a", 64, 64, "", false}};
  d.profiles.push_back(p);
  return d;
}

// ---- comparisons ------------------------------------------------------------------------------

inline void expect_tensors_equal(const Tensor& a, const Tensor& b, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(a.dtype(), b.dtype());
  EXPECT_EQ(a.shape(), b.shape());
  EXPECT_EQ(a.numel(), b.numel());
  EXPECT_EQ(a.nbytes(), b.nbytes());
  if (a.dtype() == DataType::kString) {
    EXPECT_EQ(a.string_data(), b.string_data());
  } else if (a.nbytes() == b.nbytes() && a.nbytes() > 0) {
    ASSERT_NE(a.data(), nullptr);
    ASSERT_NE(b.data(), nullptr);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.nbytes()), 0);
  }
}

inline void expect_types_equal(const ir::ValueType& a, const ir::ValueType& b,
                               const std::string& what) {
  EXPECT_EQ(a.kind, b.kind) << what;
  EXPECT_EQ(a.dtype, b.dtype) << what;
  EXPECT_EQ(a.shape.rank_known(), b.shape.rank_known()) << what;
  EXPECT_TRUE(a.shape == b.shape) << what << ": " << a.shape.to_string() << " vs "
                                  << b.shape.to_string();
}

// A value as seen from a reference: name, the path of the graph that owns it, type and role.
inline void expect_values_equal(const ir::Value* a, const ir::Value* b, const std::string& what) {
  ASSERT_EQ(a == nullptr, b == nullptr) << what;
  if (a == nullptr) return;
  EXPECT_EQ(a->name(), b->name()) << what;
  EXPECT_EQ(a->graph()->path(), b->graph()->path()) << what << " '" << a->name() << "'";
  expect_types_equal(a->type, b->type, what + " '" + a->name() + "'");
  EXPECT_EQ(a->is_graph_input(), b->is_graph_input()) << what;
  EXPECT_EQ(a->is_graph_output(), b->is_graph_output()) << what;
  EXPECT_EQ(a->is_initializer(), b->is_initializer()) << what;
  EXPECT_EQ(a->producer() == nullptr, b->producer() == nullptr) << what;
  if (a->producer() && b->producer()) {
    EXPECT_EQ(a->producer()->name(), b->producer()->name());
  }
}

inline void expect_graphs_equal(const ir::Graph& a, const ir::Graph& b);

inline void expect_attributes_equal(const ir::Attribute& a, const ir::Attribute& b,
                                    const std::string& what) {
  SCOPED_TRACE(what + " attribute '" + a.name + "'");
  EXPECT_EQ(a.name, b.name);
  ASSERT_EQ(a.type, b.type);
  using T = ir::AttrType;
  switch (a.type) {
    case T::kFloat: {
      uint32_t x, y;  // bit patterns: -0 and NaN payloads must survive
      std::memcpy(&x, &a.f, 4);
      std::memcpy(&y, &b.f, 4);
      EXPECT_EQ(x, y);
      break;
    }
    case T::kInt:
      EXPECT_EQ(a.i, b.i);
      break;
    case T::kString:
      EXPECT_EQ(a.s, b.s);
      break;
    case T::kTensor:
      expect_tensors_equal(a.t, b.t, "tensor");
      break;
    case T::kGraph:
      ASSERT_TRUE(a.g && b.g);
      expect_graphs_equal(*a.g, *b.g);
      break;
    case T::kFloats:
      ASSERT_EQ(a.floats.size(), b.floats.size());
      if (!a.floats.empty()) {  // bit patterns, as for kFloat
        EXPECT_EQ(std::memcmp(a.floats.data(), b.floats.data(), a.floats.size() * 4), 0);
      }
      break;
    case T::kInts:
      EXPECT_EQ(a.ints, b.ints);
      break;
    case T::kStrings:
      EXPECT_EQ(a.strings, b.strings);
      break;
    case T::kTensors:
      ASSERT_EQ(a.tensors.size(), b.tensors.size());
      for (size_t i = 0; i < a.tensors.size(); ++i)
        expect_tensors_equal(a.tensors[i], b.tensors[i], "tensors[" + std::to_string(i) + "]");
      break;
    case T::kGraphs:
      ASSERT_EQ(a.graphs.size(), b.graphs.size());
      for (size_t i = 0; i < a.graphs.size(); ++i) {
        ASSERT_TRUE(a.graphs[i] && b.graphs[i]);
        expect_graphs_equal(*a.graphs[i], *b.graphs[i]);
      }
      break;
    default:
      ADD_FAILURE() << "unexpected attribute type";
      break;
  }
}

inline void expect_graphs_equal(const ir::Graph& a, const ir::Graph& b) {
  SCOPED_TRACE("graph " + a.path());
  EXPECT_EQ(a.name(), b.name());
  EXPECT_EQ(a.path(), b.path());
  EXPECT_EQ(a.parent() == nullptr, b.parent() == nullptr);
  ASSERT_EQ(a.inputs().size(), b.inputs().size());
  for (size_t i = 0; i < a.inputs().size(); ++i)
    expect_values_equal(a.inputs()[i], b.inputs()[i], "input " + std::to_string(i));
  ASSERT_EQ(a.initializers().size(), b.initializers().size());
  for (size_t i = 0; i < a.initializers().size(); ++i) {
    expect_values_equal(a.initializers()[i], b.initializers()[i], "initializer");
    expect_tensors_equal(*a.initializers()[i]->initializer(), *b.initializers()[i]->initializer(),
                         "initializer '" + a.initializers()[i]->name() + "'");
  }
  const auto an = a.nodes(), bn = b.nodes();
  ASSERT_EQ(an.size(), bn.size());
  for (size_t i = 0; i < an.size(); ++i) {
    const ir::Node& x = *an[i];
    const ir::Node& y = *bn[i];
    const std::string what = "node '" + x.name() + "'";
    EXPECT_EQ(x.op_type(), y.op_type()) << what;
    EXPECT_EQ(x.domain(), y.domain()) << what;
    EXPECT_EQ(x.name(), y.name()) << what;
    EXPECT_EQ(x.opset(), y.opset()) << what;
    EXPECT_EQ(x.index(), y.index()) << what;
    EXPECT_EQ(y.graph(), &b) << what;
    ASSERT_EQ(x.inputs().size(), y.inputs().size()) << what;
    for (size_t k = 0; k < x.inputs().size(); ++k)
      expect_values_equal(x.inputs()[k], y.inputs()[k], what + " input " + std::to_string(k));
    ASSERT_EQ(x.outputs().size(), y.outputs().size()) << what;
    for (size_t k = 0; k < x.outputs().size(); ++k) {
      expect_values_equal(x.outputs()[k], y.outputs()[k], what + " output " + std::to_string(k));
      if (y.outputs()[k]) {
        EXPECT_EQ(y.outputs()[k]->producer(), &y);
      }
    }
    ASSERT_EQ(x.attributes().size(), y.attributes().size()) << what;
    for (size_t k = 0; k < x.attributes().size(); ++k)
      expect_attributes_equal(x.attributes()[k], y.attributes()[k], what);
    for (const ir::Graph* sub : y.subgraphs()) EXPECT_EQ(sub->parent(), &b);
  }
  ASSERT_EQ(a.outputs().size(), b.outputs().size());
  for (size_t i = 0; i < a.outputs().size(); ++i)
    expect_values_equal(a.outputs()[i], b.outputs()[i], "output " + std::to_string(i));
}

inline void expect_models_equal(const ir::Model& a, const ir::Model& b) {
  EXPECT_EQ(a.ir_version, b.ir_version);
  EXPECT_EQ(a.opsets, b.opsets);
  EXPECT_EQ(a.producer_name, b.producer_name);
  EXPECT_EQ(a.producer_version, b.producer_version);
  EXPECT_EQ(a.domain, b.domain);
  EXPECT_EQ(a.doc, b.doc);
  EXPECT_EQ(a.model_version, b.model_version);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.file_bytes, b.file_bytes);
  EXPECT_EQ(a.external_files, b.external_files);
  EXPECT_EQ(a.external_bytes, b.external_bytes);
  ASSERT_TRUE(a.graph && b.graph);
  expect_graphs_equal(*a.graph, *b.graph);
}

inline void expect_fingerprints_equal(const Fingerprint& a, const Fingerprint& b) {
  EXPECT_EQ(a.device, b.device);
  EXPECT_EQ(a.arch, b.arch);
  EXPECT_EQ(a.cpu_name, b.cpu_name);
  EXPECT_EQ(a.features, b.features);
}

inline void expect_engine_data_equal(const EngineData& a, const EngineData& b) {
  EXPECT_EQ(a.format_version, b.format_version);
  EXPECT_EQ(a.kiln_version, b.kiln_version);
  EXPECT_EQ(a.build_options, b.build_options);
  expect_fingerprints_equal(a.built_on, b.built_on);
  expect_fingerprints_equal(a.target, b.target);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    EXPECT_EQ(a.layers[i].tactic, b.layers[i].tactic);
    EXPECT_EQ(a.layers[i].precision, b.layers[i].precision);
    EXPECT_EQ(a.layers[i].fused_from, b.layers[i].fused_from);
    EXPECT_EQ(a.layers[i].params, b.layers[i].params);
    EXPECT_EQ(a.layers[i].packed, b.layers[i].packed);
  }
  ASSERT_EQ(a.profiles.size(), b.profiles.size());
  for (size_t p = 0; p < a.profiles.size(); ++p) {
    const ProfilePlan& x = a.profiles[p];
    const ProfilePlan& y = b.profiles[p];
    ASSERT_EQ(x.inputs.size(), y.inputs.size());
    for (size_t i = 0; i < x.inputs.size(); ++i) {
      EXPECT_EQ(x.inputs[i].first, y.inputs[i].first);
      EXPECT_EQ(x.inputs[i].second.min, y.inputs[i].second.min);
      EXPECT_EQ(x.inputs[i].second.opt, y.inputs[i].second.opt);
      EXPECT_EQ(x.inputs[i].second.max, y.inputs[i].second.max);
    }
    EXPECT_EQ(x.arena_bytes, y.arena_bytes);
    EXPECT_EQ(x.naive_bytes, y.naive_bytes);
    EXPECT_EQ(x.lower_bound_bytes, y.lower_bound_bytes);
    ASSERT_EQ(x.slots.size(), y.slots.size());
    for (size_t i = 0; i < x.slots.size(); ++i) {
      EXPECT_EQ(x.slots[i].value, y.slots[i].value);
      EXPECT_EQ(x.slots[i].offset, y.slots[i].offset);
      EXPECT_EQ(x.slots[i].bytes, y.slots[i].bytes);
      EXPECT_EQ(x.slots[i].inplace_of, y.slots[i].inplace_of);
      EXPECT_EQ(x.slots[i].dynamic, y.slots[i].dynamic);
    }
  }
}

// Every numeric tensor of a graph (initializers, tensor attributes), at any depth.
inline void collect_tensors(const ir::Graph& g, std::vector<const Tensor*>& out) {
  for (const ir::Value* v : g.initializers()) out.push_back(v->initializer());
  for (const ir::Node* n : g.nodes())
    for (const ir::Attribute& a : n->attributes()) {
      if (a.type == ir::AttrType::kTensor) out.push_back(&a.t);
      for (const Tensor& t : a.tensors) out.push_back(&t);
      if (a.g) collect_tensors(*a.g, out);
      for (const auto& sub : a.graphs) collect_tensors(*sub, out);
    }
}

inline std::vector<uint8_t> write_or_die(const EngineData& d, const ir::Model& m) {
  auto r = write_engine(d, m);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? std::move(r).value() : std::vector<uint8_t>{};
}

inline ByteSpan span(const std::vector<uint8_t>& v) {
  return {v.data(), v.size()};
}

}  // namespace kiln::engine::test
