// Models of the ai.onnx.preview.training domain: a model importing only that domain is accepted
// (ONNX's optimizer test models do), its ops are judged at the domain's own version, and the
// registry's training schemas agree with libonnx's.
#include <gtest/gtest.h>
#include <onnx/defs/schema.h>

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
using onnx_import::CheckOptions;
using onnx_import::CheckReport;

const std::string kTraining(ops::kTrainingDomain);

CheckReport check(const ModelBuilder& m, bool onnx_checker = true) {
  const std::string bytes = m.bytes();
  CheckOptions o;
  o.run_onnx_checker = onnx_checker;
  return check_model_bytes(bytes.data(), bytes.size(), o);
}

std::vector<Status> import_problems(const ModelBuilder& m) {
  const std::string bytes = m.bytes();
  auto r = onnx_import::import_bytes(bytes.data(), bytes.size(), {}, "model");
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? r->problems : std::vector<Status>{};
}

// Adagrad over one tensor, the model importing only the training domain at `version`.
ModelBuilder adagrad_model(int64_t version = 1) {
  ModelBuilder m;
  m.clear_opsets().add_opset(version, kTraining);
  auto& g = m.graph();
  g.input("R", TensorProto::FLOAT, {})
      .input("T", TensorProto::INT64, {})
      .input("X", TensorProto::FLOAT, {2})
      .input("G", TensorProto::FLOAT, {2})
      .input("H", TensorProto::FLOAT, {2})
      .output("X_new", TensorProto::FLOAT, {2})
      .output("H_new", TensorProto::FLOAT, {2});
  g.node("Adagrad", {"R", "T", "X", "G", "H"}, {"X_new", "H_new"}, "opt")
      .domain(kTraining)
      .attr_f("decay_factor", 0.1f);
  return m;
}

TEST(TrainingDomain, ModelImportingOnlyTheTrainingDomainIsClean) {
  EXPECT_TRUE(import_problems(adagrad_model()).empty())
      << describe(import_problems(adagrad_model()));
  CheckReport r = check(adagrad_model());
  EXPECT_EQ(r.errors(), 0) << describe(r.problems);
}

TEST(TrainingDomain, DefaultDomainNodeStillNeedsAnAiOnnxImport) {
  ModelBuilder m = adagrad_model();
  m.graph().output("y", TensorProto::FLOAT, {2});
  m.graph().node("Relu", {"X_new"}, {"y"}, "relu");
  auto problems = import_problems(m);
  ASSERT_EQ(with_code(problems, num(Code::kMissingDefaultOpset)).size(), 1u) << describe(problems);
  const std::string msg = first_with_code(problems, num(Code::kMissingDefaultOpset))->message();
  EXPECT_TRUE(contains(msg, "Relu node 'relu'")) << msg;

  // The same holds for a node inside a subgraph (of a custom op: an ai.onnx If would need the
  // import itself).
  ModelBuilder nested = adagrad_model();
  nested.add_opset(1, "com.example");
  GraphBuilder body("body");
  body.output("z", TensorProto::FLOAT, {2});
  body.node("Identity", {"X_new"}, {"z"}, "inner");
  nested.graph().output("z", TensorProto::FLOAT, {2});
  nested.graph()
      .node("WithBody", {"X_new"}, {"z"}, "custom")
      .domain("com.example")
      .attr_g("body", body.proto());
  problems = import_problems(nested);
  ASSERT_EQ(with_code(problems, num(Code::kMissingDefaultOpset)).size(), 1u) << describe(problems);
  EXPECT_TRUE(contains(first_with_code(problems, num(Code::kMissingDefaultOpset))->message(),
                       "Identity node 'inner'"));
}

TEST(TrainingDomain, OpsAreJudgedAtTheDomainVersion) {
  // ONNX defines the training domain at version 1 only; the default opset range does not apply.
  CheckReport r = check(adagrad_model(2), false);
  auto found = with_code(r.problems, num(Code::kOpVersionUnsupported));
  ASSERT_EQ(found.size(), 1u) << describe(r.problems);
  EXPECT_TRUE(contains(found[0]->message(), "opsets 1–1")) << found[0]->message();
  EXPECT_TRUE(contains(found[0]->message(), "uses opset 2")) << found[0]->message();

  const auto& reg = ops::OpRegistry::builtin();
  EXPECT_TRUE(reg.knows_domain(kTraining));
  for (const char* op : {"Adagrad", "Adam", "Momentum", "Gradient"}) {
    const ops::OpSchema* s = reg.find(kTraining, op, 1);
    ASSERT_NE(s, nullptr) << op;
    EXPECT_EQ(s->until(), 1) << op;
    EXPECT_EQ(reg.find(kTraining, op, 2), nullptr) << op;
    EXPECT_EQ(reg.find("", op, 17), nullptr) << op;
  }
  EXPECT_EQ(ops::effective_opset(kTraining, 1), 1);
  EXPECT_EQ(ops::effective_opset("", 1), ops::kMinOpset);
  EXPECT_EQ(ops::effective_opset("ai.onnx", 30), ops::kMaxOpset);
}

TEST(TrainingDomain, CheckerReportsArityModeAndGradient) {
  ModelBuilder m = adagrad_model();
  m.graph().input("X2", TensorProto::FLOAT, {2}).output("X2_new", TensorProto::FLOAT, {2});
  // 6 inputs cannot be split into R, T and three runs.
  m.graph()
      .node("Adagrad", {"R", "T", "X", "G", "H", "X2"}, {"X2_new"}, "bad_arity")
      .domain(kTraining);
  CheckReport r = check(m, false);
  auto arity = with_code(r.problems, num(Code::kArityMismatch));
  ASSERT_EQ(arity.size(), 1u) << describe(r.problems);
  EXPECT_TRUE(contains(arity[0]->message(), "the node has 6")) << arity[0]->message();
  ASSERT_NE(arity[0]->node(), nullptr);
  EXPECT_EQ(arity[0]->node()->name, "bad_arity");

  ModelBuilder mom;
  mom.clear_opsets().add_opset(1, kTraining);
  mom.graph()
      .input("R", TensorProto::FLOAT, {})
      .input("T", TensorProto::INT64, {})
      .input("X", TensorProto::FLOAT, {2})
      .output("X_new", TensorProto::FLOAT, {2})
      .output("V_new", TensorProto::FLOAT, {2});
  mom.graph()
      .node("Momentum", {"R", "T", "X", "X", "X"}, {"X_new", "V_new"}, "m")
      .domain(kTraining)
      .attr_f("alpha", 0.9f)
      .attr_f("beta", 1.0f)
      .attr_f("norm_coefficient", 0.0f)
      .attr_s("mode", "heavy_ball");
  r = check(mom, false);
  auto mode = with_code(r.problems, num(Code::kAttributeValueUnsupported));
  ASSERT_EQ(mode.size(), 1u) << describe(r.problems);
  EXPECT_TRUE(contains(mode[0]->message(), "\"heavy_ball\"")) << mode[0]->message();

  ModelBuilder grad;
  grad.clear_opsets().add_opset(1, kTraining);
  grad.graph().input("x", TensorProto::FLOAT, {2}).output("dx", TensorProto::FLOAT, {2});
  auto* xs = grad.graph().node("Gradient", {"x"}, {"dx"}, "g").domain(kTraining).attr_raw();
  xs->set_name("xs");
  xs->set_type(onnx::AttributeProto::STRINGS);
  xs->add_strings("x");
  r = check(grad, false);
  auto gradient = with_code(r.problems, num(Code::kOpVersionUnsupported));
  ASSERT_EQ(gradient.size(), 1u) << describe(r.problems);
  EXPECT_TRUE(contains(gradient[0]->message(), "automatic differentiation"))
      << gradient[0]->message();
}

TEST(TrainingDomain, UnknownDomainMessageNamesBothDomains) {
  ModelBuilder m;
  m.add_opset(1, "com.example");
  m.graph().input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  m.graph().node("Op", {"x"}, {"y"}, "custom").domain("com.example");
  CheckReport r = check(m, false);
  auto found = with_code(r.problems, num(Code::kUnknownDomain));
  ASSERT_EQ(found.size(), 1u) << describe(r.problems);
  EXPECT_TRUE(contains(found[0]->message(), kTraining)) << found[0]->message();
}

// libonnx (1.12) defines the training domain too: kiln's schemas must match its arity,
// attributes (names, whether required) and type constraints.
TEST(TrainingDomain, SchemasMatchLibOnnx) {
  for (const ops::OpSchema* s : ops::OpRegistry::builtin().all()) {
    if (s->domain() != kTraining) continue;
    const onnx::OpSchema* ref =
        onnx::OpSchemaRegistry::Schema(s->op_type(), static_cast<int>(s->since()), kTraining);
    ASSERT_NE(ref, nullptr) << s->op_type();
    EXPECT_EQ(ref->since_version(), s->since()) << s->op_type();
    EXPECT_EQ(ref->inputs().size(), s->inputs().size()) << s->op_type();
    EXPECT_EQ(ref->outputs().size(), s->outputs().size()) << s->op_type();
    EXPECT_EQ(ref->min_input(), s->min_inputs()) << s->op_type();
    EXPECT_EQ(ref->attributes().size(), s->attrs().size()) << s->op_type();
    for (const auto& [name, attr] : ref->attributes()) {
      const ops::AttrSpec* mine = s->find_attr(name);
      ASSERT_NE(mine, nullptr) << s->op_type() << "." << name;
      EXPECT_EQ(mine->required, attr.required) << s->op_type() << "." << name;
      if (attr.default_value.has_f()) {
        EXPECT_EQ(std::get<float>(mine->default_value), attr.default_value.f())
            << s->op_type() << "." << name;
      }
    }
    for (const auto& tc : ref->typeConstraintParams()) {
      const ops::TypeConstraint* mine = s->find_types(tc.type_param_str);
      ASSERT_NE(mine, nullptr) << s->op_type() << " " << tc.type_param_str;
      EXPECT_EQ(mine->types.size(), tc.allowed_type_strs.size())
          << s->op_type() << " " << tc.type_param_str;
    }
  }
}

}  // namespace
}  // namespace kiln
