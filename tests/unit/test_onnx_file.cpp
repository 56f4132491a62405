// File-level failures of the ONNX importer: paths that are not readable model files, bytes
// that are not ONNX, truncated files (every prefix of a real model) and the 2 GiB limit.
// Each must come back as one coded Status naming what is wrong, never a crash.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "onnx_import/checker.h"
#include "onnx_import/importer.h"
#include "onnx_import/model_file.h"
#include "unit/model_builder.h"

namespace kiln {
namespace {

using namespace kiln::test;
using onnx::TensorProto;
using onnx_import::check_model_bytes;
using onnx_import::check_model_file;
using onnx_import::import_bytes;
using onnx_import::import_file;

Status import_status(const std::string& bytes) {
  auto r = import_bytes(bytes.data(), bytes.size());
  return r.ok() ? Status::Ok() : r.status();
}

// The fatal problem `kiln check` reports for bytes that yield no model.
Status check_status(const std::string& bytes) {
  auto report = check_model_bytes(bytes.data(), bytes.size());
  EXPECT_FALSE(report.parsed);
  EXPECT_EQ(report.problems.size(), 1u) << describe(report.problems);
  return report.problems.empty() ? Status::Ok() : report.problems.front();
}

TEST(OnnxFile, MissingFileIsFileNotFound) {
  TempDir dir;
  const std::string path = dir.file("missing.onnx");
  auto r = import_file(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), num(Code::kFileNotFound));
  EXPECT_TRUE(contains(r.status().message(), path)) << r.status().message();

  auto report = check_model_file(path);
  EXPECT_FALSE(report.parsed);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].code(), num(Code::kFileNotFound));
  EXPECT_EQ(report.summary.path, path);
}

TEST(OnnxFile, DirectoryIsFileUnreadable) {
  TempDir dir;
  fs::create_directory(dir.path() / "model.onnx");
  const std::string path = dir.file("model.onnx");
  auto r = import_file(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), num(Code::kFileUnreadable));
  EXPECT_TRUE(contains(r.status().message(), "not a regular file")) << r.status().message();
  EXPECT_TRUE(contains(r.status().message(), path));

  auto report = check_model_file(path);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].code(), num(Code::kFileUnreadable));
}

TEST(OnnxFile, EmptyFileIsNotOnnx) {
  TempDir dir;
  const std::string path = dir.write("empty.onnx", std::string());
  auto r = import_file(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), num(Code::kNotOnnx));
  EXPECT_TRUE(contains(r.status().message(), "empty (0 bytes)")) << r.status().message();
  EXPECT_TRUE(contains(r.status().message(), path));

  Status s = check_status(std::string());
  EXPECT_EQ(s.code(), num(Code::kNotOnnx));
  EXPECT_TRUE(contains(s.message(), "empty"));
}

// Bytes whose first field already breaks the protobuf wire format.
TEST(OnnxFile, RandomBytesAreNotOnnx) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 200; ++trial) {
    std::string bytes(64 + trial, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
    Status s = import_status(bytes);
    ASSERT_FALSE(s.ok()) << "trial " << trial;
    // Random bytes may well declare a length beyond the end, which is what truncation looks
    // like; either diagnosis is coded and names a byte offset.
    EXPECT_TRUE(s.code() == num(Code::kNotOnnx) || s.code() == num(Code::kTruncatedModel))
        << "trial " << trial << ": " << s.to_string();
    // The offending offset, or (random bytes starting with '{' or '[') the format they mimic.
    EXPECT_TRUE(contains(s.message(), "byte") || contains(s.message(), "looks like"))
        << s.to_string();
    Status c = check_status(bytes);
    EXPECT_EQ(c.code(), s.code());
  }
  // A stream that starts with an invalid wire type (field 1, wire type 7) is not protobuf at
  // all: it must say so, and where.
  std::string bytes = "\x0f\x01\x02\x03garbage";
  Status s = import_status(bytes);
  EXPECT_EQ(s.code(), num(Code::kNotOnnx)) << s.to_string();
  EXPECT_TRUE(contains(s.message(), "invalid protobuf at byte 0")) << s.message();
  EXPECT_TRUE(contains(s.message(), "wire type 7")) << s.message();
}

struct Sniffed {
  const char* label;
  std::string bytes;
  const char* looks_like;
};

TEST(OnnxFile, OtherFormatsAreNamed) {
  const std::vector<Sniffed> cases = {
      {"html", "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n", "HTML"},
      {"html-lower", "<html><body>Access denied</body></html>", "HTML"},
      {"zip", std::string("PK\x03\x04\x14\x00\x00\x00\x08\x00", 10) + "archive/data.pkl", "ZIP"},
      {"npy", std::string("\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False}", 50),
       "NumPy .npy"},
      {"lfs", "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1234\n", "Git LFS"},
      {"json", "{\"model\": \"resnet\"}", "JSON"},
      {"pickle", std::string("\x80\x02}q\x00.", 6), "pickle"},
  };
  TempDir dir;
  for (const Sniffed& c : cases) {
    SCOPED_TRACE(c.label);
    Status s = import_status(c.bytes);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), num(Code::kNotOnnx)) << s.to_string();
    EXPECT_TRUE(contains(s.message(), "looks like")) << s.message();
    EXPECT_TRUE(contains(s.message(), c.looks_like)) << s.message();

    const std::string path = dir.write(std::string(c.label) + ".onnx", c.bytes);
    auto report = check_model_file(path);
    ASSERT_EQ(report.problems.size(), 1u);
    EXPECT_EQ(report.problems[0].code(), num(Code::kNotOnnx));
    EXPECT_TRUE(contains(report.problems[0].message(), c.looks_like));
    EXPECT_TRUE(contains(report.problems[0].message(), path));
  }
}

// Valid protobuf framing, but not a ModelProto: only fields ModelProto does not define.
TEST(OnnxFile, OtherProtobufIsNotOnnx) {
  // Field 100 (varint 1), field 101 (length 2 "ab"): unknown to ModelProto, so protobuf parses
  // them and ModelProto has none of its own fields.
  const std::string unknown_fields(
      "\xa0\x06\x01\xaa\x06\x02"
      "ab",
      8);
  Status s = import_status(unknown_fields);
  EXPECT_EQ(s.code(), num(Code::kNotOnnx)) << s.to_string();
  EXPECT_TRUE(contains(s.message(), "none of ModelProto's fields")) << s.message();

  // A TensorProto: its field 8 (name "w") lands on ModelProto.opset_import, which cannot
  // decode "w" as an OperatorSetIdProto.
  onnx::TensorProto t = float_tensor("w", {2}, {1.0f, 2.0f});
  Status m = import_status(t.SerializeAsString());
  EXPECT_EQ(m.code(), num(Code::kNotOnnx)) << m.to_string();
  EXPECT_TRUE(contains(m.message(), "does not decode as an onnx.ModelProto")) << m.message();
}

// Top-level protobuf fields of a serialized message: [start, payload start, end).
struct TopField {
  uint32_t number;
  size_t start, payload, end;
};

std::vector<TopField> top_level_fields(const std::string& b) {
  std::vector<TopField> out;
  size_t pos = 0;
  auto varint = [&]() {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      const auto c = static_cast<uint8_t>(b.at(pos++));
      v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return v;
    }
  };
  while (pos < b.size()) {
    TopField f{};
    f.start = pos;
    const uint64_t tag = varint();
    f.number = static_cast<uint32_t>(tag >> 3);
    if ((tag & 7) == 0) {
      f.payload = pos;
      varint();
    } else if ((tag & 7) == 2) {
      const uint64_t len = varint();
      f.payload = pos;
      pos += len;
    } else {
      ADD_FAILURE() << "unexpected wire type " << (tag & 7);
      break;
    }
    f.end = pos;
    out.push_back(f);
  }
  return out;
}

// Small, but with nested nodes, attributes, an initializer with raw data and typed I/O, so
// cuts land in every kind of field.
ModelBuilder truncation_model() {
  ModelBuilder m;
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {"batch", 3}).output("y", TensorProto::FLOAT, {"batch", 3});
  g.initializer(float_tensor("bias", {3}, {0.5f, -1.0f, 2.0f}));
  g.node("Add", {"x", "bias"}, {"t"}, "add");
  g.node("LeakyRelu", {"t"}, {"y"}, "leaky").attr_f("alpha", 0.2f);
  return m;
}

TEST(OnnxFile, EveryTruncationIsCoded) {
  const std::string full = truncation_model().bytes();
  ASSERT_TRUE(import_bytes(full.data(), full.size()).ok());
  const std::vector<TopField> fields = top_level_fields(full);
  const TopField* graph = nullptr;
  std::vector<size_t> boundaries;
  for (const TopField& f : fields) {
    boundaries.push_back(f.end);
    if (f.number == 7) graph = &f;
  }
  ASSERT_NE(graph, nullptr);
  ASSERT_GT(graph->end - graph->payload, 100u) << "the graph should carry most of the bytes";

  int truncated = 0;
  for (size_t len = 0; len < full.size(); ++len) {
    SCOPED_TRACE("prefix of " + std::to_string(len) + " / " + std::to_string(full.size()) +
                 " bytes");
    const std::string prefix = full.substr(0, len);
    auto r = import_bytes(prefix.data(), prefix.size());
    auto report = check_model_bytes(prefix.data(), prefix.size());
    const bool at_boundary =
        len > 0 && std::find(boundaries.begin(), boundaries.end(), len) != boundaries.end();
    if (at_boundary) {
      // A cut between top-level fields is itself a valid (smaller) ModelProto: it imports or
      // lacks its graph, and is then reported for what is missing.
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), num(Code::kEmptyGraph)) << r.status().to_string();
      }
      continue;
    }
    ASSERT_FALSE(r.ok());
    const Status& s = r.status();
    EXPECT_TRUE(s.code() == num(Code::kNotOnnx) || s.code() == num(Code::kTruncatedModel))
        << s.to_string();
    EXPECT_FALSE(report.parsed);
    ASSERT_EQ(report.problems.size(), 1u);
    EXPECT_EQ(report.problems[0].code(), s.code());
    if (len >= graph->payload && len < graph->end) {
      EXPECT_EQ(s.code(), num(Code::kTruncatedModel)) << s.to_string();
      EXPECT_TRUE(contains(s.message(), "byte")) << s.message();
      EXPECT_TRUE(contains(s.message(), "(" + std::to_string(len) + " bytes)")) << s.message();
      EXPECT_TRUE(contains(s.message(), "model.graph")) << s.message();
    }
    if (s.code() == num(Code::kTruncatedModel)) ++truncated;
  }
  EXPECT_GT(truncated, static_cast<int>(graph->end - graph->payload));
}

// Every problem a report carries must be a catalogued code with a message.
void expect_catalogued(const std::vector<Status>& problems, const std::string& context) {
  for (const Status& p : problems) {
    EXPECT_NE(find_error(p.code()), nullptr) << context << ": " << p.to_string();
    EXPECT_FALSE(p.message().empty()) << context << ": " << p.to_string();
  }
}

// Byte-level corruption of a valid model (flips, overwrites, insertions, deletions): whatever
// comes out, `kiln check` and the importer answer with coded problems, never a crash.
TEST(OnnxFile, CorruptedBytesAlwaysYieldCodedProblems) {
  ModelBuilder m = truncation_model();
  GraphBuilder body("body");
  body.output("b_out", TensorProto::FLOAT, {"batch", 3});
  body.node("Identity", {"x"}, {"b_out"}, "inner");
  m.graph().input("cond", TensorProto::BOOL, {});
  m.graph().output("z", TensorProto::FLOAT, {"batch", 3});
  m.graph()
      .node("If", {"cond"}, {"z"}, "branch")
      .attr_g("then_branch", body.proto())
      .attr_g("else_branch", body.proto());
  const std::string full = m.bytes();
  std::mt19937 rng(20240607);
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bytes = full;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !bytes.empty(); ++e) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 4) {
        case 0:
          bytes[at] = static_cast<char>(bytes[at] ^ (1 << (rng() % 8)));
          break;
        case 1:
          bytes[at] = static_cast<char>(rng() & 0xff);
          break;
        case 2:
          bytes.insert(at, 1, static_cast<char>(rng() & 0xff));
          break;
        default:
          bytes.erase(at, 1 + rng() % 8);
          break;
      }
    }
    const std::string context = "trial " + std::to_string(trial);
    auto report = check_model_bytes(bytes.data(), bytes.size());
    if (!report.parsed) {
      ASSERT_EQ(report.problems.size(), 1u) << context;
      EXPECT_EQ(report.problems[0].category(), Category::kParseError) << context;
    }
    expect_catalogued(report.problems, context);
    auto r = import_bytes(bytes.data(), bytes.size());
    if (!r.ok())
      expect_catalogued({r.status()}, context);
    else
      expect_catalogued(r->problems, context);
  }
}

TEST(OnnxFile, TruncatedFileNamesPathAndOffset) {
  TempDir dir;
  const std::string full = truncation_model().bytes();
  const std::string path = dir.write("cut.onnx", full.substr(0, full.size() - 20));
  auto r = import_file(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), num(Code::kTruncatedModel));
  EXPECT_TRUE(contains(r.status().message(), path)) << r.status().message();
  EXPECT_TRUE(contains(r.status().message(), "ends early")) << r.status().message();
}

TEST(OnnxFile, Over2GiBIsModelTooLargeWithoutReading) {
  TempDir dir;
  const std::string path = dir.file("huge.onnx");
  { std::ofstream(path, std::ios::binary) << 'x'; }
  const uint64_t size = (uint64_t{1} << 31) + 10;
  fs::resize_file(path, size);  // sparse: no 2 GiB written
  auto r = import_file(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), num(Code::kModelTooLarge));
  EXPECT_TRUE(contains(r.status().message(), std::to_string(size))) << r.status().message();
  EXPECT_TRUE(contains(r.status().fix(), "external")) << r.status().fix();

  auto report = check_model_file(path);
  EXPECT_FALSE(report.parsed);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].code(), num(Code::kModelTooLarge));
}

TEST(OnnxFile, OneByteOverTheLimitIsModelTooLarge) {
  // 2^31 - 1 bytes is the largest message protobuf accepts; 2^31 is the first size refused.
  TempDir dir;
  const std::string path = dir.file("limit.onnx");
  { std::ofstream(path, std::ios::binary) << 'x'; }
  fs::resize_file(path, onnx_import::kMaxProtobufBytes + 1);
  auto r = import_file(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), num(Code::kModelTooLarge));
  EXPECT_TRUE(contains(r.status().message(), "2147483648 bytes")) << r.status().message();
}

TEST(OnnxFile, SniffFormat) {
  auto sniff = [](const std::string& s) {
    return onnx_import::sniff_format(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  EXPECT_TRUE(contains(sniff("KILNENG\x01"), "kiln engine"));
  EXPECT_TRUE(contains(sniff("\x89HDF\r\n"), "HDF5"));
  EXPECT_TRUE(contains(sniff("GGUF\x03"), "GGUF"));
  EXPECT_EQ(sniff(""), "");
  EXPECT_EQ(sniff(std::string("\x08\x08", 2)), "");  // a real ModelProto starts like this
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// Inputs the fuzzer once crashed on (tests/fuzz/regressions): each must give coded problems.
TEST(OnnxFuzzRegressions, EveryReproducerYieldsCodedProblems) {
  const std::filesystem::path dir = std::filesystem::path(KILN_SOURCE_DIR) / "tests/fuzz/regressions";
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    onnx_import::CheckReport r = onnx_import::check_model_file(e.path().string());
    EXPECT_FALSE(r.problems.empty()) << e.path();
    for (const Status& s : r.problems)
      EXPECT_NE(s.category(), Category::kInternalError) << e.path() << ": " << s.to_string();
  }
  EXPECT_GE(files, 4);
}

TEST(OnnxFuzzRegressions, RepeatedOutputIsDuplicateValue) {
  const std::string path =
      std::string(KILN_SOURCE_DIR) + "/tests/fuzz/regressions/node_output_repeated_three_times.onnx";
  onnx_import::CheckReport r = onnx_import::check_model_file(path);
  bool dup = false;
  for (const Status& s : r.problems) dup |= s.code() == 1009;
  EXPECT_TRUE(dup);
}

}  // namespace
}  // namespace kiln
