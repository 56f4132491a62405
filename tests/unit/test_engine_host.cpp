// The machine side of engines: host fingerprint (checked against /proc/cpuinfo, which the
// kernel derives independently), target compatibility, and MappedFile.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "engine_test_util.h"

namespace kiln::engine {
namespace {

using namespace kiln::engine::test;
namespace fs = std::filesystem;

std::string squeeze(const std::string& s) {
  std::string out;
  for (char c : s) {
    if ((c == ' ' || c == '\t') && (out.empty() || out.back() == ' ')) continue;
    out += c == '\t' ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// "flags" and "model name" of the first processor in /proc/cpuinfo.
bool read_cpuinfo(std::set<std::string>& flags, std::string& model) {
  std::ifstream in("/proc/cpuinfo");
  if (!in) return false;
  std::string line;
  bool got_flags = false;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = squeeze(line.substr(0, colon));
    const std::string value = squeeze(line.substr(colon + 1));
    if (key == "model name" && model.empty()) model = value;
    if (key == "flags" && !got_flags) {
      std::istringstream ss(value);
      for (std::string f; ss >> f;) flags.insert(f);
      got_flags = true;
    }
  }
  return got_flags;
}

TEST(HostFingerprint, IsACpuOfTheCompiledArchitectureWithSortedFeatures) {
  const Fingerprint& h = host_fingerprint();
  EXPECT_EQ(h.device, "cpu");
#if defined(__x86_64__)
  EXPECT_EQ(h.arch, "x86_64");
#elif defined(__aarch64__)
  EXPECT_EQ(h.arch, "aarch64");
#endif
  EXPECT_TRUE(std::is_sorted(h.features.begin(), h.features.end()));
  EXPECT_EQ(std::adjacent_find(h.features.begin(), h.features.end()), h.features.end());
  EXPECT_EQ(&host_fingerprint(), &h);  // computed once
}

#if defined(__x86_64__)
TEST(HostFingerprint, FeaturesAgreeWithProcCpuinfo) {
  std::set<std::string> flags;
  std::string model;
  if (!read_cpuinfo(flags, model)) GTEST_SKIP() << "no /proc/cpuinfo flags";
  // kiln's name → the kernel's flag name. The kernel hides features whose register state the
  // OS does not enable, as kiln's XCR0 check does.
  const std::map<std::string, std::string> kernel_name = {
      {"sse2", "sse2"},
      {"sse3", "pni"},
      {"ssse3", "ssse3"},
      {"sse4_1", "sse4_1"},
      {"sse4_2", "sse4_2"},
      {"popcnt", "popcnt"},
      {"avx", "avx"},
      {"fma", "fma"},
      {"f16c", "f16c"},
      {"bmi1", "bmi1"},
      {"bmi2", "bmi2"},
      {"avx2", "avx2"},
      {"avx512f", "avx512f"},
      {"avx512dq", "avx512dq"},
      {"avx512cd", "avx512cd"},
      {"avx512bw", "avx512bw"},
      {"avx512vl", "avx512vl"},
      {"avx512_vbmi", "avx512vbmi"},
      {"avx512_vnni", "avx512_vnni"},
      {"avx512_fp16", "avx512_fp16"},
      {"avx512_bf16", "avx512_bf16"},
      {"avx_vnni", "avx_vnni"},
      {"amx_bf16", "amx_bf16"},
      {"amx_tile", "amx_tile"},
      {"amx_int8", "amx_int8"},
  };
  const auto& mine = host_fingerprint().features;
  for (const auto& [kiln, kernel] : kernel_name) {
    const bool has = std::find(mine.begin(), mine.end(), kiln) != mine.end();
    EXPECT_EQ(has, flags.count(kernel) == 1) << kiln << " (cpuinfo: " << kernel << ")";
  }
  const auto in_cpuinfo =
      std::count_if(kernel_name.begin(), kernel_name.end(),
                    [&](const auto& kv) { return flags.count(kv.second) == 1; });
  EXPECT_EQ(mine.size(), static_cast<size_t>(in_cpuinfo));
  if (!model.empty()) {
    EXPECT_EQ(host_fingerprint().cpu_name, model);
  }
}
#endif

TEST(Fingerprint, ToStringListsDeviceArchFeaturesAndName) {
  Fingerprint f{"cpu", "x86_64", "Some CPU", {"avx", "avx2", "fma"}};
  EXPECT_EQ(f.to_string(), "cpu x86_64 [avx, avx2, fma] (Some CPU)");
  EXPECT_EQ(Fingerprint{}.to_string(), "? ? []");
}

TEST(Fingerprint, MissingCapabilities) {
  const Fingerprint host{"cpu", "x86_64", "Host", {"avx", "avx2", "fma"}};
  EXPECT_TRUE(missing_capabilities(host, host).empty());
  // The CPU name is informational only.
  EXPECT_TRUE(missing_capabilities({"cpu", "x86_64", "Other", {"avx2"}}, host).empty());
  // Empty device/arch place no constraint.
  EXPECT_TRUE(missing_capabilities({"", "", "", {}}, host).empty());
  EXPECT_EQ(missing_capabilities({"cuda", "x86_64", "", {}}, host),
            std::vector<std::string>{"device cuda"});
  EXPECT_EQ(missing_capabilities({"cpu", "aarch64", "", {"avx512f", "fma", "amx_tile"}}, host),
            (std::vector<std::string>{"arch aarch64", "avx512f", "amx_tile"}));
}

// ---- MappedFile -------------------------------------------------------------------------------

class MappedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln_mapped_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(MappedFileTest, MissingFileIsFileNotFound) {
  auto r = MappedFile::open((dir_ / "nope.engine").string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), static_cast<int>(Code::kFileNotFound));
  EXPECT_NE(r.status().message().find("nope.engine"), std::string::npos);
  EXPECT_EQ(MappedFile::open((dir_ / "no_dir" / "x.engine").string()).status().code(),
            static_cast<int>(Code::kFileNotFound));
}

TEST_F(MappedFileTest, DirectoryIsUnreadable) {
  auto r = MappedFile::open(dir_.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), static_cast<int>(Code::kFileUnreadable));
}

TEST_F(MappedFileTest, FifoIsRefusedWithoutWaitingForAWriter) {
  const fs::path p = dir_ / "pipe.engine";
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  EXPECT_EQ(MappedFile::open(p.string()).status().code(), static_cast<int>(Code::kFileUnreadable));
}

TEST_F(MappedFileTest, UnreadableFileIsUnreadable) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads files regardless of permissions";
  const fs::path p = dir_ / "secret.engine";
  std::ofstream(p) << "x";
  ::chmod(p.c_str(), 0);
  EXPECT_EQ(MappedFile::open(p.string()).status().code(), static_cast<int>(Code::kFileUnreadable));
}

TEST_F(MappedFileTest, EmptyFileMapsToNothingAndIsATruncatedEngine) {
  const fs::path p = dir_ / "empty.engine";
  std::ofstream(p).close();
  auto r = MappedFile::open(p.string());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)->bytes().size, 0u);
  EXPECT_EQ((*r)->bytes().data, nullptr);
  EXPECT_EQ(read_engine((*r)->bytes(), host_fingerprint()).status().code(),
            static_cast<int>(Code::kEngineTruncated));
}

TEST_F(MappedFileTest, MapsTheWholeFileReadOnly) {
  const fs::path p = dir_ / "bytes.bin";
  std::string content(10000, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7);
  std::ofstream(p, std::ios::binary) << content;
  auto r = MappedFile::open(p.string());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ((*r)->bytes().size, content.size());
  EXPECT_EQ(std::memcmp((*r)->bytes().data, content.data(), content.size()), 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>((*r)->bytes().data) % 4096, 0u);  // page aligned
  // The mapping outlives the path.
  fs::remove(p);
  EXPECT_EQ(std::memcmp((*r)->bytes().data, content.data(), content.size()), 0);
}

}  // namespace
}  // namespace kiln::engine
