// Engines carry their conv/linear weights packed at build time (BuilderConfig::pack_weights):
// the layers name their packed initializers, results equal an engine built without packing
// bit for bit, and shapes away from the opt point (another layout may be wanted) still match
// the reference.
#include "engine/engine_file.h"
#include "unit/runtime_test_models.h"

namespace kiln::test {
namespace {

BuilderConfig config(bool pack, std::vector<int64_t> min, std::vector<int64_t> opt,
                     std::vector<int64_t> max) {
  BuilderConfig c;
  c.autotune = false;  // the same kernels in both builds
  c.pack_weights = pack;
  c.profiles.push_back(
      OptimizationProfile().set("x", std::move(min), std::move(opt), std::move(max)));
  return c;
}

Tensor run_once(Engine& e, const Tensor& x, const std::string& out) {
  auto ctx = e.create_context();
  EXPECT_TRUE(ctx.ok());
  EXPECT_TRUE((*ctx)->set_input("x", x).ok());
  Status s = (*ctx)->execute();
  EXPECT_TRUE(s.ok()) << s.to_string();
  auto y = (*ctx)->output(out);
  EXPECT_TRUE(y.ok());
  Tensor c = Tensor::allocate(y->dtype(), y->shape()).value();
  std::memcpy(c.data(), y->data(), y->nbytes());
  return c;
}

TEST(RuntimePackedWeights, LayersNameTheirPackedWeightsAndRunBitEqualToUnpacked) {
  ModelBuilder m = cnn_model();
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  const std::vector<uint8_t> packed =
      build_or_die(*net, config(true, {4, 3, 8, 8}, {4, 3, 8, 8}, {4, 3, 8, 8}));
  const std::vector<uint8_t> plain =
      build_or_die(*net, config(false, {4, 3, 8, 8}, {4, 3, 8, 8}, {4, 3, 8, 8}));
  ASSERT_FALSE(packed.empty());
  ASSERT_FALSE(plain.empty());

  auto pd = engine::read_engine({packed.data(), packed.size()}, engine::host_fingerprint());
  auto ud = engine::read_engine({plain.data(), plain.size()}, engine::host_fingerprint());
  ASSERT_TRUE(pd.ok() && ud.ok());
  auto model = engine::read_engine_model({packed.data(), packed.size()});
  ASSERT_TRUE(model.ok());
  int packed_layers = 0;
  for (const engine::Layer& l : pd->layers) {
    if (l.packed.empty()) continue;
    ++packed_layers;
    EXPECT_TRUE(l.tactic == "cpu.dnnl.conv" || l.tactic == "cpu.dnnl.matmul") << l.tactic;
    for (const std::string& name : l.packed) {
      const ir::Value* v = (*model)->graph->find(name);
      ASSERT_NE(v, nullptr) << name;
      ASSERT_NE(v->initializer(), nullptr) << name;
      EXPECT_EQ(v->initializer()->dtype(), DataType::kUInt8);
    }
  }
  EXPECT_EQ(packed_layers, 2) << "the conv and the fully connected layer";
  for (const engine::Layer& l : ud->layers) EXPECT_TRUE(l.packed.empty());
  EXPECT_GT(packed.size(), plain.size());

  auto pe = Engine::deserialize(packed);
  auto ue = Engine::deserialize(plain);
  ASSERT_TRUE(pe.ok() && ue.ok());
  const Tensor x = random_tensor({4, 3, 8, 8}, 11);
  for (const std::string out : {"y", "c"}) {
    SCOPED_TRACE(out);
    const Tensor a = run_once(**pe, x, out);
    const Tensor b = run_once(**ue, x, out);
    EXPECT_TRUE(bit_equal(a, b));
    EXPECT_TRUE(matches_reference(a, reference_outputs(m, {{"x", x}}).at(out)));
  }
}

TEST(RuntimePackedWeights, ShapesAwayFromTheOptPointMatchTheReference) {
  ModelBuilder m = cnn_model();
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  auto e = Engine::deserialize(
      build_or_die(*net, config(true, {1, 3, 8, 8}, {4, 3, 8, 8}, {64, 3, 8, 8})));
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  for (int64_t n : {1, 4, 64, 3}) {
    SCOPED_TRACE("N " + std::to_string(n));
    const Tensor x = random_tensor({n, 3, 8, 8}, static_cast<uint32_t>(20 + n));
    const interp::TensorMap ref = reference_outputs(m, {{"x", x}});
    for (const std::string out : {"y", "c"})
      EXPECT_TRUE(matches_reference(run_once(**e, x, out), ref.at(out))) << out;
  }
}

}  // namespace
}  // namespace kiln::test
