// Damaged, forged and foreign files: every one is a coded error (never a crash), and the code
// names the real cause in the documented order: magic, size, version, checksum, structure,
// target.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "core/errors.h"
#include "engine_test_util.h"

namespace kiln::engine {
namespace {

using namespace kiln::engine::test;

constexpr int kBadMagic = static_cast<int>(Code::kEngineBadMagic);
constexpr int kChecksum = static_cast<int>(Code::kEngineChecksumMismatch);
constexpr int kTruncated = static_cast<int>(Code::kEngineTruncated);
constexpr int kMalformed = static_cast<int>(Code::kEngineMalformed);
constexpr int kVersion = static_cast<int>(Code::kEngineVersionMismatch);
constexpr int kTarget = static_cast<int>(Code::kEngineTargetMismatch);

std::vector<uint8_t> rich_engine() {
  auto m = make_rich_model();
  return write_or_die(make_engine_data(*m), *m);
}

uint64_t load_u64(const std::vector<uint8_t>& f, size_t at) {
  uint64_t v;
  std::memcpy(&v, f.data() + at, 8);
  return v;
}
void store_u64(std::vector<uint8_t>& f, size_t at, uint64_t v) {
  std::memcpy(&f[at], &v, 8);
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Offset of `needle` inside [from, to) of `f`; fails the test when absent or not unique.
size_t find_unique(const std::vector<uint8_t>& f, const std::string& needle, size_t from = 0,
                   size_t to = SIZE_MAX) {
  to = std::min(to, f.size());
  auto first = std::search(f.begin() + from, f.begin() + to, needle.begin(), needle.end());
  EXPECT_NE(first, f.begin() + to) << "'" << needle << "' not found";
  if (first == f.begin() + to) return 0;
  auto second = std::search(first + 1, f.begin() + to, needle.begin(), needle.end());
  EXPECT_EQ(second, f.begin() + to) << "'" << needle << "' found twice";
  return static_cast<size_t>(first - f.begin());
}

TEST(EngineCorrupt, EveryTruncationIsReportedAsTruncated) {
  const std::vector<uint8_t> file = rich_engine();
  ASSERT_GT(file.size(), 1000u);
  for (size_t cut = 0; cut < file.size(); ++cut) {
    // A fresh buffer of exactly `cut` bytes, so ASan sees any read past it.
    std::vector<uint8_t> part(file.begin(), file.begin() + static_cast<ptrdiff_t>(cut));
    ByteSpan s{part.empty() ? nullptr : part.data(), part.size()};
    auto r = read_engine(s, host_fingerprint());
    ASSERT_FALSE(r.ok()) << "cut at " << cut;
    ASSERT_EQ(r.status().code(), kTruncated) << "cut at " << cut << ": " << r.status().to_string();
    auto m = read_engine_model(s);
    ASSERT_FALSE(m.ok()) << "cut at " << cut;
    ASSERT_EQ(m.status().code(), kTruncated) << "cut at " << cut;
  }
}

TEST(EngineCorrupt, TruncationMessageNamesBothSizes) {
  std::vector<uint8_t> file = rich_engine();
  const size_t full = file.size();
  file.resize(full - 100);
  auto r = read_engine(span(file), host_fingerprint());
  ASSERT_EQ(r.status().code(), kTruncated);
  EXPECT_TRUE(contains(r.status().message(), std::to_string(full))) << r.status().message();
  EXPECT_TRUE(contains(r.status().message(), "100 bytes missing")) << r.status().message();
}

TEST(EngineCorrupt, TrailingBytesAreMalformed) {
  std::vector<uint8_t> file = rich_engine();
  file.push_back(0);
  EXPECT_EQ(read_engine(span(file), host_fingerprint()).status().code(), kMalformed);
}

TEST(EngineCorrupt, EveryFlippedByteIsCaughtByTheRightCheck) {
  const std::vector<uint8_t> file = rich_engine();
  for (size_t at = 0; at < file.size(); ++at) {
    std::vector<uint8_t> bad = file;
    bad[at] ^= 0x5A;
    auto r = read_engine(span(bad), host_fingerprint());
    ASSERT_FALSE(r.ok()) << "byte " << at;
    // Magic, version and declared size are checked before the checksum; everything else
    // (header size and section table included) is covered by it.
    int want = kChecksum;
    if (at < 8) want = kBadMagic;
    if (at >= 8 && at < 12) want = kVersion;
    if (at >= 16 && at < 24) want = load_u64(bad, 16) > bad.size() ? kTruncated : kMalformed;
    ASSERT_EQ(r.status().code(), want) << "byte " << at << ": " << r.status().to_string();
  }
}

TEST(EngineCorrupt, FlippedWeightByteIsAChecksumMismatch) {
  std::vector<uint8_t> file = rich_engine();
  const uint64_t weights = load_u64(file, 64);
  file[weights + 1] ^= 1;
  auto r = read_engine(span(file), host_fingerprint());
  ASSERT_EQ(r.status().code(), kChecksum) << r.status().to_string();
  EXPECT_TRUE(contains(r.status().message(), "XXH3")) << r.status().message();
  EXPECT_EQ(r.status().category(), Category::kEngineCorrupt);
}

TEST(EngineCorrupt, OtherFormatVersionIsIncompatible) {
  std::vector<uint8_t> file = rich_engine();
  const uint32_t v2 = kFormatVersion + 1;
  std::memcpy(&file[8], &v2, 4);
  // Checked before the checksum: no re-stamp needed, and none helps.
  for (bool restamp : {false, true}) {
    if (restamp) restamp_checksum(file);
    auto r = read_engine(span(file), host_fingerprint());
    ASSERT_EQ(r.status().code(), kVersion) << r.status().to_string();
    EXPECT_EQ(r.status().category(), Category::kEngineIncompatible);
    EXPECT_TRUE(contains(r.status().message(), "engine format version " + std::to_string(v2) +
                                                   ", this kiln reads " +
                                                   std::to_string(kFormatVersion)))
        << r.status().message();
    EXPECT_TRUE(contains(r.status().message(), "rebuild")) << r.status().message();
    EXPECT_EQ(read_engine_model(span(file)).status().code(), kVersion);
  }
}

TEST(EngineCorrupt, EngineForAnotherArchitectureIsIncompatible) {
  auto m = make_rich_model();
  EngineData d = make_engine_data(*m);
  d.target.arch = host_fingerprint().arch == "aarch64" ? "x86_64" : "aarch64";
  std::vector<uint8_t> file = write_or_die(d, *m);
  auto r = read_engine(span(file), host_fingerprint());
  ASSERT_EQ(r.status().code(), kTarget) << r.status().to_string();
  const std::string& msg = r.status().message();
  EXPECT_TRUE(contains(msg, d.target.to_string())) << msg;
  EXPECT_TRUE(contains(msg, host_fingerprint().to_string())) << msg;
  EXPECT_TRUE(contains(msg, "missing: arch " + d.target.arch)) << msg;
  EXPECT_TRUE(contains(msg, "Rebuild the engine on this machine")) << msg;
  // The graph itself is fine: read_engine_model does not judge the target.
  EXPECT_TRUE(read_engine_model(span(file)).ok());
}

TEST(EngineCorrupt, ForgedTargetFeatureNeedsARestampAndIsThenIncompatible) {
  auto m = make_rich_model();
  EngineData d = make_engine_data(*m);
  const std::string placeholder = "zzzzzzzzzzzzzzzzz";
  const std::string forged = "avx512_fp16_never";
  ASSERT_EQ(placeholder.size(), forged.size());
  d.target.features.push_back(placeholder);
  Fingerprint host = host_fingerprint();
  host.features.push_back(placeholder);  // this "host" accepts the engine as written
  std::vector<uint8_t> file = write_or_die(d, *m);
  ASSERT_TRUE(read_engine(span(file), host).ok());

  const size_t at = find_unique(file, placeholder);
  std::copy(forged.begin(), forged.end(), file.begin() + static_cast<ptrdiff_t>(at));
  EXPECT_EQ(read_engine(span(file), host).status().code(), kChecksum);
  restamp_checksum(file);
  auto r = read_engine(span(file), host);
  ASSERT_EQ(r.status().code(), kTarget) << r.status().to_string();
  EXPECT_TRUE(contains(r.status().message(), "missing: avx512_fp16_never")) << r.status().message();
  EXPECT_TRUE(contains(r.status().message(), host.to_string())) << r.status().message();
}

TEST(EngineCorrupt, HostWithoutTheTargetsFeaturesIsIncompatible) {
  auto m = make_rich_model();
  EngineData d = make_engine_data(*m);
  d.target.features = {"avx512f", "amx_tile"};
  std::vector<uint8_t> file = write_or_die(d, *m);
  Fingerprint old_host{"cpu", host_fingerprint().arch, "Old CPU", {"avx", "sse4_2"}};
  auto r = read_engine(span(file), old_host);
  ASSERT_EQ(r.status().code(), kTarget);
  EXPECT_TRUE(contains(r.status().message(), "missing: avx512f, amx_tile")) << r.status().message();
  EXPECT_TRUE(contains(r.status().message(), "(Old CPU)")) << r.status().message();
}

TEST(EngineCorrupt, OnnxFileIsNotAnEngine) {
  // The first bytes of a typical ONNX model: field 1 (ir_version) = 8, field 8 (opset_import).
  const std::vector<uint8_t> onnx = {0x08, 0x08, 0x12, 0x07, 'p',  'y', 't', 'o',  'r',  'c',
                                     'h',  0x3A, 0x10, 0x0A, 0x02, 'x', 'y', 0x12, 0x01, 'z'};
  auto r = read_engine(span(onnx), host_fingerprint());
  ASSERT_EQ(r.status().code(), kBadMagic) << r.status().to_string();
  EXPECT_TRUE(contains(r.status().message(), "ONNX")) << r.status().message();
  EXPECT_TRUE(contains(r.status().message(), "kiln build")) << r.status().message();
  EXPECT_EQ(read_engine_model(span(onnx)).status().code(), kBadMagic);
  // Short files: a prefix of the magic is a truncated engine, anything else is not an engine.
  const std::vector<uint8_t> kil = {'K', 'I', 'L'};
  EXPECT_EQ(read_engine(span(kil), host_fingerprint()).status().code(), kTruncated);
  const std::vector<uint8_t> abc = {'a', 'b', 'c'};
  EXPECT_EQ(read_engine(span(abc), host_fingerprint()).status().code(), kBadMagic);
}

TEST(EngineCorrupt, SectionTableOutOfBoundsIsMalformed) {
  const std::vector<uint8_t> file = rich_engine();
  struct Case {
    size_t field;
    uint64_t value;
    const char* why;
  };
  const uint64_t weights = load_u64(file, 64), weights_size = load_u64(file, 72);
  const Case cases[] = {
      {32, 0, "starts before"},                       // metadata inside the header
      {40, file.size(), "ends past"},                 // metadata too long
      {56, UINT64_MAX - 10, "ends past"},             // size overflow
      {64, weights + 8, "not 64-byte"},               // weights misaligned (size fixed below)
      {48, load_u64(file, 48) - 1, "starts before"},  // graph overlaps metadata
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> bad = file;
    store_u64(bad, c.field, c.value);
    if (c.field == 64) store_u64(bad, 72, weights_size - 8);
    restamp_checksum(bad);
    auto r = read_engine(span(bad), host_fingerprint());
    ASSERT_EQ(r.status().code(), kMalformed) << c.field << ": " << r.status().to_string();
    EXPECT_TRUE(contains(r.status().message(), c.why)) << r.status().message();
    EXPECT_EQ(read_engine_model(span(bad)).status().code(), kMalformed);
  }
}

TEST(EngineCorrupt, TensorByteCountDisagreeingWithItsShapeIsMalformed) {
  auto m = make_rich_model();
  std::vector<uint8_t> file = write_or_die(make_engine_data(*m), *m);
  auto model = read_engine_model(span(file));
  ASSERT_TRUE(model.ok());
  const Tensor& w = *(*model)->graph->find("w")->initializer();  // float32[3,4]: 48 bytes
  const uint64_t rel = static_cast<const uint8_t*>(w.data()) - file.data() - load_u64(file, 64);
  std::string pattern(16, '\0');
  const uint64_t fields[2] = {rel, 48};
  std::memcpy(pattern.data(), fields, 16);
  const size_t at = find_unique(file, pattern, load_u64(file, 48), load_u64(file, 64));
  store_u64(file, at + 8, 52);
  restamp_checksum(file);
  auto r = read_engine(span(file), host_fingerprint());
  ASSERT_EQ(r.status().code(), kMalformed) << r.status().to_string();
  EXPECT_TRUE(contains(r.status().message(), "declares 52 bytes")) << r.status().message();
  // Out of the weights section.
  store_u64(file, at + 8, 48);
  store_u64(file, at, load_u64(file, 72));
  restamp_checksum(file);
  r = read_engine(span(file), host_fingerprint());
  ASSERT_EQ(r.status().code(), kMalformed) << r.status().to_string();
  EXPECT_TRUE(contains(r.status().message(), "weights section")) << r.status().message();
}

TEST(EngineCorrupt, HalfStoredTensorWithTheWrongByteCountIsMalformed) {
  ir::Model m;
  m.graph = std::make_unique<ir::Graph>("half");
  Tensor w = Tensor::allocate(DataType::kFloat32, {3, 4}).value();
  for (int64_t i = 0; i < 12; ++i) w.data_as<float>()[i] = static_cast<float>(i);
  m.graph->add_output(must(m.graph->add_initializer("w", std::move(w))));
  EngineData d;
  d.half_initializers = {"w"};
  std::vector<uint8_t> file = write_or_die(d, m);
  ASSERT_TRUE(read_engine_model(span(file)).ok());
  // The record: i32 -2, u32 rank 2, dims 3 and 4, u64 offset 0, u64 bytes 24. The pattern
  // starts after the code (find_unique compares chars: 0xfe would not match).
  std::string pattern(32, '\0');
  const uint32_t rank = 2;
  const int64_t dims[2] = {3, 4};
  const uint64_t where[2] = {0, 24};
  std::memcpy(pattern.data(), &rank, 4);
  std::memcpy(pattern.data() + 4, dims, 16);
  std::memcpy(pattern.data() + 20, where, 12);  // offset and the low half of bytes
  const size_t at = find_unique(file, pattern, load_u64(file, 48), load_u64(file, 64));
  int32_t code = 0;
  std::memcpy(&code, file.data() + at - 4, 4);
  ASSERT_EQ(code, -2);
  store_u64(file, at + 28, 48);  // float32's byte count: not what a float16 record holds
  restamp_checksum(file);
  auto r = read_engine_model(span(file));
  ASSERT_EQ(r.status().code(), kMalformed) << r.status().to_string();
  EXPECT_TRUE(contains(r.status().message(), "float16-stored tensor declares 48 bytes"))
      << r.status().message();
}

// Kernels prepare for the graph's static shapes when an engine loads: a graph whose dims no
// longer fit the memory plan (an edited engine; the fuzzer made one whose conv asked oneDNN
// for 2.5 GB) is refused before any kernel sees it.
TEST(EngineCorrupt, StaticTypesLargerThanTheirSlotOrInputsOutsideTheirProfileAreMalformed) {
  ir::Model m;
  m.graph = std::make_unique<ir::Graph>("g");
  ir::Value* x = must(m.graph->add_input("x", vtype(DataType::kFloat32, Dims::of({1, 4}))));
  ir::Value* y = must(m.graph->add_value("y", vtype(DataType::kFloat32, Dims::of({1, 4}))));
  m.graph->add_node("Relu", "", "relu", {x}, {y}, {}, 14);
  m.graph->add_output(y);
  m.opsets[""] = 14;
  EngineData d;
  d.built_on = host_fingerprint();
  d.target.device = "cpu";
  d.target.arch = host_fingerprint().arch;
  d.layers.push_back(Layer{});
  d.layers[0].tactic = "cpu.reference";
  ProfilePlan p;
  p.inputs = {{"x", ShapeRange{{1, 4}, {1, 4}, {1, 4}}}};
  p.arena_bytes = 64;
  p.slots = {TensorSlot{"y", 0, 16, "", false}};
  d.profiles.push_back(p);
  ASSERT_TRUE(read_engine(span(write_or_die(d, m)), host_fingerprint()).ok());

  d.profiles[0].slots[0].bytes = 8;  // y is float32[1,4]: 16 bytes
  auto r = read_engine(span(write_or_die(d, m)), host_fingerprint());
  ASSERT_EQ(r.status().code(), kMalformed) << r.status().to_string();
  EXPECT_TRUE(contains(r.status().message(), "slot 'y' holds 8 bytes")) << r.status().message();

  d.profiles[0].slots[0].bytes = 16;
  d.profiles[0].inputs[0].second = ShapeRange{{1, 1}, {1, 4}, {1, 8}};  // x is fixed at [1,4]
  r = read_engine(span(write_or_die(d, m)), host_fingerprint());
  ASSERT_EQ(r.status().code(), kMalformed) << r.status().to_string();
  EXPECT_TRUE(contains(r.status().message(), "fixes it to 4")) << r.status().message();
}

TEST(EngineCorrupt, BoolTensorBytesMustBeZeroOrOne) {
  auto m = make_rich_model();
  std::vector<uint8_t> file = write_or_die(make_engine_data(*m), *m);
  auto model = read_engine_model(span(file));
  ASSERT_TRUE(model.ok());
  const Tensor& b = *(*model)->graph->find("b")->initializer();
  const size_t at = static_cast<const uint8_t*>(b.data()) - file.data();
  file[at + 1] = 2;
  restamp_checksum(file);
  auto r = read_engine(span(file), host_fingerprint());
  ASSERT_EQ(r.status().code(), kMalformed) << r.status().to_string();
  EXPECT_TRUE(contains(r.status().message(), "bool")) << r.status().message();
}

TEST(EngineCorrupt, MetadataThatDisagreesWithTheGraphIsMalformed) {
  auto m = make_rich_model();
  {
    EngineData d = make_engine_data(*m);
    d.profiles[0].slots[0].offset = 4096;  // a's 2048 bytes past the 4096-byte arena
    auto r = read_engine(span(write_or_die(d, *m)), host_fingerprint());
    ASSERT_EQ(r.status().code(), kMalformed) << r.status().to_string();
    EXPECT_TRUE(contains(r.status().message(), "arena")) << r.status().message();
  }
  {
    EngineData d = make_engine_data(*m);
    d.profiles[0].slots[1].offset = 32;  // not a multiple of kArenaAlignment
    EXPECT_EQ(read_engine(span(write_or_die(d, *m)), host_fingerprint()).status().code(),
              kMalformed);
  }
  {
    EngineData d = make_engine_data(*m);
    d.profiles[1].slots[0].value = "nowhere";
    EXPECT_EQ(read_engine(span(write_or_die(d, *m)), host_fingerprint()).status().code(),
              kMalformed);
  }
  {
    EngineData d = make_engine_data(*m);
    d.profiles[0].inputs[0].first = "a";  // a value, but not a graph input
    EXPECT_EQ(read_engine(span(write_or_die(d, *m)), host_fingerprint()).status().code(),
              kMalformed);
  }
  {
    EngineData d = make_engine_data(*m);
    d.profiles[0].inputs[0].second.min[0] = 20;  // min > opt
    EXPECT_EQ(read_engine(span(write_or_die(d, *m)), host_fingerprint()).status().code(),
              kMalformed);
  }
}

// A deterministic mini-fuzz over the structure: random byte edits in the metadata and graph
// sections with the checksum re-stamped, so every edit reaches the decoders. Each outcome is
// success, a structure error or (an edited target feature) a target mismatch.
TEST(EngineCorrupt, RandomStructureEditsNeverCrash) {
  const std::vector<uint8_t> file = rich_engine();
  const uint64_t begin = load_u64(file, 32);
  const uint64_t end = load_u64(file, 48) + load_u64(file, 56);
  std::mt19937_64 rng(20240601);
  int accepted = 0, malformed = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> bad = file;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = begin + rng() % (end - begin);
      switch (rng() % 3) {
        case 0:
          bad[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
          break;
        case 1:
          bad[at] = static_cast<uint8_t>(rng());
          break;
        default:
          bad[at] = (rng() % 2) ? 0xFF : 0x00;
          break;
      }
    }
    restamp_checksum(bad);
    auto r = read_engine(span(bad), host_fingerprint());
    auto m = read_engine_model(span(bad));
    if (r.ok()) {
      ++accepted;
      ASSERT_TRUE(m.ok()) << "read_engine accepted what read_engine_model refuses: "
                          << m.status().to_string();
      continue;
    }
    const int code = r.status().code();
    ASSERT_TRUE(code == kMalformed || code == kTarget) << r.status().to_string();
    malformed += code == kMalformed;
    if (!m.ok()) {
      ASSERT_EQ(m.status().code(), kMalformed) << m.status().to_string();
    }
  }
  // Both outcomes occur (names, docs and values are free text; counts and ids are not).
  EXPECT_GT(accepted, 0);
  EXPECT_GT(malformed, 1000);
}

// A layer's build-time packed constants are 1-D uint8 initializers of the main graph; they
// round-trip, and a name that is anything else is ENGINE_CORRUPT before a kernel sees it.
TEST(EngineCorrupt, PackedConstantsRoundTripAndMustBeUint8Initializers) {
  auto m = make_rich_model();
  must(m->graph->add_initializer("kiln.packed/0/weights",
                                 tensor_of<uint8_t>(DataType::kUInt8, {3}, {1, 2, 3})));
  EngineData d = make_engine_data(*m);
  d.layers[0].packed = {"kiln.packed/0/weights"};
  std::vector<uint8_t> file = write_or_die(d, *m);
  auto ok = read_engine(span(file), host_fingerprint());
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->layers[0].packed, d.layers[0].packed);

  for (const std::string& bad :
       {std::string("w"), std::string("no_such_value"), std::string("x")}) {
    SCOPED_TRACE(bad);
    d.layers[0].packed = {bad};
    std::vector<uint8_t> f = write_or_die(d, *m);
    auto r = read_engine(span(f), host_fingerprint());
    ASSERT_EQ(r.status().code(), kMalformed) << r.status().to_string();
    EXPECT_TRUE(contains(r.status().message(), "'" + bad + "'")) << r.status().message();
    EXPECT_TRUE(contains(r.status().message(), "1-D uint8 initializer")) << r.status().message();
  }
}

}  // namespace
}  // namespace kiln::engine
