// INT8 chains (builder/requantize.cpp): an INT8 layer read only by INT8 layers hands them its
// output as uint8, requantized in its epilogue. The oracle is the same engine built with
// chaining off (`--no-int8-chain`), whose INT8 layers test_cpu_int8 checks against a
// fake-quantized reference: both compute the same integers up to the rounding of a product
// (scale folded into the epilogue vs applied after it), so the outputs agree to ~1e-6 in
// cosine, while a wrong scale, a skipped activation or a uint8 read as float would not.
#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "engine/engine_file.h"
#include "unit/int8_test_models.h"

namespace kiln::test {
namespace {

// x[N,3,12,12] → Conv 3→8 3x3 + Clip(0, 6) → Conv 8→8 1x1 + Relu → Conv 8→4 3x3 → y: two
// chained tensors, the first through a bounded activation (not foldable into the scale).
ModelBuilder clip_chain_model() {
  ModelBuilder m(17);
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {"N", 3, 12, 12})
      .output("y", TensorProto::FLOAT, {"N", 4, 12, 12});
  g.initializer(float_tensor("w1", {8, 3, 3, 3}, random_floats(216, 31)));
  g.initializer(float_tensor("w2", {8, 8, 1, 1}, random_floats(64, 32)));
  g.initializer(float_tensor("b2", {8}, random_floats(8, 33)));
  g.initializer(float_tensor("w3", {4, 8, 3, 3}, random_floats(288, 34)));
  g.initializer(float_tensor("lo", {}, {0.f}));
  g.initializer(float_tensor("hi", {}, {6.f}));
  g.node("Conv", {"x", "w1"}, {"c1"}, "conv1").attr_ints("pads", {1, 1, 1, 1});
  g.node("Clip", {"c1", "lo", "hi"}, {"r1"}, "clip1");
  g.node("Conv", {"r1", "w2", "b2"}, {"c2"}, "conv2");
  g.node("Relu", {"c2"}, {"r2"}, "relu2");
  g.node("Conv", {"r2", "w3"}, {"y"}, "conv3").attr_ints("pads", {1, 1, 1, 1});
  return m;
}

// Two residual blocks, the second with a signed projection ("downsample") as its residual:
//   r1 = relu(conv1(x)); r2 = relu(conv2(r1)); r3 = relu(conv3(r2) + r1)
//   d = conv_d(r3); r4 = relu(conv4(r3)); r5 = relu(conv5(r4) + d); [y = relu(conv6(r5))]
// With conv6, every tensor but y can be handed over 8-bit (d as int8); without it r5 is the
// graph output, so conv5 writes float32, so its residual d must stay float32 too.
ModelBuilder residual_model(bool tail) {
  ModelBuilder m(17);
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {"N", 3, 12, 12})
      .output("y", TensorProto::FLOAT, {"N", 8, 12, 12});
  uint32_t seed = 40;
  auto conv = [&](const std::string& name, const std::string& in, const std::string& out,
                  int64_t cin, int64_t k) {
    const int64_t n = 8 * cin * k * k;
    g.initializer(float_tensor("w_" + name, {8, cin, k, k}, random_floats(n, ++seed)));
    g.initializer(float_tensor("b_" + name, {8}, random_floats(8, ++seed)));
    g.node("Conv", {in, "w_" + name, "b_" + name}, {out}, name)
        .attr_ints("pads",
                   k == 3 ? std::vector<int64_t>{1, 1, 1, 1} : std::vector<int64_t>{0, 0, 0, 0});
  };
  conv("conv1", "x", "c1", 3, 3);
  g.node("Relu", {"c1"}, {"r1"}, "relu1");
  conv("conv2", "r1", "c2", 8, 3);
  g.node("Relu", {"c2"}, {"r2"}, "relu2");
  conv("conv3", "r2", "c3", 8, 3);
  g.node("Add", {"c3", "r1"}, {"a3"}, "add3");
  g.node("Relu", {"a3"}, {"r3"}, "relu3");
  conv("conv_d", "r3", "d", 8, 1);
  conv("conv4", "r3", "c4", 8, 3);
  g.node("Relu", {"c4"}, {"r4"}, "relu4");
  conv("conv5", "r4", "c5", 8, 3);
  g.node("Add", {"c5", "d"}, {"a5"}, "add5");
  g.node("Relu", {"a5"}, {tail ? "r5" : "y"}, "relu5");
  if (tail) {
    conv("conv6", "r5", "c6", 8, 3);
    g.node("Relu", {"c6"}, {"y"}, "relu6");
  }
  return m;
}

// Inputs large enough that conv1's Clip cuts at 6.
Tensor scaled_input(std::vector<int64_t> shape, uint32_t seed, float k) {
  Tensor t = random_tensor(shape, seed);
  for (int64_t i = 0; i < t.numel(); ++i) t.data_as<float>()[i] *= k;
  return t;
}

struct Built {
  std::vector<uint8_t> bytes;
  BuildSummary summary;
};

Built build(const ModelBuilder& m, bool chain, float input_scale, bool int8 = true,
            const char* algorithm = "minmax", double percentile = 99.99) {
  auto net = network_of(m);
  EXPECT_NE(net, nullptr);
  std::vector<Tensor> xs;
  for (uint32_t i = 0; i < 30; ++i)
    xs.push_back(scaled_input({4, 3, 12, 12}, 300 + i, input_scale));
  VectorCalibrator calib(std::move(xs));
  BuilderConfig cfg = int8_config(&calib);
  cfg.precision.int8 = int8;
  cfg.calibration.calibrator = int8 ? &calib : nullptr;
  cfg.calibration.algorithm = algorithm;
  cfg.calibration.percentile = percentile;
  cfg.calibration.chain = chain;
  Builder b;
  auto bytes = b.build_serialized(*net, cfg);
  EXPECT_TRUE(bytes.ok()) << bytes.status().to_string();
  return {bytes.ok() ? std::move(bytes).value() : std::vector<uint8_t>{}, b.last_summary()};
}

// Layers whose output the engine graph types `dtype`.
int outputs_of_type(const std::vector<uint8_t>& bytes, DataType dtype) {
  auto m = engine::read_engine_model({bytes.data(), bytes.size()});
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  int n = 0;
  if (m.ok())
    for (const ir::Node* node : (*m)->graph->nodes())
      for (const ir::Value* v : node->outputs())
        n += v != nullptr && v->type.dtype == dtype ? 1 : 0;
  return n;
}

uint64_t arena_bytes(const std::vector<uint8_t>& bytes) {
  auto d = engine::read_engine({bytes.data(), bytes.size()}, engine::host_fingerprint());
  EXPECT_TRUE(d.ok());
  return d.ok() && !d->profiles.empty() ? d->profiles[0].arena_bytes : 0;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::fabs(static_cast<double>(a.data_as<float>()[i]) - b.data_as<float>()[i]));
  return m;
}

double max_abs(const Tensor& a) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::fabs(static_cast<double>(a.data_as<float>()[i])));
  return m;
}

TEST(RuntimeInt8Chain, ChainedEnginesMatchTheUnchainedOnesAndUseLessMemory) {
  struct Case {
    const char* name;
    ModelBuilder model;
    float input_scale;
    int chained;
  };
  // int8_model: conv1 (raw input, shifted into uint8) → Relu → conv2 is chained; conv2 feeds a
  // pooling layer (float32). clip_chain_model: conv1 → conv2 → conv3, the last a graph output.
  std::vector<Case> cases;
  cases.push_back({"conv-relu-conv-pool-fc", int8_model(), 1.f, 1});
  cases.push_back({"conv-clip6-conv-relu-conv", clip_chain_model(), 4.f, 2});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Built on = build(c.model, true, c.input_scale);
    const Built off = build(c.model, false, c.input_scale);
    const Built fp32 = build(c.model, true, c.input_scale, false);
    EXPECT_EQ(on.summary.int8_chained, c.chained);
    EXPECT_EQ(off.summary.int8_chained, 0);
    EXPECT_EQ(on.summary.int8_layers, off.summary.int8_layers);
    EXPECT_EQ(outputs_of_type(on.bytes, DataType::kUInt8), c.chained);
    EXPECT_EQ(outputs_of_type(off.bytes, DataType::kUInt8), 0);
    EXPECT_LT(arena_bytes(on.bytes), arena_bytes(off.bytes));
    for (uint32_t seed : {900u, 901u, 902u}) {
      const Tensor x = scaled_input({4, 3, 12, 12}, seed, c.input_scale);
      const Tensor y_on = run_once(on.bytes, x), y_off = run_once(off.bytes, x);
      const Tensor y_fp32 = run_once(fp32.bytes, x);
      EXPECT_GT(cosine(y_on, y_off), 0.99999);
      // A handful of values may land on the other side of a rounding tie: one step of one
      // input, far below the INT8-vs-FP32 distance.
      EXPECT_LT(max_abs_diff(y_on, y_off), 0.02 * max_abs(y_off));
      EXPECT_GT(cosine(y_on, y_fp32), 0.995);
      EXPECT_FALSE(bit_equal(y_on, y_fp32));
    }
  }
}

TEST(RuntimeInt8Chain, ResidualsArriveQuantizedWhereTheirSumIsQuantizedToo) {
  for (const bool tail : {true, false}) {
    SCOPED_TRACE(tail ? "conv6 reads r5" : "r5 is the graph output");
    const ModelBuilder m = residual_model(tail);
    const Built on = build(m, true, 1.f);
    const Built off = build(m, false, 1.f);
    const Built fp32 = build(m, true, 1.f, false);
    // r1 r2 r3 d r4 r5, or without conv6: r1 r2 r3 r4 (conv5 writes float32, so d stays so).
    EXPECT_EQ(on.summary.int8_chained, tail ? 6 : 4);
    EXPECT_EQ(outputs_of_type(on.bytes, DataType::kInt8), tail ? 1 : 0);  // d
    EXPECT_EQ(off.summary.int8_chained, 0);
    for (uint32_t seed : {910u, 911u}) {
      const Tensor x = random_tensor({4, 3, 12, 12}, seed);
      const Tensor y_on = run_once(on.bytes, x), y_off = run_once(off.bytes, x);
      const Tensor y_fp32 = run_once(fp32.bytes, x);
      // Residuals now carry 8-bit rounding (and the range calibration gave them): close to
      // the unchained engine, not equal; as close to FP32 as it.
      EXPECT_GT(cosine(y_on, y_off), 0.999);
      EXPECT_GT(cosine(y_on, y_fp32), 0.995);
      EXPECT_GT(cosine(y_on, y_fp32), cosine(y_off, y_fp32) - 0.003);
    }
  }
}

TEST(RuntimeInt8Chain, BoundedActivationIsAppliedBeforeRequantizing) {
  // Were Clip(0, 6) applied in quantized units (6 of them instead of 6.0), conv2 would read a
  // flat, tiny conv1: the chained engine would disagree with FP32 everywhere.
  const ModelBuilder m = clip_chain_model();
  const Built on = build(m, true, 4.f);
  const Built fp32 = build(m, true, 4.f, false);
  ASSERT_EQ(on.summary.int8_chained, 2);
  const Tensor x = scaled_input({4, 3, 12, 12}, 77, 4.f);
  EXPECT_GT(cosine(run_once(on.bytes, x), run_once(fp32.bytes, x)), 0.995);
}

TEST(RuntimeInt8Chain, ObserverSeesChainedTensorsAsFloatAndMonitorCountsTheirClipping) {
  const ModelBuilder m = int8_model();
  const Built on = build(m, true, 1.f);
  const Built off = build(m, false, 1.f);
  ASSERT_EQ(on.summary.int8_chained, 1);
  auto observe = [](const std::vector<uint8_t>& bytes, const Tensor& x) {
    std::map<std::string, Tensor> seen;
    auto e = Engine::deserialize(bytes).value();
    auto ctx = e->create_context().value();
    ctx->set_tensor_observer([&](const std::string& name, const Tensor& t, int) {
      Tensor c = Tensor::allocate(t.dtype(), t.shape()).value();
      std::memcpy(c.data(), t.data(), t.nbytes());
      seen[name] = std::move(c);
      return Status::Ok();
    });
    EXPECT_TRUE(ctx->set_input("x", x).ok());
    EXPECT_TRUE(ctx->execute().ok());
    return seen;
  };
  const Tensor x = random_tensor({4, 3, 12, 12}, 5);
  std::map<std::string, Tensor> a = observe(on.bytes, x), b = observe(off.bytes, x);
  ASSERT_EQ(a.size(), b.size());
  int chained_seen = 0;
  for (const auto& [name, t] : a) {
    SCOPED_TRACE(name);
    ASSERT_EQ(t.dtype(), DataType::kFloat32);  // the uint8 tensor dequantized
    ASSERT_EQ(b.at(name).shape(), t.shape());
    // The float32 tensor vs the same values quantized (minmax: nothing clipped).
    EXPECT_GT(cosine(t, b.at(name)), 0.9999);
    chained_seen += bit_equal(t, b.at(name)) ? 0 : 1;
  }
  EXPECT_GE(chained_seen, 1);

  // The monitor on conv2, whose input arrives as uint8 when chained: the values conv1's
  // epilogue clipped are those at 255. A tight percentile range clips some; the unchained
  // engine counts the same float32 values above the range directly.
  auto conv2_saturation = [&](bool chain) {
    const Built e = build(m, chain, 1.f, true, "percentile", 99.0);
    auto engine = Engine::deserialize(e.bytes).value();
    auto ctx = engine->create_context().value();
    ctx->set_saturation_monitor(true);
    EXPECT_TRUE(ctx->set_input("x", random_tensor({4, 3, 12, 12}, 5)).ok());
    EXPECT_TRUE(ctx->execute().ok());
    const std::vector<ExecutionContext::SaturationStat> s = ctx->saturation();
    EXPECT_GE(s.size(), 2u);  // conv1, conv2, fc
    EXPECT_EQ(s[1].values, 4 * 8 * 12 * 12);
    return s.size() >= 2 ? s[1].saturated : -1;
  };
  const int64_t chained = conv2_saturation(true), plain = conv2_saturation(false);
  EXPECT_GT(plain, 10);
  // At 255 also: values that only round up to it (a few more, never fewer).
  EXPECT_GE(chained, plain);
  EXPECT_LE(chained, plain + plain / 2 + 5);
}

TEST(RuntimeInt8Chain, EngineWhoseChainScalesDisagreeIsRefusedAtLoad) {
  const Built on = build(int8_model(), true, 1.f);
  auto data = engine::read_engine({on.bytes.data(), on.bytes.size()}, engine::host_fingerprint());
  auto model = engine::read_engine_model({on.bytes.data(), on.bytes.size()});
  ASSERT_TRUE(data.ok() && model.ok());
  // The consumer of the uint8 tensor now claims another scale than the producer wrote.
  bool edited = false;
  for (ir::Node* n : (*model)->graph->nodes()) {
    const ir::Value* x = n->inputs().empty() ? nullptr : n->input(0);
    const ir::Attribute* s = n->attr("int8_x_scale");
    if (x == nullptr || x->type.dtype != DataType::kUInt8 || s == nullptr) continue;
    n->set_attr(ir::Attribute::make_float("int8_x_scale", s->f * 2));
    edited = true;
  }
  ASSERT_TRUE(edited);
  auto forged = engine::write_engine(*data, **model);
  ASSERT_TRUE(forged.ok()) << forged.status().to_string();
  auto e = Engine::deserialize(*forged);
  ASSERT_FALSE(e.ok()) << "a uint8 input read at the wrong scale would compute silently wrong";
  EXPECT_EQ(e.status().code(), static_cast<int>(Code::kNoKernel)) << e.status().to_string();
}

}  // namespace
}  // namespace kiln::test
