// Tests for kiln::npy: fixtures written by numpy (tests/data/npy/make_fixtures.py), round trips
// through the writer, and hand-crafted broken images for every error code.
#include <gtest/gtest.h>

#include <algorithm>
#include <complex>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/npy.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

constexpr int kNpyInvalid = static_cast<int>(Code::kNpyInvalid);
constexpr int kNpyFortranOrder = static_cast<int>(Code::kNpyFortranOrder);
constexpr int kNpyObjectArray = static_cast<int>(Code::kNpyObjectArray);
constexpr int kNpyTruncated = static_cast<int>(Code::kNpyTruncated);
constexpr int kNpyUnsupportedDtype = static_cast<int>(Code::kNpyUnsupportedDtype);
constexpr int kInvalidShape = static_cast<int>(Code::kInvalidShape);
constexpr int kInvalidArgument = static_cast<int>(Code::kInvalidArgument);
constexpr int kFileNotFound = static_cast<int>(Code::kFileNotFound);
constexpr int kFileUnreadable = static_cast<int>(Code::kFileUnreadable);
constexpr int kFileWriteFailed = static_cast<int>(Code::kFileWriteFailed);

std::string fixture(const std::string& name) {
  return std::string(KILN_SOURCE_DIR) + "/tests/data/npy/" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string bytes_of(const Tensor& t) {
  return std::string(static_cast<const char*>(t.data()), t.nbytes());
}

Result<Tensor> parse(const std::string& image, const std::string& what = "buffer") {
  return npy::read_memory(image.data(), image.size(), what);
}

// An image with a well-formed preamble around `dict`, padded like numpy pads it.
std::string image(const std::string& dict, const std::string& data, int major = 1) {
  const size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  header.append(64 - (prefix + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < prefix - 8; ++i)
    out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string dict_of(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape + ", }";
}

// ---- the values make_fixtures.py writes: element i of a (2, 3) array, i = 0..5 -------------

template <typename T, typename F>
std::string six(F f) {
  std::string out;
  for (int i = 0; i < 6; ++i) {
    const T v = f(i);
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  return out;
}

struct DtypeCase {
  const char* name;  // numpy dtype name and fixture stem
  DataType dtype;
  const char* descr;
  std::string (*values)();
};

const DtypeCase kDtypes[] = {
    {"bool", DataType::kBool, "|b1", [] { return six<uint8_t>([](int i) { return i % 3 == 0; }); }},
    {"int8", DataType::kInt8, "|i1",
     [] { return six<int8_t>([](int i) { return (i - 3) * 40; }); }},
    {"int16", DataType::kInt16, "<i2",
     [] { return six<int16_t>([](int i) { return (i - 3) * 10000; }); }},
    {"int32", DataType::kInt32, "<i4",
     [] { return six<int32_t>([](int i) { return (i - 3) * 700000000; }); }},
    {"int64", DataType::kInt64, "<i8",
     [] { return six<int64_t>([](int i) { return (i - 3) * int64_t{3000000000000000000}; }); }},
    {"uint8", DataType::kUInt8, "|u1", [] { return six<uint8_t>([](int i) { return i * 50; }); }},
    {"uint16", DataType::kUInt16, "<u2",
     [] { return six<uint16_t>([](int i) { return i * 13000; }); }},
    {"uint32", DataType::kUInt32, "<u4",
     [] { return six<uint32_t>([](int i) { return i * 850000000u; }); }},
    {"uint64", DataType::kUInt64, "<u8",
     [] { return six<uint64_t>([](int i) { return i * uint64_t{3600000000000000000}; }); }},
    // (i - 3) * 0.25 as IEEE half bits.
    {"float16", DataType::kFloat16, "<f2",
     [] {
       static constexpr uint16_t kBits[] = {0xBA00, 0xB800, 0xB400, 0x0000, 0x3400, 0x3800};
       return six<uint16_t>([](int i) { return kBits[i]; });
     }},
    {"float32", DataType::kFloat32, "<f4",
     [] { return six<float>([](int i) { return static_cast<float>((i - 3) * 0.1); }); }},
    {"float64", DataType::kFloat64, "<f8",
     [] { return six<double>([](int i) { return (i - 3) * 0.1; }); }},
    {"complex64", DataType::kComplex64, "<c8",
     [] {
       return six<std::complex<float>>(
           [](int i) { return std::complex<float>((i - 3) * 0.5f, i * 0.25f); });
     }},
    {"complex128", DataType::kComplex128, "<c16",
     [] {
       return six<std::complex<double>>(
           [](int i) { return std::complex<double>((i - 3) * 0.1, i * 0.3); });
     }},
};

// A (2, 3) tensor holding `bytes`.
Tensor make_tensor(DataType dtype, const std::vector<int64_t>& shape, const std::string& bytes) {
  Tensor t = Tensor::allocate(dtype, shape).value();
  EXPECT_EQ(t.nbytes(), bytes.size());
  if (!bytes.empty()) std::memcpy(t.data(), bytes.data(), bytes.size());
  return t;
}

int itemsize(const DtypeCase& c) {
  return static_cast<int>(c.values().size() / 6);
}

class NpyDtype : public ::testing::TestWithParam<DtypeCase> {};

TEST_P(NpyDtype, ReadsNumpyFixture) {
  const DtypeCase& c = GetParam();
  auto t = npy::read_file(fixture(std::string(c.name) + ".npy"));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->dtype(), c.dtype);
  EXPECT_EQ(t->shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(bytes_of(*t), c.values());
  EXPECT_TRUE(t->owns_data());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data()) % kTensorAlignment, 0u);
}

TEST_P(NpyDtype, WritesWhatNumpyWritesByteForByte) {
  const DtypeCase& c = GetParam();
  auto bytes = npy::write_memory(make_tensor(c.dtype, {2, 3}, c.values()));
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  EXPECT_EQ(std::string(bytes->begin(), bytes->end()),
            slurp(fixture(std::string(c.name) + ".npy")));
}

TEST_P(NpyDtype, RoundTripsThroughMemory) {
  const DtypeCase& c = GetParam();
  const std::string values = c.values();
  const size_t item = values.size() / 6;
  // Scalar, empty, 1-D and rank-4 shapes; the data cycles through the six fixture values.
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{}, {0}, {0, 3}, {2, 3}, {7}, {2, 1, 3, 2}}) {
    SCOPED_TRACE(::testing::Message() << c.name << " shape size " << shape.size());
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::string data;
    for (int64_t i = 0; i < n; ++i) data += values.substr(static_cast<size_t>(i % 6) * item, item);
    const Tensor in = make_tensor(c.dtype, shape, data);
    auto bytes = npy::write_memory(in);
    ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
    const size_t header = bytes->size() - data.size();
    EXPECT_EQ(header % 64, 0u) << "data must start 64-byte aligned";
    EXPECT_EQ((*bytes)[header - 1], '\n');
    EXPECT_EQ((*bytes)[6], 1) << "small headers are format 1.0";
    auto out = npy::read_memory(bytes->data(), bytes->size(), "buffer");
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    EXPECT_EQ(out->dtype(), c.dtype);
    EXPECT_EQ(out->shape(), shape);
    EXPECT_EQ(bytes_of(*out), data);
  }
}

// Big-endian images read back as the native values ('>' on a one-byte type changes nothing).
TEST_P(NpyDtype, ReadsBigEndian) {
  const DtypeCase& c = GetParam();
  const std::string values = c.values();
  const size_t unit = c.descr[1] == 'c' ? itemsize(c) / 2 : itemsize(c);
  std::string swapped = values;
  for (size_t off = 0; off < swapped.size(); off += unit)
    std::reverse(swapped.begin() + off, swapped.begin() + off + unit);
  if (itemsize(c) > 1) {
    ASSERT_NE(swapped, values);
  }
  std::string descr = c.descr;
  descr[0] = '>';
  auto t = parse(image(dict_of(descr, "(2, 3)"), swapped));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->dtype(), c.dtype);
  EXPECT_EQ(bytes_of(*t), values);
}

TEST_P(NpyDtype, RoundTripsThroughFile) {
  const DtypeCase& c = GetParam();
  const std::string path = ::testing::TempDir() + "kiln_npy_" + c.name + ".npy";
  ASSERT_TRUE(npy::write_file(path, make_tensor(c.dtype, {3, 2}, c.values())).ok());
  auto t = npy::read_file(path);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->shape(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(bytes_of(*t), c.values());
  fs::remove(path);
}

INSTANTIATE_TEST_SUITE_P(AllDtypes, NpyDtype, ::testing::ValuesIn(kDtypes),
                         [](const ::testing::TestParamInfo<DtypeCase>& p) {
                           return std::string(p.param.name);
                         });

// ---- other numpy fixtures ---------------------------------------------------------------

std::string f32_values() {
  return kDtypes[10].values();
}

TEST(NpyFixture, Scalar) {
  auto t = npy::read_file(fixture("scalar_f64.npy"));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->dtype(), DataType::kFloat64);
  EXPECT_TRUE(t->shape().empty());
  EXPECT_EQ(t->numel(), 1);
  EXPECT_EQ(t->data_as<double>()[0], 2.5);
}

TEST(NpyFixture, Empty0x3) {
  auto t = npy::read_file(fixture("empty_0x3_f32.npy"));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->dtype(), DataType::kFloat32);
  EXPECT_EQ(t->shape(), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(t->nbytes(), 0u);
}

TEST(NpyFixture, Vector5) {
  auto t = npy::read_file(fixture("vector5_i64.npy"));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->dtype(), DataType::kInt64);
  EXPECT_EQ(t->shape(), (std::vector<int64_t>{5}));
  for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(t->data_as<int64_t>()[i], i);
}

TEST(NpyFixture, Rank3) {
  auto t = npy::read_file(fixture("rank3_2x1x3_i32.npy"));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->shape(), (std::vector<int64_t>{2, 1, 3}));
  EXPECT_EQ(bytes_of(*t), kDtypes[3].values());
}

TEST(NpyFixture, Rank20) {
  auto t = npy::read_file(fixture("rank20_f32.npy"));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->shape(), std::vector<int64_t>(20, 1));
  EXPECT_EQ(t->data_as<float>()[0], 1.5f);
}

// The fixtures that are not (2, 3) exercise the writer's spelling of (), (0, 3), (5,) and the
// growth padding numpy adds after the dict (which moves rank20's data to offset 192).
TEST(NpyFixture, WriterMatchesNumpyForOtherShapes) {
  for (const char* file : {"scalar_f64.npy", "empty_0x3_f32.npy", "vector5_i64.npy",
                           "rank3_2x1x3_i32.npy", "rank20_f32.npy"}) {
    SCOPED_TRACE(file);
    const std::string raw = slurp(fixture(file));
    auto t = npy::read_memory(raw.data(), raw.size(), file);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    auto bytes = npy::write_memory(*t);
    ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
    EXPECT_EQ(std::string(bytes->begin(), bytes->end()), raw);
  }
}

TEST(NpyFixture, BigEndian) {
  for (const auto& [file, index] :
       {std::pair{"big_endian_f4.npy", 10}, std::pair{"big_endian_i2.npy", 2},
        std::pair{"big_endian_c8.npy", 12}}) {
    SCOPED_TRACE(file);
    auto t = npy::read_file(fixture(file));
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    EXPECT_EQ(t->dtype(), kDtypes[index].dtype);
    EXPECT_EQ(t->shape(), (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(bytes_of(*t), kDtypes[index].values());
  }
}

TEST(NpyFixture, Versions2And3) {
  for (const char* file : {"version2_f32.npy", "version3_f32.npy"}) {
    SCOPED_TRACE(file);
    const std::string raw = slurp(fixture(file));
    ASSERT_EQ(raw[6], file[7] - '0') << "fixture has the wrong format version";
    auto t = npy::read_file(fixture(file));
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    EXPECT_EQ(t->shape(), (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(bytes_of(*t), f32_values());
  }
}

TEST(NpyFixture, FortranOrderRefused) {
  auto t = npy::read_file(fixture("fortran_f32.npy"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), kNpyFortranOrder);
  EXPECT_NE(t.status().message().find("numpy.ascontiguousarray"), std::string::npos)
      << t.status().message();
  EXPECT_NE(t.status().message().find("fortran_f32.npy"), std::string::npos);
}

TEST(NpyFixture, ObjectArrayRefused) {
  auto t = npy::read_file(fixture("object.npy"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), kNpyObjectArray) << t.status().to_string();
}

TEST(NpyFixture, UnsupportedDtypesNamed) {
  for (const auto& [file, descr] :
       {std::pair{"unicode_u3.npy", "'<U3'"}, std::pair{"bytes_s3.npy", "'|S3'"},
        std::pair{"structured.npy", "[('a', '<i4'), ('b', '<f4')]"},
        std::pair{"datetime.npy", "'<M8[D]'"}}) {
    SCOPED_TRACE(file);
    auto t = npy::read_file(fixture(file));
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), kNpyUnsupportedDtype) << t.status().to_string();
    EXPECT_NE(t.status().message().find(descr), std::string::npos) << t.status().message();
  }
}

// ---- files --------------------------------------------------------------------------------

TEST(NpyFile, MissingFile) {
  auto t = npy::read_file(fixture("no_such_file.npy"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), kFileNotFound);
  EXPECT_NE(t.status().message().find("no_such_file.npy"), std::string::npos);
}

TEST(NpyFile, DirectoryIsUnreadable) {
  auto t = npy::read_file(fixture(""));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), kFileUnreadable) << t.status().to_string();
  EXPECT_NE(t.status().message().find("directory"), std::string::npos);
}

TEST(NpyFile, WriteIntoMissingDirectoryFails) {
  const std::string path = ::testing::TempDir() + "kiln_npy_no_such_dir/x.npy";
  Status s = npy::write_file(path, make_tensor(DataType::kFloat32, {2, 3}, f32_values()));
  EXPECT_EQ(s.code(), kFileWriteFailed) << s.to_string();
  EXPECT_NE(s.message().find(path), std::string::npos);
  EXPECT_FALSE(fs::exists(path));
}

TEST(NpyFile, BrokenFileReportsPathAndCounts) {
  const std::string path = ::testing::TempDir() + "kiln_npy_truncated.npy";
  std::string raw = slurp(fixture("float32.npy"));
  raw.resize(raw.size() - 4);
  std::ofstream(path, std::ios::binary) << raw;
  auto t = npy::read_file(path);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), kNpyTruncated);
  EXPECT_EQ(t.status().message(), path +
                                      ": header declares shape (2, 3) of <f4 = 24 bytes but only "
                                      "20 bytes follow the header");
  fs::remove(path);
}

// ---- writer -------------------------------------------------------------------------------

TEST(NpyWrite, RefusesTypesWithoutDescr) {
  for (DataType dtype : {DataType::kBFloat16, DataType::kInt4, DataType::kUInt4,
                         DataType::kFloat8E4M3FN, DataType::kFloat4E2M1, DataType::kString}) {
    SCOPED_TRACE(data_type_name(dtype));
    auto t = Tensor::allocate(dtype, {2, 2});
    ASSERT_TRUE(t.ok());
    auto bytes = npy::write_memory(*t);
    ASSERT_FALSE(bytes.ok());
    EXPECT_EQ(bytes.status().code(), kNpyUnsupportedDtype);
    EXPECT_NE(bytes.status().message().find(data_type_name(dtype)), std::string::npos);
    const std::string path = ::testing::TempDir() + "kiln_npy_refused.npy";
    EXPECT_EQ(npy::write_file(path, *t).code(), kNpyUnsupportedDtype);
    EXPECT_FALSE(fs::exists(path));
  }
}

TEST(NpyWrite, RefusesEmptyTensor) {
  auto bytes = npy::write_memory(Tensor());
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), kInvalidArgument);
}

TEST(NpyWrite, WritesBorrowedView) {
  std::string values = f32_values();
  Tensor view = Tensor::borrow(DataType::kFloat32, {2, 3}, values.data());
  auto bytes = npy::write_memory(view);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  EXPECT_EQ(std::string(bytes->begin(), bytes->end()), slurp(fixture("float32.npy")));
}

// A header over 65535 bytes needs format 2.0 (only reachable with a very high rank).
TEST(NpyWrite, HugeHeaderUsesVersion2) {
  const std::vector<int64_t> shape(30000, 1);
  const Tensor in = make_tensor(DataType::kInt16, shape, std::string("\x34\x12", 2));
  auto bytes = npy::write_memory(in);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  EXPECT_EQ((*bytes)[6], 2);
  EXPECT_EQ((*bytes)[7], 0);
  EXPECT_GT(bytes->size(), 65536u);
  EXPECT_EQ((bytes->size() - 2) % 64, 0u);
  auto out = npy::read_memory(bytes->data(), bytes->size(), "buffer");
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->shape(), shape);
  EXPECT_EQ(out->data_as<int16_t>()[0], 0x1234);
}

// The reader caps headers at 1 MiB, so the writer refuses to produce larger ones.
TEST(NpyWrite, HeaderBeyondReadLimitRefused) {
  const Tensor in = make_tensor(DataType::kInt8, std::vector<int64_t>(400000, 1), "x");
  auto bytes = npy::write_memory(in);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), kInvalidShape) << bytes.status().to_string();
}

// ---- hand-crafted images ------------------------------------------------------------------

TEST(NpyRead, HandCraftedImageIsValid) {
  // Guards the helper the error tests rely on: the same image without the fault reads fine.
  auto t = parse(image(dict_of("<f4", "(2, 3)"), f32_values()));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(bytes_of(*t), f32_values());
  EXPECT_EQ(image(dict_of("<f4", "(2, 3)") + std::string(21 - 1, ' '), f32_values()),
            slurp(fixture("float32.npy")));
}

TEST(NpyRead, BadMagic) {
  const std::string good = image(dict_of("<f4", "(2, 3)"), f32_values());
  for (std::string bad :
       {std::string("\x93NUMPX", 6) + good.substr(6), "PK\x03\x04" + good, std::string("hello")}) {
    auto t = parse(bad);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), kNpyInvalid) << t.status().to_string();
  }
  EXPECT_EQ(parse("").status().code(), kNpyInvalid);
}

TEST(NpyRead, PreambleCut) {
  for (std::string cut :
       {std::string("\x93NUM"), std::string("\x93NUMPY\x01", 7),
        std::string("\x93NUMPY\x01\x00\x10", 9), std::string("\x93NUMPY\x02\x00\x10\x00", 10)}) {
    auto t = parse(cut);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), kNpyTruncated) << t.status().to_string();
  }
}

TEST(NpyRead, BadVersion) {
  const std::string good = image(dict_of("<f4", "(2, 3)"), f32_values());
  for (auto [major, minor] : {std::pair{4, 0}, std::pair{1, 1}, std::pair{0, 0}, std::pair{2, 5}}) {
    std::string bad = good;
    bad[6] = static_cast<char>(major);
    bad[7] = static_cast<char>(minor);
    auto t = parse(bad);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), kNpyInvalid) << t.status().to_string();
    EXPECT_NE(t.status().message().find(std::to_string(major) + "." + std::to_string(minor)),
              std::string::npos);
  }
}

TEST(NpyRead, HeaderLengthPastEnd) {
  std::string good = image(dict_of("<f4", "(2, 3)"), f32_values());
  std::string bad = good;
  bad[8] = '\xff';
  bad[9] = '\x7f';  // 32767 header bytes claimed
  EXPECT_EQ(parse(bad).status().code(), kNpyTruncated);
  // The header itself cut short.
  EXPECT_EQ(parse(good.substr(0, 40)).status().code(), kNpyTruncated);
  // Format 2.0 claiming a 4 GiB header.
  std::string v2 = image(dict_of("<f4", "(2, 3)"), f32_values(), 2);
  v2.replace(8, 4, "\xff\xff\xff\xff");
  EXPECT_EQ(parse(v2).status().code(), kNpyTruncated);
}

TEST(NpyRead, MalformedHeaders) {
  const std::string data = f32_values();  // right for (2, 3) float32
  const char* kBad[] = {
      "",
      "   ",
      "{",
      "{'descr': '<f4', 'fortran_order': False}",                           // no shape
      "{'descr': '<f4', 'shape': (2, 3)}",                                  // no fortran_order
      "{'fortran_order': False, 'shape': (2, 3)}",                          // no descr
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}",  // extra key
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'descr': '<f4'}",
      "{descr: '<f4', 'fortran_order': False, 'shape': (2, 3)}",
      "{'descr' '<f4', 'fortran_order': False, 'shape': (2, 3)}",
      "{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (6)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': 6}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 3)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': ('2', 3)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,, 3)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 03)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1_3)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0x3)}",
      "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3)}",
      "{'descr': '<f4', 'fortran_order': 'False', 'shape': (2, 3)}",
      "{'descr': '<f4', 'fortran_order': false, 'shape': (2, 3)}",
      "{'descr': 4, 'fortran_order': False, 'shape': (2, 3)}",
      "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} x",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}{}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)},",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3),,}",
      "{, 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}",
      "['descr', 'fortran_order', 'shape']",
  };
  for (const char* dict : kBad) {
    SCOPED_TRACE(dict);
    auto t = parse(image(dict, data));
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), kNpyInvalid) << t.status().to_string();
  }
}

TEST(NpyRead, DeepNestingIsRefusedNotRecursedInto) {
  const std::string bomb(100000, '(');
  auto t = parse(image("{'descr': '<f4', 'fortran_order': False, 'shape': " + bomb, "", 2));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), kNpyInvalid);
  EXPECT_NE(t.status().message().find("deeper"), std::string::npos) << t.status().message();
}

TEST(NpyRead, ToleratedHeaderSpellings) {
  struct Case {
    const char* dict;
    std::vector<int64_t> shape;
  };
  const Case kOk[] = {
      {"{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}", {2, 3}},
      {"{'descr':'<f4','fortran_order':False,'shape':(2,3)}", {2, 3}},
      {"  {\n 'descr' : '<f4' ,\t'fortran_order' : False ,\r\n 'shape' : ( 2 , 3 , ) , }", {2, 3}},
      {"{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}", {2, 3}},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", {6}},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 6, 1, 1)}", {1, 6, 1, 1}},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }", {2, 3}},  // Python 2
      {"{'descr': '=f4', 'fortran_order': False, 'shape': (2, 3), }", {2, 3}},
      {"{'descr': 'f4', 'fortran_order': False, 'shape': (2, 3), }", {2, 3}},
  };
  for (const Case& c : kOk) {
    SCOPED_TRACE(c.dict);
    auto t = parse(image(c.dict, f32_values()));
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    EXPECT_EQ(t->shape(), c.shape);
    EXPECT_EQ(bytes_of(*t), f32_values());
  }
  // A header that ends without the newline numpy writes.
  std::string raw = std::string("\x93NUMPY\x01\x00", 8) + '\0' + '\0';
  const std::string dict = dict_of("<f4", "(2, 3)");
  raw[8] = static_cast<char>(dict.size());
  auto t = parse(raw + dict + f32_values());
  EXPECT_TRUE(t.ok()) << t.status().to_string();
}

TEST(NpyRead, Python2LongSuffixOnlyBeforeVersion3) {
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }";
  EXPECT_TRUE(parse(image(dict, f32_values(), 2)).ok());
  EXPECT_EQ(parse(image(dict, f32_values(), 3)).status().code(), kNpyInvalid);
}

TEST(NpyRead, ScalarAndEmptyShapes) {
  auto scalar = parse(image(dict_of("<f8", "()"), std::string("\0\0\0\0\0\0\x04\x40", 8)));
  ASSERT_TRUE(scalar.ok()) << scalar.status().to_string();
  EXPECT_TRUE(scalar->shape().empty());
  EXPECT_EQ(scalar->data_as<double>()[0], 2.5);
  auto empty = parse(image(dict_of("<f4", "(0, 3)"), ""));
  ASSERT_TRUE(empty.ok()) << empty.status().to_string();
  EXPECT_EQ(empty->shape(), (std::vector<int64_t>{0, 3}));
  // An empty array with an absurd other dimension is still empty, and still valid.
  auto wide = parse(image(dict_of("<f4", "(0, 9223372036854775807)"), ""));
  ASSERT_TRUE(wide.ok()) << wide.status().to_string();
  EXPECT_EQ(wide->numel(), 0);
}

TEST(NpyRead, TruncatedData) {
  auto t = parse(image(dict_of("<f4", "(2, 3)"), f32_values().substr(0, 20)), "x.npy");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), kNpyTruncated);
  EXPECT_EQ(t.status().message(),
            "x.npy: header declares shape (2, 3) of <f4 = 24 bytes but only 20 bytes follow the "
            "header");
  EXPECT_EQ(parse(image(dict_of("<f4", "()"), "")).status().code(), kNpyTruncated);
}

TEST(NpyRead, TrailingBytes) {
  auto t = parse(image(dict_of("<f4", "(2, 3)"), f32_values() + "junk"), "x.npy");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), kNpyInvalid);
  EXPECT_NE(t.status().message().find("4 unexpected trailing bytes"), std::string::npos)
      << t.status().message();
  EXPECT_EQ(parse(image(dict_of("<f4", "(0, 3)"), "x")).status().code(), kNpyInvalid);
}

// A hostile header claiming 4e15 bytes in a ~100-byte image must fail on the size check. Had
// it tried to allocate first, the error would be AllocationFailed (or the process would die).
TEST(NpyRead, HugeShapeRejectedBeforeAllocating) {
  auto t = parse(image(dict_of("<f4", "(1000000, 1000000, 1000)"), "abcd"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), kNpyTruncated) << t.status().to_string();
  EXPECT_NE(t.status().message().find("4000000000000000 bytes"), std::string::npos)
      << t.status().message();
}

TEST(NpyRead, AbsurdShapes) {
  const char* kShapes[] = {
      "(2, -3)",                     // negative
      "(-1,)",                       // negative
      "(4294967296, 4294967296)",    // 2^64 elements
      "(9223372036854775808,)",      // 2^63 does not fit int64
      "(99999999999999999999999,)",  // does not fit uint64 either
      "(2305843009213693952,)",      // 2^61 elements fit, 2^64 bytes of <f8 do not
  };
  for (const char* shape : kShapes) {
    SCOPED_TRACE(shape);
    auto t = parse(image(dict_of("<f8", shape), "abcdefgh"));
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), kInvalidShape) << t.status().to_string();
  }
}

TEST(NpyRead, FortranOrderRefused) {
  auto t = parse(image(dict_of("<f4", "(2, 3)", true), f32_values()));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), kNpyFortranOrder);
}

TEST(NpyRead, DescrsRefused) {
  struct Case {
    const char* descr;  // raw Python literal
    int code;
  };
  const Case kCases[] = {
      {"'|O'", kNpyObjectArray},
      {"'O'", kNpyObjectArray},
      {"'<U3'", kNpyUnsupportedDtype},
      {"'|S3'", kNpyUnsupportedDtype},
      {"'|V4'", kNpyUnsupportedDtype},
      {"'<M8[ns]'", kNpyUnsupportedDtype},
      {"'<m8[s]'", kNpyUnsupportedDtype},
      {"'<f16'", kNpyUnsupportedDtype},
      {"'<i3'", kNpyUnsupportedDtype},
      {"'<c32'", kNpyUnsupportedDtype},
      {"'<'", kNpyUnsupportedDtype},
      {"''", kNpyUnsupportedDtype},
      {"'float32'", kNpyUnsupportedDtype},
      {"[('a', '<f4')]", kNpyUnsupportedDtype},
      {"('<f4', (2,))", kNpyUnsupportedDtype},
      {"True", kNpyInvalid},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.descr);
    const std::string dict =
        std::string("{'descr': ") + c.descr + ", 'fortran_order': False, 'shape': (2,), }";
    auto t = parse(image(dict, "abcdefgh"));
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), c.code) << t.status().to_string();
  }
}

TEST(NpyRead, BoolsAreNormalised) {
  auto t = parse(image(dict_of("|b1", "(4,)"), std::string("\x00\x01\x02\xff", 4)));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(bytes_of(*t), std::string("\x00\x01\x01\x01", 4));
}

TEST(NpyRead, NullBuffer) {
  EXPECT_EQ(npy::read_memory(nullptr, 0, "buffer").status().code(), kNpyInvalid);
  EXPECT_EQ(npy::read_memory(nullptr, 8, "buffer").status().code(), kInvalidArgument);
}

// Every prefix of a valid image is an error, never a crash or a success; read_file agrees with
// read_memory on cuts inside the magic, the preamble, the header and the data.
TEST(NpyRead, EveryPrefixFails) {
  const std::string good = slurp(fixture("float32.npy"));
  ASSERT_EQ(good.size(), 152u);
  ASSERT_TRUE(parse(good).ok());
  const std::string path = ::testing::TempDir() + "kiln_npy_prefix.npy";
  for (size_t n = 0; n < good.size(); ++n) {
    SCOPED_TRACE(n);
    auto t = parse(good.substr(0, n));
    ASSERT_FALSE(t.ok());
    EXPECT_TRUE(t.status().code() == kNpyTruncated || t.status().code() == kNpyInvalid);
    if (n == 0 || n == 3 || n == 9 || n == 10 || n == 60 || n == 128 || n == 151) {
      std::ofstream(path, std::ios::binary | std::ios::trunc) << good.substr(0, n);
      EXPECT_EQ(npy::read_file(path).status().code(), t.status().code());
    }
  }
  fs::remove(path);
}

TEST(NpyRead, OversizedHeaderRefused) {
  const size_t limit = size_t{1} << 20;
  const std::string dict = dict_of("<f4", "(2, 3)") + std::string(limit, ' ');
  auto t = parse(image(dict, f32_values(), 2));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), kNpyInvalid);
  EXPECT_NE(t.status().message().find("limit"), std::string::npos) << t.status().message();
}

}  // namespace
}  // namespace kiln
