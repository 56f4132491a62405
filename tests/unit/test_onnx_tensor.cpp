// onnx.TensorProto → kiln::Tensor: every data field path, broken sizes and types, hostile
// shapes, and external data (missing, escaping the model directory, out of range, valid).
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "ir/verifier.h"
#include "onnx_import/checker.h"
#include "onnx_import/importer.h"
#include "onnx_import/tensor_proto.h"
#include "unit/model_builder.h"

namespace kiln {
namespace {

using namespace kiln::test;
using onnx::TensorProto;
using onnx_import::ExternalRef;
using onnx_import::read_tensor;
using onnx_import::TensorReadOptions;

Result<Tensor> read(const TensorProto& t, const std::string& base_dir = "",
                    bool load_external = true, ExternalRef* ext = nullptr) {
  TensorReadOptions o;
  o.base_dir = base_dir;
  o.load_external = load_external;
  return read_tensor(t, o, "initializer '" + t.name() + "'", ext);
}

// The Status of a read that must fail; fails the test if it succeeded.
Status failure(const Result<Tensor>& r) {
  EXPECT_FALSE(r.ok()) << "read succeeded";
  return r.ok() ? Status::Ok() : r.status();
}

template <typename T>
std::vector<T> values_of(const Tensor& t) {
  const T* p = t.data_as<T>();
  return std::vector<T>(p, p + t.numel());
}

// ---- in-proto data ----------------------------------------------------------------------------

TEST(OnnxTensor, RawDataRoundTrip) {
  auto r = read(float_tensor("w", {2, 2}, {1.5f, -2.0f, 0.0f, 8.25f}));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->dtype(), DataType::kFloat32);
  EXPECT_EQ(r->shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(values_of<float>(*r), (std::vector<float>{1.5f, -2.0f, 0.0f, 8.25f}));
}

TEST(OnnxTensor, RawDataSizeMismatch) {
  const std::vector<float> five = {1, 2, 3, 4, 5};
  Status s = failure(read(raw_tensor_of("w", TensorProto::FLOAT, {2, 3}, five)));
  EXPECT_EQ(s.code(), num(Code::kInvalidTensorData));
  EXPECT_TRUE(contains(s.message(), "initializer 'w'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "holds 20 bytes")) << s.message();
  EXPECT_TRUE(contains(s.message(), "needs 24")) << s.message();
  EXPECT_TRUE(contains(s.message(), "[2,3]")) << s.message();
}

TEST(OnnxTensor, TypedFieldCountMismatch) {
  TensorProto t = tensor_header("w", TensorProto::FLOAT, {2, 3});
  for (float v : {1.f, 2.f, 3.f, 4.f, 5.f}) t.add_float_data(v);
  Status s = failure(read(t));
  EXPECT_EQ(s.code(), num(Code::kInvalidTensorData));
  EXPECT_TRUE(contains(s.message(), "float_data holds 5 value(s)")) << s.message();
  EXPECT_TRUE(contains(s.message(), "needs 6")) << s.message();

  TensorProto i = tensor_header("idx", TensorProto::INT64, {3});
  i.add_int64_data(1);
  Status si = failure(read(i));
  EXPECT_EQ(si.code(), num(Code::kInvalidTensorData));
  EXPECT_TRUE(contains(si.message(), "int64_data holds 1 value(s)")) << si.message();
  EXPECT_TRUE(contains(si.message(), "needs 3")) << si.message();
}

TEST(OnnxTensor, DataInTheWrongTypedField) {
  // int64 values written to int32_data: the int64 reader finds no int64_data at all.
  TensorProto t = tensor_header("shape", TensorProto::INT64, {2});
  t.add_int32_data(1);
  t.add_int32_data(2);
  Status s = failure(read(t));
  EXPECT_EQ(s.code(), num(Code::kInvalidTensorData));
  EXPECT_TRUE(contains(s.message(), "int64_data holds 0")) << s.message();
}

TEST(OnnxTensor, FloatData) {
  TensorProto t = tensor_header("f", TensorProto::FLOAT, {3});
  for (float v : {0.25f, -1.0f, 3.0e8f}) t.add_float_data(v);
  auto r = read(t);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values_of<float>(*r), (std::vector<float>{0.25f, -1.0f, 3.0e8f}));
}

TEST(OnnxTensor, Int32DataForEveryNarrowType) {
  {
    TensorProto t = tensor_header("i32", TensorProto::INT32, {3});
    for (int v : {-2147483647 - 1, 0, 2147483647}) t.add_int32_data(v);
    auto r = read(t);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(values_of<int32_t>(*r), (std::vector<int32_t>{INT32_MIN, 0, INT32_MAX}));
  }
  {
    TensorProto t = tensor_header("i8", TensorProto::INT8, {4});
    for (int v : {-128, -3, 0, 127}) t.add_int32_data(v);
    auto r = read(t);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(values_of<int8_t>(*r), (std::vector<int8_t>{-128, -3, 0, 127}));
  }
  {
    TensorProto t = tensor_header("u8", TensorProto::UINT8, {3});
    for (int v : {0, 128, 255}) t.add_int32_data(v);
    auto r = read(t);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(values_of<uint8_t>(*r), (std::vector<uint8_t>{0, 128, 255}));
  }
  {
    TensorProto t = tensor_header("i16", TensorProto::INT16, {3});
    for (int v : {-32768, -300, 32767}) t.add_int32_data(v);
    auto r = read(t);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(values_of<int16_t>(*r), (std::vector<int16_t>{-32768, -300, 32767}));
  }
  {
    TensorProto t = tensor_header("u16", TensorProto::UINT16, {2});
    for (int v : {1, 65535}) t.add_int32_data(v);
    auto r = read(t);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(values_of<uint16_t>(*r), (std::vector<uint16_t>{1, 65535}));
  }
  {
    TensorProto t = tensor_header("b", TensorProto::BOOL, {3});
    for (int v : {1, 0, 1}) t.add_int32_data(v);
    auto r = read(t);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->dtype(), DataType::kBool);
    EXPECT_EQ(values_of<uint8_t>(*r), (std::vector<uint8_t>{1, 0, 1}));
  }
  {
    // float16 and bfloat16 travel as their bit patterns: 1.0, -2.0, +inf.
    TensorProto t = tensor_header("h", TensorProto::FLOAT16, {3});
    for (int v : {0x3C00, 0xC000, 0x7C00}) t.add_int32_data(v);
    auto r = read(t);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->nbytes(), 6u);
    EXPECT_EQ(values_of<uint16_t>(*r), (std::vector<uint16_t>{0x3C00, 0xC000, 0x7C00}));
  }
  {
    TensorProto t = tensor_header("bf", TensorProto::BFLOAT16, {2});
    for (int v : {0x3F80, 0xBF80}) t.add_int32_data(v);  // 1.0, -1.0
    auto r = read(t);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->dtype(), DataType::kBFloat16);
    EXPECT_EQ(values_of<uint16_t>(*r), (std::vector<uint16_t>{0x3F80, 0xBF80}));
  }
}

TEST(OnnxTensor, Int64Data) {
  TensorProto t = tensor_header("i64", TensorProto::INT64, {3});
  for (int64_t v : {INT64_MIN, int64_t{-1}, INT64_MAX}) t.add_int64_data(v);
  auto r = read(t);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values_of<int64_t>(*r), (std::vector<int64_t>{INT64_MIN, -1, INT64_MAX}));
}

TEST(OnnxTensor, DoubleData) {
  TensorProto t = tensor_header("d", TensorProto::DOUBLE, {2});
  t.add_double_data(1e300);
  t.add_double_data(-0.125);
  auto r = read(t);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values_of<double>(*r), (std::vector<double>{1e300, -0.125}));
}

TEST(OnnxTensor, Uint64DataForUint32AndUint64) {
  {
    TensorProto t = tensor_header("u32", TensorProto::UINT32, {2});
    t.add_uint64_data(4294967295u);
    t.add_uint64_data(7);
    auto r = read(t);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->nbytes(), 8u);
    EXPECT_EQ(values_of<uint32_t>(*r), (std::vector<uint32_t>{4294967295u, 7}));
  }
  {
    TensorProto t = tensor_header("u64", TensorProto::UINT64, {2});
    t.add_uint64_data(UINT64_MAX);
    t.add_uint64_data(0);
    auto r = read(t);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(values_of<uint64_t>(*r), (std::vector<uint64_t>{UINT64_MAX, 0}));
  }
}

TEST(OnnxTensor, StringData) {
  TensorProto t = tensor_header("s", TensorProto::STRING, {3});
  t.add_string_data("alpha");
  t.add_string_data("");
  t.add_string_data(std::string("nul\0inside", 10));
  auto r = read(t);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->dtype(), DataType::kString);
  EXPECT_EQ(r->string_data(),
            (std::vector<std::string>{"alpha", "", std::string("nul\0inside", 10)}));

  TensorProto short_by_one = tensor_header("s", TensorProto::STRING, {2});
  short_by_one.add_string_data("only");
  Status s = failure(read(short_by_one));
  EXPECT_EQ(s.code(), num(Code::kInvalidTensorData));
  EXPECT_TRUE(contains(s.message(), "string_data holds 1")) << s.message();

  TensorProto raw = tensor_header("s", TensorProto::STRING, {1});
  raw.set_raw_data("abc");
  Status sr = failure(read(raw));
  EXPECT_EQ(sr.code(), num(Code::kInvalidTensorData));
  EXPECT_TRUE(contains(sr.message(), "string_data")) << sr.message();
}

TEST(OnnxTensor, EmptyAndScalarTensors) {
  auto empty = read(float_tensor("e", {0, 4}, {}));
  ASSERT_TRUE(empty.ok()) << empty.status().to_string();
  EXPECT_EQ(empty->numel(), 0);
  auto typed_empty = read(tensor_header("e", TensorProto::INT64, {3, 0}));
  ASSERT_TRUE(typed_empty.ok()) << typed_empty.status().to_string();
  EXPECT_EQ(typed_empty->numel(), 0);

  auto scalar = read(float_tensor("s", {}, {42.0f}));
  ASSERT_TRUE(scalar.ok()) << scalar.status().to_string();
  EXPECT_EQ(scalar->rank(), 0u);
  EXPECT_EQ(values_of<float>(*scalar), std::vector<float>{42.0f});
}

TEST(OnnxTensor, UnknownDataType) {
  for (int dt : {99, 0, -1, 24}) {
    TensorProto t = tensor_header("w", dt, {2});
    t.set_raw_data(std::string(8, '\0'));
    Status s = failure(read(t));
    EXPECT_EQ(s.code(), num(Code::kUnknownDataType)) << dt << ": " << s.to_string();
    EXPECT_TRUE(contains(s.message(), "data_type " + std::to_string(dt))) << s.message();
    EXPECT_TRUE(contains(s.message(), "initializer 'w'")) << s.message();
  }
}

TEST(OnnxTensor, NegativeDim) {
  Status s = failure(read(float_tensor("w", {2, -3}, {1, 2})));
  EXPECT_EQ(s.code(), num(Code::kInvalidShape));
  EXPECT_TRUE(contains(s.message(), "dim 1 is -3")) << s.message();
}

TEST(OnnxTensor, DimsOverflowInt64) {
  const int64_t big = int64_t{1} << 40;
  Status s = failure(read(float_tensor("w", {big, big}, {1.0f})));
  EXPECT_EQ(s.code(), num(Code::kInvalidShape));
  EXPECT_TRUE(contains(s.message(), "overflows")) << s.message();
  EXPECT_TRUE(contains(s.message(), std::to_string(big))) << s.message();

  // The element count fits int64 but its bytes do not.
  Status b = failure(read(int64_tensor("w", {int64_t{1} << 61, 8}, {1})));
  EXPECT_EQ(b.code(), num(Code::kInvalidShape)) << b.to_string();
}

// A 4 EiB tensor declared with 4 bytes of data must be judged from its header alone: an
// attempted allocation would fail (OUT_OF_MEMORY) or take the machine down, not report 1010.
TEST(OnnxTensor, HugeDeclaredShapeFailsFastWithoutAllocating) {
  const std::vector<int64_t> dims = {int64_t{1} << 40, int64_t{1} << 20};
  const auto start = std::chrono::steady_clock::now();

  Status raw = failure(read(float_tensor("huge", dims, {1.0f})));
  EXPECT_EQ(raw.code(), num(Code::kInvalidTensorData)) << raw.to_string();
  EXPECT_TRUE(contains(raw.message(), "holds 4 bytes")) << raw.message();
  EXPECT_TRUE(contains(raw.message(), std::to_string(uint64_t{1} << 62))) << raw.message();

  TensorProto typed = tensor_header("huge", TensorProto::FLOAT, dims);
  typed.add_float_data(1.0f);
  Status t = failure(read(typed));
  EXPECT_EQ(t.code(), num(Code::kInvalidTensorData)) << t.to_string();

  TensorProto wide = tensor_header("huge", TensorProto::INT64, dims);
  wide.add_int64_data(1);
  Status w = failure(read(wide));  // 2^63 bytes: past int64
  EXPECT_EQ(w.code(), num(Code::kInvalidShape)) << w.to_string();

  TensorProto strings = tensor_header("huge", TensorProto::STRING, dims);
  strings.add_string_data("x");
  Status st = failure(read(strings));
  EXPECT_EQ(st.code(), num(Code::kInvalidTensorData)) << st.to_string();

  // Through a whole model as well.
  ModelBuilder m;
  m.graph().input("x", TensorProto::FLOAT, {1}).output("y", TensorProto::FLOAT, {1});
  m.graph().initializer(float_tensor("huge", dims, {1.0f}));
  m.graph().node("Add", {"x", "huge"}, {"y"}, "add");
  const std::string bytes = m.bytes();
  auto report = onnx_import::check_model_bytes(bytes.data(), bytes.size());
  EXPECT_EQ(with_code(report.problems, num(Code::kInvalidTensorData)).size(), 1u)
      << describe(report.problems);

  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(OnnxTensor, SegmentIsUnsupported) {
  TensorProto t = float_tensor("seg", {2}, {1, 2});
  t.mutable_segment()->set_begin(0);
  t.mutable_segment()->set_end(2);
  Status s = failure(read(t));
  EXPECT_EQ(s.code(), num(Code::kUnsupportedFeature));
  EXPECT_TRUE(contains(s.message(), "segment")) << s.message();
  EXPECT_TRUE(contains(s.message(), "initializer 'seg'")) << s.message();
}

// ---- through a model --------------------------------------------------------------------------

std::vector<Status> model_problems(const ModelBuilder& m) {
  const std::string bytes = m.bytes();
  auto r = onnx_import::import_bytes(bytes.data(), bytes.size());
  if (!r.ok()) return {r.status()};
  std::vector<Status> problems = r->problems;
  ir::verify(*r->model.graph, problems);
  return problems;
}

TEST(OnnxTensor, BrokenInitializerInAModel) {
  ModelBuilder m;
  m.graph().input("x", TensorProto::FLOAT, {2, 3}).output("y", TensorProto::FLOAT, {2, 3});
  m.graph().initializer(raw_tensor_of<float>("w", TensorProto::FLOAT, {2, 3}, {1, 2, 3}));
  m.graph().node("Add", {"x", "w"}, {"y"}, "add");
  auto problems = model_problems(m);
  // Reported once, for the tensor; its consumer is not reported as reading an undefined value.
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].code(), num(Code::kInvalidTensorData));
  EXPECT_TRUE(contains(problems[0].message(), "initializer 'w'")) << problems[0].message();
  EXPECT_TRUE(contains(problems[0].message(), "holds 12 bytes")) << problems[0].message();
}

TEST(OnnxTensor, BrokenInitializerDeclaredAsInputReportedOnce) {
  // IR 3 style: the initializer is also a graph input with a declared shape. A tensor that
  // failed to read must not also be reported as disagreeing with that declaration.
  ModelBuilder m(17, 3);
  m.graph()
      .input("x", TensorProto::FLOAT, {2, 3})
      .input("w", TensorProto::FLOAT, {2, 3})
      .output("y", TensorProto::FLOAT, {2, 3});
  m.graph().initializer(raw_tensor_of<float>("w", TensorProto::FLOAT, {2, 3}, {1, 2, 3}));
  m.graph().node("Add", {"x", "w"}, {"y"}, "add");
  auto problems = model_problems(m);
  EXPECT_EQ(codes_of(problems), std::vector<int>{num(Code::kInvalidTensorData)})
      << describe(problems);
}

TEST(OnnxTensor, HugeDeclaredWeightsDoNotOverflowSummary) {
  // Broken initializers standing for inputs declared at 4 EiB each: the summary's parameter
  // and byte totals must stay meaningful (saturate) rather than overflow.
  ModelBuilder m(17, 3);
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {1}).output("y", TensorProto::FLOAT, {1});
  std::vector<std::string> sum_inputs = {"x"};
  for (const char* name : {"w0", "w1", "w2"}) {
    g.input(name, TensorProto::FLOAT, {int64_t{1} << 30, int64_t{1} << 30});
    g.initializer(float_tensor(name, {int64_t{1} << 30, int64_t{1} << 30}, {1.0f}));
    sum_inputs.push_back(name);
  }
  g.node("Sum", sum_inputs, {"y"}, "sum");
  const std::string bytes = m.bytes();
  auto report = onnx_import::check_model_bytes(bytes.data(), bytes.size());
  EXPECT_EQ(with_code(report.problems, num(Code::kInvalidTensorData)).size(), 3u)
      << describe(report.problems);
  EXPECT_GE(report.summary.parameters, 0);
  EXPECT_GE(report.summary.weight_bytes, 0);
}

TEST(OnnxTensor, BrokenTensorAttribute) {
  ModelBuilder m;
  m.graph().output("y", TensorProto::FLOAT, {2});
  m.graph().node("Constant", {}, {"y"}, "const").attr_t("value", float_tensor("", {2}, {1}));
  auto problems = model_problems(m);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].code(), num(Code::kInvalidTensorData));
  EXPECT_TRUE(contains(problems[0].message(), "attribute 'value'")) << problems[0].message();
  ASSERT_NE(problems[0].node(), nullptr);
  EXPECT_EQ(problems[0].node()->name, "const");
}

TEST(OnnxTensor, InitializerWithoutName) {
  ModelBuilder m = relu_model();
  m.graph().initializer(float_tensor("", {1}, {1}));
  auto problems = model_problems(m);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].code(), num(Code::kInvalidTensorData));
  EXPECT_TRUE(contains(problems[0].message(), "without a name")) << problems[0].message();
}

TEST(OnnxTensor, SparseInitializerIsUnsupported) {
  ModelBuilder m = relu_model();
  auto* sp = m.proto().mutable_graph()->add_sparse_initializer();
  *sp->mutable_values() = float_tensor("sparse_w", {1}, {1});
  *sp->mutable_indices() = int64_tensor("", {1}, {0});
  sp->add_dims(4);
  auto problems = model_problems(m);
  Status s = *with_code(problems, num(Code::kUnsupportedFeature)).at(0);
  EXPECT_TRUE(contains(s.message(), "'sparse_w'")) << s.message();
}

// ---- external data ----------------------------------------------------------------------------

std::string bytes_of(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

TEST(OnnxTensor, ExternalDataLoads) {
  TempDir dir;
  // Two tensors packed in one file, the second at an offset.
  dir.write("weights.bin", bytes_of({9, 9, 1.5f, 2.5f, 3.5f}));
  ExternalRef ext;
  auto r = read(external_tensor("w", TensorProto::FLOAT, {3},
                                {{"location", "weights.bin"}, {"offset", "8"}, {"length", "12"}}),
                dir.path().string(), true, &ext);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values_of<float>(*r), (std::vector<float>{1.5f, 2.5f, 3.5f}));
  EXPECT_EQ(ext.location, "weights.bin");
  EXPECT_EQ(ext.offset, 8);
  EXPECT_EQ(ext.length, 12);

  // Without a length, the tensor's size is read.
  auto no_len = read(external_tensor("w", TensorProto::FLOAT, {2},
                                     {{"location", "weights.bin"}, {"offset", "12"}}),
                     dir.path().string());
  ASSERT_TRUE(no_len.ok()) << no_len.status().to_string();
  EXPECT_EQ(values_of<float>(*no_len), (std::vector<float>{2.5f, 3.5f}));

  // A location in a subdirectory of the model directory is fine.
  fs::create_directory(dir.path() / "data");
  dir.write("data/w.bin", bytes_of({7}));
  auto sub = read(external_tensor("w", TensorProto::FLOAT, {1}, {{"location", "data/w.bin"}}),
                  dir.path().string());
  ASSERT_TRUE(sub.ok()) << sub.status().to_string();
  EXPECT_EQ(values_of<float>(*sub), std::vector<float>{7});
}

TEST(OnnxTensor, ExternalDataValidatedWithoutLoading) {
  TempDir dir;
  dir.write("weights.bin", bytes_of({1, 2, 3}));
  auto r = read(external_tensor("w", TensorProto::FLOAT, {3}, {{"location", "weights.bin"}}),
                dir.path().string(), /*load_external=*/false);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->dtype(), DataType::kFloat32);
  EXPECT_EQ(r->shape(), std::vector<int64_t>{3});
  EXPECT_EQ(r->data(), nullptr);
  EXPECT_FALSE(r->owns_data());

  // Validation still runs: a range past the end is refused without loading too.
  Status s =
      failure(read(external_tensor("w", TensorProto::FLOAT, {4}, {{"location", "weights.bin"}}),
                   dir.path().string(), false));
  EXPECT_EQ(s.code(), num(Code::kExternalDataRange));
}

TEST(OnnxTensor, ExternalDataFileMissing) {
  TempDir dir;
  Status s = failure(read(external_tensor("w", TensorProto::FLOAT, {2}, {{"location", "gone.bin"}}),
                          dir.path().string()));
  EXPECT_EQ(s.code(), num(Code::kExternalDataMissing));
  EXPECT_TRUE(contains(s.message(), "'gone.bin'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "initializer 'w'")) << s.message();
}

TEST(OnnxTensor, ExternalDataLocationIsADirectory) {
  TempDir dir;
  fs::create_directory(dir.path() / "weights");
  Status s = failure(read(external_tensor("w", TensorProto::FLOAT, {2}, {{"location", "weights"}}),
                          dir.path().string()));
  EXPECT_EQ(s.code(), num(Code::kFileUnreadable));
  EXPECT_TRUE(contains(s.message(), "'weights'")) << s.message();
  EXPECT_TRUE(contains(s.message(), "not a regular file")) << s.message();
}

TEST(OnnxTensor, ExternalDataWithoutLocation) {
  TempDir dir;
  Status s = failure(
      read(external_tensor("w", TensorProto::FLOAT, {2}, {{"offset", "0"}}), dir.path().string()));
  EXPECT_EQ(s.code(), num(Code::kInvalidTensorData));
  EXPECT_TRUE(contains(s.message(), "'location'")) << s.message();
}

TEST(OnnxTensor, ExternalDataEscapes) {
  TempDir dir;
  fs::create_directory(dir.path() / "model");
  dir.write("outside.bin", bytes_of({1, 2}));
  const std::string base = (dir.path() / "model").string();
  for (const std::string& loc :
       {std::string("/etc/passwd"), dir.file("outside.bin"), std::string("../outside.bin"),
        std::string("sub/../../outside.bin"), std::string("..")}) {
    SCOPED_TRACE(loc);
    Status s =
        failure(read(external_tensor("w", TensorProto::FLOAT, {2}, {{"location", loc}}), base));
    EXPECT_EQ(s.code(), num(Code::kExternalDataEscape)) << s.to_string();
    EXPECT_TRUE(contains(s.message(), "'" + loc + "'")) << s.message();
  }
}

TEST(OnnxTensor, ExternalDataSymlinkOutsideModelDir) {
  TempDir dir;
  fs::create_directory(dir.path() / "model");
  dir.write("secret.bin", bytes_of({1, 2}));
  fs::create_symlink(dir.path() / "secret.bin", dir.path() / "model" / "weights.bin");
  // A symlinked directory leads outside as well.
  fs::create_directory(dir.path() / "elsewhere");
  dir.write("elsewhere/w.bin", bytes_of({1, 2}));
  fs::create_directory_symlink(dir.path() / "elsewhere", dir.path() / "model" / "linked");
  const std::string base = (dir.path() / "model").string();
  for (std::string loc : {"weights.bin", "linked/w.bin"}) {
    SCOPED_TRACE(loc);
    Status s =
        failure(read(external_tensor("w", TensorProto::FLOAT, {2}, {{"location", loc}}), base));
    EXPECT_EQ(s.code(), num(Code::kExternalDataEscape)) << s.to_string();
    EXPECT_TRUE(contains(s.message(), "symbolic link")) << s.message();
  }
  // A symlink that stays inside the directory is fine.
  dir.write("model/real.bin", bytes_of({4, 5}));
  fs::create_symlink("real.bin", dir.path() / "model" / "alias.bin");
  auto ok = read(external_tensor("w", TensorProto::FLOAT, {2}, {{"location", "alias.bin"}}), base);
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(values_of<float>(*ok), (std::vector<float>{4, 5}));
}

TEST(OnnxTensor, ExternalDataSiblingDirectoryWithCommonPrefix) {
  // "model2" starts with "model" but is outside "model": a string-prefix test would pass it.
  TempDir dir;
  fs::create_directory(dir.path() / "model");
  fs::create_directory(dir.path() / "model2");
  dir.write("model2/w.bin", bytes_of({1, 2}));
  fs::create_symlink(dir.path() / "model2" / "w.bin", dir.path() / "model" / "w.bin");
  Status s = failure(read(external_tensor("w", TensorProto::FLOAT, {2}, {{"location", "w.bin"}}),
                          (dir.path() / "model").string()));
  EXPECT_EQ(s.code(), num(Code::kExternalDataEscape)) << s.to_string();
}

TEST(OnnxTensor, ExternalDataRange) {
  TempDir dir;
  dir.write("w.bin", bytes_of({1, 2, 3, 4}));  // 16 bytes
  const std::string base = dir.path().string();
  auto ext = [](std::vector<std::pair<std::string, std::string>> kv, int64_t n = 2) {
    kv.insert(kv.begin(), {"location", "w.bin"});
    return external_tensor("w", TensorProto::FLOAT, {n}, kv);
  };
  {
    Status s = failure(read(ext({{"offset", "12"}, {"length", "8"}}), base));
    EXPECT_EQ(s.code(), num(Code::kExternalDataRange));
    EXPECT_TRUE(contains(s.message(), "[12, 20)")) << s.message();
    EXPECT_TRUE(contains(s.message(), "16 bytes")) << s.message();
  }
  {
    Status s = failure(read(ext({{"offset", "100"}}), base));
    EXPECT_EQ(s.code(), num(Code::kExternalDataRange));
    EXPECT_TRUE(contains(s.message(), "[100, 108)")) << s.message();
  }
  {
    // Length is fine for the file but not for a float32[2] tensor.
    Status s = failure(read(ext({{"offset", "0"}, {"length", "12"}}), base));
    EXPECT_EQ(s.code(), num(Code::kExternalDataRange));
    EXPECT_TRUE(contains(s.message(), "length 12")) << s.message();
    EXPECT_TRUE(contains(s.message(), "needs 8")) << s.message();
  }
  for (std::string bad : {"abc", "", "12abc", "-4", "99999999999999999999999"}) {
    SCOPED_TRACE("offset '" + bad + "'");
    Status s = failure(read(ext({{"offset", bad}}), base));
    EXPECT_EQ(s.code(), num(Code::kExternalDataRange)) << s.to_string();
    EXPECT_TRUE(contains(s.message(), "offset '" + bad + "'")) << s.message();
  }
  {
    // Offsets near INT64_MAX must not wrap around when added to the length.
    Status s = failure(read(ext({{"offset", "9223372036854775800"}, {"length", "8"}}), base));
    EXPECT_EQ(s.code(), num(Code::kExternalDataRange)) << s.to_string();
  }
}

TEST(OnnxTensor, HugeExternalLengthsDoNotOverflowTotals) {
  // Lengths near INT64_MAX on several tensors: each is refused, and the model's external byte
  // total (summed for `kiln check`'s summary) must not overflow on the way.
  TempDir dir;
  dir.write("w.bin", bytes_of({1, 2}));
  ModelBuilder m;
  m.graph().input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  for (const char* name : {"w0", "w1", "w2"})
    m.graph().initializer(external_tensor(
        name, TensorProto::FLOAT, {2}, {{"location", "w.bin"}, {"length", "9223372036854775807"}}));
  m.graph().node("Sum", {"x", "w0", "w1", "w2"}, {"y"}, "sum");
  const std::string path = dir.write("model.onnx", m);
  auto report = onnx_import::check_model_file(path);
  EXPECT_EQ(with_code(report.problems, num(Code::kExternalDataRange)).size(), 3u)
      << describe(report.problems);
  EXPECT_GE(report.summary.external_bytes, 0);
}

TEST(OnnxTensor, InMemoryImportRefusesExternalData) {
  Status s = failure(read(external_tensor("w", TensorProto::FLOAT, {2}, {{"location", "w.bin"}})));
  EXPECT_EQ(s.code(), num(Code::kExternalDataMissing));
  EXPECT_TRUE(contains(s.message(), "from memory")) << s.message();

  ModelBuilder m;
  m.graph().input("x", TensorProto::FLOAT, {2}).output("y", TensorProto::FLOAT, {2});
  m.graph().initializer(external_tensor("w", TensorProto::FLOAT, {2}, {{"location", "w.bin"}}));
  m.graph().node("Add", {"x", "w"}, {"y"}, "add");
  auto problems = model_problems(m);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].code(), num(Code::kExternalDataMissing));
  EXPECT_TRUE(contains(problems[0].message(), "'w.bin'")) << problems[0].message();
}

ModelBuilder external_model(const std::string& location) {
  ModelBuilder m;
  m.graph().input("x", TensorProto::FLOAT, {3}).output("y", TensorProto::FLOAT, {3});
  m.graph().initializer(external_tensor("w", TensorProto::FLOAT, {3}, {{"location", location}}));
  m.graph().node("Add", {"x", "w"}, {"y"}, "add");
  return m;
}

TEST(OnnxTensor, ExternalDataThroughModelFile) {
  TempDir dir;
  dir.write("w.bin", bytes_of({1, 2, 3}));
  const std::string path = dir.write("model.onnx", external_model("w.bin"));

  auto r = onnx_import::import_file(path);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->problems.empty()) << describe(r->problems);
  EXPECT_EQ(r->model.external_files, std::vector<std::string>{"w.bin"});
  EXPECT_EQ(r->model.external_bytes, 12);
  const ir::Value* w = r->model.graph->find("w");
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->is_initializer());
  EXPECT_EQ(values_of<float>(*w->initializer()), (std::vector<float>{1, 2, 3}));

  onnx_import::ImportOptions lazy;
  lazy.load_external_data = false;
  auto v = onnx_import::import_file(path, lazy);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->problems.empty()) << describe(v->problems);
  EXPECT_EQ(v->model.graph->find("w")->initializer()->data(), nullptr);

  auto report = onnx_import::check_model_file(path);
  EXPECT_EQ(report.errors(), 0) << describe(report.problems);
  EXPECT_EQ(report.summary.external_files, std::vector<std::string>{"w.bin"});
  EXPECT_EQ(report.summary.external_bytes, 12);
}

TEST(OnnxTensor, ExternalDataMissingBesideModelFile) {
  TempDir dir;
  const std::string path = dir.write("model.onnx", external_model("w.bin"));
  auto r = onnx_import::import_file(path);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->problems.size(), 1u) << describe(r->problems);
  EXPECT_EQ(r->problems[0].code(), num(Code::kExternalDataMissing));
  // `kiln check` still lists the file the model wants, so the user knows what to copy.
  auto report = onnx_import::check_model_file(path);
  EXPECT_EQ(with_code(report.problems, num(Code::kExternalDataMissing)).size(), 1u)
      << describe(report.problems);
  EXPECT_EQ(report.summary.external_files, std::vector<std::string>{"w.bin"});
}

TEST(OnnxTensor, ExternalDataEscapeThroughModelFile) {
  TempDir dir;
  fs::create_directory(dir.path() / "m");
  dir.write("w.bin", bytes_of({1, 2, 3}));
  const std::string path = dir.write("m/model.onnx", external_model("../w.bin"));
  auto report = onnx_import::check_model_file(path);
  EXPECT_EQ(codes_of(report.problems), std::vector<int>{num(Code::kExternalDataEscape)})
      << describe(report.problems);
}

}  // namespace
}  // namespace kiln
