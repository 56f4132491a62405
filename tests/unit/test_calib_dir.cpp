// Tests for the batch-directory calibrator (each layout, manifest path checks, empty and mixed
// directories), batch validation against the model's inputs, and the sample-count check.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "calib/batch_dir.h"
#include "core/errors.h"
#include "core/npy.h"

namespace kiln::calib {
namespace {

namespace fs = std::filesystem;

constexpr int kNoData = static_cast<int>(Code::kCalibNoData);
constexpr int kTooFewSamples = static_cast<int>(Code::kCalibTooFewSamples);
constexpr int kInputUnknown = static_cast<int>(Code::kCalibInputUnknown);
constexpr int kInputMissing = static_cast<int>(Code::kCalibInputMissing);
constexpr int kInputType = static_cast<int>(Code::kCalibInputType);
constexpr int kInputShape = static_cast<int>(Code::kCalibInputShape);
constexpr int kInputNonFinite = static_cast<int>(Code::kCalibInputNonFinite);
constexpr int kLayoutInvalid = static_cast<int>(Code::kCalibLayoutInvalid);
constexpr int kPathEscape = static_cast<int>(Code::kCalibPathEscape);
constexpr int kFileNotFound = static_cast<int>(Code::kFileNotFound);

using Batch = std::vector<std::pair<std::string, Tensor>>;

// A float32 tensor of `shape` whose elements are `first`, first + 1, ...
Tensor filled(std::vector<int64_t> shape, float first, DataType dtype = DataType::kFloat32) {
  Result<Tensor> t = Tensor::allocate(dtype, std::move(shape));
  EXPECT_TRUE(t.ok());
  if (dtype == DataType::kFloat32) {
    float* p = t->data_as<float>();
    for (int64_t i = 0; i < t->numel(); ++i) p[i] = first + static_cast<float>(i);
  }
  return std::move(t).value();
}

float first_value(const Tensor& t) {
  return t.data_as<float>()[0];
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class CalibDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kiln_calib_dir_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string data() const { return (dir_ / "data").string(); }
  void write(const std::string& rel, const Tensor& t) {
    const fs::path p = dir_ / "data" / rel;
    fs::create_directories(p.parent_path());
    ASSERT_TRUE(npy::write_file(p.string(), t).ok()) << p;
  }
  void write_text(const std::string& rel, const std::string& text) {
    std::ofstream(dir_ / "data" / rel) << text;
  }
  // Every batch of a calibrator, in order.
  static std::vector<Batch> drain(Calibrator& c) {
    std::vector<Batch> out;
    for (;;) {
      Result<std::optional<Batch>> b = c.next_batch();
      EXPECT_TRUE(b.ok()) << b.status().to_string();
      if (!b.ok() || !b->has_value()) return out;
      out.push_back(std::move(**b));
    }
  }

  fs::path dir_;
};

// ---- Layouts ----------------------------------------------------------------------------------

TEST_F(CalibDir, FlatFilesAreBatchesOfTheSingleInput) {
  write("b_002.npy", filled({2, 3}, 20));
  write("a_001.npy", filled({1, 3}, 10));
  write("c_003.npy", filled({4, 3}, 30));
  write_text("README.txt", "not data");
  write(".hidden.npy", filled({1, 3}, 99));
  Result<std::unique_ptr<DirCalibrator>> cal = DirCalibrator::open(data(), {"images"});
  ASSERT_TRUE(cal.ok()) << cal.status().to_string();
  EXPECT_EQ((*cal)->layout(), DirCalibrator::Layout::kFiles);
  ASSERT_EQ((*cal)->num_batches(), 3u);
  EXPECT_TRUE(contains((*cal)->batch_source(1), "b_002.npy"));
  std::vector<Batch> batches = drain(**cal);
  ASSERT_EQ(batches.size(), 3u);
  const float firsts[] = {10, 20, 30};
  uint64_t samples = 0;
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(batches[i].size(), 1u);
    EXPECT_EQ(batches[i][0].first, "images");
    EXPECT_EQ(first_value(batches[i][0].second), firsts[i]);
    samples += batch_samples(batches[i]);
  }
  EXPECT_EQ(samples, 7u);
  // reset() starts over.
  (*cal)->reset();
  EXPECT_EQ(drain(**cal).size(), 3u);
}

TEST_F(CalibDir, FlatFilesNeedASingleInputModel) {
  write("a.npy", filled({1, 3}, 0));
  Result<std::unique_ptr<DirCalibrator>> cal =
      DirCalibrator::open(data(), {"input_ids", "attention_mask"});
  ASSERT_FALSE(cal.ok());
  EXPECT_EQ(cal.status().code(), kLayoutInvalid);
  EXPECT_TRUE(contains(cal.status().message(), "'input_ids', 'attention_mask'"))
      << cal.status().message();
  EXPECT_TRUE(contains(cal.status().message(), data()));
  EXPECT_TRUE(contains(cal.status().fix(), "manifest.json"));
}

TEST_F(CalibDir, SubdirectoriesAreBatchesOfNamedInputs) {
  write("batch1/ids.npy", filled({2, 8}, 100));
  write("batch1/mask.npy", filled({2, 8}, 200));
  write("batch0/ids.npy", filled({1, 8}, 0));
  write("batch0/mask.npy", filled({1, 8}, 50));
  write_text("batch0/notes.txt", "ignored");
  Result<std::unique_ptr<DirCalibrator>> cal = DirCalibrator::open(data(), {"ids", "mask"});
  ASSERT_TRUE(cal.ok()) << cal.status().to_string();
  EXPECT_EQ((*cal)->layout(), DirCalibrator::Layout::kSubdirs);
  std::vector<Batch> batches = drain(**cal);
  ASSERT_EQ(batches.size(), 2u);
  ASSERT_EQ(batches[0].size(), 2u);
  EXPECT_EQ(batches[0][0].first, "ids");
  EXPECT_EQ(first_value(batches[0][0].second), 0.0f);
  EXPECT_EQ(batches[0][1].first, "mask");
  EXPECT_EQ(first_value(batches[1][1].second), 200.0f);
  const std::vector<InputSpec> spec = {{"ids", DataType::kFloat32, {1, 8}, {4, 8}},
                                       {"mask", DataType::kFloat32, {1, 8}, {4, 8}}};
  for (size_t i = 0; i < batches.size(); ++i) EXPECT_TRUE(validate_batch(batches[i], spec, i).ok());
  EXPECT_EQ(batch_samples(batches[0]) + batch_samples(batches[1]), 3u);
}

TEST_F(CalibDir, ManifestTakesPrecedence) {
  write("loose.npy", filled({1, 2}, 7));  // would be layout (a) without the manifest
  write("x/first.npy", filled({1, 2}, 1));
  write("x/second.npy", filled({1, 2}, 2));
  write("y/m.npy", filled({1, 2}, 3));
  write_text("manifest.json", R"({"batches": [
      {"a": "x/second.npy", "b": "y/m.npy"},
      {"a": "./x/first.npy", "b": "loose.npy"}]})");
  Result<std::unique_ptr<DirCalibrator>> cal = DirCalibrator::open(data(), {"a", "b"});
  ASSERT_TRUE(cal.ok()) << cal.status().to_string();
  EXPECT_EQ((*cal)->layout(), DirCalibrator::Layout::kManifest);
  EXPECT_TRUE(contains((*cal)->batch_source(1), "manifest.json batch 1"));
  std::vector<Batch> batches = drain(**cal);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0][0].first, "a");
  EXPECT_EQ(first_value(batches[0][0].second), 2.0f);
  EXPECT_EQ(first_value(batches[0][1].second), 3.0f);
  EXPECT_EQ(first_value(batches[1][0].second), 1.0f);
  EXPECT_EQ(first_value(batches[1][1].second), 7.0f);
}

TEST_F(CalibDir, ManifestPathsMustStayInside) {
  write("ok.npy", filled({1}, 0));
  fs::create_directories(dir_ / "outside");
  ASSERT_TRUE(npy::write_file((dir_ / "outside" / "secret.npy").string(), filled({1}, 0)).ok());
  fs::create_directory_symlink(dir_ / "outside", dir_ / "data" / "link");
  const std::string abs = (dir_ / "outside" / "secret.npy").string();
  write_text("manifest.json", R"({"batches": [{"a": "ok.npy"}, {"a": ")" + abs +
                                  R"("}, {"a": "../outside/secret.npy"}, {"a": "sub/../../x.npy"},
                                  {"a": "link/secret.npy"}]})");
  Result<std::unique_ptr<DirCalibrator>> cal = DirCalibrator::open(data(), {"a"});
  ASSERT_FALSE(cal.ok());
  EXPECT_EQ(cal.status().code(), kPathEscape);
  const std::string& m = cal.status().message();
  EXPECT_TRUE(contains(m, "4 file(s)")) << m;
  EXPECT_TRUE(contains(m, "batches[1][\"a\"] = '" + abs + "' is absolute")) << m;
  EXPECT_TRUE(contains(m, "batches[2][\"a\"] = '../outside/secret.npy' contains '..'")) << m;
  EXPECT_TRUE(contains(m, "batches[3]")) << m;
  EXPECT_TRUE(contains(m, "batches[4][\"a\"] = 'link/secret.npy' resolves to")) << m;
  EXPECT_FALSE(contains(m, "batches[0]")) << m;
}

TEST_F(CalibDir, ManifestMustBeWellFormed) {
  const std::pair<const char*, const char*> cases[] = {
      {"{\"batches\": [", "not valid JSON"},
      {"[1, 2]", "\"batches\" array"},
      {"{\"batches\": {}}", "\"batches\" array"},
      {"{\"batches\": [3]}", "batches[0] is not an object"},
      {"{\"batches\": [{\"a\": 5}]}", "batches[0][\"a\"] is not a string"},
      {"{\"batches\": [{\"a\": \"\"}]}", "empty path"},
  };
  for (const auto& [text, mentions] : cases) {
    write_text("manifest.json", text);
    Result<std::unique_ptr<DirCalibrator>> cal = DirCalibrator::open(data(), {"a"});
    ASSERT_FALSE(cal.ok()) << text;
    EXPECT_EQ(cal.status().code(), kLayoutInvalid) << text;
    EXPECT_TRUE(contains(cal.status().message(), "manifest.json")) << cal.status().message();
    EXPECT_TRUE(contains(cal.status().message(), mentions)) << cal.status().message();
  }
  write_text("manifest.json", "{\"batches\": []}");
  Result<std::unique_ptr<DirCalibrator>> none = DirCalibrator::open(data(), {"a"});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), kNoData);
  EXPECT_TRUE(contains(none.status().message(), "manifest.json"));
}

TEST_F(CalibDir, ManifestFileMissingFailsWhenRead) {
  write_text("manifest.json", R"({"batches": [{"a": "gone.npy"}]})");
  Result<std::unique_ptr<DirCalibrator>> cal = DirCalibrator::open(data(), {"a"});
  ASSERT_TRUE(cal.ok());
  auto b = (*cal)->next_batch();
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), kFileNotFound);
  EXPECT_TRUE(contains(b.status().message(), "gone.npy"));
}

TEST_F(CalibDir, EmptyDirectoryIsNoData) {
  write_text("README.txt", "only notes here");
  Result<std::unique_ptr<DirCalibrator>> cal = DirCalibrator::open(data(), {"x"});
  ASSERT_FALSE(cal.ok());
  EXPECT_EQ(cal.status().code(), kNoData);
  EXPECT_EQ(cal.status().category(), Category::kCalibrationFailed);
  EXPECT_TRUE(contains(cal.status().message(), "no calibration data"));
  EXPECT_TRUE(contains(cal.status().message(), data()));
  Result<std::unique_ptr<DirCalibrator>> missing =
      DirCalibrator::open((dir_ / "nope").string(), {"x"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), kFileNotFound);
}

TEST_F(CalibDir, MixedLayoutsAndEmptyBatchDirectoriesAreRefused) {
  write("a.npy", filled({1}, 0));
  write("b0/x.npy", filled({1}, 0));
  Result<std::unique_ptr<DirCalibrator>> mixed = DirCalibrator::open(data(), {"x"});
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.status().code(), kLayoutInvalid);
  EXPECT_TRUE(contains(mixed.status().message(), "'a.npy'")) << mixed.status().message();
  EXPECT_TRUE(contains(mixed.status().message(), "'b0'")) << mixed.status().message();

  fs::remove(dir_ / "data" / "a.npy");
  fs::create_directories(dir_ / "data" / "b1");
  Result<std::unique_ptr<DirCalibrator>> empty_batch = DirCalibrator::open(data(), {"x"});
  ASSERT_FALSE(empty_batch.ok());
  EXPECT_EQ(empty_batch.status().code(), kLayoutInvalid);
  EXPECT_TRUE(contains(empty_batch.status().message(), "'b1'")) << empty_batch.status().message();
}

TEST_F(CalibDir, BrokenNpyFileFailsWithItsPath) {
  write_text("bad.npy", "not numpy");
  Result<std::unique_ptr<DirCalibrator>> cal = DirCalibrator::open(data(), {"x"});
  ASSERT_TRUE(cal.ok());
  auto b = (*cal)->next_batch();
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(contains(b.status().message(), "bad.npy")) << b.status().to_string();
}

// ---- validate_batch ---------------------------------------------------------------------------

const std::vector<InputSpec> kSpec = {
    {"images", DataType::kFloat32, {1, 3, 224, 224}, {8, 3, 224, 224}},
    {"scale", DataType::kFloat32, {1}, {}},
};

Batch good_batch() {
  Batch b;
  b.emplace_back("images", filled({2, 3, 224, 224}, 0));
  b.emplace_back("scale", filled({1}, 1));
  return b;
}

TEST(ValidateBatch, GoodBatchPasses) {
  EXPECT_TRUE(validate_batch(good_batch(), kSpec, 0).ok());
  EXPECT_TRUE(batch_problems(good_batch(), kSpec, 0).empty());
  EXPECT_EQ(batch_samples(good_batch()), 2u);
}

TEST(ValidateBatch, UnknownInput) {
  Batch b = good_batch();
  b.emplace_back("imagez", filled({1}, 0));
  Status s = validate_batch(b, kSpec, 4);
  EXPECT_EQ(s.code(), kInputUnknown);
  EXPECT_TRUE(contains(s.message(), "batch 4")) << s.message();
  EXPECT_TRUE(contains(s.message(), "'imagez'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "'images', 'scale'")) << s.message();
  Batch twice = good_batch();
  twice.emplace_back("scale", filled({1}, 1));
  Status t = validate_batch(twice, kSpec, 5);
  EXPECT_EQ(t.code(), kInputUnknown);
  EXPECT_TRUE(contains(t.message(), "'scale' twice")) << t.message();
}

TEST(ValidateBatch, MissingInput) {
  Batch b = good_batch();
  b.pop_back();
  Status s = validate_batch(b, kSpec, 2);
  EXPECT_EQ(s.code(), kInputMissing);
  EXPECT_TRUE(contains(s.message(), "batch 2")) << s.message();
  EXPECT_TRUE(contains(s.message(), "'scale' (float32 [1])")) << s.message();
  EXPECT_TRUE(contains(s.fix(), "scale.npy"));
}

TEST(ValidateBatch, WrongDtype) {
  Batch b = good_batch();
  b[1].second = filled({1}, 0, DataType::kFloat64);
  Status s = validate_batch(b, kSpec, 3);
  EXPECT_EQ(s.code(), kInputType);
  EXPECT_TRUE(contains(s.message(), "batch 3 input 'scale' is float64, the model takes float32"))
      << s.message();
  EXPECT_TRUE(contains(s.fix(), "astype(numpy.float32)")) << s.fix();
}

TEST(ValidateBatch, WrongRank) {
  Batch b = good_batch();
  b[0].second = filled({3, 224, 224}, 0);
  Status s = validate_batch(b, kSpec, 1);
  EXPECT_EQ(s.code(), kInputShape);
  EXPECT_TRUE(contains(s.message(), "input 'images' has rank 3 [3,224,224]")) << s.message();
  EXPECT_TRUE(contains(s.message(), "rank 4 [1..8,3,224,224]")) << s.message();
  EXPECT_TRUE(contains(s.fix(), "numpy.newaxis")) << s.fix();
}

TEST(ValidateBatch, DimOutsideRange) {
  Batch b = good_batch();
  b[0].second = filled({16, 3, 224, 224}, 0);
  Status s = validate_batch(b, kSpec, 7);
  EXPECT_EQ(s.code(), kInputShape);
  EXPECT_TRUE(contains(s.message(),
                       "batch 7 input 'images' dim 0 = 16 is outside the built "
                       "range [1, 8]"))
      << s.message();
  b[0].second = filled({1, 3, 200, 224}, 0);
  Status fixed = validate_batch(b, kSpec, 7);
  EXPECT_EQ(fixed.code(), kInputShape);
  EXPECT_TRUE(contains(fixed.message(), "dim 2 = 200 is outside the model's fixed size 224"))
      << fixed.message();
  // An open upper bound accepts anything from min up.
  const std::vector<InputSpec> open = {{"x", DataType::kFloat32, {1, 4}, {-1, 4}}};
  Batch big;
  big.emplace_back("x", filled({1000, 4}, 0));
  EXPECT_TRUE(validate_batch(big, open, 0).ok());
}

TEST(ValidateBatch, NonFiniteFloatInput) {
  Batch b = good_batch();
  float* p = b[0].second.data_as<float>();
  p[10] = std::numeric_limits<float>::quiet_NaN();
  p[20] = -std::numeric_limits<float>::infinity();
  Status s = validate_batch(b, kSpec, 9);
  EXPECT_EQ(s.code(), kInputNonFinite);
  EXPECT_TRUE(contains(s.message(), "batch 9 input 'images' holds 2 NaN/Inf values"))
      << s.message();
  EXPECT_TRUE(contains(s.message(), "first at flat index 10")) << s.message();
}

TEST(ValidateBatch, ReportsEveryProblemInOrder) {
  Batch b;
  b.emplace_back("extra", filled({1}, 0));
  b.emplace_back("images", filled({1, 3, 224, 225}, 0));
  const std::vector<Status> problems = batch_problems(b, kSpec, 0);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].code(), kInputUnknown);
  EXPECT_EQ(problems[1].code(), kInputMissing);
  EXPECT_EQ(problems[2].code(), kInputShape);
  EXPECT_EQ(validate_batch(b, kSpec, 0).code(), kInputUnknown);
}

// ---- Sample count -----------------------------------------------------------------------------

TEST(SampleCount, EnoughIsQuiet) {
  Result<std::optional<std::string>> r = check_sample_count(500, 500, true);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(SampleCount, TooFewWarnsOrFails) {
  Result<std::optional<std::string>> warn = check_sample_count(32, 500, false);
  ASSERT_TRUE(warn.ok());
  ASSERT_TRUE(warn->has_value());
  EXPECT_TRUE(contains(**warn, "K8004")) << **warn;
  EXPECT_TRUE(contains(**warn, "32 samples")) << **warn;
  EXPECT_TRUE(contains(**warn, "500")) << **warn;
  Result<std::optional<std::string>> strict = check_sample_count(32, 500, true);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().code(), kTooFewSamples);
  EXPECT_TRUE(contains(strict.status().message(), "32 samples")) << strict.status().message();
  EXPECT_TRUE(contains(strict.status().message(), "500")) << strict.status().message();
}

TEST(SampleCount, BatchSamplesUseDimZero) {
  Batch b;
  EXPECT_EQ(batch_samples(b), 0u);
  b.emplace_back("scalar", filled({}, 0));
  EXPECT_EQ(batch_samples(b), 1u);
  b.emplace_back("x", filled({5, 2}, 0));
  b.emplace_back("y", filled({3, 2}, 0));
  EXPECT_EQ(batch_samples(b), 5u);
}

}  // namespace
}  // namespace kiln::calib
