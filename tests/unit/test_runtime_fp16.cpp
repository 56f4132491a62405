// --fp16 on a CPU without FP16 arithmetic: conv/linear weights rounded to float16 and stored
// as float16 in the engine (half their bytes), computed in FP32; layers pinned FP32 and weights
// float16 cannot hold keep their float32 weights.
#include <cmath>

#include "core/half.h"
#include "engine/engine_file.h"
#include "unit/runtime_test_models.h"

namespace kiln::test {
namespace {

BuilderConfig fp16_config(std::vector<std::string> pins = {}) {
  BuilderConfig cfg;
  cfg.autotune = false;
  cfg.precision.fp16 = true;
  cfg.layer_precisions = std::move(pins);
  cfg.profiles.push_back(OptimizationProfile().set("x", {2, 3, 8, 8}));
  return cfg;
}

// (layer op type, precision) of every layer.
std::vector<std::pair<std::string, std::string>> precisions(const std::vector<uint8_t>& bytes) {
  auto d = engine::read_engine({bytes.data(), bytes.size()}, engine::host_fingerprint());
  auto m = engine::read_engine_model({bytes.data(), bytes.size()});
  EXPECT_TRUE(d.ok() && m.ok());
  std::vector<std::pair<std::string, std::string>> out;
  if (!d.ok() || !m.ok()) return out;
  const auto nodes = (*m)->graph->nodes();
  for (size_t i = 0; i < nodes.size(); ++i)
    out.push_back({nodes[i]->op_type(), d->layers[i].precision});
  return out;
}

bool all_float16(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float v = t.data_as<float>()[i];
    if (float_from_half(half_from_float(v)) != v) return false;
  }
  return true;
}

TEST(RuntimeFp16, WeightsAreStoredAsFloat16AndComputedInFp32) {
  auto net = network_of(cnn_model());
  ASSERT_NE(net, nullptr);
  Builder b;
  auto fp16 = b.build_serialized(*net, fp16_config());
  ASSERT_TRUE(fp16.ok()) << fp16.status().to_string();
  EXPECT_EQ(b.last_summary().fp16_layers, 2);  // conv, fc
  BuilderConfig fp32_cfg = fp16_config();
  fp32_cfg.precision.fp16 = false;
  fp32_cfg.pack_weights = false;
  const std::vector<uint8_t> fp32 = build_or_die(*net, fp32_cfg);
  // 148 weights at 2 bytes instead of 4 (alignment padding may absorb part of it).
  EXPECT_LT(fp16->size(), fp32.size());

  int labelled = 0;
  for (const auto& [name, p] : precisions(*fp16)) labelled += p == "fp16-weights" ? 1 : 0;
  EXPECT_EQ(labelled, 2);
  // The engine's weights are float16 values, read back as float32.
  auto m = engine::read_engine_model({fp16->data(), fp16->size()});
  ASSERT_TRUE(m.ok());
  for (const char* w : {"w", "fw"}) {
    const ir::Value* v = (*m)->graph->find(w);
    ASSERT_NE(v, nullptr) << w;
    EXPECT_EQ(v->initializer()->dtype(), DataType::kFloat32);
    EXPECT_TRUE(all_float16(*v->initializer())) << w;
  }
  const Tensor x = random_tensor({2, 3, 8, 8}, 21);
  const Tensor y16 = run_once(*fp16, x), y32 = run_once(fp32, x);
  EXPECT_GT(cosine(y16, y32), 0.99999);
  EXPECT_FALSE(bit_equal(y16, y32)) << "rounding the weights changed nothing";
}

TEST(RuntimeFp16, PinnedLayersAndOutOfRangeWeightsStayFloat32) {
  auto net = network_of(cnn_model());
  Builder b;
  auto pinned = b.build_serialized(*net, fp16_config({"conv:fp32"}));
  ASSERT_TRUE(pinned.ok()) << pinned.status().to_string();
  EXPECT_EQ(b.last_summary().fp16_layers, 1);
  for (const auto& [op, p] : precisions(*pinned))
    EXPECT_EQ(p == "fp16-weights", op == "FusedGemm") << op << " " << p;

  ModelBuilder big = cnn_model();
  auto& g = big.graph();
  std::vector<float> w = random_floats(108, 1);
  w[5] = 70000.f;  // beyond float16's 65504
  g.proto().mutable_initializer(0)->CopyFrom(float_tensor("w", {4, 3, 3, 3}, w));
  auto big_net = network_of(big);
  ASSERT_NE(big_net, nullptr);
  Builder b2;
  auto bytes = b2.build_serialized(*big_net, fp16_config());
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  EXPECT_EQ(b2.last_summary().fp16_layers, 1);  // fc only
  auto m = engine::read_engine_model({bytes->data(), bytes->size()});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->graph->find("w")->initializer()->data_as<float>()[5], 70000.f);
}

}  // namespace
}  // namespace kiln::test
