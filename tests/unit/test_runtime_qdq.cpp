// Explicit quantization (QuantizeLinear / DequantizeLinear models) through the builder and
// runtime: the layers behind Q/DQ pairs run INT8 with the model's scales and no calibration,
// the answer stays that of the pairs as written (the reference interpreter), pairs the INT8
// kernels cannot reproduce run as written, and a layer that ends up FP32 keeps the pair's
// clipping (a QDQ quantizer drops the ReLU that a uint8 pair implies).
#include <cmath>

#include "engine/engine_file.h"
#include "interp/interpreter.h"
#include "unit/runtime_test_models.h"

namespace kiln::test {
namespace {

constexpr float kXScale = 0.05f;

// Integer weights in [-limit, limit] for a symmetric int8 DequantizeLinear.
std::vector<int8_t> int8_weights(size_t n, uint32_t seed, int limit) {
  std::vector<int8_t> out(n);
  uint32_t s = seed * 2654435761u + 1;
  for (int8_t& w : out) {
    s = s * 1664525u + 1013904223u;
    w = static_cast<int8_t>(static_cast<int>((s >> 8) % static_cast<uint32_t>(2 * limit + 1)) -
                            limit);
  }
  return out;
}

struct QdqOptions {
  int64_t zero_point = 0;  // of the activation pair in front of conv2
  bool with_pool_reader = true;
};

// x[1,3,10,10] → Conv1 (float weights, no activation: c1 has negative values) → Q(uint8,
// kXScale, zp) → DQ → d1 → Conv2 with DQ(int8 weights, per-channel scales) → y; d1 is also
// read by a GlobalAveragePool → z (a reader that keeps the pair).
ModelBuilder qdq_model(const QdqOptions& o = {}) {
  ModelBuilder m(17);
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {1, 3, 10, 10}).output("y", TensorProto::FLOAT, {1, 6, 10, 10});
  if (o.with_pool_reader) g.output("z", TensorProto::FLOAT, {1, 4, 1, 1});
  g.initializer(float_tensor("w1", {4, 3, 3, 3}, random_floats(108, 3)));
  g.initializer(float_tensor("b1", {4}, random_floats(4, 4)));
  // max |w_q| is 60, not 127: the kernel must use the model's scales, not max|w| / 127.
  g.initializer(raw_tensor_of("w2_q", TensorProto::INT8, {6, 4, 3, 3}, int8_weights(216, 5, 60)));
  g.initializer(float_tensor("w2_s", {6}, {0.01f, 0.02f, 0.015f, 0.005f, 0.03f, 0.012f}));
  g.initializer(float_tensor("b2", {6}, random_floats(6, 6)));
  g.initializer(float_tensor("xs", {}, {kXScale}));
  g.initializer(raw_tensor_of("xzp", TensorProto::UINT8, {},
                              std::vector<uint8_t>{static_cast<uint8_t>(o.zero_point)}));
  g.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1").attr_ints("pads", {1, 1, 1, 1});
  g.node("QuantizeLinear", {"c1", "xs", "xzp"}, {"q1"}, "q1");
  g.node("DequantizeLinear", {"q1", "xs", "xzp"}, {"d1"}, "dq1");
  g.node("DequantizeLinear", {"w2_q", "w2_s"}, {"w2"}, "dqw2").attr_i("axis", 0);
  g.node("Conv", {"d1", "w2", "b2"}, {"y"}, "conv2").attr_ints("pads", {1, 1, 1, 1});
  if (o.with_pool_reader) g.node("GlobalAveragePool", {"d1"}, {"z"}, "gap");
  return m;
}

BuilderConfig qdq_config(std::vector<std::string> pins = {}) {
  BuilderConfig cfg;
  cfg.autotune = false;  // the INT8 tactics come first
  cfg.layer_precisions = std::move(pins);
  return cfg;
}

std::unique_ptr<engine::EngineData> engine_of(const std::vector<uint8_t>& bytes) {
  auto d = engine::read_engine({bytes.data(), bytes.size()}, engine::host_fingerprint());
  EXPECT_TRUE(d.ok()) << d.status().to_string();
  return d.ok() ? std::make_unique<engine::EngineData>(std::move(d).value()) : nullptr;
}

int int8_layers(const std::vector<uint8_t>& bytes) {
  int n = 0;
  if (auto d = engine_of(bytes))
    for (const engine::Layer& l : d->layers) n += l.precision == "int8" ? 1 : 0;
  return n;
}

Tensor reference_y(const ModelBuilder& m, const Tensor& x) {
  interp::TensorMap in;
  in.emplace("x", x.view());
  return reference_outputs(m, in).at("y");
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double d = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    d = std::max(d, static_cast<double>(std::fabs(a.data_as<float>()[i] - b.data_as<float>()[i])));
  return d;
}

TEST(RuntimeQdq, LayerBehindAPairRunsInt8WithTheModelsScalesAndMatchesThePairs) {
  const ModelBuilder m = qdq_model();
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  const std::vector<uint8_t> bytes = build_or_die(*net, qdq_config());
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(int8_layers(bytes), 1);  // conv2 (conv1 reads no pair)

  // The INT8 layer carries the model's weight scales, not max|w| / 127.
  auto model = engine::read_engine_model({bytes.data(), bytes.size()});
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  bool found = false;
  for (const ir::Node* n : (*model)->graph->nodes()) {
    const ir::Attribute* ws = n->attr("int8_w_scales");
    if (ws == nullptr || ws->floats.empty()) continue;
    found = true;
    ASSERT_EQ(ws->floats.size(), 6u);
    EXPECT_FLOAT_EQ(ws->floats[1], 0.02f);
    const ir::Attribute* xs = n->attr("int8_x_scale");
    ASSERT_NE(xs, nullptr);
    EXPECT_FLOAT_EQ(xs->f, kXScale);
  }
  EXPECT_TRUE(found) << "no layer carries int8_w_scales";

  // Integer arithmetic on the same integers the pairs define: within float rounding of the
  // interpreter running the pairs as written (one output step is far larger).
  for (uint32_t seed : {1u, 2u, 3u}) {
    const Tensor x = random_tensor({1, 3, 10, 10}, 100 + seed);
    const Tensor got = run_once(bytes, x), want = reference_y(m, x);
    EXPECT_LT(max_abs_diff(got, want), 1e-3) << "seed " << seed;
  }
}

TEST(RuntimeQdq, LayerPinnedFp32StillSeesThePairsClipping) {
  // The uint8 pair zeroes c1's negative values (the ReLU a QDQ quantizer folds into the
  // range). Dropping the pair without keeping that clipping gives another answer.
  const ModelBuilder m = qdq_model();
  auto net = network_of(m);
  const std::vector<uint8_t> bytes = build_or_die(*net, qdq_config({"conv2:fp32"}));
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(int8_layers(bytes), 0);
  const Tensor x = random_tensor({1, 3, 10, 10}, 7);
  const Tensor got = run_once(bytes, x), want = reference_y(m, x);
  // FP32 on clipped but unrounded values: each input within half a step (0.025) of the
  // pair's, 36 products per output.
  EXPECT_GT(cosine(got, want), 0.999);
  EXPECT_LT(max_abs_diff(got, want), 0.5);

  // Without the clipping (the same model, pairs removed) the answer is far off: the check
  // above can fail.
  ModelBuilder unclipped(17);
  {
    auto& g = unclipped.graph();
    g.input("x", TensorProto::FLOAT, {1, 3, 10, 10})
        .output("y", TensorProto::FLOAT, {1, 6, 10, 10});
    g.initializer(float_tensor("w1", {4, 3, 3, 3}, random_floats(108, 3)));
    g.initializer(float_tensor("b1", {4}, random_floats(4, 4)));
    g.initializer(raw_tensor_of("w2_q", TensorProto::INT8, {6, 4, 3, 3}, int8_weights(216, 5, 60)));
    g.initializer(float_tensor("w2_s", {6}, {0.01f, 0.02f, 0.015f, 0.005f, 0.03f, 0.012f}));
    g.initializer(float_tensor("b2", {6}, random_floats(6, 6)));
    g.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1").attr_ints("pads", {1, 1, 1, 1});
    g.node("DequantizeLinear", {"w2_q", "w2_s"}, {"w2"}, "dqw2").attr_i("axis", 0);
    g.node("Conv", {"c1", "w2", "b2"}, {"y"}, "conv2").attr_ints("pads", {1, 1, 1, 1});
  }
  EXPECT_LT(cosine(reference_y(unclipped, x), want), 0.99);
}

TEST(RuntimeQdq, Uint8PairWithAZeroPointRunsInt8WithIt) {
  // ONNX Runtime's default asymmetric uint8 activations: the padded convolution reads x_q with
  // the pair's zero point (pre-padded with it, the bias taking it back; dnnl_conv_tactic.cpp).
  const ModelBuilder m = qdq_model({128, true});
  auto net = network_of(m);
  const std::vector<uint8_t> bytes = build_or_die(*net, qdq_config());
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(int8_layers(bytes), 1);
  for (uint32_t seed : {9u, 10u}) {
    const Tensor x = random_tensor({1, 3, 10, 10}, seed);
    EXPECT_GT(cosine(run_once(bytes, x), reference_y(m, x)), 0.999) << "seed " << seed;
  }
}

TEST(RuntimeQdq, Int8PairWithAZeroPointRunsAsWritten) {
  ModelBuilder m = qdq_model({0, true});
  // The activation pair becomes int8 with zero point 5: no INT8 kernel quantizes that way.
  auto& g = m.graph();
  for (auto& t : *g.proto().mutable_initializer())
    if (t.name() == "xzp") t = raw_tensor_of("xzp", TensorProto::INT8, {}, std::vector<int8_t>{5});
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  const std::vector<uint8_t> bytes = build_or_die(*net, qdq_config());
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(int8_layers(bytes), 0);
  const Tensor x = random_tensor({1, 3, 10, 10}, 9);
  EXPECT_LT(max_abs_diff(run_once(bytes, x), reference_y(m, x)), 1e-4);
}

TEST(RuntimeQdq, OptLevelZeroRunsEveryPairAsWritten) {
  const ModelBuilder m = qdq_model();
  auto net = network_of(m);
  BuilderConfig cfg = qdq_config();
  cfg.optimization_level = 0;
  const std::vector<uint8_t> bytes = build_or_die(*net, cfg);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(int8_layers(bytes), 0);  // QuantizeLinear outputs int8 but is no INT8 layer
  const Tensor x = random_tensor({1, 3, 10, 10}, 11);
  EXPECT_TRUE(matches_reference(run_once(bytes, x), reference_y(m, x)));
}

TEST(RuntimeQdq, Int8FlagWithoutCalibrationDataIsFineForAQdqModel) {
  const ModelBuilder m = qdq_model();
  auto net = network_of(m);
  BuilderConfig cfg = qdq_config();
  cfg.precision.int8 = true;  // no calibrator, no cache: the pairs carry the scales
  Builder b;
  auto bytes = b.build_serialized(*net, cfg);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  EXPECT_EQ(b.last_summary().int8_layers, 1);
}

}  // namespace
}  // namespace kiln::test
