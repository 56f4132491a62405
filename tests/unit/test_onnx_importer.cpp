// Model- and graph-level failures of the ONNX importer on hand-made broken models: versions,
// opsets, graph structure (cycles, undefined and duplicate values, outputs), subgraph scoping
// and attributes. Each problem must carry its exact code and name what it is about.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ir/verifier.h"
#include "onnx_import/importer.h"
#include "unit/model_builder.h"

namespace kiln {
namespace {

using namespace kiln::test;
using onnx::TensorProto;
using onnx_import::import_bytes;
using onnx_import::Imported;

Result<Imported> import(const ModelBuilder& m) {
  const std::string bytes = m.bytes();
  return import_bytes(bytes.data(), bytes.size());
}

// Import followed by the structural verifier, as `kiln check` and every build run them.
std::vector<Status> problems_of(const ModelBuilder& m) {
  auto r = import(m);
  if (!r.ok()) return {r.status()};
  std::vector<Status> problems = r->problems;
  ir::verify(*r->model.graph, problems);
  return problems;
}

// The only problem with `code`; fails the test when there is none or more than one.
Status only(const std::vector<Status>& problems, Code code) {
  auto all = with_code(problems, num(code));
  EXPECT_EQ(all.size(), 1u) << "expected one K" << num(code) << " in\n" << describe(problems);
  return all.empty() ? Status::Ok() : *all.front();
}

const ir::Node* node_named(const ir::Graph& g, const std::string& name) {
  for (const ir::Node* n : g.nodes())
    if (n->name() == name) return n;
  return nullptr;
}

TEST(OnnxImporter, CleanModelHasNoProblems) {
  auto r = import(relu_model());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->problems.empty()) << describe(r->problems);
  EXPECT_EQ(r->model.ir_version, 8);
  EXPECT_EQ(r->model.default_opset(), 17);
  EXPECT_EQ(r->model.producer_name, "kiln-tests");
  ASSERT_EQ(r->model.graph->num_nodes(), 1u);
  EXPECT_TRUE(ir::verify(*r->model.graph).ok());
}

// ---- model level ------------------------------------------------------------------------------

TEST(OnnxImporter, OpsetTooNew) {
  auto problems = problems_of(relu_model(22));
  Status s = only(problems, Code::kOpsetOutOfRange);
  EXPECT_TRUE(contains(s.message(), "opset 22")) << s.message();
  EXPECT_TRUE(contains(s.message(), "1–21")) << s.message();
  EXPECT_TRUE(contains(s.fix(), "opset_version=21")) << s.fix();
  EXPECT_TRUE(contains(s.fix(), "convert_version(model, 21)")) << s.fix();
  EXPECT_EQ(problems.size(), 1u) << describe(problems);
}

// ai.onnx starts at opset 1: opset 0 (or below) is a broken opset_import, not an old model, so
// the fix does not suggest re-exporting at an opset kiln would refuse.
TEST(OnnxImporter, OpsetTooOld) {
  for (int64_t opset : {0, -3}) {
    auto problems = problems_of(relu_model(opset));
    Status s = only(problems, Code::kOpsetOutOfRange);
    EXPECT_TRUE(contains(s.message(), "opset " + std::to_string(opset))) << s.message();
    EXPECT_TRUE(contains(s.message(), "1–21")) << s.message();
    EXPECT_TRUE(contains(s.fix(), "make_opsetid")) << s.fix();
    EXPECT_FALSE(contains(s.fix(), "opset_version=")) << s.fix();
  }
}

TEST(OnnxImporter, OpsetBoundariesAreAccepted) {
  for (int64_t opset : {1, 6, 7, 21}) {
    auto problems = problems_of(relu_model(opset));
    EXPECT_TRUE(with_code(problems, num(Code::kOpsetOutOfRange)).empty())
        << "opset " << opset << "\n"
        << describe(problems);
  }
}

TEST(OnnxImporter, IrVersionZeroAndTooNew) {
  for (int64_t ir : {0, 2, 12, 99}) {
    ModelBuilder m = relu_model();
    m.ir_version(ir);
    auto problems = problems_of(m);
    Status s = only(problems, Code::kIrVersionUnsupported);
    EXPECT_TRUE(contains(s.message(), "IR version " + std::to_string(ir))) << s.message();
    EXPECT_TRUE(contains(s.message(), "3–11")) << s.message();
  }
  for (int64_t ir : {3, 11}) {
    ModelBuilder m = relu_model();
    m.ir_version(ir);
    EXPECT_TRUE(with_code(problems_of(m), num(Code::kIrVersionUnsupported)).empty()) << ir;
  }
}

TEST(OnnxImporter, NoDefaultDomainOpset) {
  ModelBuilder m = relu_model();
  m.clear_opsets().add_opset(1, "com.example");
  auto problems = problems_of(m);
  Status s = only(problems, Code::kMissingDefaultOpset);
  EXPECT_TRUE(contains(s.message(), "ai.onnx")) << s.message();

  ModelBuilder none = relu_model();
  none.clear_opsets();
  only(problems_of(none), Code::kMissingDefaultOpset);
}

TEST(OnnxImporter, AiOnnxDomainSpellingCountsAsDefault) {
  ModelBuilder m = relu_model();
  m.clear_opsets().add_opset(17, "ai.onnx");
  auto r = import(m);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->problems.empty()) << describe(r->problems);
  EXPECT_EQ(r->model.default_opset(), 17);
}

TEST(OnnxImporter, DuplicateOpsetImport) {
  ModelBuilder m = relu_model(17);
  m.add_opset(13);
  Status s = only(problems_of(m), Code::kOpsetOutOfRange);
  EXPECT_TRUE(contains(s.message(), "twice")) << s.message();
  EXPECT_TRUE(contains(s.message(), "17 and 13")) << s.message();
}

TEST(OnnxImporter, NoGraphIsFatal) {
  ModelBuilder m = relu_model();
  m.no_graph();
  auto r = import(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), num(Code::kEmptyGraph));
  EXPECT_TRUE(contains(r.status().message(), "no graph")) << r.status().message();
}

TEST(OnnxImporter, GraphWithoutOutputs) {
  ModelBuilder m;
  m.graph().name("headless").input("x", TensorProto::FLOAT, {2});
  m.graph().node("Relu", {"x"}, {"y"}, "relu");
  Status s = only(problems_of(m), Code::kEmptyGraph);
  EXPECT_TRUE(contains(s.message(), "'headless'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "no outputs")) << s.message();
}

TEST(OnnxImporter, ModelLocalFunctionsAreUnsupported) {
  ModelBuilder m = relu_model();
  auto* f = m.proto().add_functions();
  f->set_name("MyGelu");
  f->set_domain("custom");
  Status s = only(problems_of(m), Code::kUnsupportedFeature);
  EXPECT_TRUE(contains(s.message(), "custom::MyGelu")) << s.message();
  EXPECT_TRUE(contains(s.fix(), "inline")) << s.fix();
}

TEST(OnnxImporter, TrainingInfoIsIgnoredWithWarning) {
  ModelBuilder m = relu_model();
  m.proto().add_training_info();
  auto problems = problems_of(m);
  Status s = only(problems, Code::kUnsupportedFeature);
  EXPECT_EQ(s.severity(), Severity::kWarning);
  EXPECT_TRUE(contains(s.message(), "training")) << s.message();
}

// ---- graph level ------------------------------------------------------------------------------

TEST(OnnxImporter, CycleNamesBothNodes) {
  ModelBuilder m;
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {2}).output("b_out", TensorProto::FLOAT, {2});
  g.node("Add", {"x", "b_out"}, {"a_out"}, "node_a");
  g.node("Relu", {"a_out"}, {"b_out"}, "node_b");
  auto r = import(m);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  auto cycles = with_code(r->problems, num(Code::kGraphCycle));
  ASSERT_EQ(cycles.size(), 1u) << describe(r->problems);
  const std::string& msg = cycles[0]->message();
  EXPECT_TRUE(contains(msg, "'node_a'")) << msg;
  EXPECT_TRUE(contains(msg, "'node_b'")) << msg;
  EXPECT_TRUE(contains(msg, "2 node(s)")) << msg;
  EXPECT_TRUE(contains(msg, "'main'")) << msg;
}

TEST(OnnxImporter, SelfLoopIsACycle) {
  ModelBuilder m;
  m.graph().input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  m.graph().node("Add", {"x", "y"}, {"y"}, "self");
  Status s = *with_code(problems_of(m), num(Code::kGraphCycle)).at(0);
  EXPECT_TRUE(contains(s.message(), "'self'")) << s.message();
}

TEST(OnnxImporter, UndefinedInputNamesInputAndNode) {
  ModelBuilder m;
  m.graph().input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  m.graph().node("Add", {"x", "ghost"}, {"y"}, "adder");
  auto problems = problems_of(m);
  Status s = only(problems, Code::kUndefinedValue);
  EXPECT_TRUE(contains(s.message(), "'ghost'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "input 1")) << s.message();
  ASSERT_NE(s.node(), nullptr);
  EXPECT_EQ(s.node()->name, "adder");
  EXPECT_EQ(s.node()->op_type, "Add");
  EXPECT_EQ(s.node()->index, 0);
  EXPECT_TRUE(contains(s.to_string(), "adder")) << s.to_string();
  EXPECT_EQ(problems.size(), 1u) << describe(problems);
}

TEST(OnnxImporter, TwoNodesWritingOneValue) {
  ModelBuilder m;
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  g.node("Relu", {"x"}, {"y"}, "first");
  g.node("Neg", {"x"}, {"y"}, "second");
  auto r = import(m);
  ASSERT_TRUE(r.ok());
  Status s = only(r->problems, Code::kDuplicateValue);
  EXPECT_TRUE(contains(s.message(), "'y'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "'second'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "'first'")) << s.message();
}

TEST(OnnxImporter, NodeOutputShadowsGraphInput) {
  ModelBuilder m;
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {2}).output("x", TensorProto::FLOAT, {2});
  g.node("Relu", {"x"}, {"x"}, "overwriter");
  Status s = *with_code(problems_of(m), num(Code::kDuplicateValue)).at(0);
  EXPECT_TRUE(contains(s.message(), "'x'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "'overwriter'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "graph input")) << s.message();
}

TEST(OnnxImporter, InitializerDefinedTwice) {
  ModelBuilder m;
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  g.initializer(float_tensor("w", {2}, {1, 2})).initializer(float_tensor("w", {2}, {3, 4}));
  g.node("Add", {"x", "w"}, {"y"}, "add");
  Status s = only(problems_of(m), Code::kDuplicateValue);
  EXPECT_TRUE(contains(s.message(), "initializer 'w'")) << s.message();
}

TEST(OnnxImporter, GraphOutputNeverProduced) {
  ModelBuilder m = relu_model();
  m.graph().output("nowhere", TensorProto::FLOAT, {1});
  auto problems = problems_of(m);
  Status s = only(problems, Code::kGraphOutputUndefined);
  EXPECT_TRUE(contains(s.message(), "'nowhere'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "'main'")) << s.message();
  EXPECT_EQ(problems.size(), 1u) << describe(problems);
}

TEST(OnnxImporter, InitializerTypeDisagreesWithInput) {
  ModelBuilder m(17, 3);  // IR 3: initializers are also listed as graph inputs
  auto& g = m.graph();
  g.input("x", TensorProto::INT64, {2})
      .input("w", TensorProto::INT64, {2})
      .output("y", TensorProto::INT64, {2});
  g.initializer(float_tensor("w", {2}, {1, 2}));
  g.node("Add", {"x", "w"}, {"y"}, "add");
  auto problems = problems_of(m);
  Status s = only(problems, Code::kTypeMismatch);
  EXPECT_TRUE(contains(s.message(), "'w'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "int64")) << s.message();
  EXPECT_TRUE(contains(s.message(), "float32")) << s.message();
}

TEST(OnnxImporter, InitializerShapeDisagreesWithInput) {
  ModelBuilder m(17, 3);
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {2})
      .input("w", TensorProto::FLOAT, {3})
      .output("y", TensorProto::FLOAT, {2});
  g.initializer(float_tensor("w", {2}, {1, 2}));
  g.node("Add", {"x", "w"}, {"y"}, "add");
  Status s = only(problems_of(m), Code::kTypeMismatch);
  EXPECT_TRUE(contains(s.message(), "[3]")) << s.message();
  EXPECT_TRUE(contains(s.message(), "[2]")) << s.message();
}

TEST(OnnxImporter, UnsortedAcyclicGraphIsSorted) {
  ModelBuilder m;
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  g.node("Neg", {"t1"}, {"y"}, "c");
  g.node("Relu", {"t0"}, {"t1"}, "b");
  g.node("Abs", {"x"}, {"t0"}, "a");
  auto r = import(m);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->problems.empty()) << describe(r->problems);
  std::vector<std::string> order;
  std::vector<int64_t> index;
  for (const ir::Node* n : r->model.graph->nodes()) {
    order.push_back(n->name());
    index.push_back(n->index());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
  // Diagnostics keep pointing at positions in the source file.
  EXPECT_EQ(index, (std::vector<int64_t>{2, 1, 0}));
  EXPECT_TRUE(ir::verify(*r->model.graph).ok()) << ir::verify(*r->model.graph).to_string();
}

// cond ? Relu(x) : Neg(x), both branches reading the outer-scope 'x'.
ModelBuilder if_model(const std::string& then_input = "x") {
  ModelBuilder m;
  auto& g = m.graph();
  g.input("cond", TensorProto::BOOL, {})
      .input("x", TensorProto::FLOAT, {2})
      .output("y", TensorProto::FLOAT, {2});
  GraphBuilder then_branch("then_body");
  then_branch.output("t_out", TensorProto::FLOAT, {2});
  then_branch.node("Relu", {then_input}, {"t_out"}, "then_relu");
  GraphBuilder else_branch("else_body");
  else_branch.output("e_out", TensorProto::FLOAT, {2});
  else_branch.node("Neg", {"x"}, {"e_out"}, "else_neg");
  g.node("If", {"cond"}, {"y"}, "branch")
      .attr_g("then_branch", then_branch.proto())
      .attr_g("else_branch", else_branch.proto());
  return m;
}

TEST(OnnxImporter, OuterScopeReferenceResolvesToOuterValue) {
  auto r = import(if_model());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->problems.empty()) << describe(r->problems);
  const ir::Graph& main = *r->model.graph;
  EXPECT_TRUE(ir::verify(main).ok()) << ir::verify(main).to_string();
  const ir::Value* x = main.find("x");
  ASSERT_NE(x, nullptr);
  const ir::Node* branch = node_named(main, "branch");
  ASSERT_NE(branch, nullptr);
  auto subs = branch->subgraphs();
  ASSERT_EQ(subs.size(), 2u);
  for (const ir::Graph* sub : subs) {
    ASSERT_EQ(sub->num_nodes(), 1u);
    const ir::Node* inner = sub->nodes()[0];
    EXPECT_EQ(inner->input(0), x) << "in " << sub->path();
    EXPECT_EQ(sub->find("x"), nullptr) << "no local copy of 'x' in " << sub->path();
    EXPECT_EQ(sub->parent(), &main);
  }
}

TEST(OnnxImporter, SubgraphReadingUndefinedName) {
  auto problems = problems_of(if_model("defined_nowhere"));
  Status s = only(problems, Code::kUndefinedValue);
  EXPECT_TRUE(contains(s.message(), "'defined_nowhere'")) << s.message();
  ASSERT_NE(s.node(), nullptr);
  EXPECT_EQ(s.node()->name, "then_relu");
  EXPECT_EQ(s.node()->graph, "main/branch:then_branch");
}

TEST(OnnxImporter, SubgraphCannotSeeSiblingBranchValues) {
  // else_body reads then_body's output: the two bodies are separate scopes.
  ModelBuilder m = if_model();
  auto* else_g = m.proto().mutable_graph()->mutable_node(0)->mutable_attribute(1)->mutable_g();
  else_g->mutable_node(0)->set_input(0, "t_out");
  Status s = only(problems_of(m), Code::kUndefinedValue);
  EXPECT_TRUE(contains(s.message(), "'t_out'")) << s.message();
  ASSERT_NE(s.node(), nullptr);
  EXPECT_EQ(s.node()->graph, "main/branch:else_branch");
}

TEST(OnnxImporter, SubgraphMayReadLaterOuterNode) {
  // An If listed before the node producing the outer value it reads: sorting must place the
  // producer first, through the subgraph's capture.
  ModelBuilder m;
  auto& g = m.graph();
  g.input("cond", TensorProto::BOOL, {})
      .input("x", TensorProto::FLOAT, {2})
      .output("y", TensorProto::FLOAT, {2});
  GraphBuilder body("then_body");
  body.output("t_out", TensorProto::FLOAT, {2});
  body.node("Identity", {"late"}, {"t_out"}, "then_id");
  GraphBuilder other("else_body");
  other.output("e_out", TensorProto::FLOAT, {2});
  other.node("Identity", {"x"}, {"e_out"}, "else_id");
  g.node("If", {"cond"}, {"y"}, "branch")
      .attr_g("then_branch", body.proto())
      .attr_g("else_branch", other.proto());
  g.node("Abs", {"x"}, {"late"}, "producer");
  auto r = import(m);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->problems.empty()) << describe(r->problems);
  auto nodes = r->model.graph->nodes();
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0]->name(), "producer");
  EXPECT_EQ(nodes[1]->name(), "branch");
  EXPECT_TRUE(ir::verify(*r->model.graph).ok()) << ir::verify(*r->model.graph).to_string();
}

// ---- attributes -------------------------------------------------------------------------------

TEST(OnnxImporter, AttributeWithoutName) {
  ModelBuilder m = relu_model();
  auto* a = m.proto().mutable_graph()->mutable_node(0)->add_attribute();
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(3);
  Status s = only(problems_of(m), Code::kInvalidAttribute);
  EXPECT_TRUE(contains(s.message(), "no name")) << s.message();
  ASSERT_NE(s.node(), nullptr);
  EXPECT_EQ(s.node()->name, "relu");
}

TEST(OnnxImporter, AttributeNamedTwice) {
  ModelBuilder m;
  m.graph().input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  m.graph().node("LeakyRelu", {"x"}, {"y"}, "leaky").attr_f("alpha", 0.1f).attr_f("alpha", 0.2f);
  auto r = import(m);
  ASSERT_TRUE(r.ok());
  Status s = only(r->problems, Code::kInvalidAttribute);
  EXPECT_TRUE(contains(s.message(), "'alpha' appears twice")) << s.message();
  ASSERT_NE(s.node(), nullptr);
  EXPECT_EQ(s.node()->name, "leaky");
  // The first occurrence is kept.
  const ir::Attribute* alpha = r->model.graph->nodes()[0]->attr("alpha");
  ASSERT_NE(alpha, nullptr);
  EXPECT_FLOAT_EQ(alpha->f, 0.1f);
}

TEST(OnnxImporter, AttributeWithoutTypeOrValue) {
  ModelBuilder m = relu_model();
  m.proto().mutable_graph()->mutable_node(0)->add_attribute()->set_name("mystery");
  Status s = only(problems_of(m), Code::kInvalidAttribute);
  EXPECT_TRUE(contains(s.message(), "'mystery'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "no value")) << s.message();
}

TEST(OnnxImporter, UntypedAttributeTakesTypeOfItsValue) {
  // Old exporters left AttributeProto.type unset (IR < 2 semantics).
  ModelBuilder m;
  m.graph().input("x", TensorProto::FLOAT, {2, 3}).output("y", TensorProto::FLOAT, {2, 3});
  auto* a = m.graph().node("Softmax", {"x"}, {"y"}, "sm").attr_raw();
  a->set_name("axis");
  a->set_i(-1);
  auto r = import(m);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->problems.empty()) << describe(r->problems);
  const ir::Attribute* axis = r->model.graph->nodes()[0]->attr("axis");
  ASSERT_NE(axis, nullptr);
  EXPECT_EQ(axis->type, ir::AttrType::kInt);
  EXPECT_EQ(axis->i, -1);
}

TEST(OnnxImporter, EmptyOpType) {
  ModelBuilder m = relu_model();
  m.proto().mutable_graph()->mutable_node(0)->clear_op_type();
  Status s = only(problems_of(m), Code::kUnknownOp);
  EXPECT_TRUE(contains(s.message(), "empty op_type")) << s.message();
  ASSERT_NE(s.node(), nullptr);
  EXPECT_EQ(s.node()->name, "relu");
}

// ---- value types ------------------------------------------------------------------------------

TEST(OnnxImporter, DeclaredTypesAndSymbolicDims) {
  ModelBuilder m;
  m.graph()
      .input("x", TensorProto::FLOAT16, {"batch", 3, TDim::unknown()})
      .output("y", TensorProto::FLOAT16, {"batch", 3, TDim::unknown()});
  m.graph().node("Relu", {"x"}, {"y"}, "relu");
  auto r = import(m);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->problems.empty()) << describe(r->problems);
  const ir::Value* x = r->model.graph->find("x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->type.dtype, DataType::kFloat16);
  ASSERT_EQ(x->type.shape.rank(), 3u);
  EXPECT_FALSE(x->type.shape[0].is_static());
  EXPECT_EQ(x->type.shape[0].to_string(), "batch");
  EXPECT_TRUE(x->type.shape[1].is_static());
  EXPECT_EQ(x->type.shape[1].value, 3);
  EXPECT_FALSE(x->type.shape[2].is_static());
}

TEST(OnnxImporter, DeclaredElementTypeUnknown) {
  ModelBuilder m;
  m.graph().input("x", 99, {2}).output("y", TensorProto::FLOAT, {2});
  m.graph().node("Relu", {"x"}, {"y"}, "relu");
  Status s = only(problems_of(m), Code::kUnknownDataType);
  EXPECT_TRUE(contains(s.message(), "graph input 'x'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "99")) << s.message();
}

TEST(OnnxImporter, DeclaredNegativeDim) {
  ModelBuilder m;
  m.graph().input("x", TensorProto::FLOAT, {2, -7}).output("y", TensorProto::FLOAT, {2, -1});
  m.graph().node("Relu", {"x"}, {"y"}, "relu");
  // -1 is the common "dynamic" spelling and is accepted; -7 is corrupt.
  Status s = only(problems_of(m), Code::kInvalidShape);
  EXPECT_TRUE(contains(s.message(), "graph input 'x'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "-7")) << s.message();
}

TEST(OnnxImporter, ImportFileRecordsPath) {
  TempDir dir;
  const std::string path = dir.write("relu.onnx", relu_model());
  auto r = onnx_import::import_file(path);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->model.path, path);
  EXPECT_EQ(r->model.file_bytes, static_cast<int64_t>(fs::file_size(path)));
}

}  // namespace
}  // namespace kiln
