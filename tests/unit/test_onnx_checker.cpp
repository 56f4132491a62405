// `kiln check` logic (check_model_bytes / check_model_file) on hand-made models: op support
// against the registry, attribute and type rules, dynamic inputs, unused weights, the
// reference onnx checker, and reporting every problem of a model at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "onnx_import/checker.h"
#include "onnx_import/importer.h"
#include "ops/op_schema.h"
#include "unit/model_builder.h"

namespace kiln {
namespace {

using namespace kiln::test;
using onnx::TensorProto;
using onnx_import::check_model_bytes;
using onnx_import::check_model_file;
using onnx_import::CheckOptions;
using onnx_import::CheckReport;

CheckReport check(const ModelBuilder& m, bool onnx_checker = true) {
  const std::string bytes = m.bytes();
  CheckOptions o;
  o.run_onnx_checker = onnx_checker;
  return check_model_bytes(bytes.data(), bytes.size(), o);
}

// The only problem with `code`; fails the test when there is none or more than one.
Status only(const CheckReport& r, Code code) {
  auto all = with_code(r.problems, num(code));
  EXPECT_EQ(all.size(), 1u) << "expected one K" << num(code) << " in\n" << describe(r.problems);
  return all.empty() ? Status::Ok() : *all.front();
}

std::vector<int> error_codes(const CheckReport& r) {
  std::vector<int> out;
  for (const Status& s : r.problems)
    if (s.severity() == Severity::kError) out.push_back(s.code());
  return out;
}

// x:float32[1,3] → <op> → y, for one-node support checks.
ModelBuilder single(const std::string& op, int elem_type = TensorProto::FLOAT, int64_t opset = 17) {
  ModelBuilder m(opset);
  m.graph().input("x", elem_type, {1, 3}).output("y", elem_type, {1, 3});
  m.graph().node(op, {"x"}, {"y"}, "the_node");
  return m;
}

TEST(OnnxChecker, CleanModelHasNoProblems) {
  for (int64_t opset : {1, 6, 7, 13, 17}) {
    CheckReport r = check(relu_model(opset));
    EXPECT_TRUE(r.parsed);
    EXPECT_TRUE(r.problems.empty()) << "opset " << opset << "\n" << describe(r.problems);
    EXPECT_EQ(r.errors(), 0);
    EXPECT_EQ(r.warnings(), 0);
    EXPECT_TRUE(r.ok());
  }
}

TEST(OnnxChecker, CleanConvModelWithWeights) {
  ModelBuilder m;
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {1, 1, 4, 4}).output("y", TensorProto::FLOAT, {1, 2});
  g.initializer(float_tensor("w", {1, 1, 3, 3}, std::vector<float>(9, 0.1f)));
  g.initializer(float_tensor("b", {1}, {0.5f}));
  g.initializer(int64_tensor("shape", {2}, {1, -1}));
  g.initializer(float_tensor("fc", {4, 2}, std::vector<float>(8, 1.0f)));
  g.node("Conv", {"x", "w", "b"}, {"c"}, "conv")
      .attr_ints("kernel_shape", {3, 3})
      .attr_s("auto_pad", "VALID");
  g.node("Relu", {"c"}, {"r"}, "relu");
  g.node("Reshape", {"r", "shape"}, {"flat"}, "flatten");
  g.node("MatMul", {"flat", "fc"}, {"mm"}, "fc");
  g.node("Softmax", {"mm"}, {"y"}, "softmax").attr_i("axis", -1);
  CheckReport r = check(m);
  EXPECT_TRUE(r.parsed);
  EXPECT_EQ(r.errors(), 0) << describe(r.problems);
  EXPECT_EQ(r.warnings(), 0) << describe(r.problems);
  EXPECT_EQ(r.summary.nodes, 5);
  EXPECT_EQ(r.summary.initializers, 4);
  EXPECT_EQ(r.summary.parameters, 9 + 1 + 2 + 8);
  EXPECT_EQ(r.summary.weight_bytes, (9 + 1 + 8) * 4 + 2 * 8);
  ASSERT_EQ(r.summary.inputs.size(), 1u);
  EXPECT_EQ(r.summary.inputs[0].name, "x");
}

// ---- op support -------------------------------------------------------------------------------

TEST(OnnxChecker, ThreeUnknownOpsThreeProblems) {
  ModelBuilder m;
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  g.node("FancyActivation", {"x"}, {"a"}, "first_unknown");
  g.node("Relux", {"a"}, {"b"}, "second_unknown");
  g.node("MysteryOp", {"b"}, {"y"}, "third_unknown");
  CheckReport r = check(m);
  auto unknown = with_code(r.problems, num(Code::kUnknownOp));
  ASSERT_EQ(unknown.size(), 3u) << describe(r.problems);
  std::set<std::string> nodes;
  for (const Status* s : unknown) {
    ASSERT_NE(s->node(), nullptr);
    nodes.insert(s->node()->name);
    EXPECT_TRUE(contains(s->message(), "'" + s->node()->op_type + "'")) << s->message();
    EXPECT_EQ(s->category(), Category::kUnsupportedNode);
  }
  EXPECT_EQ(nodes, (std::set<std::string>{"first_unknown", "second_unknown", "third_unknown"}));
  // A near miss gets a suggestion.
  for (const Status* s : unknown)
    if (s->node()->op_type == "Relux") {
      EXPECT_TRUE(contains(s->message(), "did you mean 'Relu'")) << s->message();
    }
}

TEST(OnnxChecker, UnknownDomain) {
  ModelBuilder m;
  m.add_opset(1, "com.microsoft");
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  g.node("FusedGelu", {"x"}, {"y"}, "fused").domain("com.microsoft");
  Status s = only(check(m), Code::kUnknownDomain);
  EXPECT_TRUE(contains(s.message(), "'com.microsoft'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "FusedGelu")) << s.message();
  ASSERT_NE(s.node(), nullptr);
  EXPECT_EQ(s.node()->name, "fused");
  EXPECT_EQ(s.node()->domain, "com.microsoft");
}

TEST(OnnxChecker, UndeclaredDomain) {
  ModelBuilder m;
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  g.node("Op", {"x"}, {"y"}, "custom").domain("org.undeclared");
  Status s = only(check(m, false), Code::kUnknownDomain);
  EXPECT_TRUE(contains(s.message(), "'org.undeclared'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "not declared")) << s.message();
}

TEST(OnnxChecker, UnsupportedOpRevision) {
  const ops::OpSchema* unsupported = nullptr;
  for (const ops::OpSchema* s : ops::OpRegistry::builtin().all())
    if (!s->is_supported() && s->domain().empty() && s->since() >= ops::kMinOpset &&
        s->since() <= ops::kMaxOpset) {
      unsupported = s;
      break;
    }
  if (unsupported == nullptr) GTEST_SKIP() << "every registered revision is implemented";
  ModelBuilder m(unsupported->since());
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  std::vector<std::string> inputs(static_cast<size_t>(std::max(1, unsupported->min_inputs())), "x");
  g.node(unsupported->op_type(), inputs, {"y"}, "old_node");
  CheckReport r = check(m, false);
  Status s = only(r, Code::kOpVersionUnsupported);
  EXPECT_TRUE(
      contains(s.message(), unsupported->op_type() + "-" + std::to_string(unsupported->since())))
      << s.message();
  EXPECT_TRUE(contains(s.message(), unsupported->unsupported_reason())) << s.message();
  ASSERT_NE(s.node(), nullptr);
  EXPECT_EQ(s.node()->name, "old_node");
  EXPECT_EQ(s.node()->opset, unsupported->since());
}

TEST(OnnxChecker, UnknownAttribute) {
  ModelBuilder m = single("Relu");
  NodeBuilder(m.proto().mutable_graph()->mutable_node(0)).attr_f("slope", 0.1f);
  CheckReport r = check(m);
  Status s = only(r, Code::kUnknownAttribute);
  EXPECT_TRUE(contains(s.message(), "'slope'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "Relu-14")) << s.message();
  EXPECT_TRUE(contains(s.message(), "none")) << s.message();
  ASSERT_NE(s.node(), nullptr);
  EXPECT_EQ(s.node()->name, "the_node");

  // An op with attributes lists them.
  ModelBuilder conv;
  conv.graph()
      .input("x", TensorProto::FLOAT, {1, 1, 3, 3})
      .output("y", TensorProto::FLOAT, {1, 1, 1, 1});
  conv.graph().initializer(float_tensor("w", {1, 1, 3, 3}, std::vector<float>(9, 1.0f)));
  conv.graph().node("Conv", {"x", "w"}, {"y"}, "conv").attr_ints("kernal_shape", {3, 3});
  Status c = only(check(conv), Code::kUnknownAttribute);
  EXPECT_TRUE(contains(c.message(), "'kernal_shape'")) << c.message();
  EXPECT_TRUE(contains(c.message(), "kernel_shape")) << c.message();
}

TEST(OnnxChecker, MissingRequiredAttribute) {
  CheckReport r = check(single("Cast"), false);
  Status s = only(r, Code::kMissingAttribute);
  EXPECT_TRUE(contains(s.message(), "'to'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "Cast-")) << s.message();
  ASSERT_NE(s.node(), nullptr);
  EXPECT_EQ(s.node()->name, "the_node");
}

TEST(OnnxChecker, WrongInputCount) {
  ModelBuilder m;
  m.graph().input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  m.graph().node("Relu", {"x", "x"}, {"y"}, "two_in");
  Status s = only(check(m, false), Code::kArityMismatch);
  EXPECT_TRUE(contains(s.message(), "takes 1 input(s); the node has 2")) << s.message();
  EXPECT_EQ(s.node()->name, "two_in");

  ModelBuilder add;
  add.graph().input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  add.graph().node("Add", {"x"}, {"y"}, "one_in");
  Status a = only(check(add, false), Code::kArityMismatch);
  EXPECT_TRUE(contains(a.message(), "takes 2 input(s); the node has 1")) << a.message();

  // Gemm's C is optional, A and B are not: an empty name in a required slot.
  ModelBuilder gemm;
  gemm.graph().input("a", TensorProto::FLOAT, {2, 2}).output("y", TensorProto::FLOAT, {2, 2});
  gemm.graph().node("Gemm", {"a", ""}, {"y"}, "gemm");
  Status e = only(check(gemm, false), Code::kArityMismatch);
  EXPECT_TRUE(contains(e.message(), "required input 1")) << e.message();
}

TEST(OnnxChecker, AttributeOfWrongType) {
  ModelBuilder m = single("Softmax");
  NodeBuilder(m.proto().mutable_graph()->mutable_node(0)).attr_f("axis", 1.5f);
  Status s = only(check(m, false), Code::kAttributeTypeMismatch);
  EXPECT_TRUE(contains(s.message(), "'axis'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "float")) << s.message();
  EXPECT_TRUE(contains(s.message(), "int")) << s.message();
  EXPECT_EQ(s.node()->name, "the_node");
}

TEST(OnnxChecker, AttributeValueNotAllowed) {
  ModelBuilder m;
  m.graph()
      .input("x", TensorProto::FLOAT, {1, 1, 4, 4})
      .output("y", TensorProto::FLOAT, {1, 1, 2, 2});
  m.graph().initializer(float_tensor("w", {1, 1, 3, 3}, std::vector<float>(9, 1.0f)));
  m.graph().node("Conv", {"x", "w"}, {"y"}, "conv").attr_s("auto_pad", "FOO");
  Status s = only(check(m), Code::kAttributeValueUnsupported);
  EXPECT_TRUE(contains(s.message(), "auto_pad=\"FOO\"")) << s.message();
  EXPECT_TRUE(contains(s.message(), "\"SAME_UPPER\"")) << s.message();
  EXPECT_EQ(s.node()->name, "conv");
}

TEST(OnnxChecker, IntAttributeValueNotAllowed) {
  ModelBuilder m = single("Cast", TensorProto::FLOAT, 19);
  NodeBuilder(m.proto().mutable_graph()->mutable_node(0))
      .attr_i("to", TensorProto::FLOAT16)
      .attr_i("saturate", 2);
  Status s = only(check(m), Code::kAttributeValueUnsupported);
  EXPECT_TRUE(contains(s.message(), "saturate=2")) << s.message();
  EXPECT_TRUE(contains(s.message(), "0, 1")) << s.message();
}

// The revisions before opset 7 are checked like any other; their node checks refuse what the
// reference kernels cannot run.
TEST(OnnxChecker, LegacyRevisionsAtOldOpsets) {
  // Dropout-6 without is_test is training mode (random elements dropped).
  Status s =
      only(check(single("Dropout", TensorProto::FLOAT, 6)), Code::kAttributeValueUnsupported);
  EXPECT_TRUE(contains(s.message(), "is_test")) << s.message();
  ModelBuilder inference = single("Dropout", TensorProto::FLOAT, 6);
  NodeBuilder(inference.proto().mutable_graph()->mutable_node(0)).attr_i("is_test", 1);
  CheckReport clean = check(inference);
  EXPECT_EQ(clean.errors(), 0) << describe(clean.problems);

  // Cast-1 names its target with the TensorProto enum name.
  ModelBuilder cast = single("Cast", TensorProto::FLOAT, 1);
  NodeBuilder(cast.proto().mutable_graph()->mutable_node(0)).attr_s("to", "float");
  s = only(check(cast, false), Code::kAttributeValueUnsupported);
  EXPECT_TRUE(contains(s.message(), "\"float\"")) << s.message();
  EXPECT_TRUE(contains(s.message(), "\"FLOAT\"")) << s.message();

  // Add-6 broadcasts B over A when broadcast = 1; the attribute allows 0 and 1 only.
  for (int64_t broadcast : {1, 2}) {
    ModelBuilder m(6);
    m.graph()
        .input("a", TensorProto::FLOAT, {2, 3})
        .input("b", TensorProto::FLOAT, {3})
        .output("y", TensorProto::FLOAT, {2, 3});
    m.graph().node("Add", {"a", "b"}, {"y"}, "add").attr_i("broadcast", broadcast);
    CheckReport r = check(m);
    if (broadcast == 1) {
      EXPECT_EQ(r.errors(), 0) << describe(r.problems);
    } else {
      s = only(r, Code::kAttributeValueUnsupported);
      EXPECT_TRUE(contains(s.message(), "broadcast=2")) << s.message();
    }
  }
}

TEST(OnnxChecker, InputTypeNotSupported) {
  CheckReport r = check(single("Relu", TensorProto::STRING), false);
  Status s = only(r, Code::kTypeUnsupported);
  EXPECT_TRUE(contains(s.message(), "input 0 'x' is string")) << s.message();
  EXPECT_TRUE(contains(s.message(), "float32")) << s.message();
  EXPECT_EQ(s.node()->name, "the_node");

  ModelBuilder add;
  add.graph()
      .input("a", TensorProto::FLOAT, {2})
      .input("b", TensorProto::INT64, {2})
      .output("y", TensorProto::FLOAT, {2});
  add.graph().node("Add", {"a", "b"}, {"y"}, "mixed");
  Status m = only(check(add, false), Code::kTypeUnsupported);
  EXPECT_TRUE(contains(m.message(), "inputs 0 and 1")) << m.message();
  EXPECT_TRUE(contains(m.message(), "float32 and int64")) << m.message();
  EXPECT_EQ(m.node()->name, "mixed");
}

// ---- inputs and weights -----------------------------------------------------------------------

TEST(OnnxChecker, DynamicInputIsInfoWithProfileFix) {
  ModelBuilder m;
  m.graph().input("images", TensorProto::FLOAT, {"batch", 3, 224, 224});
  m.graph().output("y", TensorProto::FLOAT, {"batch", 3, 224, 224});
  m.graph().node("Relu", {"images"}, {"y"}, "relu");
  CheckReport r = check(m);
  Status s = only(r, Code::kDynamicInputNeedsProfile);
  EXPECT_EQ(s.severity(), Severity::kInfo);
  EXPECT_TRUE(contains(s.message(), "'images'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "0 ('batch')")) << s.message();
  EXPECT_TRUE(contains(s.fix(), "--min-shapes images:1x3x224x224")) << s.fix();
  EXPECT_TRUE(contains(s.fix(), "--max-shapes")) << s.fix();
  EXPECT_EQ(r.errors(), 0) << describe(r.problems);
  EXPECT_EQ(r.warnings(), 0) << describe(r.problems);
  ASSERT_EQ(r.summary.inputs.size(), 1u);
  EXPECT_EQ(r.summary.inputs[0].dynamic_dims, std::vector<size_t>{0});
}

TEST(OnnxChecker, UnknownRankInputIsInfo) {
  ModelBuilder m;
  m.graph().input_unranked("x", TensorProto::FLOAT).output("y", TensorProto::FLOAT, {2});
  m.graph().node("Relu", {"x"}, {"y"}, "relu");
  Status s = only(check(m, false), Code::kDynamicInputNeedsProfile);
  EXPECT_EQ(s.severity(), Severity::kInfo);
  EXPECT_TRUE(contains(s.message(), "unknown rank")) << s.message();
}

TEST(OnnxChecker, UnusedInitializerIsWarning) {
  ModelBuilder m = relu_model();
  m.graph().initializer(float_tensor("stale_weight", {4}, {1, 2, 3, 4}));
  CheckReport r = check(m);
  Status s = only(r, Code::kUnusedInitializer);
  EXPECT_EQ(s.severity(), Severity::kWarning);
  EXPECT_TRUE(contains(s.message(), "'stale_weight'")) << s.message();
  EXPECT_EQ(r.errors(), 0) << describe(r.problems);
  EXPECT_EQ(r.warnings(), 1);
}

TEST(OnnxChecker, GraphInputWithInitializerIsInfo) {
  ModelBuilder m(17, 4);
  m.graph()
      .input("x", TensorProto::FLOAT, {2})
      .input("w", TensorProto::FLOAT, {2})
      .output("y", TensorProto::FLOAT, {2});
  m.graph().initializer(float_tensor("w", {2}, {1, 2}));
  m.graph().node("Add", {"x", "w"}, {"y"}, "add");
  CheckReport r = check(m);
  Status s = only(r, Code::kGraphInputShadowed);
  EXPECT_EQ(s.severity(), Severity::kInfo);
  EXPECT_EQ(r.errors(), 0) << describe(r.problems);
  EXPECT_EQ(r.warnings(), 0) << describe(r.problems);
  ASSERT_EQ(r.summary.inputs.size(), 1u) << "w is a weight, not an input to feed";
}

// ---- the reference onnx checker ---------------------------------------------------------------

TEST(OnnxChecker, ReferenceCheckerRejectsMainGraphOutputWithoutShape) {
  // kiln accepts an output of unknown rank; ONNX requires main-graph I/O to carry a shape.
  ModelBuilder m;
  m.graph().input("x", TensorProto::FLOAT, {2}).output_unranked("y", TensorProto::FLOAT);
  m.graph().node("Relu", {"x"}, {"y"}, "relu");
  CheckReport r = check(m);
  EXPECT_TRUE(r.parsed);
  Status s = only(r, Code::kOnnxCheckerFailed);
  EXPECT_TRUE(contains(s.message(), "onnx checker")) << s.message();
  EXPECT_TRUE(contains(s.message(), "shape")) << s.message();
  EXPECT_EQ(error_codes(r), std::vector<int>{num(Code::kOnnxCheckerFailed)})
      << describe(r.problems);

  // Without the reference checker kiln's own checks pass.
  EXPECT_EQ(check(m, false).errors(), 0) << describe(check(m, false).problems);
}

TEST(OnnxChecker, ReferenceCheckerRejectsEmptyGraphName) {
  ModelBuilder m = relu_model();
  m.graph().name("");
  CheckReport r = check(m);
  Status s = only(r, Code::kOnnxCheckerFailed);
  EXPECT_TRUE(contains(s.message(), "name")) << s.message();
  EXPECT_EQ(check(m, false).errors(), 0) << describe(check(m, false).problems);
}

TEST(OnnxChecker, ReferenceCheckerSkippedForNewerOpset) {
  for (int64_t opset : {18, 21}) {
    CheckReport r = check(relu_model(opset));
    Status s = only(r, Code::kCheckerSkipped);
    EXPECT_EQ(s.severity(), Severity::kInfo);
    EXPECT_TRUE(contains(s.message(), "opset " + std::to_string(opset))) << s.message();
    EXPECT_EQ(r.errors(), 0) << describe(r.problems);
    EXPECT_EQ(r.warnings(), 0) << describe(r.problems);
  }
  // Skipped for a newer IR version too (IR 9 came with onnx 1.13).
  ModelBuilder ir9 = relu_model();
  ir9.ir_version(9);
  EXPECT_EQ(with_code(check(ir9).problems, num(Code::kCheckerSkipped)).size(), 1u);
  // Not reported when the user turned the reference checker off.
  CheckReport off = check(relu_model(18), false);
  EXPECT_TRUE(off.problems.empty()) << describe(off.problems);
}

// ---- whole reports ----------------------------------------------------------------------------

TEST(OnnxChecker, AllProblemsReportedAtOnce) {
  ModelBuilder m;
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {"n", 3}).output("y", TensorProto::FLOAT, {"n", 3});
  g.initializer(float_tensor("unused", {1}, {0}));
  g.node("Cast", {"x"}, {"a"}, "cast_without_to");
  g.node("NotAnOp", {"a"}, {"b"}, "mystery");
  g.node("Add", {"b", "undefined_value"}, {"c"}, "reads_nothing");
  g.node("Conv", {"c"}, {"y"}, "bad_conv").attr_s("auto_pad", "FOO");
  CheckReport r = check(m);
  ASSERT_TRUE(r.parsed);
  std::vector<int> codes = codes_of(r.problems);
  for (Code c : {Code::kMissingAttribute, Code::kUnknownOp, Code::kUndefinedValue,
                 Code::kArityMismatch, Code::kAttributeValueUnsupported, Code::kUnusedInitializer,
                 Code::kDynamicInputNeedsProfile})
    EXPECT_NE(std::find(codes.begin(), codes.end(), num(c)), codes.end())
        << "K" << num(c) << " missing from\n"
        << describe(r.problems);
  EXPECT_GE(r.errors(), 5);
  EXPECT_EQ(r.warnings(), 1);
  // The reference checker is not run over a model kiln already found broken.
  EXPECT_TRUE(with_code(r.problems, num(Code::kOnnxCheckerFailed)).empty()) << describe(r.problems);
}

TEST(OnnxChecker, ModelLevelProblemsDoNotHideNodeProblems) {
  // Opset 22 is out of range; nodes are still judged (at the nearest supported opset).
  ModelBuilder m = single("Cast", TensorProto::FLOAT, 22);
  CheckReport r = check(m);
  only(r, Code::kOpsetOutOfRange);
  only(r, Code::kMissingAttribute);
}

TEST(OnnxChecker, ProblemsInsideSubgraphsNameTheirGraph) {
  ModelBuilder m;
  auto& g = m.graph();
  g.input("cond", TensorProto::BOOL, {})
      .input("x", TensorProto::FLOAT, {2})
      .output("y", TensorProto::FLOAT, {2});
  GraphBuilder then_b("then_body");
  then_b.output("t", TensorProto::FLOAT, {2});
  then_b.node("Bogus", {"x"}, {"t"}, "inner_bogus");
  GraphBuilder else_b("else_body");
  else_b.output("e", TensorProto::FLOAT, {2});
  else_b.node("Identity", {"x"}, {"e"}, "inner_id");
  g.node("If", {"cond"}, {"y"}, "branch")
      .attr_g("then_branch", then_b.proto())
      .attr_g("else_branch", else_b.proto());
  CheckReport r = check(m);
  Status s = only(r, Code::kUnknownOp);
  ASSERT_NE(s.node(), nullptr);
  EXPECT_EQ(s.node()->name, "inner_bogus");
  EXPECT_EQ(s.node()->graph, "main/branch:then_branch");
  EXPECT_EQ(r.summary.subgraphs, 2);
  EXPECT_EQ(r.summary.nodes, 1);
  EXPECT_EQ(r.summary.nodes_total, 3);
}

TEST(OnnxChecker, CheckModelFileReportsAndSummarises) {
  TempDir dir;
  ModelBuilder m = relu_model();
  m.graph().node("Bogus", {"y"}, {"z"}, "extra");
  const std::string path = dir.write("model.onnx", m);
  CheckReport r = check_model_file(path);
  EXPECT_TRUE(r.parsed);
  EXPECT_EQ(r.summary.path, path);
  EXPECT_EQ(r.summary.file_bytes, static_cast<int64_t>(fs::file_size(path)));
  EXPECT_EQ(r.summary.ir_version, 8);
  EXPECT_EQ(r.summary.opsets.at(""), 17);
  EXPECT_EQ(r.summary.producer, "kiln-tests");
  EXPECT_EQ(r.summary.graph_name, "main");
  Status s = only(r, Code::kUnknownOp);
  EXPECT_EQ(s.node()->name, "extra");
}

TEST(OnnxChecker, CheckOpSupportDirectly) {
  const std::string bytes = single("Cast").bytes();
  auto imported = onnx_import::import_bytes(bytes.data(), bytes.size());
  ASSERT_TRUE(imported.ok());
  std::vector<Status> problems;
  onnx_import::check_op_support(imported->model, ops::OpRegistry::builtin(), problems);
  EXPECT_EQ(codes_of(problems), std::vector<int>{num(Code::kMissingAttribute)})
      << describe(problems);
}

// Shape-inference findings of `kiln check` on the fuzz corpus's shape seeds
// (tests/fuzz/make_corpus.py): each contradiction is one coded error naming the node.
TEST(OnnxChecker, ShapeContradictionsAreCodedAndNameTheNode) {
  const std::string dir = std::string(KILN_SOURCE_DIR) + "/tests/fuzz/corpus/import/";
  const struct {
    const char* seed;
    Code code;
    const char* node;
    const char* detail;
  } cases[] = {
      {"gen_shape_broadcast_conflict.onnx", Code::kIncompatibleShapes, "'add'", "[2,3] and [4]"},
      {"gen_shape_declared_conflict.onnx", Code::kShapeConflict, "'relu'",
       "declared float32[2,5], computed float32[2,3]"},
      {"gen_shape_reshape_count_mismatch.onnx", Code::kIncompatibleShapes, "'reshape'",
       "8 elements where data [2,3] has 6"},
      {"gen_shape_matmul_inner_mismatch.onnx", Code::kIncompatibleShapes, "'matmul'",
       "inner dimensions differ"},
      {"gen_shape_conv_channel_mismatch.onnx", Code::kIncompatibleShapes, "'conv'",
       "has 4 channels"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.seed);
    onnx_import::CheckReport r = check_model_file(dir + c.seed);
    ASSERT_EQ(r.errors(), 1);
    const Status* p = nullptr;
    for (const Status& s : r.problems)
      if (s.severity() == Severity::kError) p = &s;
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->code(), static_cast<int>(c.code));
    ASSERT_NE(p->node(), nullptr);
    const std::string text = p->to_string();
    EXPECT_NE(text.find(c.node), std::string::npos) << text;
    EXPECT_NE(text.find(c.detail), std::string::npos) << text;
  }
}

TEST(OnnxChecker, SymbolicShapesPropagateThroughShapeArithmetic) {
  const std::string dir = std::string(KILN_SOURCE_DIR) + "/tests/fuzz/corpus/import/";
  onnx_import::CheckOptions options;
  options.list_values = true;
  onnx_import::CheckReport r =
      check_model_file(dir + "gen_shape_attention_reshape_chain.onnx", options);
  EXPECT_EQ(r.errors(), 0);
  EXPECT_EQ(r.summary.shapes.values, r.summary.shapes.fully_known);
  bool found = false;
  for (const auto& v : r.summary.values)
    if (v.name == "r") {
      found = true;
      EXPECT_EQ(v.type, "float32[batch,seq,4,8]");  // [batch, seq, 32] split into 4 heads of 8
    }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace kiln
