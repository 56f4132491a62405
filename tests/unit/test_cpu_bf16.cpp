// BF16 convolution and linear layers (cpu.dnnl.conv.bf16, cpu.dnnl.matmul.bf16) against an
// oracle computed independently: the FP32 reference kernel run on X and W rounded to bfloat16
// (round to nearest even, as oneDNN's conversion does). The kernels multiply exactly those
// values and accumulate in FP32, so only the summation order differs: the tolerance is FP32's.
// A second check bounds the distance to the true FP32 result, and requires one (the BF16 path
// ran). Skipped on CPUs without native BF16, where the tactics are not offered.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/cpu_tactics.h"
#include "backends/cpu/dnnl_util.h"
#include "unit/cpu_test_data.h"

namespace kiln::test {
namespace {

float to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u += 0x7fff + ((u >> 16) & 1);  // round to nearest even (finite inputs only)
  u &= 0xffff0000u;
  float r;
  std::memcpy(&r, &u, 4);
  return r;
}

Tensor rounded(const Tensor& t) {
  Tensor out = Tensor::allocate(DataType::kFloat32, t.shape()).value();
  for (int64_t i = 0; i < t.numel(); ++i) out.data_as<float>()[i] = to_bf16(t.data_as<float>()[i]);
  return out;
}

struct Case {
  std::string op;          // FusedConv or FusedMatMul / FusedGemm
  std::vector<Tensor> in;  // X/A, W/B, bias (may be empty), Z (conv residual, optional)
  std::vector<std::pair<std::string, std::vector<int64_t>>> ints;
  std::string activation;
};

NodeCase node_of(const Case& c, std::vector<Tensor> in, bool allow_bf16) {
  NodeCase n{c.op, "kiln", 1};
  n.inputs = std::move(in);
  n.constants = {1};
  if (!n.inputs[2].empty()) n.constants.push_back(2);
  for (const auto& [name, v] : c.ints)
    n.attrs.push_back(v.size() == 1 &&
                              (name == "group" || name == "channels_last" || name == "transB")
                          ? ir::Attribute::make_int(name, v[0])
                          : ir::Attribute::make_ints(name, v));
  n.attrs.push_back(ir::Attribute::make_string("activation", c.activation));
  if (allow_bf16) n.attrs.push_back(ir::Attribute::make_int("bf16", 1));
  return n;
}

void expect_bf16_matches(const backends::Tactic& t, const Case& c, int threads = 1) {
  TacticHarness h(node_of(c, copies(c.in), true));
  ASSERT_TRUE(h.supports(t)) << t.name() << " declines " << c.op;
  std::vector<Tensor> r = copies(c.in);
  r[0] = rounded(c.in[0]);
  r[1] = rounded(c.in[1]);
  TacticHarness oracle(node_of(c, std::move(r), false));
  Result<std::vector<Tensor>> want = oracle.run_reference();
  Result<std::vector<Tensor>> exact = h.run_reference();
  ASSERT_TRUE(want.ok() && exact.ok());
  const std::vector<backends::Tactic::Variant> variants = t.variants(h.node(), h.schema());
  ASSERT_FALSE(variants.empty());
  for (const backends::Tactic::Variant& v : variants) {
    SCOPED_TRACE("variant '" + v.label + "'");
    EXPECT_NE(v.label.rfind("ref", 0), 0u) << "oneDNN's reference implementation offered";
    Result<std::vector<Tensor>> got = h.run_tactic(t, {threads, -1, v.params});
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    ErrorStats e = compare_outputs(*got, *want, 2e-5);
    EXPECT_TRUE(e.ok) << "vs reference on bf16-rounded operands: " << e.where;
    expect_near_but_not_fp32(*got, *exact, 0.02, "BF16");
  }
}

Case conv_case(std::vector<int64_t> xs, std::vector<int64_t> ws, bool bias, bool residual,
               const char* act, std::vector<std::pair<std::string, std::vector<int64_t>>> ints,
               uint64_t seed) {
  Case c;
  c.op = "FusedConv";
  c.in.push_back(rand_f32(xs, -1.f, 1.f, seed));
  c.in.push_back(rand_f32(ws, -0.5f, 0.5f, seed + 1));
  c.in.push_back(bias ? rand_f32({ws[0]}, -1, 1, seed + 2) : Tensor());
  c.ints = std::move(ints);
  c.activation = act;
  if (residual) {
    TacticHarness shape_of(node_of(c, copies(c.in), false));
    const std::vector<int64_t> ys = shape_of.run_reference().value()[0].shape();
    c.in.push_back(rand_f32(ys, -1, 1, seed + 3));
  }
  return c;
}

TEST(CpuBf16, ConvMatchesReferenceOnRoundedOperandsOverShapesGroupsAndEpilogues) {
  if (!backends::cpu::native_bf16()) GTEST_SKIP() << "no native BF16 on this CPU";
  const backends::Tactic& t = backends::cpu_dnnl_conv_bf16_tactic();
  const std::vector<int64_t> p1 = {1, 1, 1, 1};
  struct Shape {
    std::vector<int64_t> x, w;
    std::vector<std::pair<std::string, std::vector<int64_t>>> ints;
  };
  const std::vector<Shape> shapes = {
      {{1, 16, 13, 13}, {32, 16, 3, 3}, {{"pads", p1}}},
      {{2, 7, 9, 11}, {13, 7, 1, 1}, {}},
      {{1, 32, 15, 15}, {64, 32, 3, 3}, {{"pads", p1}, {"strides", {2, 2}}}},
      {{1, 24, 14, 14}, {24, 1, 3, 3}, {{"pads", p1}, {"group", {24}}}},
      {{1, 16, 12, 12},
       {32, 4, 3, 3},
       {{"pads", {2, 2, 2, 2}}, {"group", {4}}, {"dilations", {2, 2}}}},
      {{1, 127, 7, 7}, {1, 127, 1, 1}, {}},
  };
  uint64_t seed = 3000;
  for (const Shape& s : shapes)
    for (int epi = 0; epi < 3; ++epi) {
      SCOPED_TRACE("X " + Dims::of(s.x).to_string() + " W " + Dims::of(s.w).to_string() +
                   " epilogue " + std::to_string(epi));
      expect_bf16_matches(
          t, conv_case(s.x, s.w, epi != 1, epi == 2, epi == 0 ? "" : "Relu", s.ints, seed += 10),
          epi == 2 ? 2 : 1);
    }
}

TEST(CpuBf16, ConvInChannelsLastLayoutWithResidual) {
  if (!backends::cpu::native_bf16()) GTEST_SKIP() << "no native BF16 on this CPU";
  Case c = conv_case({1, 16, 10, 10}, {32, 16, 3, 3}, true, false, "Relu",
                     {{"pads", {1, 1, 1, 1}}, {"channels_last", {1}}}, 3500);
  c.in[0] = rand_f32({1, 10, 10, 16}, -1, 1, 3501);
  c.in.push_back(rand_f32({1, 10, 10, 32}, -1, 1, 3502));
  expect_bf16_matches(backends::cpu_dnnl_conv_bf16_tactic(), c, 2);
}

Case linear_case(const std::string& op, std::vector<int64_t> as, int64_t n, bool trans_b, bool bias,
                 const char* act, uint64_t seed) {
  Case c;
  c.op = op;
  const int64_t k = as.back();
  c.in.push_back(rand_f32(as, -2.f, 2.f, seed));
  c.in.push_back(trans_b ? rand_f32({n, k}, -0.3f, 0.3f, seed + 1)
                         : rand_f32({k, n}, -0.3f, 0.3f, seed + 1));
  c.in.push_back(bias ? rand_f32({n}, -1, 1, seed + 2) : Tensor());
  c.ints.push_back({"transB", {trans_b ? 1 : 0}});
  c.activation = act;
  return c;
}

TEST(CpuBf16, LinearLayerMatchesReferenceOnRoundedOperands) {
  if (!backends::cpu::native_bf16()) GTEST_SKIP() << "no native BF16 on this CPU";
  const backends::Tactic& t = backends::cpu_dnnl_matmul_bf16_tactic();
  uint64_t seed = 4000;
  for (const std::vector<int64_t>& as :
       std::vector<std::vector<int64_t>>{{1, 64}, {2, 3, 7, 64}, {1, 13, 127}, {128, 96}})
    for (bool trans_b : {false, true}) {
      SCOPED_TRACE("A " + Dims::of(as).to_string() + (trans_b ? " transB" : ""));
      expect_bf16_matches(t,
                          linear_case("FusedMatMul", as, 127, trans_b, true, "Gelu", seed += 10));
      expect_bf16_matches(t, linear_case("FusedMatMul", as, 33, trans_b, false, "", seed += 10), 2);
    }
  expect_bf16_matches(t, linear_case("FusedGemm", {5, 48}, 20, true, true, "Relu", 4900));
}

// Only layers the builder allowed BF16 are BF16 layers, and only with constant weights.
TEST(CpuBf16, OnlyAllowedLayersWithConstantWeightsAreBf16) {
  if (!backends::cpu::native_bf16()) GTEST_SKIP() << "no native BF16 on this CPU";
  Case c = conv_case({1, 8, 6, 6}, {8, 8, 3, 3}, true, false, "", {}, 5000);
  {
    TacticHarness plain(node_of(c, copies(c.in), false));
    EXPECT_FALSE(plain.supports(backends::cpu_dnnl_conv_bf16_tactic()));
  }
  // The FP32 tactic ignores the annotation: FP32 results.
  expect_tactic_matches(backends::cpu_dnnl_conv_tactic(), node_of(c, copies(c.in), true), 2e-5);
  Case l = linear_case("FusedMatMul", {4, 32}, 16, false, true, "", 5010);
  TacticHarness plain(node_of(l, copies(l.in), false));
  EXPECT_FALSE(plain.supports(backends::cpu_dnnl_matmul_bf16_tactic()));
  NodeCase act = node_of(l, copies(l.in), true);
  act.constants = {2};  // B an activation: not converted once, not a BF16 layer
  TacticHarness h(std::move(act));
  EXPECT_FALSE(h.supports(backends::cpu_dnnl_matmul_bf16_tactic()));
}

TEST(CpuBf16, PackedBf16WeightsAreAdoptedAndMatch) {
  if (!backends::cpu::native_bf16()) GTEST_SKIP() << "no native BF16 on this CPU";
  const backends::Tactic& t = backends::cpu_dnnl_conv_bf16_tactic();
  Case c = conv_case({1, 16, 13, 13}, {32, 16, 3, 3}, true, false, "Relu", {{"pads", {1, 1, 1, 1}}},
                     5100);
  TacticHarness h(node_of(c, copies(c.in), true));
  auto packed = t.pack(h.node(), h.schema(), {});
  ASSERT_TRUE(packed.ok()) << packed.status().to_string();
  ASSERT_EQ(packed->size(), 1u);
  EXPECT_EQ((*packed)[0].tag, "weights_bf16");
  // bf16 blocked weights: half the float32 bytes (plus the header and any padding).
  EXPECT_LT((*packed)[0].data.nbytes(), c.in[1].nbytes());
  Result<std::vector<Tensor>> unpacked = h.run_tactic(t, {1});
  Result<std::vector<Tensor>> with_blob = h.run_tactic(t, {1, -1, {}, {&(*packed)[0].data}});
  ASSERT_TRUE(unpacked.ok() && with_blob.ok());
  EXPECT_TRUE(compare_outputs(*with_blob, *unpacked, 0).ok);
}

}  // namespace
}  // namespace kiln::test
