// Coded errors of the build/run split: profiles at build time, shapes and buffers at run time.
#include "core/errors.h"
#include "unit/runtime_test_models.h"

namespace kiln::test {
namespace {

bool has(const std::vector<Status>& all, Code code) {
  for (const Status& s : all)
    if (s.code() == static_cast<int>(code)) return true;
  return false;
}

TEST(RuntimeProfiles, DynamicInputWithoutProfileIsInvalidConfigNamingInputAndDims) {
  auto net = network_of(cnn_model());
  ASSERT_NE(net, nullptr);
  auto r = Builder().build_serialized(*net, BuilderConfig{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), static_cast<int>(Code::kDynamicInputNeedsProfile));
  EXPECT_EQ(r.status().category(), Category::kInvalidConfig);
  EXPECT_NE(r.status().message().find("'x'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("0 (N)"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().fix().find("--min-shapes x:1x3x8x8"), std::string::npos)
      << r.status().fix();
}

TEST(RuntimeProfiles, EveryProfileProblemIsReportedAtOnce) {
  auto net = network_of(cnn_model());
  ASSERT_NE(net, nullptr);
  ErrorRecorder rec;
  BuilderConfig c;
  c.error_recorder = &rec;
  c.profiles.push_back(OptimizationProfile()
                           .set("x", {4, 3, 8, 8}, {2, 3, 8, 8}, {8, 3, 8, 8})  // min > opt
                           .set("typo", {1}));
  c.profiles.push_back(OptimizationProfile().set("x", {1, 3, 8}, {1, 3, 8}, {1, 3, 8}));  // rank
  c.profiles.push_back(OptimizationProfile().set("x", {1, 5, 8, 8}, {1, 5, 8, 8}, {2, 5, 8, 8}));
  c.profiles.push_back(OptimizationProfile());  // no range for x
  auto r = Builder().build_serialized(*net, c);
  ASSERT_FALSE(r.ok());
  const std::vector<Status> all = rec.errors();
  EXPECT_TRUE(has(all, Code::kProfileRangeInvalid));
  EXPECT_TRUE(has(all, Code::kProfileUnknownInput));
  EXPECT_TRUE(has(all, Code::kProfileShapeMismatch));  // rank 3 vs 4, and dim 1 fixed to 3
  EXPECT_TRUE(has(all, Code::kDynamicInputNeedsProfile));
  EXPECT_GE(all.size(), 5u);
  for (const Status& s : all) EXPECT_EQ(s.category(), Category::kInvalidConfig) << s.to_string();
  bool named = false;
  for (const Status& s : all)
    if (s.code() == static_cast<int>(Code::kProfileRangeInvalid))
      named = s.message().find("dim 0: min 4, opt 2, max 8") != std::string::npos;
  EXPECT_TRUE(named);
}

TEST(RuntimeProfiles, ShapeOutsideProfileNamesInputDimValueRangeAndFix) {
  auto net = network_of(cnn_model());
  ASSERT_NE(net, nullptr);
  BuilderConfig c;
  c.profiles.push_back(OptimizationProfile().set("x", {1, 3, 8, 8}, {4, 3, 8, 8}, {8, 3, 8, 8}));
  auto engine = Engine::deserialize(build_or_die(*net, c));
  ASSERT_TRUE(engine.ok());
  auto ctx = (*engine)->create_context();
  ASSERT_TRUE(ctx.ok());
  Status s = (*ctx)->set_input_shape("x", {10, 3, 8, 8});
  EXPECT_EQ(s.code(), static_cast<int>(Code::kShapeOutsideProfile));
  EXPECT_EQ(s.category(), Category::kInvalidArgument);
  EXPECT_NE(s.message().find("input 'x' dim 0 = 10 is outside profile 0 range [1, 8]"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.fix().find("--max-shapes x:10x3x8x8"), std::string::npos) << s.fix();
  EXPECT_EQ((*ctx)->set_input_shape("x", {2, 3, 8}).code(),
            static_cast<int>(Code::kShapeOutsideProfile));  // rank
  EXPECT_EQ((*ctx)->set_input_shape("nope", {1}).code(), static_cast<int>(Code::kUnknownTensorName));
  EXPECT_EQ((*ctx)->set_profile(1).code(), static_cast<int>(Code::kProfileIndexOutOfRange));
}

TEST(RuntimeProfiles, SeveralProfilesEachWithItsOwnRangeAndArena) {
  auto net = network_of(cnn_model());
  ASSERT_NE(net, nullptr);
  BuilderConfig c;
  c.profiles.push_back(OptimizationProfile().set("x", {1, 3, 8, 8}, {1, 3, 8, 8}, {2, 3, 8, 8}));
  c.profiles.push_back(OptimizationProfile().set("x", {16, 3, 8, 8}, {32, 3, 8, 8}, {64, 3, 8, 8}));
  auto engine = Engine::deserialize(build_or_die(*net, c));
  ASSERT_TRUE(engine.ok());
  EXPECT_EQ((*engine)->num_profiles(), 2);
  EXPECT_GT((*engine)->arena_bytes(1), 16 * (*engine)->arena_bytes(0));
  auto ctx = (*engine)->create_context();
  ASSERT_TRUE(ctx.ok());
  EXPECT_FALSE((*ctx)->set_input_shape("x", {32, 3, 8, 8}).ok());
  ASSERT_TRUE((*ctx)->set_profile(1).ok());
  Tensor x = random_tensor({32, 3, 8, 8}, 3);
  ASSERT_TRUE((*ctx)->set_input("x", x).ok());
  ASSERT_TRUE((*ctx)->execute().ok());
  interp::TensorMap ref = reference_outputs(cnn_model(), {{"x", x}});
  EXPECT_TRUE(bit_equal((*ctx)->output("y").value(), ref.at("y")));
}

TEST(RuntimeContext, MissingShapeBufferTooSmallAndUnknownNamesAreCoded) {
  auto net = network_of(cnn_model());
  ASSERT_NE(net, nullptr);
  BuilderConfig c;
  c.profiles.push_back(OptimizationProfile().set("x", {1, 3, 8, 8}, {1, 3, 8, 8}, {4, 3, 8, 8}));
  auto engine = Engine::deserialize(build_or_die(*net, c));
  ASSERT_TRUE(engine.ok());
  auto ctx = (*engine)->create_context();
  ASSERT_TRUE(ctx.ok());
  Status s = (*ctx)->execute();
  EXPECT_EQ(s.code(), static_cast<int>(Code::kInputShapeNotSet));
  EXPECT_NE(s.message().find("'x' (shape)"), std::string::npos) << s.message();
  std::vector<float> small(10);
  ASSERT_TRUE((*ctx)->set_input_shape("x", {2, 3, 8, 8}).ok());
  ASSERT_TRUE((*ctx)->bind("x", small.data(), small.size() * sizeof(float)).ok());
  s = (*ctx)->execute();
  EXPECT_EQ(s.code(), static_cast<int>(Code::kBufferTooSmall));
  EXPECT_NE(s.message().find("needs 1536"), std::string::npos) << s.message();
  Tensor x = random_tensor({2, 3, 8, 8}, 1);
  ASSERT_TRUE((*ctx)->bind("x", x.data(), x.nbytes()).ok());
  ASSERT_TRUE((*ctx)->bind("y", small.data(), 4).ok());  // 1 float for [2,10]
  s = (*ctx)->execute();
  EXPECT_EQ(s.code(), static_cast<int>(Code::kBufferTooSmall));
  EXPECT_NE(s.message().find("output 'y'"), std::string::npos) << s.message();
  EXPECT_EQ((*ctx)->bind("nope", small.data(), 4).code(), static_cast<int>(Code::kUnknownTensorName));
  EXPECT_EQ((*ctx)->output("c").status().code(), static_cast<int>(Code::kInputShapeNotSet));
}

TEST(RuntimeContext, ProfileAtMaxShapesThatBreaksANodeIsRefusedAtBuild) {
  // Reshape to a fixed [2, 12] only works for batch 1 (1·3·8 = 24 elements).
  ModelBuilder m(17);
  m.graph().input("x", TensorProto::FLOAT, {"N", 3, 8}).output("y", TensorProto::FLOAT, {2, 12});
  m.graph().initializer(int64_tensor("shape", {2}, {2, 12}));
  m.graph().node("Reshape", {"x", "shape"}, {"y"}, "fixed_reshape");
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  BuilderConfig c;
  c.profiles.push_back(OptimizationProfile().set("x", {1, 3, 8}, {1, 3, 8}, {2, 3, 8}));
  auto r = Builder().build_serialized(*net, c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("max shapes of profile 0"), std::string::npos)
      << r.status().to_string();
  ASSERT_NE(r.status().node(), nullptr);
  EXPECT_EQ(r.status().node()->name, "fixed_reshape");
}

TEST(RuntimeBuilder, BadOptionsAndDevicesAreInvalidConfig) {
  auto net = network_of(relu_model());
  ASSERT_NE(net, nullptr);
  BuilderConfig c;
  c.optimization_level = 7;
  EXPECT_EQ(Builder().build_serialized(*net, c).status().code(),
            static_cast<int>(Code::kInvalidOption));
  BuilderConfig cuda;
  cuda.device = DeviceKind::kCuda;
  EXPECT_EQ(Builder().build_serialized(*net, cuda).status().code(),
            static_cast<int>(Code::kDeviceUnavailable));
  // A static model needs no profile at all.
  EXPECT_TRUE(Builder().build_serialized(*net, BuilderConfig{}).ok());
}

}  // namespace
}  // namespace kiln::test
