// .engine round trips (src/engine/engine_file.h): everything written is read back field by
// field; weights are borrowed, aligned views into the file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "engine_test_util.h"

namespace kiln::engine {
namespace {

using namespace kiln::engine::test;
namespace fs = std::filesystem;

constexpr int kInternal = static_cast<int>(Code::kInternal);

uint64_t load_u64(const std::vector<uint8_t>& f, size_t at) {
  uint64_t v;
  std::memcpy(&v, f.data() + at, 8);
  return v;
}

TEST(EngineRoundTrip, EveryFieldSurvives) {
  auto m = make_rich_model();
  ASSERT_TRUE(ir::verify(*m->graph).ok()) << ir::verify(*m->graph).to_string();
  EngineData d = make_engine_data(*m);
  std::vector<uint8_t> file = write_or_die(d, *m);
  ASSERT_FALSE(file.empty());

  auto back = read_engine(span(file), host_fingerprint());
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  expect_engine_data_equal(d, *back);

  auto model = read_engine_model(span(file));
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  expect_models_equal(*m, **model);
  EXPECT_TRUE(ir::verify(*(*model)->graph).ok());
}

TEST(EngineRoundTrip, HeaderFieldsAreWhereTheSpecSays) {
  auto m = make_rich_model();
  std::vector<uint8_t> file = write_or_die(make_engine_data(*m), *m);
  ASSERT_GE(file.size(), 80u);
  EXPECT_EQ(std::memcmp(file.data(), "KILNENG\0", 8), 0);
  uint32_t version, header_size;
  std::memcpy(&version, file.data() + 8, 4);
  std::memcpy(&header_size, file.data() + 12, 4);
  EXPECT_EQ(version, kFormatVersion);
  EXPECT_EQ(header_size, 80u);
  EXPECT_EQ(load_u64(file, 16), file.size());
  // Sections: metadata right after the header, graph after it, weights 64-aligned and last.
  EXPECT_EQ(load_u64(file, 32), 80u);
  EXPECT_EQ(load_u64(file, 48), load_u64(file, 32) + load_u64(file, 40));
  const uint64_t weights = load_u64(file, 64);
  EXPECT_EQ(weights % 64, 0u);
  EXPECT_GE(weights, load_u64(file, 48) + load_u64(file, 56));
  EXPECT_EQ(weights + load_u64(file, 72), file.size());
}

TEST(EngineRoundTrip, NumericTensorsAreAlignedBorrowedViewsIntoTheFile) {
  auto m = make_rich_model();
  std::vector<uint8_t> file = write_or_die(make_engine_data(*m), *m);
  auto model = read_engine_model(span(file));
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  std::vector<const Tensor*> tensors;
  collect_tensors(*(*model)->graph, tensors);
  int numeric = 0, strings = 0;
  for (const Tensor* t : tensors) {
    if (t->dtype() == DataType::kString) {
      EXPECT_TRUE(t->owns_data());  // copied: std::string cannot live in the file
      ++strings;
      continue;
    }
    if (t->empty() || t->nbytes() == 0) continue;
    ++numeric;
    EXPECT_FALSE(t->owns_data());
    const auto* p = static_cast<const uint8_t*>(t->data());
    ASSERT_GE(p, file.data());
    ASSERT_LE(p + t->nbytes(), file.data() + file.size());
    EXPECT_EQ((p - file.data()) % 64, 0) << "tensor at file offset " << (p - file.data());
  }
  EXPECT_GE(numeric, 15);
  EXPECT_EQ(strings, 2);
}

TEST(EngineRoundTrip, MappedFileGivesAlignedPointers) {
  auto m = make_rich_model();
  std::vector<uint8_t> file = write_or_die(make_engine_data(*m), *m);
  const fs::path path = fs::temp_directory_path() / ("kiln_engine_" + std::to_string(getpid()));
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(file.data()),
              static_cast<std::streamsize>(file.size()));
  }
  auto mapped = MappedFile::open(path.string());
  ASSERT_TRUE(mapped.ok()) << mapped.status().to_string();
  ByteSpan bytes = (*mapped)->bytes();
  ASSERT_EQ(bytes.size, file.size());
  EXPECT_EQ(std::memcmp(bytes.data, file.data(), file.size()), 0);
  ASSERT_TRUE(read_engine(bytes, host_fingerprint()).ok());
  auto model = read_engine_model(bytes);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  expect_models_equal(*m, **model);
  std::vector<const Tensor*> tensors;
  collect_tensors(*(*model)->graph, tensors);
  for (const Tensor* t : tensors)
    if (t->dtype() != DataType::kString && t->nbytes() > 0) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data()) % 64, 0u);
    }
  fs::remove(path);
}

TEST(EngineRoundTrip, WritingIsDeterministicAndRewritingADecodedModelIsIdentical) {
  auto m = make_rich_model();
  EngineData d = make_engine_data(*m);
  std::vector<uint8_t> a = write_or_die(d, *m);
  std::vector<uint8_t> b = write_or_die(d, *m);
  EXPECT_EQ(a, b);
  // The decoded model's tensors are borrowed views; writing them again gives the same bytes.
  auto model = read_engine_model(span(a));
  ASSERT_TRUE(model.ok());
  auto data = read_engine(span(a), host_fingerprint());
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(write_or_die(*data, **model), a);
}

TEST(EngineRoundTrip, EachCallReturnsAnIndependentModel) {
  auto m = make_rich_model();
  std::vector<uint8_t> file = write_or_die(make_engine_data(*m), *m);
  auto one = read_engine_model(span(file));
  auto two = read_engine_model(span(file));
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_NE((*one)->graph.get(), (*two)->graph.get());
  (*one)->graph->find("a")->type.dtype = DataType::kFloat16;  // annotate one copy
  EXPECT_EQ((*two)->graph->find("a")->type.dtype, DataType::kFloat32);
}

TEST(EngineRoundTrip, SharedStorageIsStoredOnce) {
  auto m = make_rich_model();
  const Tensor& w = *m->graph->find("w")->initializer();
  ASSERT_TRUE(m->graph->add_initializer("w_view", w.view()).ok());
  EngineData d = make_engine_data(*m);
  std::vector<uint8_t> file = write_or_die(d, *m);
  auto model = read_engine_model(span(file));
  ASSERT_TRUE(model.ok());
  EXPECT_EQ((*model)->graph->find("w")->initializer()->data(),
            (*model)->graph->find("w_view")->initializer()->data());
}

TEST(EngineRoundTrip, EmptyEngineDataAndMinimalGraph) {
  ir::Model m;
  m.graph = std::make_unique<ir::Graph>("");
  std::vector<uint8_t> file = write_or_die(EngineData{}, m);
  auto d = read_engine(span(file), host_fingerprint());
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  expect_engine_data_equal(EngineData{}, *d);
  auto back = read_engine_model(span(file));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  expect_models_equal(m, **back);
}

// A large initializer is used in place: read_engine checksums it (XXH3, ~10 ms per 100 MB) but
// neither reader copies it. Timings are printed, not asserted.
TEST(EngineRoundTrip, LargeWeightsAreUsedInPlace) {
  ir::Model m;
  m.graph = std::make_unique<ir::Graph>("big");
  Tensor big = Tensor::allocate(DataType::kFloat32, {16, 1024, 1024}).value();  // 64 MiB
  for (size_t i = 0; i < big.nbytes(); i += 4096) static_cast<uint8_t*>(big.data())[i] = 1;
  ir::Value* w = must(m.graph->add_initializer("w", std::move(big)));
  m.graph->add_output(w);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<uint8_t> file = write_or_die(EngineData{}, m);
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(read_engine(span(file), host_fingerprint()).ok());
  auto t2 = std::chrono::steady_clock::now();
  auto model = read_engine_model(span(file));
  auto t3 = std::chrono::steady_clock::now();
  ASSERT_TRUE(model.ok());
  const Tensor& back = *(*model)->graph->find("w")->initializer();
  EXPECT_FALSE(back.owns_data());
  EXPECT_EQ(static_cast<const uint8_t*>(back.data()), file.data() + load_u64(file, 64));
  auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  std::printf("64 MiB engine: write %.1f ms, read_engine %.1f ms, read_engine_model %.3f ms\n",
              ms(t0, t1), ms(t1, t2), ms(t2, t3));
}

// --fp16 weight storage: a main-graph float32 initializer whose values are float16 values is
// stored in 2 bytes per element and read back as an owned float32 tensor with the same values.
TEST(EngineRoundTrip, HalfStoredInitializersComeBackAsTheSameFloat32Values) {
  ir::Model m;
  m.graph = std::make_unique<ir::Graph>("half");
  Tensor w = Tensor::allocate(DataType::kFloat32, {64, 64}).value();
  float* p = w.data_as<float>();
  const float specials[] = {0.f, -0.f, 65504.f, -65504.f, 6.1035156e-05f, 5.9604645e-08f, 1.f};
  for (int64_t i = 0; i < w.numel(); ++i)
    p[i] = i < 7 ? specials[i] : static_cast<float>(i % 977 - 488) * 0.0625f;
  std::vector<float> want(p, p + w.numel());
  ir::Value* wv = must(m.graph->add_initializer("w", std::move(w)));
  m.graph->add_output(wv);
  const std::vector<uint8_t> full = write_or_die(EngineData{}, m);
  EngineData d;
  d.half_initializers = {"w"};
  const std::vector<uint8_t> half = write_or_die(d, m);
  EXPECT_EQ(full.size() - half.size(), 64u * 64 * 2);  // 8 KiB less (both 64-aligned)
  auto back = read_engine_model(span(half));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  const Tensor& t = *(*back)->graph->find("w")->initializer();
  EXPECT_EQ(t.dtype(), DataType::kFloat32);
  EXPECT_TRUE(t.owns_data());
  ASSERT_EQ(t.numel(), 64 * 64);
  EXPECT_EQ(std::memcmp(t.data(), want.data(), want.size() * 4), 0);
  EXPECT_TRUE(std::signbit(t.data_as<float>()[1]));
}

TEST(EngineWriter, HalfStorageOfAValueFloat16CannotHoldIsRefused) {
  ir::Model m;
  m.graph = std::make_unique<ir::Graph>("half");
  Tensor w = Tensor::allocate(DataType::kFloat32, {2}).value();
  w.data_as<float>()[0] = 1.f;
  w.data_as<float>()[1] = 0.1f;  // not a float16 value: the builder must round first
  m.graph->add_output(must(m.graph->add_initializer("w", std::move(w))));
  EngineData d;
  d.half_initializers = {"w"};
  auto r = write_engine(d, m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kInternal);
  EXPECT_NE(r.status().message().find("float16"), std::string::npos) << r.status().message();
}

// ---- what the writer refuses ------------------------------------------------------------------

TEST(EngineWriter, LayerCountMustMatchTheMainGraph) {
  auto m = make_rich_model();
  EngineData d = make_engine_data(*m);
  d.layers.pop_back();
  auto r = write_engine(d, *m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kInternal);
  EXPECT_NE(r.status().message().find("2 layers for 3 main-graph nodes"), std::string::npos)
      << r.status().message();
}

TEST(EngineWriter, SparseAndTypeProtoAttributesAreRefused) {
  for (ir::AttrType t : {ir::AttrType::kSparseTensor, ir::AttrType::kSparseTensors,
                         ir::AttrType::kTypeProto, ir::AttrType::kTypeProtos}) {
    auto m = make_rich_model();
    ir::Node* n = m->graph->nodes()[0];
    ir::Attribute a;
    a.name = "sp";
    a.type = t;
    n->set_attr(std::move(a));
    auto r = write_engine(make_engine_data(*m), *m);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), static_cast<int>(Code::kUnsupportedFeature));
    EXPECT_NE(r.status().message().find("'sp'"), std::string::npos) << r.status().message();
  }
}

TEST(EngineWriter, AGraphThatFailsVerificationIsRefused) {
  auto m = make_rich_model();
  // A value nothing defines, read by a new node.
  ir::Value* ghost = must(m->graph->add_value("ghost"));
  ir::Value* out = must(m->graph->add_value("ghost_out"));
  m->graph->add_node("Relu", "", "reads_ghost", {ghost}, {out}, {}, 17, 3);
  auto r = write_engine(make_engine_data(*m), *m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), static_cast<int>(Code::kUndefinedValue));
}

TEST(EngineWriter, TensorWithoutDataIsRefused) {
  auto m = make_rich_model();
  // What the importer leaves for an initializer it could not read.
  must(m->graph->add_initializer("broken", Tensor::borrow(DataType::kFloat32, {4}, nullptr)));
  auto r = write_engine(make_engine_data(*m), *m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kInternal);
  EXPECT_NE(r.status().message().find("'broken'"), std::string::npos) << r.status().message();
}

TEST(EngineWriter, RaggedProfileRangeIsRefused) {
  auto m = make_rich_model();
  EngineData d = make_engine_data(*m);
  d.profiles[0].inputs[0].second.max.pop_back();
  auto r = write_engine(d, *m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kInternal);
}

}  // namespace
}  // namespace kiln::engine
