// Tests for the INT8 calibration cache: exact text, bit-exact round trips (names with ':', '%',
// line breaks), file I/O, the checks against a build, and every malformed-file case.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "calib/calib_cache.h"
#include "core/errors.h"
#include "kiln/kiln.h"

namespace kiln::calib {
namespace {

namespace fs = std::filesystem;

constexpr int kMalformed = static_cast<int>(Code::kCalibCacheMalformed);
constexpr int kMismatch = static_cast<int>(Code::kCalibCacheMismatch);
constexpr int kIncomplete = static_cast<int>(Code::kCalibCacheIncomplete);
constexpr int kFileNotFound = static_cast<int>(Code::kFileNotFound);
constexpr int kFileWriteFailed = static_cast<int>(Code::kFileWriteFailed);

CacheData sample_cache() {
  CacheData d;
  d.kiln_version = version();
  d.algorithm = Algorithm::kPercentile;
  d.percentile = 99.99;
  d.model_key = "3f9a0c17d2e4b5a6";
  d.samples = 512;
  d.scales["conv1_out"] = 0.0123456791f;
  d.scales["a:b"] = 1.5f;
  d.scales["50%"] = 2.0f;
  d.scales["line\nbreak\r"] = 0.25f;
  return d;
}

// The header of a valid cache followed by `body` (tensor lines).
std::string with_header(const std::string& body) {
  return str("kiln-calibration-cache 1\nkiln-version: ", version(),
             "\nalgorithm: entropy\nmodel: abc\nsamples: 8\n", body);
}

TEST(CalibCache, ExactText) {
  CacheData d;
  d.kiln_version = "0.1.0";
  d.algorithm = Algorithm::kPercentile;
  d.percentile = 99.99;
  d.model_key = "beef";
  d.samples = 500;
  d.scales["z"] = 0.5f;
  d.scales["a:1"] = 0.1f;
  d.scales["b%\n"] = 3.0f;
  EXPECT_EQ(write_cache(d),
            "kiln-calibration-cache 1\n"
            "kiln-version: 0.1.0\n"
            "algorithm: percentile 99.99\n"
            "model: beef\n"
            "samples: 500\n"
            "a%3A1: 0.100000001\n"
            "b%25%0A: 3\n"
            "z: 0.5\n");
  d.algorithm = Algorithm::kMinMax;
  EXPECT_NE(write_cache(d).find("\nalgorithm: minmax\n"), std::string::npos);
}

TEST(CalibCache, RoundTripIsBitExact) {
  CacheData d = sample_cache();
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    // Random positive finite floats over the whole exponent range, subnormals included.
    float v;
    do {
      v = std::bit_cast<float>(static_cast<uint32_t>(rng()) & 0x7fffffffu);
    } while (!std::isfinite(v) || v == 0.0f);
    d.scales[str("t", i)] = v;
  }
  d.scales["tiny"] = std::numeric_limits<float>::denorm_min();
  d.scales["huge"] = std::numeric_limits<float>::max();
  const std::string text = write_cache(d);
  Result<CacheData> back = parse_cache(text, "mem");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_TRUE(*back == d);
  for (const auto& [name, scale] : d.scales) {
    ASSERT_TRUE(back->scales.count(name)) << name;
    EXPECT_EQ(std::bit_cast<uint32_t>(back->scales.at(name)), std::bit_cast<uint32_t>(scale))
        << name;
  }
  EXPECT_EQ(back->scales.count("a:b"), 1u);
  EXPECT_EQ(back->scales.count("50%"), 1u);
  EXPECT_EQ(back->scales.count("line\nbreak\r"), 1u);
  EXPECT_EQ(write_cache(*back), text);
}

TEST(CalibCache, TensorLinesAreSortedAndHoldOneColon) {
  const std::string text = write_cache(sample_cache());
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  ASSERT_EQ(lines.size(), 9u);
  for (size_t i = 5; i < lines.size(); ++i)
    EXPECT_EQ(std::count(lines[i].begin(), lines[i].end(), ':'), 1) << lines[i];
  for (size_t i = 6; i < lines.size(); ++i) EXPECT_LT(lines[i - 1], lines[i]);
}

TEST(CalibCache, ReadsCrlfAndBlankLines) {
  std::string text = with_header("x: 0.5\n\ny: 0.25\n");
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  Result<CacheData> r = parse_cache(crlf, "crlf");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->scales.size(), 2u);
  EXPECT_EQ(r->scales.at("y"), 0.25f);
  EXPECT_EQ(r->algorithm, Algorithm::kEntropy);
  EXPECT_EQ(r->model_key, "abc");
  EXPECT_EQ(r->samples, 8u);
}

class CalibCacheFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("kiln_calib_cache_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(CalibCacheFiles, SaveAndLoad) {
  const std::string path = (dir_ / "model.calib").string();
  const CacheData d = sample_cache();
  ASSERT_TRUE(save_cache(path, d).ok());
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  Result<CacheData> back = load_cache(path);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_TRUE(*back == d);
  // Overwriting replaces the file.
  CacheData d2 = d;
  d2.samples = 1;
  ASSERT_TRUE(save_cache(path, d2).ok());
  EXPECT_EQ(load_cache(path)->samples, 1u);
}

TEST_F(CalibCacheFiles, IoErrors) {
  Result<CacheData> missing = load_cache((dir_ / "nope.calib").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), kFileNotFound);
  EXPECT_NE(missing.status().message().find("nope.calib"), std::string::npos);
  Status s = save_cache((dir_ / "no_dir" / "x.calib").string(), sample_cache());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), kFileWriteFailed);
  EXPECT_NE(s.message().find("x.calib"), std::string::npos);
  // Malformed content names the path.
  const std::string bad = (dir_ / "bad.calib").string();
  std::ofstream(bad) << "TRT-8601-EntropyCalibration2\n";
  Result<CacheData> r = load_cache(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kMalformed);
  EXPECT_NE(r.status().message().find(bad), std::string::npos);
}

// ---- check_cache ------------------------------------------------------------------------------

TEST(CalibCache, CheckAcceptsMatchingCache) {
  const CacheData d = sample_cache();
  EXPECT_TRUE(check_cache(d, "3f9a0c17d2e4b5a6", {"conv1_out", "a:b"}).ok());
  EXPECT_TRUE(check_cache(d, "3f9a0c17d2e4b5a6", {}).ok());
}

TEST(CalibCache, CheckRejectsOtherModel) {
  Status s = check_cache(sample_cache(), "0000111122223333", {"conv1_out"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), kMismatch);
  EXPECT_EQ(s.category(), Category::kCalibrationFailed);
  EXPECT_NE(s.message().find("3f9a0c17d2e4b5a6"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("0000111122223333"), std::string::npos) << s.message();
}

TEST(CalibCache, CheckRejectsOtherKilnVersion) {
  CacheData d = sample_cache();
  d.kiln_version = "0.0.7";
  Status s = check_cache(d, d.model_key, {"conv1_out"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), kMismatch);
  EXPECT_NE(s.message().find("kiln 0.0.7"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(str("kiln ", version())), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("model"), std::string::npos) << "the model matches";
}

TEST(CalibCache, CheckRejectsMissingTensors) {
  std::vector<std::string> needed = {"conv1_out"};
  for (int i = 0; i < 7; ++i) needed.push_back(str("layer", i));
  Status s = check_cache(sample_cache(), "3f9a0c17d2e4b5a6", needed);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), kIncomplete);
  const std::string& m = s.message();
  EXPECT_NE(m.find("7 of the 8"), std::string::npos) << m;
  for (int i = 0; i < 5; ++i) EXPECT_NE(m.find(str("'layer", i, "'")), std::string::npos) << m;
  EXPECT_EQ(m.find("'layer5'"), std::string::npos) << m;
  EXPECT_NE(m.find("2 more"), std::string::npos) << m;
  EXPECT_EQ(m.find("conv1_out"), std::string::npos) << m;
}

// ---- Malformed files --------------------------------------------------------------------------

struct MalformedCase {
  const char* what;
  std::string text;
  int line;              // line number the message must name (0: none, the text ended early)
  std::string mentions;  // a value the message must quote
};

TEST(CalibCache, EveryMalformedCaseIsRejectedWithFileAndLine) {
  const std::string v = version();
  const std::vector<MalformedCase> cases = {
      {"empty", "", 0, "is empty"},
      {"other format", "TRT-8601-EntropyCalibration2\nx: 3c010a14\n", 1,
       "TRT-8601-EntropyCalibration2"},
      {"newer version", "kiln-calibration-cache 2\n", 1, "'2'"},
      {"truncated header", "kiln-calibration-cache 1\nkiln-version: 1\n", 0, "'algorithm:'"},
      {"wrong header order", "kiln-calibration-cache 1\nalgorithm: entropy\nkiln-version: 1\n", 2,
       "kiln-version"},
      {"unknown algorithm",
       "kiln-calibration-cache 1\nkiln-version: 1\nalgorithm: kl\nmodel: m\nsamples: 1\n", 3,
       "'kl'"},
      {"bad percentile",
       "kiln-calibration-cache 1\nkiln-version: 1\nalgorithm: percentile 101\nmodel: m\n"
       "samples: 1\n",
       3, "'101'"},
      {"argument to entropy",
       "kiln-calibration-cache 1\nkiln-version: 1\nalgorithm: entropy 5\nmodel: m\nsamples: 1\n", 3,
       "'5'"},
      {"bad samples",
       "kiln-calibration-cache 1\nkiln-version: 1\nalgorithm: minmax\nmodel: m\nsamples: -4\n", 5,
       "'-4'"},
      {"no colon", with_header("conv1 0.5\n"), 6, "conv1 0.5"},
      {"two colons", with_header("a:b: 0.5\n"), 6, "a:b: 0.5"},
      {"bad scale", with_header("conv1: 0.5x\n"), 6, "'0.5x'"},
      {"empty scale", with_header("conv1:\n"), 6, "conv1"},
      {"negative scale", with_header("conv1: -0.5\n"), 6, "-0.5"},
      {"zero scale", with_header("conv1: 0\n"), 6, "conv1"},
      {"infinite scale", with_header("x: 0.1\nconv1: inf\n"), 7, "inf"},
      {"nan scale", with_header("conv1: nan\n"), 6, "nan"},
      {"out-of-range scale", with_header("conv1: 1e999\n"), 6, "1e999"},
      {"duplicate tensor", with_header("conv1: 0.5\nrelu: 1\nconv1: 0.5\n"), 8, "'conv1'"},
      {"duplicate after unescaping", with_header("a%3Ab: 0.5\na%3ab: 0.5\n"), 7, "'a%3Ab'"},
      {"unknown escape", with_header("a%41: 0.5\n"), 6, "'%41'"},
      {"short escape", with_header("a%2: 0.5\n"), 6, "'%2'"},
      {"escape at end", with_header("ab%: 0.5\n"), 6, "'%'"},
      {"empty name", with_header(": 0.5\n"), 6, "empty tensor name"},
  };
  for (const MalformedCase& c : cases) {
    Result<CacheData> r = parse_cache(c.text, "cache.txt");
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), kMalformed) << c.what;
    EXPECT_EQ(r.status().category(), Category::kCalibrationFailed) << c.what;
    const std::string& m = r.status().message();
    EXPECT_NE(m.find("'cache.txt'"), std::string::npos) << c.what << ": " << m;
    if (c.line > 0) {
      EXPECT_NE(m.find(str("line ", c.line, ":")), std::string::npos) << c.what << ": " << m;
    }
    EXPECT_NE(m.find(c.mentions), std::string::npos) << c.what << ": " << m;
  }
}

}  // namespace
}  // namespace kiln::calib
