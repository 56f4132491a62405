// Coded errors of the build/run split: profiles at build time, shapes and buffers at run time.
#include "core/errors.h"
#include "engine/engine_file.h"
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
  EXPECT_TRUE(matches_reference((*ctx)->output("y").value(), ref.at("y")));
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

namespace kiln::test {
namespace {

std::vector<uint8_t> cnn_engine_bytes() {
  auto net = network_of(cnn_model());
  BuilderConfig c;
  c.profiles.push_back(OptimizationProfile().set("x", {1, 3, 8, 8}, {1, 3, 8, 8}, {2, 3, 8, 8}));
  return net ? build_or_die(*net, c) : std::vector<uint8_t>{};
}

uint64_t u64_at(const std::vector<uint8_t>& b, size_t off) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[off + static_cast<size_t>(i)];
  return v;
}

TEST(RuntimeEngineFile, TruncatedFlippedVersionAndForgedEnginesGiveTheirCodes) {
  const std::vector<uint8_t> good = cnn_engine_bytes();
  ASSERT_GT(good.size(), 200u);
  ASSERT_TRUE(Engine::deserialize(good).ok());

  for (size_t cut : {size_t{0}, size_t{7}, size_t{40}, good.size() / 2, good.size() - 1}) {
    std::vector<uint8_t> t(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    auto e = Engine::deserialize(t);
    ASSERT_FALSE(e.ok()) << cut;
    EXPECT_EQ(e.status().category(), Category::kEngineCorrupt) << cut << ": " << e.status().to_string();
  }

  // Weights section: offset and size at bytes 64 and 72 of the header (docs/engine-format.md).
  const uint64_t w_off = u64_at(good, 64), w_size = u64_at(good, 72);
  ASSERT_GT(w_size, 16u);
  std::vector<uint8_t> flipped = good;
  flipped[w_off + w_size / 2] ^= 0x10;
  EXPECT_EQ(Engine::deserialize(flipped).status().code(),
            static_cast<int>(Code::kEngineChecksumMismatch));

  std::vector<uint8_t> version = good;
  version[8] = 99;  // u32 format version at byte 8
  engine::restamp_checksum(version);
  auto v = Engine::deserialize(version);
  EXPECT_EQ(v.status().code(), static_cast<int>(Code::kEngineVersionMismatch));
  EXPECT_NE(v.status().message().find("99"), std::string::npos) << v.status().message();

  // An engine written for a machine with a feature this one lacks (a real writer, not a patch).
  auto data = engine::read_engine_any_target({good.data(), good.size()});
  auto model = engine::read_engine_model({good.data(), good.size()});
  ASSERT_TRUE(data.ok() && model.ok());
  data->target.features.push_back("avx1024_never");
  auto forged = engine::write_engine(*data, **model);
  ASSERT_TRUE(forged.ok()) << forged.status().to_string();
  auto f = Engine::deserialize(*forged);
  EXPECT_EQ(f.status().code(), static_cast<int>(Code::kEngineTargetMismatch));
  EXPECT_EQ(f.status().category(), Category::kEngineIncompatible);
  EXPECT_NE(f.status().message().find("avx1024_never"), std::string::npos);
  EXPECT_NE(f.status().message().find(engine::host_fingerprint().to_string()), std::string::npos)
      << f.status().message();
  EXPECT_NE(f.status().message().find("Rebuild the engine on this machine"), std::string::npos);
}

TEST(RuntimeEngineFile, MissingFileIsIoErrorAndOnnxFileIsNotAnEngine) {
  EXPECT_EQ(Engine::load("/nonexistent/model.engine").status().code(),
            static_cast<int>(Code::kFileNotFound));
  const std::string onnx = relu_model().bytes();
  auto e = Engine::deserialize(std::vector<uint8_t>(onnx.begin(), onnx.end()));
  EXPECT_EQ(e.status().code(), static_cast<int>(Code::kEngineBadMagic));
}

}  // namespace
}  // namespace kiln::test
