// --bf16 end to end through the builder and runtime: which layers the builder allows BF16
// (conv / linear only; Softmax stays FP32), layer precision pins, the engine's per-layer
// precision and the build summary, and accuracy against the FP32 engine. Skipped on CPUs
// without native BF16 (the builder then keeps every layer FP32, checked too).
#include "backends/cpu/dnnl_util.h"
#include "engine/engine_file.h"
#include "unit/runtime_test_models.h"

namespace kiln::test {
namespace {

// x[N,3,12,12] → Conv 3→16 + Relu → Conv 16→16 3x3 → GlobalAveragePool → Flatten →
// Gemm 16→10 → Softmax → y: three conv/linear layers (conv1 reads the graph input, so it stays
// FP32 unless pinned to bf16) and a Softmax that must stay FP32.
ModelBuilder bf16_model() {
  ModelBuilder m(17);
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {"N", 3, 12, 12}).output("y", TensorProto::FLOAT, {"N", 10});
  g.initializer(float_tensor("w1", {16, 3, 3, 3}, random_floats(432, 1)));
  g.initializer(float_tensor("b1", {16}, random_floats(16, 2)));
  g.initializer(float_tensor("w2", {16, 16, 3, 3}, random_floats(2304, 3)));
  g.initializer(float_tensor("b2", {16}, random_floats(16, 4)));
  g.initializer(float_tensor("fw", {10, 16}, random_floats(160, 5)));
  g.initializer(float_tensor("fb", {10}, random_floats(10, 6)));
  g.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1").attr_ints("pads", {1, 1, 1, 1});
  g.node("Relu", {"c1"}, {"r1"}, "relu1");
  g.node("Conv", {"r1", "w2", "b2"}, {"c2"}, "conv2").attr_ints("pads", {1, 1, 1, 1});
  g.node("GlobalAveragePool", {"c2"}, {"p"}, "gap");
  g.node("Flatten", {"p"}, {"f"}, "flatten");
  g.node("Gemm", {"f", "fw", "fb"}, {"logits"}, "fc").attr_i("transB", 1);
  g.node("Softmax", {"logits"}, {"y"}, "softmax").attr_i("axis", 1);
  return m;
}

BuilderConfig config(bool bf16) {
  BuilderConfig cfg;
  cfg.autotune = false;  // the BF16 tactics come before the FP32 ones: same kernels every build
  cfg.precision.bf16 = bf16;
  cfg.profiles.push_back(
      OptimizationProfile().set("x", {1, 3, 12, 12}, {4, 3, 12, 12}, {8, 3, 12, 12}));
  return cfg;
}

// layer name (or its first fused ONNX node) → precision, from the engine file.
std::map<std::string, std::string> precisions(const std::vector<uint8_t>& bytes) {
  auto data = engine::read_engine({bytes.data(), bytes.size()}, engine::host_fingerprint());
  EXPECT_TRUE(data.ok());
  std::map<std::string, std::string> out;
  for (const engine::Layer& l : data->layers)
    for (const std::string& o : l.fused_from) out[o] = l.precision;
  return out;
}

TEST(RuntimeBf16, ConvAndLinearLayersRunBf16CloseToFp32AndSoftmaxStaysFp32) {
  auto net = network_of(bf16_model());
  ASSERT_NE(net, nullptr);
  Builder b;
  auto bf16 = b.build_serialized(*net, config(true));
  ASSERT_TRUE(bf16.ok()) << bf16.status().to_string();
  const std::vector<uint8_t> fp32 = build_or_die(*net, config(false));
  const std::map<std::string, std::string> p = precisions(*bf16);
  if (!backends::cpu::native_bf16()) {
    EXPECT_EQ(b.last_summary().bf16_layers, 0);
    for (const auto& [name, prec] : p) EXPECT_NE(prec, "bf16") << name;
    GTEST_SKIP() << "no native BF16 on this CPU: every layer stayed FP32";
  }
  EXPECT_EQ(b.last_summary().bf16_layers, 2);
  EXPECT_EQ(p.at("conv1"), "fp32");  // reads the raw input
  EXPECT_EQ(p.at("conv2"), "bf16");
  EXPECT_EQ(p.at("fc"), "bf16");
  EXPECT_EQ(p.at("softmax"), "fp32");
  for (const auto& [name, prec] : precisions(fp32)) EXPECT_NE(prec, "bf16") << name;
  for (uint32_t seed : {300u, 301u}) {
    const Tensor x = random_tensor({4, 3, 12, 12}, seed);
    const Tensor yb = run_once(*bf16, x), yf = run_once(fp32, x);
    EXPECT_GT(cosine(yb, yf), 0.999);
    EXPECT_FALSE(bit_equal(yb, yf)) << "BF16 engine computed exactly FP32's answer";
  }
  // Another batch size within the profile runs the same layers.
  const Tensor x1 = random_tensor({7, 3, 12, 12}, 302);
  EXPECT_GT(cosine(run_once(*bf16, x1), run_once(fp32, x1)), 0.999);
}

TEST(RuntimeBf16, PinnedLayersStayFp32) {
  if (!backends::cpu::native_bf16()) GTEST_SKIP() << "no native BF16 on this CPU";
  auto net = network_of(bf16_model());
  ASSERT_NE(net, nullptr);
  BuilderConfig cfg = config(true);
  cfg.layer_precisions = {"conv1:fp32", "f?:fp32"};
  Builder b;
  auto bytes = b.build_serialized(*net, cfg);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  EXPECT_EQ(b.last_summary().bf16_layers, 1);
  const std::map<std::string, std::string> p = precisions(*bytes);
  EXPECT_EQ(p.at("conv1"), "fp32");
  EXPECT_EQ(p.at("conv2"), "bf16");
  EXPECT_EQ(p.at("fc"), "fp32");

  // A bf16 pin takes the first layer into BF16 too.
  cfg.layer_precisions = {"conv1:bf16"};
  Builder b2;
  auto all = b2.build_serialized(*net, cfg);
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  EXPECT_EQ(b2.last_summary().bf16_layers, 3);
  EXPECT_EQ(precisions(*all).at("conv1"), "bf16");
}

// With autotuning, BF16 competes with FP32 per layer: whatever wins, the summary counts what
// the engine holds, and the answer stays close to FP32.
TEST(RuntimeBf16, AutotunedBuildCountsWhatTheEngineHolds) {
  auto net = network_of(bf16_model());
  ASSERT_NE(net, nullptr);
  BuilderConfig cfg = config(true);
  cfg.autotune = true;
  Builder b;
  auto bytes = b.build_serialized(*net, cfg);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  int n = 0;
  for (const auto& [name, prec] : precisions(*bytes)) n += prec == "bf16" ? 1 : 0;
  EXPECT_EQ(b.last_summary().bf16_layers, n);
  const Tensor x = random_tensor({4, 3, 12, 12}, 303);
  EXPECT_GT(cosine(run_once(*bytes, x), run_once(build_or_die(*net, config(false)), x)), 0.999);
}

}  // namespace
}  // namespace kiln::test
