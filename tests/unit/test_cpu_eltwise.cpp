// cpu.eltwise (standalone elementwise ops and kiln.FusedElementwise bodies) against the
// reference kernels.
//
// Tolerances (relative to max(1, |want|)): 1e-6 for arithmetic, min/max, clip, relu-like ops
// and Pow (all exact or one rounding); 2e-6 for ops through vec_math's exp/tanh/erf (Exp,
// Sigmoid, Tanh, Erf, Gelu and bodies containing them).
#include <gtest/gtest.h>

#include <limits>

#include "backends/cpu/cpu_tactics.h"
#include "unit/cpu_test_data.h"

namespace kiln::test {
namespace {

constexpr double kExact = 1e-6;
constexpr double kTransc = 2e-6;
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

const backends::Tactic& eltwise() {
  return backends::cpu_eltwise_tactic();
}

NodeCase op_case(const std::string& op, std::vector<Tensor> inputs, int64_t opset = 17,
                 std::vector<size_t> constants = {}, std::vector<ir::Attribute> attrs = {}) {
  NodeCase c(op, "", opset);
  c.inputs = std::move(inputs);
  c.constants = std::move(constants);
  c.attrs = std::move(attrs);
  return c;
}

// One op of a FusedElementwise body: operands 0..inputs-1 are the body inputs, inputs + k the
// result of op k. The last op is the body's output.
struct BodyOp {
  std::string op;
  std::vector<int> in;
  int64_t opset = 17;
  std::vector<std::pair<std::string, float>> float_attrs = {};
  std::string approximate = {};
};

NodeCase fused_case(std::vector<Tensor> inputs, const std::vector<BodyOp>& ops,
                    std::vector<size_t> constants = {}) {
  auto body = std::make_unique<ir::Graph>("body");
  std::vector<ir::Value*> vals;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ir::ValueType t;
    t.dtype = inputs[i].dtype();
    t.shape = Dims::of(inputs[i].shape());
    vals.push_back(body->add_input("b" + std::to_string(i), t).value());
  }
  for (size_t k = 0; k < ops.size(); ++k) {
    ir::ValueType t;
    t.dtype = DataType::kFloat32;
    ir::Value* out = body->add_value("t" + std::to_string(k), t).value();
    std::vector<ir::Value*> ins;
    for (int i : ops[k].in) ins.push_back(i < 0 ? nullptr : vals[static_cast<size_t>(i)]);
    std::vector<ir::Attribute> attrs;
    for (const auto& [name, v] : ops[k].float_attrs)
      attrs.push_back(ir::Attribute::make_float(name, v));
    if (!ops[k].approximate.empty())
      attrs.push_back(ir::Attribute::make_string("approximate", ops[k].approximate));
    body->add_node(ops[k].op, "", ops[k].op + std::to_string(k), ins, {out}, std::move(attrs),
                   ops[k].opset, static_cast<int64_t>(k));
    vals.push_back(out);
  }
  body->add_output(vals.back());
  NodeCase c("FusedElementwise", std::string(ops::kKilnDomain), ops::kKilnOpset);
  c.inputs = std::move(inputs);
  c.constants = std::move(constants);
  ir::Attribute a;
  a.name = "body";
  a.type = ir::AttrType::kGraph;
  a.g = std::move(body);
  c.attrs.push_back(std::move(a));
  return c;
}

// Values with the awkward ones mixed in: zeros of both signs, +-inf, NaN, big magnitudes.
Tensor spiky(Shape s, float lo, float hi, uint64_t seed) {
  std::vector<float> v = uniform(numel_of(s), lo, hi, seed);
  const float specials[] = {0.0f, -0.0f, kInf, -kInf, kNaN, 1e30f, -1e30f, 1e-30f};
  for (size_t i = 0; i < v.size(); i += 11) v[i] = specials[(i / 11) % 8];
  return f32(std::move(s), v);
}

struct BinaryShapes {
  Shape a, b;
};
const std::vector<BinaryShapes> kBroadcasts = {
    {{1}, {1}},                        // one element
    {{7}, {7}},                        // odd length
    {{13, 127}, {13, 127}},            // same shape
    {{2, 3, 5}, {}},                   // scalar on the right
    {{}, {2, 3, 5}},                   // scalar on the left
    {{2, 3, 5, 7}, {3, 1, 1}},         // per channel against NCHW
    {{4, 13}, {13}},                   // trailing bias
    {{1, 5, 7}, {3, 5, 7}},            // leading broadcast
    {{3, 1}, {1, 4}},                  // both sides broadcast
    {{3, 1030}, {1030}},               // rows longer than a chunk
    {{2, 1, 9, 1}, {1, 6, 1, 5}},      // interleaved broadcast dims
    {{2, 16, 40, 40}, {1, 16, 1, 1}},  // enough work for two threads
};

TEST(CpuEltwise, BinaryOpsOverBroadcasts) {
  ErrorStats worst;
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Max", "Min"}) {
    for (const BinaryShapes& s : kBroadcasts) {
      for (int threads : {1, 2}) {
        SCOPED_TRACE(std::string(op) + " " + Dims::of(s.a).to_string() + " " +
                     Dims::of(s.b).to_string() + " threads " + std::to_string(threads));
        const ErrorStats st = expect_tactic_matches(
            eltwise(), op_case(op, {spiky(s.a, -5, 5, 1), spiky(s.b, -5, 5, 2)}), kExact,
            {threads, -1, {}});
        worst.max_abs = std::max(worst.max_abs, st.max_abs);
        worst.max_rel = std::max(worst.max_rel, st.max_rel);
        worst.compared += st.compared;
      }
    }
  }
  print_stats("binary ops", worst);
}

TEST(CpuEltwise, UnaryOps) {
  struct Unary {
    const char* op;
    int64_t opset;
    double tol;
    std::vector<ir::Attribute> (*attrs)();
  };
  auto none_attrs = +[]() { return std::vector<ir::Attribute>{}; };
  const std::vector<Unary> ops = {
      {"Relu", 14, kExact, none_attrs},
      {"Neg", 13, kExact, none_attrs},
      {"Abs", 13, kExact, none_attrs},
      {"Sqrt", 13, kExact, none_attrs},
      {"Exp", 13, kTransc, none_attrs},
      {"Sigmoid", 13, kTransc, none_attrs},
      {"Tanh", 13, kTransc, none_attrs},
      {"Erf", 13, kTransc, none_attrs},
      {"HardSwish", 14, kExact, none_attrs},
      {"HardSigmoid", 6, kExact, none_attrs},
      {"HardSigmoid", 6, kExact,
       +[]() { return std::move(Attrs().f("alpha", 0.3f).f("beta", 0.4f).list); }},
      {"LeakyRelu", 16, kExact, none_attrs},
      {"LeakyRelu", 16, kExact, +[]() { return std::move(Attrs().f("alpha", 0.25f).list); }},
      {"Gelu", 20, kTransc, none_attrs},
      {"Gelu", 20, kTransc, +[]() { return std::move(Attrs().s("approximate", "tanh").list); }},
  };
  for (const Unary& u : ops) {
    ErrorStats worst;
    for (const Shape& s : std::vector<Shape>{{1}, {7}, {13}, {127}, {3, 1030}, {4, 64, 64}}) {
      for (auto [lo, hi] : {std::pair{-6.0f, 6.0f}, std::pair{-110.0f, 90.0f}}) {
        SCOPED_TRACE(std::string(u.op) + " " + Dims::of(s).to_string());
        const ErrorStats st = expect_tactic_matches(
            eltwise(), op_case(u.op, {spiky(s, lo, hi, 5)}, u.opset, {}, u.attrs()), u.tol,
            {2, -1, {}});
        worst.max_abs = std::max(worst.max_abs, st.max_abs);
        worst.max_rel = std::max(worst.max_rel, st.max_rel);
        worst.compared += st.compared;
      }
    }
    print_stats(u.op, worst);
  }
}

TEST(CpuEltwise, ClipBoundsFromInputsAndAttributes) {
  for (const auto& [lo, hi] :
       {std::pair{f32({}, {-1.5f}), f32({}, {2.0f})}, std::pair{none(), f32({1}, {0.5f})},
        std::pair{f32({}, {-0.25f}), none()},
        std::pair{f32({}, {3.0f}), f32({}, {1.0f})}}) {  // lo > hi
    std::vector<size_t> constants;
    if (!lo.empty()) constants.push_back(1);
    if (!hi.empty()) constants.push_back(2);
    expect_tactic_matches(
        eltwise(), op_case("Clip", {spiky({5, 33}, -4, 4, 7), lo, hi}, 13, constants), kExact);
  }
  expect_tactic_matches(eltwise(),
                        op_case("Clip", {spiky({5, 33}, -9, 9, 8)}, 6, {},
                                std::move(Attrs().f("min", 0).f("max", 6).list)),
                        kExact);
}

TEST(CpuEltwise, PowWithConstantExponent) {
  const float inf = kInf;
  Tensor base =
      f32({12}, {-2.5f, -0.0f, 0.0f, 1e-20f, 3.0f, -inf, inf, kNaN, 1e20f, -7.0f, 0.5f, 2.0f});
  for (float e : {2.0f, 0.5f, 3.0f}) {
    SCOPED_TRACE(e);
    expect_tactic_matches(eltwise(), op_case("Pow", {base, f32({}, {e})}, 15, {1}), kExact);
    expect_tactic_matches(
        eltwise(), op_case("Pow", {spiky({9, 13}, -30, 30, 9), f32({1, 1}, {e})}, 15, {1}), kExact);
  }
  expect_tactic_matches(eltwise(), op_case("Pow", {base, i64({}, {3})}, 15, {1}), kExact);
}

TEST(CpuEltwise, FusedBodies) {
  const int c1 = 1, c2 = 2, c3 = 3;  // the constant inputs
  // Erf-form GELU as exporters spell it: Mul(Mul(x, Add(Erf(Div(x, sqrt2)), 1)), 0.5).
  expect_tactic_matches(
      eltwise(),
      fused_case(
          {spiky({4, 37}, -8, 8, 21), f32({}, {1.41421356f}), f32({}, {1.0f}), f32({}, {0.5f})},
          {{"Div", {0, c1}}, {"Erf", {4}}, {"Add", {5, c2}}, {"Mul", {0, 6}}, {"Mul", {7, c3}}},
          {1, 2, 3}),
      kTransc);
  // Bias per channel + Relu over NCHW; Swish; bias + HardSwish.
  expect_tactic_matches(eltwise(),
                        fused_case({spiky({2, 3, 5, 7}, -4, 4, 22), rand_f32({3, 1, 1}, -1, 1, 23)},
                                   {{"Add", {0, 1}}, {"Relu", {2}}}),
                        kExact);
  expect_tactic_matches(
      eltwise(), fused_case({spiky({3, 129}, -20, 20, 24)}, {{"Sigmoid", {0}}, {"Mul", {0, 1}}}),
      kTransc);
  expect_tactic_matches(
      eltwise(),
      fused_case({spiky({1, 8, 20, 20}, -8, 8, 25), rand_f32({8, 1, 1}, -1, 1, 26)},
                 {{"Add", {0, 1}}, {"HardSwish", {2}, 14}}),
      kExact);
  // Pieces of a decomposed LayerNorm: (x - mean)^2 with the exponent an initializer, then sqrt.
  expect_tactic_matches(
      eltwise(),
      fused_case({rand_f32({6, 50}, -3, 3, 27), rand_f32({6, 1}, -1, 1, 28), f32({}, {2.0f}),
                  f32({}, {1e-5f})},
                 {{"Sub", {0, 1}}, {"Pow", {4, 2}, 15}, {"Add", {5, 3}}, {"Sqrt", {6}}}, {2, 3}),
      kExact);
  // Clip inside a body, bounds as body inputs; leading broadcast and a scalar.
  expect_tactic_matches(
      eltwise(),
      fused_case({spiky({3, 5, 7}, -4, 4, 29), rand_f32({1, 5, 7}, -1, 1, 30), f32({}, {0.0f}),
                  f32({}, {6.0f})},
                 {{"Add", {0, 1}}, {"Clip", {4, 2, 3}, 13}, {"Mul", {5, 1}}}, {2, 3}),
      kExact);
  // The output's shape comes from the smaller input broadcast against the bigger one.
  expect_tactic_matches(eltwise(),
                        fused_case({rand_f32({5, 1}, -2, 2, 31), rand_f32({1, 6}, -2, 2, 32)},
                                   {{"Mul", {0, 1}}, {"Tanh", {2}}, {"Max", {3, 1}, 13}}),
                        kTransc);
}

TEST(CpuEltwise, InPlaceOverAnInput) {
  NodeCase a = op_case("Add", {rand_f32({3, 1030}, -2, 2, 41), rand_f32({1030}, -2, 2, 42)});
  {
    TacticHarness h(op_case("Add", {rand_f32({3, 1030}), rand_f32({1030})}));
    EXPECT_TRUE(eltwise().allows_inplace(h.node(), h.schema(), 0));
    EXPECT_FALSE(eltwise().allows_inplace(h.node(), h.schema(), 1));
  }
  expect_tactic_matches(eltwise(), std::move(a), kExact, {2, 0, {}});
  // A body reading its input twice, in place over it.
  expect_tactic_matches(eltwise(),
                        fused_case({spiky({4, 700}, -5, 5, 43), rand_f32({4, 1}, -1, 1, 44)},
                                   {{"Mul", {0, 1}}, {"Sigmoid", {2}}, {"Mul", {0, 3}}}),
                        kTransc, {2, 0, {}});
}

TEST(CpuEltwise, Deterministic) {
  expect_deterministic(eltwise(), fused_case({rand_f32({2, 16, 40, 40}), rand_f32({16, 1, 1})},
                                             {{"Add", {0, 1}}, {"Gelu", {2}, 20}}));
}

TEST(CpuEltwise, DeclinesWhatItDoesNotImplement) {
  auto declines = [](NodeCase c) { return !TacticHarness(std::move(c)).supports(eltwise()); };
  EXPECT_TRUE(declines(op_case("Add", {make_from_doubles(D::kFloat64, {2}, {1, 2}),
                                       make_from_doubles(D::kFloat64, {2}, {1, 2})})));
  EXPECT_TRUE(declines(op_case("Add", {i32({2}, {1, 2}), i32({2}, {1, 2})})));
  EXPECT_TRUE(declines(op_case("Add", {rand_f32({2}), rand_f32({2})}, 6)));  // legacy broadcast
  EXPECT_TRUE(declines(op_case("Max", {rand_f32({2}), rand_f32({2}), rand_f32({2})}, 13)));
  EXPECT_TRUE(declines(op_case("Pow", {rand_f32({2}), f32({}, {4.0f})}, 15, {1})));
  EXPECT_TRUE(declines(op_case("Pow", {rand_f32({2}), f32({}, {2.0f})}, 15)));  // not constant
  EXPECT_TRUE(declines(op_case("Floor", {rand_f32({2})}, 13)));
  EXPECT_TRUE(
      declines(fused_case({rand_f32({2}), rand_f32({2})}, {{"Add", {0, 1}}, {"Floor", {2}, 13}})));
  EXPECT_TRUE(declines(op_case("Clip", {rand_f32({2})}, 1)));
  EXPECT_FALSE(declines(op_case("Pow", {rand_f32({2}), f32({}, {0.5f})}, 15, {1})));
  EXPECT_FALSE(
      declines(fused_case({rand_f32({2}), rand_f32({2})}, {{"Add", {0, 1}}, {"Exp", {2}, 13}})));
}

}  // namespace
}  // namespace kiln::test
