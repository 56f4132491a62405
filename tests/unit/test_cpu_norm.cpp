// cpu.layernorm and cpu.softmax against the reference kernels.
//
// Tolerances (relative to max(1, |want|)): LayerNorm 2e-6 (float output pass after double
// statistics: a few roundings), Softmax/LogSoftmax 2e-6 (exp_f is ~1 ulp, plus the float sum).
#include <gtest/gtest.h>

#include <limits>

#include "backends/cpu/cpu_tactics.h"
#include "unit/cpu_test_data.h"

namespace kiln::test {
namespace {

constexpr double kNormTol = 2e-6;
const backends::Tactic& layernorm() {
  return backends::cpu_layernorm_tactic();
}
const backends::Tactic& softmax() {
  return backends::cpu_softmax_tactic();
}

NodeCase ln_case(Tensor x, Tensor scale, Tensor bias, int64_t axis, float eps = 1e-5f) {
  NodeCase c{"LayerNormalization", "", 17};
  c.inputs = {std::move(x), std::move(scale), std::move(bias)};
  c.attrs = std::move(Attrs().i("axis", axis).f("epsilon", eps).list);
  return c;
}

TEST(CpuLayerNorm, MatchesReferenceOverShapes) {
  ErrorStats worst;
  struct Case {
    Shape x;
    int64_t axis;
  };
  for (const Case& k : std::vector<Case>{{{1, 7}, -1},
                                         {{13, 127}, -1},
                                         {{5, 1}, -1},
                                         {{2, 3, 13}, 1},
                                         {{4, 2, 3}, 0},
                                         {{64, 768}, -1},
                                         {{3, 17, 33}, -1}}) {
    const int64_t axis = k.axis < 0 ? static_cast<int64_t>(k.x.size()) + k.axis : k.axis;
    const Shape norm(k.x.begin() + axis, k.x.end());
    for (bool with_bias : {true, false}) {
      for (int threads : {1, 2}) {
        NodeCase c = ln_case(rand_f32(k.x, -4, 4, 3), rand_f32(norm, 0.5f, 2, 4),
                             with_bias ? rand_f32(norm, -1, 1, 5) : none(), k.axis);
        SCOPED_TRACE(Dims::of(k.x).to_string() + " axis " + std::to_string(k.axis));
        const ErrorStats st =
            expect_tactic_matches(layernorm(), std::move(c), kNormTol, {threads, -1, {}});
        worst.max_abs = std::max(worst.max_abs, st.max_abs);
        worst.max_rel = std::max(worst.max_rel, st.max_rel);
        worst.compared += st.compared;
      }
    }
  }
  print_stats("LayerNorm shapes", worst);
}

TEST(CpuLayerNorm, BroadcastScaleAndBias) {
  // One value for the whole row.
  expect_tactic_matches(
      layernorm(), ln_case(rand_f32({6, 13}), f32({1}, {1.5f}), f32({}, {0.25f}), -1), kNormTol);
  // [13] and [1, 13] against normalized [3, 13]: real broadcasts, left to the reference kernel.
  expect_tactic_matches(layernorm(), ln_case(rand_f32({2, 3, 13}), rand_f32({13}), none(), 1),
                        kNormTol);
  expect_tactic_matches(layernorm(),
                        ln_case(rand_f32({2, 3, 13}), rand_f32({3, 13}), rand_f32({1, 13}), 1),
                        kNormTol);
}

TEST(CpuLayerNorm, HardValues) {
  // Rows far from zero (the mean dwarfs the spread), constant rows, a NaN row, big epsilon.
  std::vector<float> v = uniform(4 * 50, -0.01f, 0.01f, 7);
  for (int i = 0; i < 50; ++i) v[i] += 1000.0f;
  for (int i = 50; i < 100; ++i) v[i] = 0.1f;
  v[120] = std::numeric_limits<float>::quiet_NaN();
  for (int i = 150; i < 200; ++i) v[i] *= 1e5f;
  const ErrorStats st = expect_tactic_matches(
      layernorm(), ln_case(f32({4, 50}, v), rand_f32({50}, 0.5f, 2), rand_f32({50}), -1), kNormTol);
  print_stats("LayerNorm hard values", st);
  expect_tactic_matches(
      layernorm(), ln_case(rand_f32({3, 9}), rand_f32({9}), rand_f32({9}), -1, 0.5f), kNormTol);
}

TEST(CpuLayerNorm, MeanAndInvStdDevOutputs) {
  for (const std::vector<size_t>& skip : {std::vector<size_t>{}, {1}, {2}}) {
    NodeCase c = ln_case(rand_f32({2, 5, 40}), rand_f32({40}), rand_f32({40}), -1);
    c.outputs = 3;
    c.skip = skip;
    expect_tactic_matches(layernorm(), std::move(c), kNormTol);
  }
}

TEST(CpuLayerNorm, Deterministic) {
  expect_deterministic(layernorm(), ln_case(rand_f32({97, 129}), rand_f32({129}), none(), -1));
}

TEST(CpuLayerNorm, DeclinesWhatItDoesNotImplement) {
  EXPECT_FALSE(TacticHarness(ln_case(make_from_doubles(D::kFloat64, {2, 3}, {1, 2, 3, 4, 5, 6}),
                                     make_from_doubles(D::kFloat64, {3}, {1, 1, 1}), none(), -1))
                   .supports(layernorm()));
  EXPECT_FALSE(TacticHarness(ln_case(f16({1, 2}, {1, 2}), f16({2}, {1, 1}), none(), -1))
                   .supports(layernorm()));
  // Statistics wanted in bfloat16 (stash_type 16).
  NodeCase c = ln_case(rand_f32({2, 4}), rand_f32({4}), none(), -1);
  c.attrs.push_back(ir::Attribute::make_int("stash_type", 16));
  c.outputs = 2;
  EXPECT_FALSE(TacticHarness(std::move(c)).supports(layernorm()));
  // Not asked for: stash_type does not matter.
  NodeCase d = ln_case(rand_f32({2, 4}), rand_f32({4}), none(), -1);
  d.attrs.push_back(ir::Attribute::make_int("stash_type", 16));
  EXPECT_TRUE(TacticHarness(std::move(d)).supports(layernorm()));
  // Other ops.
  NodeCase e{"Softmax", "", 13};
  e.inputs = {rand_f32({2, 4})};
  EXPECT_FALSE(TacticHarness(std::move(e)).supports(layernorm()));
}

NodeCase sm_case(const char* op, Tensor x, int64_t axis, int64_t opset = 13) {
  NodeCase c{op, "", opset};
  c.inputs = {std::move(x)};
  c.attrs = std::move(Attrs().i("axis", axis).list);
  return c;
}

// Softmax-1/11 coerce the input to 2-D at the axis: one row is everything from the axis on.
TEST(CpuSoftmax, LegacyOpsetsSoftmaxOverTheFlattenedTail) {
  for (int64_t opset : {1, 11})
    for (const char* op : {"Softmax", "LogSoftmax"})
      for (int64_t axis : {0, 1, 2, -1}) {
        SCOPED_TRACE(std::string(op) + "-" + std::to_string(opset) + " axis " + std::to_string(axis));
        expect_tactic_matches(softmax(), sm_case(op, rand_f32({3, 7, 13}, -10, 10, 5), axis, opset),
                              kNormTol, {2, -1, {}});
      }
}

TEST(CpuSoftmax, MatchesReferenceOverShapesAndAxes) {
  ErrorStats worst;
  struct Case {
    Shape x;
    int64_t axis;
  };
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    for (const Case& k : std::vector<Case>{{{1}, 0},
                                           {{1, 7}, -1},
                                           {{13, 127}, -1},
                                           {{4, 1}, 1},
                                           {{3, 7, 13}, 0},
                                           {{3, 7, 13}, 1},
                                           {{2, 5, 300}, 1},
                                           {{2, 12, 16, 128}, -1}}) {
      for (int threads : {1, 2}) {
        SCOPED_TRACE(std::string(op) + " " + Dims::of(k.x).to_string() + " axis " +
                     std::to_string(k.axis));
        const ErrorStats st = expect_tactic_matches(
            softmax(), sm_case(op, rand_f32(k.x, -10, 10, 11), k.axis), kNormTol, {threads, -1, {}});
        worst.max_abs = std::max(worst.max_abs, st.max_abs);
        worst.max_rel = std::max(worst.max_rel, st.max_rel);
        worst.compared += st.compared;
      }
    }
  }
  print_stats("Softmax/LogSoftmax shapes", worst);
}

TEST(CpuSoftmax, HardValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Rows: huge spread (exp underflow), -inf entries, very negative, a NaN, all -inf, +inf.
  std::vector<float> v = uniform(6 * 19, -90, 90, 13);
  v[19 + 3] = -inf;
  v[19 + 10] = -inf;
  for (int i = 38; i < 57; ++i) v[i] = i == 40 ? 0.0f : -1e30f;
  v[57 + 5] = nan;
  for (int i = 76; i < 95; ++i) v[i] = -inf;
  v[95 + 18] = inf;
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    for (int64_t axis : {1, 0, {}}) {
      SCOPED_TRACE(std::string(op) + " axis " + std::to_string(axis));
      const ErrorStats st =
          expect_tactic_matches(softmax(), sm_case(op, f32({6, 19}, v), axis), kNormTol);
      print_stats(std::string(op) + " hard values", st);
    }
  }
}

TEST(CpuSoftmax, Deterministic) {
  expect_deterministic(softmax(), sm_case("Softmax", rand_f32({300, 77}), -1));
  expect_deterministic(softmax(), sm_case("LogSoftmax", rand_f32({40, 30, 70}), 1));
}

TEST(CpuSoftmax, DeclinesWhatItDoesNotImplement) {
  EXPECT_FALSE(TacticHarness(sm_case("Hardmax", rand_f32({2, 3}), 1)).supports(softmax()));
  EXPECT_FALSE(TacticHarness(sm_case("Softmax", make_from_doubles(D::kFloat64, {2}, {1, 2}), 0))
                   .supports(softmax()));
  EXPECT_TRUE(TacticHarness(sm_case("LogSoftmax", rand_f32({2, 3}), 0)).supports(softmax()));
}

}  // namespace
}  // namespace kiln::test
