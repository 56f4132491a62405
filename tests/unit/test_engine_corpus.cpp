// The fuzzer's engine seeds (tests/fuzz/corpus/engine) and crash regressions
// (tests/fuzz/regressions/engine_*.bin), in the normal build.
//
// The seeds are written by this file: run
//   KILN_WRITE_ENGINE_CORPUS=1 build/tests/test_engine --gtest_filter='EngineCorpus.*'
// after a format change. EngineCorpus.SeedsAreCurrent fails until then, so a stale corpus never
// silently fuzzes only the version check.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/errors.h"
#include "engine_test_util.h"

namespace kiln::engine {
namespace {

using namespace kiln::engine::test;
namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(KILN_SOURCE_DIR) / "tests/fuzz/corpus/engine";
const fs::path kRegressions = fs::path(KILN_SOURCE_DIR) / "tests/fuzz/regressions";

std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Seeds must load on any machine that fuzzes them: no arch or feature constraint, and a fixed
// built_on so the bytes do not depend on the machine that wrote them.
EngineData portable(EngineData d) {
  d.built_on = Fingerprint{"cpu", "x86_64", "Seed CPU", {"avx", "avx2", "fma"}};
  d.target = Fingerprint{"cpu", "", "", {}};
  return d;
}

std::unique_ptr<ir::Model> tiny_model() {
  auto m = std::make_unique<ir::Model>();
  m->ir_version = 8;
  m->opsets = {{"", 17}};
  m->graph = std::make_unique<ir::Graph>("tiny");
  ir::Graph& g = *m->graph;
  ir::Value* x =
      must(g.add_input("x", vtype(DataType::kFloat32, dims({Dim::fixed(1), Dim::fixed(4)}))));
  ir::Value* b =
      must(g.add_initializer("b", tensor_of<float>(DataType::kFloat32, {4}, {1, 2, 3, 4})));
  ir::Value* s =
      must(g.add_value("s", vtype(DataType::kFloat32, dims({Dim::fixed(1), Dim::fixed(4)}))));
  ir::Value* y =
      must(g.add_value("y", vtype(DataType::kFloat32, dims({Dim::fixed(1), Dim::fixed(4)}))));
  g.add_node("Add", "", "add", {x, b}, {s}, {}, 17, 0);
  g.add_node("Relu", "", "relu", {s}, {y}, {}, 17, 1);
  g.add_output(y);
  return m;
}

// Symbolic dims flowing through two profiles, with planned, in-place and dynamic slots.
std::unique_ptr<ir::Model> dynamic_model() {
  auto m = std::make_unique<ir::Model>();
  m->ir_version = 9;
  m->opsets = {{"", 19}};
  m->graph = std::make_unique<ir::Graph>("dyn");
  ir::Graph& g = *m->graph;
  auto bsq = [] { return dims({Dim::symbolic("batch"), Dim::symbolic("seq"), Dim::fixed(8)}); };
  ir::Value* x = must(g.add_input("x", vtype(DataType::kFloat16, bsq())));
  ir::Value* shape =
      must(g.add_initializer("shape", tensor_of<int64_t>(DataType::kInt64, {2}, {-1, 8})));
  ir::Value* r =
      must(g.add_value("r", vtype(DataType::kFloat16, dims({Dim::unknown(), Dim::fixed(8)}))));
  ir::Value* a = must(g.add_value("a", vtype(DataType::kFloat16, Dims())));
  ir::Value* y = must(g.add_value("y", vtype(DataType::kFloat16, Dims::unknown_rank())));
  g.add_node("Reshape", "", "reshape", {x, shape}, {r}, {}, 19, 0);
  g.add_node("Sigmoid", "", "act", {r}, {a}, {}, 19, 1);
  std::vector<ir::Attribute> attrs;
  attrs.push_back(ir::Attribute::make_int("axis", -1));
  g.add_node("Softmax", "", "softmax", {a}, {y}, std::move(attrs), 19, 2);
  g.add_output(y);
  return m;
}

EngineData dynamic_data(const ir::Model& m) {
  EngineData d;
  d.kiln_version = "0.1.0";
  d.build_options = R"({"fp16":true})";
  for (const ir::Node* n : m.graph->nodes())
    d.layers.push_back(Layer{"cpu.reference", "fp16", {n->name()}, {}, {}});
  ProfilePlan p;
  p.inputs = {{"x", ShapeRange{{1, 1, 8}, {4, 128, 8}, {8, 512, 8}}}};
  p.arena_bytes = 131072;
  p.naive_bytes = 196608;
  p.lower_bound_bytes = 131072;
  p.slots = {TensorSlot{"r", 0, 65536, "", false}, TensorSlot{"a", 0, 65536, "r", false}};
  d.profiles.push_back(p);
  p.inputs = {{"x", ShapeRange{{1, 1, 8}, {1, 1, 8}, {1, 1, 8}}}};
  p.arena_bytes = 64;
  p.slots = {TensorSlot{"r", 0, 16, "", false}, TensorSlot{"a", 0, 0, "", true}};
  d.profiles.push_back(p);
  return d;
}

std::vector<std::pair<std::string, std::vector<uint8_t>>> seeds() {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> out;
  auto tiny = tiny_model();
  EngineData td;
  td.kiln_version = "0.1.0";
  td.build_options = "{}";
  for (const ir::Node* n : tiny->graph->nodes())
    td.layers.push_back(Layer{"cpu.reference", "fp32", {n->name()}, {1, 2, 3}, {}});
  td.profiles.push_back(ProfilePlan{{{"x", ShapeRange{{1, 4}, {1, 4}, {1, 4}}}},
                                    64,
                                    64,
                                    64,
                                    {TensorSlot{"s", 0, 16, "", false}}});
  out.emplace_back("tiny.engine", write_or_die(portable(td), *tiny));
  auto rich = make_rich_model();
  out.emplace_back("rich.engine", write_or_die(portable(make_engine_data(*rich)), *rich));
  auto dyn = dynamic_model();
  out.emplace_back("dynamic.engine", write_or_die(portable(dynamic_data(*dyn)), *dyn));
  return out;
}

TEST(EngineCorpus, SeedsAreCurrent) {
  const bool write = std::getenv("KILN_WRITE_ENGINE_CORPUS") != nullptr;
  if (write) fs::create_directories(kCorpus);
  for (const auto& [name, bytes] : seeds()) {
    SCOPED_TRACE(name);
    ASSERT_FALSE(bytes.empty());
    EXPECT_LT(bytes.size(), 20000u);
    ASSERT_TRUE(read_engine(span(bytes), host_fingerprint()).ok());
    if (write) {
      std::ofstream(kCorpus / name, std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()),
                 static_cast<std::streamsize>(bytes.size()));
      continue;
    }
    EXPECT_EQ(read_bytes(kCorpus / name), bytes)
        << "the committed seed differs from what this kiln writes: regenerate the corpus with "
           "KILN_WRITE_ENGINE_CORPUS=1 (see the top of this file)";
  }
}

TEST(EngineCorpus, CommittedSeedsLoadAnywhere) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(kCorpus)) {
    SCOPED_TRACE(e.path().string());
    std::vector<uint8_t> bytes = read_bytes(e.path());
    auto d = read_engine(span(bytes), host_fingerprint());
    ASSERT_TRUE(d.ok()) << d.status().to_string();
    auto m = read_engine_model(span(bytes));
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    ++n;
  }
  EXPECT_GE(n, 3);
}

// Inputs that once crashed the fuzzer must come back as coded engine errors (or load).
TEST(EngineCorpus, FuzzRegressionsAreCodedErrors) {
  if (!fs::is_directory(kRegressions)) GTEST_SKIP();
  for (const auto& e : fs::directory_iterator(kRegressions)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("engine_", 0) != 0) continue;
    SCOPED_TRACE(name);
    for (bool restamp : {false, true}) {
      std::vector<uint8_t> bytes = read_bytes(e.path());
      if (restamp) restamp_checksum(bytes);
      auto d = read_engine(span(bytes), host_fingerprint());
      if (!d.ok()) {
        EXPECT_TRUE(d.status().category() == Category::kEngineCorrupt ||
                    d.status().category() == Category::kEngineIncompatible)
            << d.status().to_string();
      }
      auto m = read_engine_model(span(bytes));
      if (!m.ok()) {
        EXPECT_TRUE(m.status().category() == Category::kEngineCorrupt ||
                    m.status().category() == Category::kEngineIncompatible)
            << m.status().to_string();
      }
    }
  }
}

}  // namespace
}  // namespace kiln::engine
