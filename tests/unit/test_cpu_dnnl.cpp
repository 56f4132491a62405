// cpu.dnnl.conv, cpu.dnnl.matmul, cpu.dnnl.pool, cpu.attention and cpu.transpose against the
// reference kernels, over odd sizes (1, 7, 13, 127), every layout and fused epilogue they
// accept, and every oneDNN implementation the autotuner could pick (each variant is run).
//
// Tolerance: 2e-5 relative to max(1, |want|) for products (oneDNN sums in another order and
// with FMA; operands are in [-1, 1] and reductions up to ~1000 terms), exact for movement.
#include <gtest/gtest.h>

#include <algorithm>

#include "backends/cpu/cpu_tactics.h"
#include "ops/layout_util.h"
#include "unit/cpu_test_data.h"

namespace kiln::test {
namespace {

constexpr double kProductTol = 2e-5;

const backends::Tactic& conv() {
  return backends::cpu_dnnl_conv_tactic();
}
const backends::Tactic& matmul() {
  return backends::cpu_dnnl_matmul_tactic();
}
const backends::Tactic& pool() {
  return backends::cpu_dnnl_pool_tactic();
}
const backends::Tactic& attention() {
  return backends::cpu_attention_tactic();
}
const backends::Tactic& transpose() {
  return backends::cpu_transpose_tactic();
}

Tensor none() {
  return Tensor();
}

// Runs every variant the tactic offers for the case (at least one).
template <typename MakeCase>
void expect_all_variants_match(const backends::Tactic& t, MakeCase make, double tol,
                               int inplace = -1) {
  std::vector<backends::Tactic::Variant> vs;
  {
    TacticHarness h(make());
    ASSERT_TRUE(h.valid());
    ASSERT_TRUE(h.supports(t)) << t.name() << " declines the case";
    vs = t.variants(h.node(), h.schema());
  }
  ASSERT_FALSE(vs.empty());
  for (const backends::Tactic::Variant& v : vs)
    for (int threads : {1, 2}) {
      SCOPED_TRACE(std::string(t.name()) + " variant '" + v.label + "' threads " +
                   std::to_string(threads));
      expect_tactic_matches(t, make(), tol, {threads, inplace, v.params});
    }
}

struct ConvCase {
  Shape x, w;
  int64_t group = 1;
  std::vector<int64_t> strides, pads, dilations;
  bool bias = true;
};

ConvCase cc(Shape x, Shape w, int64_t group = 1, std::vector<int64_t> strides = {},
            std::vector<int64_t> pads = {}, std::vector<int64_t> dilations = {}, bool bias = true) {
  return ConvCase{std::move(x),    std::move(w),         group, std::move(strides),
                  std::move(pads), std::move(dilations), bias};
}

NodeCase conv_case(const ConvCase& k, uint64_t seed) {
  NodeCase c{"Conv", "", 11};
  c.inputs = {rand_f32(k.x, -1, 1, seed), rand_f32(k.w, -1, 1, seed + 1),
              k.bias ? rand_f32({k.w[0]}, -1, 1, seed + 2) : none()};
  c.constants = {1, 2};
  c.attrs.push_back(ir::Attribute::make_int("group", k.group));
  if (!k.strides.empty()) c.attrs.push_back(ir::Attribute::make_ints("strides", k.strides));
  if (!k.pads.empty()) c.attrs.push_back(ir::Attribute::make_ints("pads", k.pads));
  if (!k.dilations.empty()) c.attrs.push_back(ir::Attribute::make_ints("dilations", k.dilations));
  return c;
}

TEST(CpuDnnlConv, MatchesReferenceOverShapesGroupsStridesAndEveryImplementation) {
  const std::vector<ConvCase> cases = {
      cc({1, 1, 7, 7}, {1, 1, 1, 1}),                                         // 1x1, one channel
      cc({1, 7, 13, 13}, {13, 7, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}),             // odd channels
      cc({2, 13, 7, 13}, {7, 13, 3, 3}, 1, {2, 2}, {1, 0, 1, 2}, {}, false),  // uneven pads
      cc({1, 16, 13, 13}, {16, 1, 3, 3}, 16, {1, 1}, {1, 1, 1, 1}),           // depthwise
      cc({1, 8, 7, 7}, {6, 4, 3, 3}, 2, {1, 1}, {2, 2, 2, 2}, {2, 2}),        // grouped, dilated
      cc({1, 3, 127, 13}, {7, 3, 7, 3}, 1, {2, 1}, {3, 1, 3, 1}),             // 7x3 kernel
      cc({2, 13, 127}, {7, 13, 5}, 1, {1}, {2, 2}),                           // 1-D
  };
  uint64_t seed = 10;
  for (const ConvCase& k : cases) {
    SCOPED_TRACE("X " + Dims::of(k.x).to_string() + " W " + Dims::of(k.w).to_string());
    expect_all_variants_match(
        conv(), [&] { return conv_case(k, seed); }, kProductTol);
    seed += 3;
  }
}

// FusedConv: residual + activation as post-ops, channels-first and channels-last.
NodeCase fused_conv_case(bool channels_last, const std::string& act, std::vector<float> params,
                         bool residual, uint64_t seed) {
  const Shape nchw = {2, 13, 7, 7}, wshape = {7, 13, 3, 3}, ynchw = {2, 7, 7, 7};
  Tensor x = rand_f32(nchw, -1, 1, seed);
  Tensor z = rand_f32(ynchw, -1, 1, seed + 3);
  if (channels_last) {
    x = ops::layout::permuted(x, {0, 2, 3, 1}).value();
    z = ops::layout::permuted(z, {0, 2, 3, 1}).value();
  }
  NodeCase c{"FusedConv", "kiln", 1};
  c.inputs = {x, rand_f32(wshape, -1, 1, seed + 1), rand_f32({7}, -1, 1, seed + 2),
              residual ? z : none()};
  c.constants = {1, 2};
  c.attrs.push_back(ir::Attribute::make_ints("pads", {1, 1, 1, 1}));
  c.attrs.push_back(ir::Attribute::make_string("activation", act));
  if (!params.empty()) c.attrs.push_back(ir::Attribute::make_floats("activation_params", params));
  if (channels_last) c.attrs.push_back(ir::Attribute::make_int("channels_last", 1));
  return c;
}

TEST(CpuDnnlConv, FusedResidualAndActivationsInBothLayouts) {
  struct Act {
    std::string name;
    std::vector<float> params;
  };
  const std::vector<Act> acts = {{"", {}},
                                 {"Relu", {}},
                                 {"Clip", {0.f, 6.f}},
                                 {"Sigmoid", {}},
                                 {"HardSigmoid", {0.2f, 0.5f}},
                                 {"HardSwish", {}},
                                 {"LeakyRelu", {0.1f}},
                                 {"Silu", {}},
                                 {"Tanh", {}},
                                 {"Gelu", {}},
                                 {"GeluTanh", {}}};
  uint64_t seed = 100;
  for (bool last : {false, true})
    for (bool residual : {false, true})
      for (const Act& a : acts) {
        SCOPED_TRACE(std::string(last ? "NHWC" : "NCHW") + (residual ? " +Z " : " ") + a.name);
        expect_tactic_matches(conv(), fused_conv_case(last, a.name, a.params, residual, seed),
                              kProductTol);
        ++seed;
      }
}

// Winograd F(2,3) (the "wino" variant, blocked activations reordered in and out) trades a
// little accuracy: its transforms round differently (tolerance 1e-4 on |values| <= 1 with
// 576-term sums).
TEST(CpuDnnlConv, WinogradVariantWithResidualAndActivationInNhwc) {
  auto make = [] {
    NodeCase c{"FusedConv", "kiln", 1};
    Tensor x = ops::layout::permuted(rand_f32({2, 64, 13, 13}, -1, 1, 31), {0, 2, 3, 1}).value();
    Tensor z = ops::layout::permuted(rand_f32({2, 32, 13, 13}, -1, 1, 32), {0, 2, 3, 1}).value();
    c.inputs = {x, rand_f32({32, 64, 3, 3}, -1, 1, 33), rand_f32({32}, -1, 1, 34), z};
    c.constants = {1, 2};
    c.attrs.push_back(ir::Attribute::make_ints("pads", {1, 1, 1, 1}));
    c.attrs.push_back(ir::Attribute::make_string("activation", "Relu"));
    c.attrs.push_back(ir::Attribute::make_int("channels_last", 1));
    return c;
  };
  TacticHarness h(make());
  std::vector<backends::Tactic::Variant> vs = conv().variants(h.node(), h.schema());
  auto wino = std::find_if(vs.begin(), vs.end(), [](const auto& v) { return v.label == "wino"; });
  ASSERT_NE(wino, vs.end()) << "no Winograd variant offered for a 3x3 stride-1 convolution";
  for (int threads : {1, 2}) {
    ErrorStats st = expect_tactic_matches(conv(), make(), 1e-4, {threads, -1, wino->params});
    print_stats("winograd", st);
  }
  // Not offered where it does not apply (stride 2).
  NodeCase strided = conv_case(cc({1, 64, 13, 13}, {32, 64, 3, 3}, 1, {2, 2}, {1, 1, 1, 1}), 3);
  TacticHarness hs(std::move(strided));
  for (const auto& v : conv().variants(hs.node(), hs.schema())) EXPECT_NE(v.label, "wino");
}

TEST(CpuDnnlConv, ResidualMayShareTheOutputsMemory) {
  TacticHarness h(fused_conv_case(true, "Relu", {}, true, 7));
  EXPECT_TRUE(conv().allows_inplace(h.node(), h.schema(), 3));
  EXPECT_FALSE(conv().allows_inplace(h.node(), h.schema(), 0));
  expect_tactic_matches(conv(), fused_conv_case(true, "Relu", {}, true, 7), kProductTol,
                        {2, 3, {}});
}

TEST(CpuDnnlConv, DeterministicForAFixedThreadCount) {
  expect_deterministic(conv(),
                       conv_case(cc({1, 64, 13, 13}, {64, 64, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}), 5));
}

TEST(CpuDnnlConv, DeclinesWhatItDoesNotImplement) {
  // Weights that are activations, fp64 and 3-D convolutions stay with other tactics.
  NodeCase dyn = conv_case(cc({1, 3, 7, 7}, {4, 3, 3, 3}), 1);
  dyn.constants = {2};
  EXPECT_FALSE(TacticHarness(std::move(dyn)).supports(conv()));
  NodeCase f64{"Conv", "", 11};
  f64.inputs = {make_from_doubles(DataType::kFloat64, {1, 1, 3, 3}, std::vector<double>(9, 1.0)),
                make_from_doubles(DataType::kFloat64, {1, 1, 1, 1}, {2.0})};
  f64.constants = {1};
  EXPECT_FALSE(TacticHarness(std::move(f64)).supports(conv()));
  NodeCase c3 = conv_case(cc({1, 2, 3, 3, 3}, {2, 2, 1, 1, 1}), 2);
  EXPECT_FALSE(TacticHarness(std::move(c3)).supports(conv()));
}

NodeCase matmul_case(Shape a, Shape b, bool b_const, uint64_t seed) {
  NodeCase c{"MatMul", "", 13};
  c.inputs = {rand_f32(std::move(a), -1, 1, seed), rand_f32(std::move(b), -1, 1, seed + 1)};
  if (b_const) c.constants = {1};
  return c;
}

TEST(CpuDnnlDeconv, PatchGemmAndGeneralPathsMatchReference) {
  const backends::Tactic& deconv = backends::cpu_dnnl_deconv_tactic();
  struct Case {
    Shape x, w;
    std::vector<int64_t> strides, pads;
    std::string act;
  };
  // kernel == stride without pads takes the GEMM + patch scatter path; the rest oneDNN's.
  const std::vector<Case> cases = {{{1, 24, 7, 13}, {24, 1, 2, 2}, {2, 2}, {0, 0, 0, 0}, "Sigmoid"},
                                   {{2, 7, 13, 7}, {7, 13, 2, 2}, {2, 2}, {0, 0, 0, 0}, "Relu"},
                                   {{1, 13, 7, 7}, {13, 7, 3, 3}, {2, 2}, {1, 1, 1, 1}, ""},
                                   {{1, 1, 13, 1}, {1, 1, 3, 1}, {1, 1}, {0, 0, 0, 0}, "Relu"}};
  uint64_t seed = 800;
  for (const Case& k : cases) {
    NodeCase c{"FusedConvTranspose", "kiln", 1};
    c.inputs = {rand_f32(k.x, -1, 1, seed), rand_f32(k.w, -1, 1, seed + 1),
                rand_f32({k.w[1]}, -1, 1, seed + 2)};
    c.constants = {1, 2};
    c.attrs.push_back(ir::Attribute::make_ints("strides", k.strides));
    c.attrs.push_back(ir::Attribute::make_ints("pads", k.pads));
    c.attrs.push_back(ir::Attribute::make_ints("kernel_shape", {k.w[2], k.w[3]}));
    c.attrs.push_back(ir::Attribute::make_string("activation", k.act));
    seed += 3;
    SCOPED_TRACE("X " + Dims::of(k.x).to_string() + " W " + Dims::of(k.w).to_string());
    expect_tactic_matches(deconv, std::move(c), kProductTol, {2, -1, {}});
  }
}

TEST(CpuDnnlMatMul, MatMulOverShapesBroadcastsAndEveryImplementation) {
  struct Case {
    Shape a, b;
    bool b_const;
  };
  const std::vector<Case> cases = {{{7, 13}, {13, 1}, true},
                                   {{1, 13}, {13, 127}, true},
                                   {{2, 3, 7, 13}, {13, 127}, true},       // linear layer
                                   {{2, 3, 7, 13}, {2, 3, 13, 5}, false},  // batched activations
                                   {{1, 3, 7, 13}, {2, 1, 13, 5}, false},  // batch broadcast
                                   {{3, 7, 13}, {13, 7}, false}};
  uint64_t seed = 200;
  for (const Case& k : cases) {
    SCOPED_TRACE("A " + Dims::of(k.a).to_string() + " B " + Dims::of(k.b).to_string());
    expect_all_variants_match(
        matmul(), [&] { return matmul_case(k.a, k.b, k.b_const, seed); }, kProductTol);
    seed += 2;
  }
}

TEST(CpuDnnlMatMul, FusedMatMulTransposesBiasAlphaAndActivation) {
  uint64_t seed = 300;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const char* act : {"", "Gelu", "Relu"}) {
        NodeCase c{"FusedMatMul", "kiln", 1};
        const Shape a = ta ? Shape{2, 13, 7} : Shape{2, 7, 13};
        const Shape b = tb ? Shape{127, 13} : Shape{13, 127};
        c.inputs = {rand_f32(a, -1, 1, seed), rand_f32(b, -1, 1, seed + 1),
                    rand_f32({127}, -1, 1, seed + 2)};
        c.constants = {1, 2};
        c.attrs = std::move(Attrs().i("transA", ta).i("transB", tb).s("activation", act).list);
        SCOPED_TRACE(std::string("transA ") + (ta ? "1" : "0") + " transB " + (tb ? "1" : "0") +
                     " " + act);
        expect_tactic_matches(matmul(), std::move(c), kProductTol);
        seed += 3;
      }
  // alpha scales an unbiased product (a post-op); with a bias the tactic declines.
  NodeCase scaled{"FusedMatMul", "kiln", 1};
  scaled.inputs = {rand_f32({7, 13}, -1, 1, 1), rand_f32({13, 5}, -1, 1, 2)};
  scaled.attrs = std::move(Attrs().f("alpha", 0.125f).list);
  expect_tactic_matches(matmul(), std::move(scaled), kProductTol);
  NodeCase biased{"FusedMatMul", "kiln", 1};
  biased.inputs = {rand_f32({7, 13}, -1, 1, 1), rand_f32({13, 5}, -1, 1, 2),
                   rand_f32({5}, -1, 1, 3)};
  biased.attrs = std::move(Attrs().f("alpha", 0.125f).list);
  EXPECT_FALSE(TacticHarness(std::move(biased)).supports(matmul()));
}

TEST(CpuDnnlMatMul, GemmWithBroadcastBiasShapes) {
  uint64_t seed = 400;
  for (const Shape& cshape : std::vector<Shape>{{127}, {1, 127}, {7, 127}, {7, 1}, {}})
    for (bool tb : {false, true}) {
      NodeCase c{"Gemm", "", 13};
      c.inputs = {rand_f32({7, 13}, -1, 1, seed),
                  rand_f32(tb ? Shape{127, 13} : Shape{13, 127}, -1, 1, seed + 1),
                  rand_f32(cshape, -1, 1, seed + 2)};
      c.constants = {1, 2};
      c.attrs = std::move(Attrs().i("transB", tb).list);
      SCOPED_TRACE("C " + Dims::of(cshape).to_string());
      expect_tactic_matches(matmul(), std::move(c), kProductTol);
      seed += 3;
    }
  NodeCase beta{"Gemm", "", 13};
  beta.inputs = {rand_f32({2, 3}), rand_f32({3, 4}), rand_f32({4})};
  beta.attrs = std::move(Attrs().f("beta", 2.f).list);
  EXPECT_FALSE(TacticHarness(std::move(beta)).supports(matmul()));
}

TEST(CpuDnnlPool, PoolsInBothLayoutsMatchReference) {
  struct Case {
    std::string op;
    Shape x;
    std::vector<int64_t> kernel, strides, pads;
    int64_t ceil = 0, include_pad = 0;
  };
  const std::vector<Case> cases = {
      {"MaxPool", {1, 7, 13, 13}, {3, 3}, {2, 2}, {1, 1, 1, 1}},
      {"MaxPool", {2, 13, 7, 13}, {2, 3}, {2, 2}, {0, 0, 0, 0}, 1},
      {"AveragePool", {1, 13, 13, 7}, {3, 3}, {1, 1}, {1, 1, 1, 1}, 0, 0},
      {"AveragePool", {1, 13, 13, 7}, {3, 3}, {2, 2}, {1, 1, 1, 1}, 0, 1},
      {"GlobalAveragePool", {2, 127, 7, 7}, {}, {}, {}},
      {"GlobalMaxPool", {1, 13, 7, 1}, {}, {}, {}},
  };
  uint64_t seed = 500;
  for (const Case& k : cases)
    for (bool last : {false, true}) {
      SCOPED_TRACE(k.op + (last ? " NHWC " : " NCHW ") + Dims::of(k.x).to_string());
      Tensor x = rand_f32(k.x, -1, 1, seed++);
      NodeCase c{last ? "PoolNhwc" : k.op, last ? "kiln" : "",
                 last ? 1 : (k.op == "AveragePool" ? 19 : 12)};
      std::vector<ir::Attribute>& a = c.attrs;
      if (last) {
        x = ops::layout::permuted(x, {0, 2, 3, 1}).value();
        a.push_back(ir::Attribute::make_string("mode", k.op));
      }
      if (!k.kernel.empty()) {
        a.push_back(ir::Attribute::make_ints("kernel_shape", k.kernel));
        a.push_back(ir::Attribute::make_ints("strides", k.strides));
        a.push_back(ir::Attribute::make_ints("pads", k.pads));
        a.push_back(ir::Attribute::make_int("ceil_mode", k.ceil));
      }
      if (k.op == "AveragePool")
        a.push_back(ir::Attribute::make_int("count_include_pad", k.include_pad));
      c.inputs = {x};
      expect_tactic_matches(pool(), std::move(c), 1e-6);
    }
}

NodeCase attention_case(int64_t b, int64_t sq, int64_t sk, int64_t h, int64_t d, Shape mask,
                        bool causal, uint64_t seed) {
  NodeCase c{"Attention", "kiln", 1};
  c.inputs = {rand_f32({b, sq, h * d}, -1, 1, seed), rand_f32({b, sk, h * d}, -1, 1, seed + 1),
              rand_f32({b, sk, h * d}, -1, 1, seed + 2),
              mask.empty() ? none() : rand_f32(mask, -5, 0, seed + 3)};
  c.attrs = std::move(Attrs().i("num_heads", h).i("causal", causal).list);
  return c;
}

TEST(CpuAttention, MatchesReferenceWithMasksCausalityAndOddSizes) {
  uint64_t seed = 600;
  for (bool causal : {false, true})
    for (const Shape& mask : std::vector<Shape>{{}, {2, 1, 1, 13}, {2, 3, 7, 13}, {7, 13}}) {
      SCOPED_TRACE(std::string(causal ? "causal " : "") + "mask " + Dims::of(mask).to_string());
      expect_tactic_matches(attention(), attention_case(2, 7, 13, 3, 5, mask, causal, seed),
                            kProductTol, {2, -1, {}});
      seed += 4;
    }
  expect_tactic_matches(attention(), attention_case(1, 1, 1, 1, 1, {}, false, 1), kProductTol);
  expect_tactic_matches(attention(), attention_case(1, 127, 127, 2, 64, {1, 1, 1, 127}, false, 9),
                        kProductTol, {2, -1, {}});
  NodeCase scaled = attention_case(1, 7, 7, 1, 13, {}, false, 3);
  scaled.attrs.push_back(ir::Attribute::make_float("scale", 0.3f));
  expect_tactic_matches(attention(), std::move(scaled), kProductTol);
}

TEST(CpuTranspose, PermutationsAreExact) {
  struct Case {
    Shape x;
    std::vector<int64_t> perm;
  };
  const std::vector<Case> cases = {
      {{1, 3, 127, 13}, {0, 2, 3, 1}}, {{2, 13, 7, 33}, {0, 3, 1, 2}},     {{7, 13}, {1, 0}},
      {{2, 3, 5}, {2, 0, 1}},          {{2, 1, 3, 4, 5}, {4, 2, 0, 3, 1}}, {{1, 1, 7}, {2, 0, 1}}};
  uint64_t seed = 700;
  for (const Case& k : cases) {
    NodeCase c{"Transpose", "", 13};
    c.inputs = {rand_f32(k.x, -1, 1, seed++)};
    c.attrs = std::move(Attrs().ints("perm", k.perm).list);
    SCOPED_TRACE(Dims::of(k.x).to_string());
    expect_tactic_matches(transpose(), std::move(c), 0.0, {2, -1, {}});
  }
  NodeCase ints{"Transpose", "", 13};
  ints.inputs = {i32({2, 3}, {1, 2, 3, 4, 5, 6})};
  expect_tactic_matches(transpose(), std::move(ints), 0.0);
}

}  // namespace
}  // namespace kiln::test
