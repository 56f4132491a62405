// Engines against the reference interpreter: planned memory and the CPU backend's kernels must
// give the interpreter's results (within matches_reference's float tolerance) at every shape
// inside a profile, from memory or from an mmap'd file.
#include <fstream>

#include "core/errors.h"
#include "unit/runtime_test_models.h"

namespace kiln::test {
namespace {

BuilderConfig cnn_config() {
  BuilderConfig c;
  c.profiles.push_back(OptimizationProfile().set("x", {1, 3, 8, 8}, {4, 3, 8, 8}, {8, 3, 8, 8}));
  return c;
}

void expect_matches_reference(const ModelBuilder& m, Engine& engine, ExecutionContext& ctx,
                              const std::string& input, const std::vector<int64_t>& shape,
                              uint32_t seed) {
  Tensor x = random_tensor(shape, seed);
  ASSERT_TRUE(ctx.set_input(input, x).ok());
  Status s = ctx.execute();
  ASSERT_TRUE(s.ok()) << s.to_string();
  interp::TensorMap ref = reference_outputs(m, {{input, x}});
  for (const TensorInfo& t : engine.io_tensors()) {
    if (t.mode != TensorIOMode::kOutput) continue;
    auto out = ctx.output(t.name);
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    EXPECT_TRUE(matches_reference(*out, ref.at(t.name)))
        << t.name << " differs at shape " << Dims::of(shape).to_string();
  }
}

TEST(RuntimeEngine, CnnMatchesInterpreterAcrossProfileShapes) {
  ModelBuilder m = cnn_model();
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  auto engine = Engine::deserialize(build_or_die(*net, cnn_config()));
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  auto ctx = (*engine)->create_context();
  ASSERT_TRUE(ctx.ok());
  uint32_t seed = 10;
  for (int64_t n : {1, 3, 8, 2, 8, 1})  // shrinking after growing reuses the same arena
    expect_matches_reference(m, **engine, **ctx, "x", {n, 3, 8, 8}, seed++);
}

TEST(RuntimeEngine, SubgraphsViewsAndShapeArithmeticMatchInterpreter) {
  ModelBuilder m = seq_model();
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  BuilderConfig c;
  c.profiles.push_back(OptimizationProfile().set("x", {1, 1, 8}, {2, 16, 8}, {4, 32, 8}));
  auto engine = Engine::deserialize(build_or_die(*net, c));
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  auto ctx = (*engine)->create_context();
  ASSERT_TRUE(ctx.ok());
  // Seeds chosen so that both If branches run.
  uint32_t seed = 20;
  for (std::vector<int64_t> s : {std::vector<int64_t>{1, 1, 8}, {2, 5, 8}, {4, 32, 8}, {3, 7, 8}})
    for (int k = 0; k < 2; ++k) expect_matches_reference(m, **engine, **ctx, "x", s, seed++);
}

TEST(RuntimeEngine, LoadsFromFileByMmapAndBoundBuffersGetOutputs) {
  ModelBuilder m = cnn_model();
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  const std::vector<uint8_t> bytes = build_or_die(*net, cnn_config());
  TempDir dir;
  const std::string path = (dir.path() / "cnn.engine").string();
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  auto engine = Engine::load(path);
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  auto ctx = (*engine)->create_context();
  ASSERT_TRUE(ctx.ok());
  Tensor x = random_tensor({5, 3, 8, 8}, 7);
  std::vector<float> y(5 * 10, -1.f), c(5 * 4 * 8 * 8, -1.f);
  ASSERT_TRUE((*ctx)->set_input_shape("x", x.shape()).ok());
  ASSERT_TRUE((*ctx)->bind("x", x.data(), x.nbytes()).ok());
  ASSERT_TRUE((*ctx)->bind("y", y.data(), y.size() * sizeof(float)).ok());
  ASSERT_TRUE((*ctx)->bind("c", c.data(), c.size() * sizeof(float)).ok());
  auto shape = (*ctx)->tensor_shape("y");
  ASSERT_TRUE(shape.ok()) << shape.status().to_string();
  EXPECT_EQ(*shape, (std::vector<int64_t>{5, 10}));  // known before running
  Status s = (*ctx)->execute();
  ASSERT_TRUE(s.ok()) << s.to_string();
  interp::TensorMap ref = reference_outputs(m, {{"x", x}});
  EXPECT_TRUE(
      matches_reference(Tensor::borrow(DataType::kFloat32, {5, 10}, y.data()), ref.at("y")));
  EXPECT_TRUE(
      matches_reference(Tensor::borrow(DataType::kFloat32, {5, 4, 8, 8}, c.data()), ref.at("c")));
  auto out = (*ctx)->output("y");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->data(), static_cast<void*>(y.data()));  // written in place, not copied out
}

TEST(RuntimeEngine, EnqueueOnStreamGivesSameResultsAsExecute) {
  ModelBuilder m = cnn_model();
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  auto engine = Engine::deserialize(build_or_die(*net, cnn_config()));
  ASSERT_TRUE(engine.ok());
  auto stream = Stream::create();
  ASSERT_TRUE(stream.ok());
  auto ctx = (*engine)->create_context();
  ASSERT_TRUE(ctx.ok());
  Tensor x = random_tensor({3, 3, 8, 8}, 99);
  ASSERT_TRUE((*ctx)->set_input("x", x).ok());
  ASSERT_TRUE((*ctx)->enqueue(**stream).ok());
  ASSERT_TRUE((*stream)->synchronize().ok());
  interp::TensorMap ref = reference_outputs(m, {{"x", x}});
  auto y = (*ctx)->output("y");
  ASSERT_TRUE(y.ok());
  EXPECT_TRUE(matches_reference(*y, ref.at("y")));
}

TEST(RuntimeEngine, PlanReusesMemoryAndRunsLayersInPlace) {
  ModelBuilder m = cnn_model();
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  auto engine = Engine::deserialize(build_or_die(*net, cnn_config()));
  ASSERT_TRUE(engine.ok());
  // Activations at max (batch 8): r, s, t, a are 8·4·8·8 floats = 8 KiB each, p/f/z small.
  // Relu→Sigmoid→Tanh chain in place + Add over t: the arena holds about one such buffer
  // (c is a graph output, so it lives in the caller's buffer, not the arena).
  const uint64_t one = 8 * 4 * 8 * 8 * 4;
  EXPECT_GE((*engine)->arena_bytes(0), one);
  EXPECT_LT((*engine)->arena_bytes(0), 2 * one);
}

}  // namespace
}  // namespace kiln::test
