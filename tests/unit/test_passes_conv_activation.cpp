// conv_activation_fusion: every activation into a Conv (golden + numeric: the fused kernels'
// activation helpers are checked against the standalone activation kernels through the
// interpreter), residual adds, ConvTranspose / Gemm / MatMul, the decomposed HardSwish, and the
// cases that must not fuse.
#include "unit/pass_test_util.h"

namespace kiln::test {
namespace {

const std::vector<std::string> kAct = {"conv_activation_fusion"};

// Conv → <activation lines> → %y; `act` computes %y from %c.
std::string conv_then(const std::string& act, const std::string& extra_inits = "") {
  return R"(
graph main (%x: float32[1,3,7,7]) -> (%y: float32[1,4,7,7]) {
  init %w: float32[4,3,3,3]
  init %b: float32[4]
)" + extra_inits +
         R"(  %c = Conv(%x, %w, %b) {pads=[1,1,1,1]} #0 "conv"
)" + act +
         "}\n";
}

std::string fused_conv(const std::string& attrs, const std::string& name, int index,
                       const std::string& extra_inits = "") {
  return R"(
graph main (%x: float32[1,3,7,7]) -> (%y: float32[1,4,7,7]) {
  init %w: float32[4,3,3,3]
  init %b: float32[4]
)" + extra_inits +
         "  %y = kiln::FusedConv(%x, %w, %b) {pads=[1,1,1,1], " + attrs + "} #" +
         std::to_string(index) + " \"" + name + "\"\n}\n";
}

struct ActCase {
  const char* label;
  std::string act;         // lines computing %y from %c
  std::string inits;       // initializers the activation reads
  std::string attrs;       // expected activation attributes
  std::string kept_inits;  // initializers left after the rewrite (unread ones stay)
  int index;               // the root's #index
  const char* root;        // the root's name
  int64_t opset = 17;
  std::function<void(ir::Graph&)> init = {};
};

std::vector<ActCase> act_cases() {
  auto bounds = [](ir::Graph& g) {
    set_init<float>(g, "lo", DataType::kFloat32, {}, {0.0f});
    set_init<float>(g, "hi", DataType::kFloat32, {}, {6.0f});
  };
  auto gelu20 = [](ir::Graph& g) {
    for (ir::Node* n : g.nodes())
      if (n->op_type() == "Gelu") n->set_opset(20);
  };
  return {
      {"Relu", "  %y = Relu(%c) #1 \"act\"\n", "", "activation=\"Relu\"", "", 1, "act"},
      {"Clip", "  %y = Clip(%c, %lo, %hi) #1 \"act\"\n",
       "  init %lo: float32[]\n  init %hi: float32[]\n",
       "activation=\"Clip\", activation_params=[0.0,6.0]",
       "  init %lo: float32[]\n  init %hi: float32[]\n", 1, "act", 17, bounds},
      {"Clip6", "  %y = Clip(%c) {min=-1.5, max=0.5} #1 \"act\"\n", "",
       "activation=\"Clip\", activation_params=[-1.5,0.5]", "", 1, "act", 6},
      {"Sigmoid", "  %y = Sigmoid(%c) #1 \"act\"\n", "", "activation=\"Sigmoid\"", "", 1, "act"},
      {"Tanh", "  %y = Tanh(%c) #1 \"act\"\n", "", "activation=\"Tanh\"", "", 1, "act"},
      {"HardSigmoid", "  %y = HardSigmoid(%c) {alpha=0.25, beta=0.375} #1 \"act\"\n", "",
       "activation=\"HardSigmoid\", activation_params=[0.25,0.375]", "", 1, "act"},
      {"HardSwish", "  %y = HardSwish(%c) #1 \"act\"\n", "", "activation=\"HardSwish\"", "", 1,
       "act"},
      {"LeakyRelu", "  %y = LeakyRelu(%c) {alpha=0.125} #1 \"act\"\n", "",
       "activation=\"LeakyRelu\", activation_params=[0.125]", "", 1, "act"},
      {"LeakyReluDefault", "  %y = LeakyRelu(%c) #1 \"act\"\n", "",
       "activation=\"LeakyRelu\", activation_params=[0.01]", "", 1, "act"},
      {"Silu", "  %s = Sigmoid(%c) #1 \"sig\"\n  %y = Mul(%c, %s) #2 \"act\"\n", "",
       "activation=\"Silu\"", "", 2, "act"},
      // Paddle's swish: Sigmoid(x * 1.0) * x.
      {"SiluPaddle",
       "  %t = Mul(%c, %one) #1 \"scale\"\n  %s = Sigmoid(%t) #2 \"sig\"\n  %y = Mul(%s, %c) #3 "
       "\"act\"\n",
       "  init %one: float32[1]\n", "activation=\"Silu\"", "  init %one: float32[1]\n", 3, "act",
       17, [](ir::Graph& g) { set_init<float>(g, "one", DataType::kFloat32, {1}, {1.0f}); }},
      {"Gelu", "  %y = Gelu(%c) #1 \"act\"\n", "", "activation=\"Gelu\"", "", 1, "act", 17, gelu20},
      {"GeluTanh", "  %y = Gelu(%c) {approximate=\"tanh\"} #1 \"act\"\n", "",
       "activation=\"GeluTanh\"", "", 1, "act", 17, gelu20},
  };
}

void PrintTo(const ActCase& c, std::ostream* os) {
  *os << c.label;
}

class ConvActivation : public ::testing::TestWithParam<ActCase> {};

TEST_P(ConvActivation, FusesIntoFusedConvWithTheSameResult) {
  const ActCase& c = GetParam();
  const std::string text = conv_then(c.act, c.inits);
  auto make = [&] { return model_from_text(text, c.opset, 7, c.init); };
  auto m = make();
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, kAct),
            canonical(fused_conv(c.attrs, c.root, c.index, c.kept_inits)));
  expect_same_outputs(make, kAct);
}

INSTANTIATE_TEST_SUITE_P(All, ConvActivation, ::testing::ValuesIn(act_cases()),
                         [](const auto& p) { return std::string(p.param.label); });

// Constant-node Clip bounds (PyTorch's export of ReLU6) are dropped with the Clip.
TEST(PassConvActivation, DropsClipBoundConstantNodes) {
  constexpr const char* text = R"(
graph main (%x: float32[1,3,7,7]) -> (%y: float32[1,4,7,7]) {
  init %w: float32[4,3,3,3]
  %lo = Constant() {value=tensor<float32[]>} #1 "lo"
  %hi = Constant() {value=tensor<float32[]>} #2 "hi"
  %c = Conv(%x, %w) {pads=[1,1,1,1]} #0 "conv"
  %y = Clip(%c, %lo, %hi) #3 "relu6"
}
)";
  auto m = model_from_text(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, kAct), canonical(R"(
graph main (%x: float32[1,3,7,7]) -> (%y: float32[1,4,7,7]) {
  init %w: float32[4,3,3,3]
  %y = kiln::FusedConv(%x, %w) {pads=[1,1,1,1], activation="Clip", activation_params=[0.0,0.0]} #3 "relu6"
}
)"));
}

// ResNet's block end: Relu(Add(Conv(...), identity)).
constexpr const char* kResidual = R"(
graph main (%x: float32[2,4,5,5]) -> (%y: float32[2,4,5,5]) {
  init %w: float32[4,4,3,3]
  init %b: float32[4]
  %c = Conv(%x, %w, %b) {pads=[1,1,1,1]} #0 "conv"
  %s = Add(%x, %c) #1 "add"
  %y = Relu(%s) #2 "relu"
}
)";

TEST(PassConvActivation, FusesResidualAddThenActivation) {
  auto make = [] { return model_from_text(kResidual); };
  auto m = make();
  auto report = run_passes(*m, kAct);
  EXPECT_EQ(ir::print(*m->graph), canonical(R"(
graph main (%x: float32[2,4,5,5]) -> (%y: float32[2,4,5,5]) {
  init %w: float32[4,4,3,3]
  init %b: float32[4]
  %y = kiln::FusedConv(%x, %w, %b, %x) {pads=[1,1,1,1], activation="Relu"} #2 "relu"
}
)"));
  EXPECT_EQ(report.counts["conv_activation_fusion"]["Conv+residual Add"], 1);
  EXPECT_EQ(report.counts["conv_activation_fusion"]["Conv+activation"], 1);
  expect_same_outputs(make, kAct);
}

// Symbolic batch: the residual has the same symbols, so the shapes provably agree.
TEST(PassConvActivation, FusesResidualWithSymbolicShapes) {
  constexpr const char* text = R"(
graph main (%x: float32[n,4,5,5], %r: float32[n,4,5,5]) -> (%y: float32[n,4,5,5]) {
  init %w: float32[4,4,1,1]
  %c = Conv(%x, %w) #0 "conv"
  %y = Add(%c, %r) #1 "add"
}
)";
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  EXPECT_EQ(optimized_text(*m, kAct), canonical(R"(
graph main (%x: float32[n,4,5,5], %r: float32[n,4,5,5]) -> (%y: float32[n,4,5,5]) {
  init %w: float32[4,4,1,1]
  %y = kiln::FusedConv(%x, %w, _, %r) #1 "add"
}
)"));
  expect_same_outputs(make, kAct, {{"x", {3, 4, 5, 5}}, {"r", {3, 4, 5, 5}}});
}

TEST(PassConvActivation, FusesConvTransposeGemmAndMatMul) {
  constexpr const char* text = R"(
graph main (%x: float32[1,2,3,3], %a: float32[3,5], %m: float32[2,3,5]) -> (%y: float32[1,4,6,6], %g: float32[3,4], %z: float32[2,3,4]) {
  init %w: float32[2,4,2,2]
  init %gw: float32[4,5]
  init %gc: float32[4]
  init %mw: float32[5,4]
  init %mb: float32[4]
  %t = ConvTranspose(%x, %w) {strides=[2,2]} #0 "up"
  %y = Relu(%t) #1 "r1"
  %p = Gemm(%a, %gw, %gc) {transB=1, alpha=0.5} #2 "gemm"
  %g = Sigmoid(%p) #3 "r2"
  %q = MatMul(%m, %mw) #4 "mm"
  %u = Add(%q, %mb) #5 "bias"
  %z = Tanh(%u) #6 "r3"
}
)";
  auto make = [&] { return model_from_text(text); };
  auto m = make();
  EXPECT_EQ(optimized_text(*m, kAct), canonical(R"(
graph main (%x: float32[1,2,3,3], %a: float32[3,5], %m: float32[2,3,5]) -> (%y: float32[1,4,6,6], %g: float32[3,4], %z: float32[2,3,4]) {
  init %w: float32[2,4,2,2]
  init %gw: float32[4,5]
  init %gc: float32[4]
  init %mw: float32[5,4]
  init %mb: float32[4]
  %y = kiln::FusedConvTranspose(%x, %w) {strides=[2,2], activation="Relu"} #1 "r1"
  %g = kiln::FusedGemm(%a, %gw, %gc) {transB=1, alpha=0.5, activation="Sigmoid"} #3 "r2"
  %z = kiln::FusedMatMul(%m, %mw, %mb) {activation="Tanh"} #6 "r3"
}
)"));
  expect_same_outputs(make, kAct);
}

// GPT-2's MLP puts a Reshape between the Gemm and the Gelu: the activation moves into the
// product (it is elementwise, so it commutes with the reshape) and the reshape is rebuilt to
// produce the Gelu's output.
TEST(PassConvActivation, FusesThroughAReshape) {
  constexpr const char* text = R"(
graph main (%a: float32[6,4]) -> (%y: float32[2,3,5]) {
  init %w: float32[4,5]
  init %c: float32[5]
  init %shape: int64[3]
  %p = Gemm(%a, %w, %c) #0 "gemm"
  %r = Reshape(%p, %shape) #1 "reshape"
  %y = Gelu(%r) {approximate="tanh"} #2 "gelu"
}
)";
  auto make = [&] {
    return model_from_text(text, 17, 7, [](ir::Graph& g) {
      set_init<int64_t>(g, "shape", DataType::kInt64, {3}, {2, 3, 5});
      for (ir::Node* n : g.nodes())
        if (n->op_type() == "Gelu") n->set_opset(20);
    });
  };
  auto m = make();
  EXPECT_EQ(optimized_text(*m, kAct), canonical(R"(
graph main (%a: float32[6,4]) -> (%y: float32[2,3,5]) {
  init %w: float32[4,5]
  init %c: float32[5]
  init %shape: int64[3]
  %p = kiln::FusedGemm(%a, %w, %c) {activation="GeluTanh"} #0 "gemm"
  %y = Reshape(%p, %shape) #2 "gelu"
}
)"));
  expect_same_outputs(make, kAct);

  // The reshaped product also read by another node: nothing moves.
  constexpr const char* shared = R"(
graph main (%a: float32[6,4]) -> (%y: float32[2,3,5], %z: float32[2,3,5]) {
  init %w: float32[4,5]
  init %shape: int64[3]
  %p = Gemm(%a, %w) #0 "gemm"
  %r = Reshape(%p, %shape) #1 "reshape"
  %y = Relu(%r) #2 "relu"
  %z = Neg(%r) #3 "neg"
}
)";
  m = model_from_text(shared, 17, 7, [](ir::Graph& g) {
    set_init<int64_t>(g, "shape", DataType::kInt64, {3}, {2, 3, 5});
  });
  EXPECT_EQ(optimized_text(*m, kAct), canonical(shared));
}

// Paddle writes HardSwish as x * Clip(x + 3, 0, 6) / 6; PyTorch (before opset 14) as
// x * HardSigmoid(x) with alpha 1/6. Both become one HardSwish, which then joins the conv.
TEST(PassConvActivation, RecognisesDecomposedHardSwish) {
  constexpr const char* text = R"(
graph main (%x: float32[1,3,7,7], %v: float32[2,8]) -> (%y: float32[1,4,7,7], %h: float32[2,8]) {
  init %w: float32[4,3,3,3]
  init %three: float32[]
  init %zero: float32[]
  init %six: float32[]
  init %six2: float32[]
  %c = Conv(%x, %w) {pads=[1,1,1,1]} #0 "conv"
  %a = Add(%c, %three) #1 "add3"
  %k = Clip(%a, %zero, %six) #2 "relu6"
  %p = Mul(%c, %k) #3 "mul"
  %y = Div(%p, %six2) #4 "hardswish"
  %s = HardSigmoid(%v) {alpha=0.16666667, beta=0.5} #5 "hsig"
  %h = Mul(%v, %s) #6 "hswish2"
}
)";
  auto make = [&] {
    return model_from_text(text, 12, 7, [](ir::Graph& g) {
      set_init<float>(g, "three", DataType::kFloat32, {}, {3.0f});
      set_init<float>(g, "zero", DataType::kFloat32, {}, {0.0f});
      set_init<float>(g, "six", DataType::kFloat32, {}, {6.0f});
      set_init<float>(g, "six2", DataType::kFloat32, {}, {6.0f});
    });
  };
  auto m = make();
  auto report = run_passes(*m, kAct);
  EXPECT_EQ(ir::print(*m->graph), canonical(R"(
graph main (%x: float32[1,3,7,7], %v: float32[2,8]) -> (%y: float32[1,4,7,7], %h: float32[2,8]) {
  init %w: float32[4,3,3,3]
  init %three: float32[]
  init %zero: float32[]
  init %six: float32[]
  init %six2: float32[]
  %y = kiln::FusedConv(%x, %w) {pads=[1,1,1,1], activation="HardSwish"} #4 "hardswish"
  %h = HardSwish(%v) #6 "hswish2"
}
)"));
  EXPECT_EQ(report.counts["conv_activation_fusion"]["HardSwish (decomposed)"], 2);
  EXPECT_EQ(report.counts["conv_activation_fusion"]["Conv+activation"], 1);
  // The standalone HardSwish runs at opset 14 (the model imports 12).
  for (const ir::Node* n : m->graph->nodes()) {
    if (n->op_type() == "HardSwish") {
      EXPECT_EQ(n->opset(), 14);
    }
  }
  expect_same_outputs(make, kAct);
}

// PP-OCR's block through the whole level-2 pipeline: the learnable affine before the HardSwish
// folds into the conv, the decomposed HardSwish joins it in the same round (before
// elementwise_fusion could group it with the affine after it), and that affine becomes one
// FusedElementwise.
TEST(PassConvActivation, PaddleBlockThroughTheLevel2Pipeline) {
  constexpr const char* text = R"(
graph main (%x: float32[1,3,7,7]) -> (%y: float32[1,4,7,7]) {
  init %w: float32[4,3,3,3]
  init %b: float32[4]
  init %k1: float32[1]
  init %a1: float32[1]
  init %three: float32[]
  init %zero: float32[]
  init %six: float32[]
  init %k2: float32[1]
  init %a2: float32[1]
  %c = Conv(%x, %w, %b) {pads=[1,1,1,1]} #0 "conv"
  %m1 = Mul(%k1, %c) #1 "lab_mul"
  %s1 = Add(%m1, %a1) #2 "lab_add"
  %p3 = Add(%s1, %three) #3 "add3"
  %r6 = Clip(%p3, %zero, %six) #4 "relu6"
  %xm = Mul(%s1, %r6) #5 "mul"
  %h = Div(%xm, %six) #6 "hardswish"
  %m2 = Mul(%k2, %h) #7 "lab2_mul"
  %y = Add(%m2, %a2) #8 "lab2_add"
}
)";
  auto make = [&] {
    return model_from_text(text, 12, 7, [](ir::Graph& g) {
      set_init<float>(g, "three", DataType::kFloat32, {}, {3.0f});
      set_init<float>(g, "zero", DataType::kFloat32, {}, {0.0f});
      set_init<float>(g, "six", DataType::kFloat32, {}, {6.0f});
    });
  };
  const std::vector<std::string> level2 = passes::pipeline_for(2, {});
  auto m = make();
  run_passes(*m, level2);
  EXPECT_EQ(m->graph->num_nodes(), 2u) << ir::print(*m->graph);
  EXPECT_EQ(count_ops(*m, "FusedConv"), 1) << ir::print(*m->graph);
  EXPECT_EQ(count_ops(*m, "FusedElementwise"), 1) << ir::print(*m->graph);
  expect_same_outputs(make, level2);
}

// ---- does not fire ------------------------------------------------------------------------------

TEST(PassConvActivation, KeepsConvWhoseOutputIsReadTwiceOrReturned) {
  constexpr const char* twice = R"(
graph main (%x: float32[1,3,7,7]) -> (%y: float32[1,4,7,7], %z: float32[1,4,7,7]) {
  init %w: float32[4,3,3,3]
  %c = Conv(%x, %w) {pads=[1,1,1,1]} #0 "conv"
  %y = Relu(%c) #1 "relu"
  %z = Sigmoid(%c) #2 "sig"
}
)";
  auto m = model_from_text(twice);
  EXPECT_EQ(optimized_text(*m, kAct), canonical(twice));

  // SiLU whose input is also read by a third node.
  constexpr const char* silu = R"(
graph main (%x: float32[1,3,7,7]) -> (%y: float32[1,4,7,7], %z: float32[1,4,7,7]) {
  init %w: float32[4,3,3,3]
  %c = Conv(%x, %w) {pads=[1,1,1,1]} #0 "conv"
  %s = Sigmoid(%c) #1 "sig"
  %y = Mul(%c, %s) #2 "silu"
  %z = Neg(%c) #3 "other"
}
)";
  m = model_from_text(silu);
  EXPECT_EQ(optimized_text(*m, kAct), canonical(silu));

  constexpr const char* returned = R"(
graph main (%x: float32[1,3,7,7]) -> (%y: float32[1,4,7,7], %c: float32[1,4,7,7]) {
  init %w: float32[4,3,3,3]
  %c = Conv(%x, %w) {pads=[1,1,1,1]} #0 "conv"
  %y = Relu(%c) #1 "relu"
}
)";
  m = model_from_text(returned);
  EXPECT_EQ(optimized_text(*m, kAct), canonical(returned));
}

// The dtype rule: the fused products take floats only; integer Gemm/MatMul keep their Relu.
TEST(PassConvActivation, KeepsIntegerProducts) {
  constexpr const char* text = R"(
graph main (%a: int32[3,5], %b: int32[5,4], %m: int64[2,3], %n: int64[3,2]) -> (%y: int32[3,4], %z: int64[2,2]) {
  %p = Gemm(%a, %b) #0 "gemm"
  %y = Relu(%p) #1 "r1"
  %q = MatMul(%m, %n) #2 "mm"
  %z = Relu(%q) #3 "r2"
}
)";
  auto m = model_from_text(text);
  EXPECT_EQ(optimized_text(*m, kAct), canonical(text));
}

// A float64 conv fuses (FusedConv takes float16/32/64) — unless a Clip bound is not exactly a
// float, which the float activation_params could not carry.
TEST(PassConvActivation, Float64ConvFusesUnlessAParameterIsNotAFloat) {
  constexpr const char* text = R"(
graph main (%x: float64[1,2,4,4]) -> (%y: float64[1,2,4,4]) {
  init %w: float64[2,2,1,1]
  init %hi: float64[]
  %c = Conv(%x, %w) #0 "conv"
  %y = Clip(%c, _, %hi) #1 "clip"
}
)";
  auto make = [&](double hi) {
    return model_from_text(text, 17, 7, [hi](ir::Graph& g) {
      set_init<double>(g, "hi", DataType::kFloat64, {}, {hi});
    });
  };
  auto m = make(0.5);
  EXPECT_EQ(optimized_text(*m, kAct), canonical(R"(
graph main (%x: float64[1,2,4,4]) -> (%y: float64[1,2,4,4]) {
  init %w: float64[2,2,1,1]
  init %hi: float64[]
  %y = kiln::FusedConv(%x, %w) {activation="Clip", activation_params=[-inf,0.5]} #1 "clip"
}
)"));
  expect_same_outputs([&] { return make(0.5); }, kAct);
  m = make(0.1);
  EXPECT_EQ(optimized_text(*m, kAct), canonical(text));
}

TEST(PassConvActivation, KeepsResidualsThatBroadcastOrAreConstant) {
  constexpr const char* broadcast = R"(
graph main (%x: float32[1,4,5,5], %r: float32[1,4,1,5]) -> (%y: float32[1,4,5,5]) {
  init %w: float32[4,4,1,1]
  %c = Conv(%x, %w) #0 "conv"
  %y = Add(%c, %r) #1 "add"
}
)";
  auto m = model_from_text(broadcast);
  EXPECT_EQ(optimized_text(*m, kAct), canonical(broadcast));

  constexpr const char* constant = R"(
graph main (%x: float32[1,4,5,5]) -> (%y: float32[1,4,5,5]) {
  init %w: float32[4,4,1,1]
  init %r: float32[1,4,5,5]
  %c = Conv(%x, %w) #0 "conv"
  %y = Add(%c, %r) #1 "add"
}
)";
  m = model_from_text(constant);
  EXPECT_EQ(optimized_text(*m, kAct), canonical(constant));

  // An activated FusedConv cannot take a residual: act(conv) + z is not act(conv + z).
  constexpr const char* after_act = R"(
graph main (%x: float32[1,4,5,5]) -> (%y: float32[1,4,5,5]) {
  init %w: float32[4,4,1,1]
  %c = Conv(%x, %w) #0 "conv"
  %r = Relu(%c) #1 "relu"
  %y = Add(%r, %x) #2 "add"
}
)";
  m = model_from_text(after_act);
  EXPECT_EQ(optimized_text(*m, kAct), canonical(R"(
graph main (%x: float32[1,4,5,5]) -> (%y: float32[1,4,5,5]) {
  init %w: float32[4,4,1,1]
  %r = kiln::FusedConv(%x, %w) {activation="Relu"} #1 "relu"
  %y = Add(%r, %x) #2 "add"
}
)"));
}

TEST(PassConvActivation, KeepsClipWithComputedBounds) {
  constexpr const char* text = R"(
graph main (%x: float32[1,3,7,7], %hi: float32[]) -> (%y: float32[1,4,7,7]) {
  init %w: float32[4,3,3,3]
  %c = Conv(%x, %w) {pads=[1,1,1,1]} #0 "conv"
  %y = Clip(%c, _, %hi) #1 "clip"
}
)";
  auto m = model_from_text(text);
  EXPECT_EQ(optimized_text(*m, kAct), canonical(text));
}

}  // namespace
}  // namespace kiln::test
