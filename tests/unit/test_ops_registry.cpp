// Operator registry semantics: which revision find() picks at each opset, the derived `until`
// bounds, domains, the ops the acceptance models need, schema invariants, and the per-node
// checks of the op files.
#include <climits>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "ir/graph.h"
#include "ops/op_schema.h"

namespace kiln::ops {
namespace {

const OpRegistry& reg() {
  return OpRegistry::builtin();
}

// The since_version of the revision in effect, or -1 when there is none.
int64_t since_at(std::string_view op, int64_t opset) {
  const OpSchema* s = reg().find("", op, opset);
  return s == nullptr ? -1 : s->since();
}

bool has_attr(std::string_view op, int64_t opset, std::string_view attr) {
  const OpSchema* s = reg().find("", op, opset);
  return s != nullptr && s->find_attr(attr) != nullptr;
}

std::vector<std::string> allowed_values(std::string_view op, int64_t opset, std::string_view attr) {
  const OpSchema* s = reg().find("", op, opset);
  if (s == nullptr || s->find_attr(attr) == nullptr) return {};
  return s->find_attr(attr)->allowed;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  for (const std::string& e : v)
    if (e == x) return true;
  return false;
}

TEST(OpsRegistryFind, ResizeRevisionAtEachBoundary) {
  EXPECT_EQ(since_at("Resize", 9), -1);  // Resize starts at 10; opset 9 models use Upsample
  EXPECT_EQ(since_at("Resize", 10), 10);
  EXPECT_EQ(since_at("Resize", 11), 11);
  EXPECT_EQ(since_at("Resize", 12), 11);
  EXPECT_EQ(since_at("Resize", 13), 13);
  EXPECT_EQ(since_at("Resize", 17), 13);
  EXPECT_EQ(since_at("Resize", 18), 18);
  EXPECT_EQ(since_at("Resize", 19), 19);
  EXPECT_EQ(since_at("Resize", 21), 19);
}

TEST(OpsRegistryFind, ResizeAttributesFollowTheRevision) {
  EXPECT_TRUE(contains(allowed_values("Resize", 12, "coordinate_transformation_mode"),
                       "tf_half_pixel_for_nn"));
  EXPECT_FALSE(contains(allowed_values("Resize", 13, "coordinate_transformation_mode"),
                        "tf_half_pixel_for_nn"));
  EXPECT_FALSE(contains(allowed_values("Resize", 18, "coordinate_transformation_mode"),
                        "half_pixel_symmetric"));
  EXPECT_TRUE(contains(allowed_values("Resize", 19, "coordinate_transformation_mode"),
                       "half_pixel_symmetric"));
  EXPECT_FALSE(contains(allowed_values("Resize", 10, "mode"), "cubic"));
  EXPECT_TRUE(contains(allowed_values("Resize", 11, "mode"), "cubic"));
  EXPECT_FALSE(has_attr("Resize", 17, "antialias"));
  EXPECT_TRUE(has_attr("Resize", 18, "antialias"));
  EXPECT_TRUE(has_attr("Resize", 18, "keep_aspect_ratio_policy"));
  EXPECT_TRUE(has_attr("Resize", 18, "axes"));
  // roi and scales are required inputs at 11 and optional from 13.
  EXPECT_EQ(reg().find("", "Resize", 12)->min_inputs(), 3);
  EXPECT_EQ(reg().find("", "Resize", 13)->min_inputs(), 1);
}

TEST(OpsRegistryFind, SqueezeAxesMoveFromAttributeToInputAt13) {
  const OpSchema* s12 = reg().find("", "Squeeze", 12);
  const OpSchema* s13 = reg().find("", "Squeeze", 13);
  ASSERT_NE(s12, nullptr);
  ASSERT_NE(s13, nullptr);
  EXPECT_EQ(s12->since(), 11);
  EXPECT_EQ(s13->since(), 13);
  EXPECT_NE(s12->find_attr("axes"), nullptr);
  EXPECT_EQ(s12->max_inputs(), 1);
  EXPECT_EQ(s13->find_attr("axes"), nullptr);
  EXPECT_EQ(s13->min_inputs(), 1);  // axes stays optional for Squeeze
  EXPECT_EQ(s13->max_inputs(), 2);

  const OpSchema* u12 = reg().find("", "Unsqueeze", 12);
  const OpSchema* u13 = reg().find("", "Unsqueeze", 13);
  ASSERT_NE(u12, nullptr);
  ASSERT_NE(u13, nullptr);
  ASSERT_NE(u12->find_attr("axes"), nullptr);
  EXPECT_TRUE(u12->find_attr("axes")->required);
  EXPECT_EQ(u13->min_inputs(), 2);  // ...but is required for Unsqueeze
}

TEST(OpsRegistryFind, PadRevisions) {
  EXPECT_EQ(since_at("Pad", 7), 2);
  EXPECT_EQ(since_at("Pad", 10), 2);
  EXPECT_TRUE(has_attr("Pad", 10, "pads"));
  EXPECT_EQ(since_at("Pad", 11), 11);
  EXPECT_FALSE(has_attr("Pad", 11, "pads"));
  EXPECT_EQ(since_at("Pad", 17), 13);
  EXPECT_EQ(since_at("Pad", 18), 18);
  EXPECT_EQ(since_at("Pad", 19), 19);
  EXPECT_EQ(since_at("Pad", 20), 19);
  EXPECT_EQ(since_at("Pad", 21), 21);
  EXPECT_EQ(reg().find("", "Pad", 17)->max_inputs(), 3);
  EXPECT_EQ(reg().find("", "Pad", 18)->max_inputs(), 4);  // axes input
  EXPECT_FALSE(contains(allowed_values("Pad", 18, "mode"), "wrap"));
  EXPECT_TRUE(contains(allowed_values("Pad", 19, "mode"), "wrap"));
  EXPECT_TRUE(contains(allowed_values("Pad", 21, "mode"), "wrap"));
}

TEST(OpsRegistryFind, SplitRevisions) {
  EXPECT_EQ(since_at("Split", 7), 2);
  EXPECT_EQ(since_at("Split", 12), 11);
  EXPECT_TRUE(has_attr("Split", 12, "split"));
  EXPECT_EQ(since_at("Split", 13), 13);
  EXPECT_FALSE(has_attr("Split", 13, "split"));
  EXPECT_FALSE(has_attr("Split", 13, "num_outputs"));
  EXPECT_EQ(reg().find("", "Split", 13)->max_inputs(), 2);
  EXPECT_EQ(since_at("Split", 17), 13);
  EXPECT_EQ(since_at("Split", 18), 18);
  EXPECT_TRUE(has_attr("Split", 18, "num_outputs"));
  EXPECT_EQ(since_at("Split", 21), 18);
  EXPECT_EQ(reg().find("", "Split", 18)->max_outputs(), INT_MAX);
}

TEST(OpsRegistryFind, SliceAndBatchNormRevisions) {
  EXPECT_EQ(since_at("Slice", 9), 1);
  EXPECT_TRUE(has_attr("Slice", 9, "starts"));
  EXPECT_EQ(since_at("Slice", 10), 10);
  EXPECT_EQ(reg().find("", "Slice", 10)->min_inputs(), 3);
  EXPECT_EQ(since_at("Slice", 12), 11);
  EXPECT_EQ(since_at("Slice", 21), 13);

  EXPECT_EQ(since_at("BatchNormalization", 8), 7);
  EXPECT_TRUE(has_attr("BatchNormalization", 8, "spatial"));
  EXPECT_EQ(since_at("BatchNormalization", 9), 9);
  EXPECT_FALSE(has_attr("BatchNormalization", 9, "spatial"));
  EXPECT_FALSE(has_attr("BatchNormalization", 13, "training_mode"));
  EXPECT_EQ(since_at("BatchNormalization", 14), 14);
  EXPECT_TRUE(has_attr("BatchNormalization", 14, "training_mode"));
  EXPECT_EQ(since_at("BatchNormalization", 15), 15);
  EXPECT_EQ(since_at("BatchNormalization", 21), 15);
}

TEST(OpsRegistryFind, UntilIsDerivedFromTheNextRevision) {
  auto until = [](std::string_view op, int64_t since) -> int64_t {
    for (const OpSchema* s : reg().revisions("", op))
      if (s->since() == since) return s->until();
    return -1;
  };
  EXPECT_EQ(until("Resize", 10), 10);
  EXPECT_EQ(until("Resize", 11), 12);
  EXPECT_EQ(until("Resize", 13), 17);
  EXPECT_EQ(until("Resize", 18), 18);
  EXPECT_EQ(until("Resize", 19), kMaxOpset);
  EXPECT_EQ(until("Conv", 1), 10);
  EXPECT_EQ(until("Conv", 11), kMaxOpset);
  EXPECT_EQ(until("Squeeze", 1), 10);
  EXPECT_EQ(until("Squeeze", 11), 12);
  EXPECT_EQ(until("Squeeze", 13), 20);
  EXPECT_EQ(until("Squeeze", 21), kMaxOpset);
  EXPECT_EQ(until("Pad", 19), 20);
}

TEST(OpsRegistryFind, UnknownOpsAndDomains) {
  EXPECT_EQ(reg().find("", "NoSuchOp", 13), nullptr);
  EXPECT_TRUE(reg().revisions("", "NoSuchOp").empty());
  EXPECT_EQ(reg().find("", "Conv", 0), nullptr);  // before the first revision
  EXPECT_FALSE(reg().knows_domain("com.microsoft"));
  EXPECT_FALSE(reg().knows_domain("ai.onnx.ml"));
  EXPECT_EQ(reg().find("com.microsoft", "Conv", 11), nullptr);
  EXPECT_TRUE(reg().knows_domain(""));
}

TEST(OpsRegistryFind, AiOnnxIsTheDefaultDomain) {
  EXPECT_TRUE(reg().knows_domain("ai.onnx"));
  for (const char* op : {"Conv", "Resize", "Squeeze", "If"}) {
    for (int64_t v = kMinOpset; v <= kMaxOpset; ++v) {
      EXPECT_EQ(reg().find("ai.onnx", op, v), reg().find("", op, v)) << op << " at " << v;
    }
    EXPECT_EQ(reg().revisions("ai.onnx", op).size(), reg().revisions("", op).size()) << op;
  }
  EXPECT_EQ(reg().op_types("ai.onnx"), reg().op_types(""));
}

// Revisions ONNX deprecated are registered as unsupported, so the older revision does not claim
// their opsets.
TEST(OpsRegistryFind, DeprecatedRevisionsAreExplicitlyUnsupported) {
  const OpSchema* upsample9 = reg().find("", "Upsample", 9);
  ASSERT_NE(upsample9, nullptr);
  EXPECT_TRUE(upsample9->is_supported());
  for (int64_t v : {10, 13, 21}) {
    const OpSchema* s = reg().find("", "Upsample", v);
    ASSERT_NE(s, nullptr) << v;
    EXPECT_EQ(s->since(), 10);
    EXPECT_FALSE(s->is_supported());
    EXPECT_NE(s->unsupported_reason().find("Resize"), std::string::npos);
  }
  // Scatter, deprecated at 11 in favour of ScatterElements, keeps its meaning there; kiln runs
  // it with the ScatterElements kernel.
  for (int64_t v : {9, 11, 21}) {
    const OpSchema* s = reg().find("", "Scatter", v);
    ASSERT_NE(s, nullptr) << v;
    EXPECT_EQ(s->since(), v == 9 ? 9 : 11) << v;
    EXPECT_TRUE(s->is_supported()) << v;
  }
  for (int64_t v : {18, 20}) {
    const OpSchema* s = reg().find("", "GroupNormalization", v);
    ASSERT_NE(s, nullptr) << v;
    EXPECT_FALSE(s->is_supported()) << v;
  }
  ASSERT_NE(reg().find("", "GroupNormalization", 21), nullptr);
  EXPECT_TRUE(reg().find("", "GroupNormalization", 21)->is_supported());
}

struct ModelOps {
  const char* model;
  std::vector<int64_t> opsets;
  std::vector<const char*> ops;
};

// The ops of the acceptance models at the opsets they are exported with. Several of these live
// in op files outside the core set (elementwise math, Cast, Softmax, Reduce*), so a failure
// names each missing or unsupported op.
TEST(OpsRegistryAcceptance, ModelOpsAreSupported) {
  const std::vector<ModelOps> models = {
      {"mobilenet-style CNN",
       {11, 12},
       {"Conv", "BatchNormalization", "Add", "Clip", "Mul", "Div", "Relu", "GlobalAveragePool",
        "Reshape", "HardSigmoid", "MaxPool", "Shape", "Cast", "Slice", "Concat", "MatMul",
        "Softmax", "Identity", "Constant"}},
      {"LSTM sequence model",
       {16},
       {"Equal", "If", "ConstantOfShape", "Transpose", "Pad", "Unsqueeze", "Pow", "Sqrt", "Gather",
        "Squeeze", "Size", "Not", "LSTM", "Sigmoid", "ReduceMean"}},
      {"MLP", {18}, {"Gemm", "Split", "Tanh"}},
      {"encoder-decoder CNN", {17}, {"Flatten", "AveragePool", "ConvTranspose", "Resize", "Sub"}},
  };
  for (const ModelOps& m : models) {
    for (int64_t opset : m.opsets) {
      for (const char* op : m.ops) {
        const OpSchema* s = reg().find("", op, opset);
        if (s == nullptr) {
          ADD_FAILURE() << m.model << ": " << op << " is not registered at opset " << opset;
        } else if (!s->is_supported()) {
          ADD_FAILURE() << m.model << ": " << op << "-" << s->since() << " (opset " << opset
                        << ") is unsupported: " << s->unsupported_reason();
        }
      }
    }
  }
}

TEST(OpsRegistryInvariants, SupportedRevisionsDeclareOutputs) {
  for (const OpSchema* s : reg().all()) {
    if (!s->is_supported()) continue;
    EXPECT_FALSE(s->outputs().empty()) << s->op_type() << "-" << s->since();
    EXPECT_GE(s->max_outputs(), 1) << s->op_type() << "-" << s->since();
  }
}

TEST(OpsRegistryInvariants, NamesAreUniqueWithinARevision) {
  for (const OpSchema* s : reg().all()) {
    const std::string rev = s->op_type() + "-" + std::to_string(s->since());
    std::set<std::string> attrs, vars;
    for (const AttrSpec& a : s->attrs())
      EXPECT_TRUE(attrs.insert(a.name).second) << rev << " " << a.name;
    for (const TypeConstraint& t : s->type_constraints())
      EXPECT_TRUE(vars.insert(t.var).second) << rev << " type var " << t.var;
    std::set<std::string> inputs;
    for (const IoSpec& io : s->inputs())
      EXPECT_TRUE(inputs.insert(io.name).second) << rev << " input " << io.name;
    std::set<std::string> outputs;
    for (const IoSpec& io : s->outputs())
      EXPECT_TRUE(outputs.insert(io.name).second) << rev << " output " << io.name;
  }
}

// A restricted attribute's default must be one of its allowed values, or every node that omits
// the attribute would be rejected.
TEST(OpsRegistryInvariants, EnumDefaultsAreAllowed) {
  for (const OpSchema* s : reg().all()) {
    const std::string rev = s->op_type() + "-" + std::to_string(s->since());
    for (const AttrSpec& a : s->attrs()) {
      if (const auto* d = std::get_if<std::string>(&a.default_value); d && !a.allowed.empty()) {
        EXPECT_TRUE(contains(a.allowed, *d)) << rev << " " << a.name << " = " << *d;
      }
      if (const auto* d = std::get_if<int64_t>(&a.default_value); d && !a.allowed_ints.empty()) {
        bool found = false;
        for (int64_t v : a.allowed_ints) found = found || v == *d;
        EXPECT_TRUE(found) << rev << " " << a.name << " = " << *d;
      }
    }
  }
}

TEST(OpsRegistryInvariants, RevisionsStayInsideKilnsOpsetRange) {
  for (const OpSchema* s : reg().all()) {
    const std::string rev = s->op_type() + "-" + std::to_string(s->since());
    // Other domains (ai.onnx.preview.training) have their own, exact versions.
    const int64_t max = max_opset(s->domain());
    EXPECT_LE(s->since(), max) << rev;
    EXPECT_LE(s->until(), max) << rev;
    // An ai.onnx entry whose whole range lies below kiln's first opset can never be selected.
    if (s->domain().empty()) {
      EXPECT_GE(s->until(), kMinOpset) << rev;
    }
  }
}

// Builds single nodes to run the op files' per-node checks.
class NodeChecks : public ::testing::Test {
 protected:
  ir::Graph graph{"main"};
  int counter = 0;

  ir::Value* value() { return graph.add_value("v" + std::to_string(counter++)).value(); }

  // Runs the check of the revision in effect at `opset`; returns the problems' codes.
  std::vector<int> run(const char* op, int64_t opset, size_t inputs, size_t outputs,
                       std::vector<ir::Attribute> attrs) {
    const OpSchema* s = reg().find("", op, opset);
    EXPECT_NE(s, nullptr) << op;
    if (s == nullptr || !s->node_check()) return {-1};
    std::vector<ir::Value*> ins, outs;
    for (size_t i = 0; i < inputs; ++i) ins.push_back(value());
    for (size_t i = 0; i < outputs; ++i) outs.push_back(value());
    ir::Node* node =
        graph.add_node(op, "", op + std::to_string(counter++), ins, outs, std::move(attrs), opset);
    std::vector<Status> problems;
    s->node_check()(*node, *s, problems);
    std::vector<int> codes;
    for (const Status& p : problems) codes.push_back(p.code());
    return codes;
  }

  static ir::Attribute strings(std::string name, std::vector<std::string> v) {
    ir::Attribute a;
    a.name = std::move(name);
    a.type = ir::AttrType::kStrings;
    a.strings = std::move(v);
    return a;
  }
};

constexpr int kValueUnsupported = static_cast<int>(Code::kAttributeValueUnsupported);

TEST_F(NodeChecks, SplitNumOutputsExcludesSplitInput) {
  std::vector<ir::Attribute> a;
  a.push_back(ir::Attribute::make_int("num_outputs", 2));
  EXPECT_EQ(run("Split", 18, 1, 2, std::move(a)), std::vector<int>{});
  a.clear();
  a.push_back(ir::Attribute::make_int("num_outputs", 2));
  EXPECT_EQ(run("Split", 18, 2, 2, std::move(a)), std::vector<int>{kValueUnsupported});
  EXPECT_EQ(run("Split", 18, 2, 2, {}), std::vector<int>{});
}

TEST_F(NodeChecks, ConstantHasExactlyOneValue) {
  std::vector<ir::Attribute> one;
  one.push_back(ir::Attribute::make_int("value_int", 3));
  EXPECT_EQ(run("Constant", 13, 0, 1, std::move(one)), std::vector<int>{});

  std::vector<ir::Attribute> two;
  two.push_back(ir::Attribute::make_int("value_int", 3));
  two.push_back(ir::Attribute::make_float("value_float", 1.5f));
  EXPECT_EQ(run("Constant", 13, 0, 1, std::move(two)), std::vector<int>{kValueUnsupported});

  EXPECT_EQ(run("Constant", 12, 0, 1, {}),
            std::vector<int>{static_cast<int>(Code::kMissingAttribute)});

  std::vector<ir::Attribute> sparse(1);
  sparse[0].name = "sparse_value";
  sparse[0].type = ir::AttrType::kSparseTensor;
  EXPECT_EQ(run("Constant", 11, 0, 1, std::move(sparse)),
            std::vector<int>{static_cast<int>(Code::kUnsupportedFeature)});
}

TEST_F(NodeChecks, RecurrentActivations) {
  std::vector<ir::Attribute> ok;
  ok.push_back(strings("activations", {"sigmoid", "Tanh", "Tanh", "Sigmoid", "Tanh", "Relu"}));
  ok.push_back(ir::Attribute::make_string("direction", "bidirectional"));
  EXPECT_EQ(run("LSTM", 14, 3, 3, std::move(ok)), std::vector<int>{});

  std::vector<ir::Attribute> few;
  few.push_back(strings("activations", {"Sigmoid", "Tanh", "Tanh"}));
  few.push_back(ir::Attribute::make_string("direction", "bidirectional"));
  EXPECT_EQ(run("LSTM", 14, 3, 3, std::move(few)), std::vector<int>{kValueUnsupported});

  std::vector<ir::Attribute> unknown;
  unknown.push_back(strings("activations", {"Swish", "Tanh"}));
  EXPECT_EQ(run("GRU", 7, 3, 2, std::move(unknown)), std::vector<int>{kValueUnsupported});

  // RNN's own default lists two functions even for one direction.
  std::vector<ir::Attribute> rnn_default;
  rnn_default.push_back(strings("activations", {"Tanh", "Tanh"}));
  EXPECT_EQ(run("RNN", 14, 3, 2, std::move(rnn_default)), std::vector<int>{});
}

TEST_F(NodeChecks, EyeLikeDtype) {
  std::vector<ir::Attribute> ok;
  ok.push_back(ir::Attribute::make_int("dtype", static_cast<int64_t>(DataType::kInt64)));
  EXPECT_EQ(run("EyeLike", 9, 1, 1, std::move(ok)), std::vector<int>{});
  std::vector<ir::Attribute> bad;
  bad.push_back(ir::Attribute::make_int("dtype", static_cast<int64_t>(DataType::kString)));
  EXPECT_EQ(run("EyeLike", 9, 1, 1, std::move(bad)), std::vector<int>{kValueUnsupported});
}

TEST_F(NodeChecks, ConstantOfShapeValueIsOneElement) {
  std::vector<ir::Attribute> bad(1);
  bad[0].name = "value";
  bad[0].type = ir::AttrType::kTensor;
  bad[0].t = Tensor::allocate(DataType::kFloat32, {2}).value();
  EXPECT_EQ(run("ConstantOfShape", 9, 1, 1, std::move(bad)), std::vector<int>{kValueUnsupported});
  std::vector<ir::Attribute> ok(1);
  ok[0].name = "value";
  ok[0].type = ir::AttrType::kTensor;
  ok[0].t = Tensor::allocate(DataType::kInt64, {1}).value();
  EXPECT_EQ(run("ConstantOfShape", 21, 1, 1, std::move(ok)), std::vector<int>{});
}

}  // namespace
}  // namespace kiln::ops
