// INT8 post-training quantization end to end through the builder and runtime: calibration
// from a Calibrator, INT8 layers in the engine, accuracy against FP32, the calibration cache
// (round trip, rejection for another model), every CALIBRATION_FAILED cause, layer precision
// pins, and the tensor observer calibration runs on.
#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "engine/engine_file.h"
#include "kiln/calibrator.h"
#include "unit/int8_test_models.h"

namespace kiln::test {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("kiln_int8_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

int int8_layers(const std::vector<uint8_t>& bytes) {
  auto data = engine::read_engine({bytes.data(), bytes.size()}, engine::host_fingerprint());
  EXPECT_TRUE(data.ok());
  int n = 0;
  for (const engine::Layer& l : data->layers) n += l.precision == "int8" ? 1 : 0;
  return n;
}

Status build_error(const ModelBuilder& m, const BuilderConfig& cfg) {
  auto net = network_of(m);
  if (net == nullptr) return err(Code::kInternal, "no network");
  return Builder().build_serialized(*net, cfg).status();
}

TEST(RuntimeInt8, CalibratedEngineRunsInt8LayersCloseToFp32AndItsCacheRebuildsIt) {
  ModelBuilder m = int8_model();
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  const std::string cache = temp_path("cache.txt");
  VectorCalibrator calib(batches(40, 4, 100));
  Builder b;
  auto int8 = b.build_serialized(*net, int8_config(&calib, cache));
  ASSERT_TRUE(int8.ok()) << int8.status().to_string();
  const BuildSummary& sum = b.last_summary();
  // conv1 reads the signed raw input (shifted into uint8, pre-padded), conv2 uint8, fc int8.
  EXPECT_EQ(sum.int8_layers, 3);
  EXPECT_EQ(int8_layers(*int8), 3);
  EXPECT_EQ(sum.calibration.samples, 160);
  EXPECT_EQ(sum.calibration.batches, 40);
  EXPECT_EQ(sum.calibration.algorithm, "entropy");
  ASSERT_EQ(sum.calibration.tensors.size(), 3u);

  BuilderConfig fp32_cfg = int8_config(nullptr);
  fp32_cfg.precision.int8 = false;
  const std::vector<uint8_t> fp32 = build_or_die(*net, fp32_cfg);
  EXPECT_EQ(int8_layers(fp32), 0);
  for (uint32_t seed : {900u, 901u, 902u}) {
    const Tensor x = random_tensor({4, 3, 12, 12}, seed);
    const Tensor yq = run_once(*int8, x), yf = run_once(fp32, x);
    // Three INT8 layers in a row, the first on the raw (Gaussian) input whose tails entropy
    // calibration clips: 0.9987-0.999 here.
    EXPECT_GT(cosine(yq, yf), 0.998);
    EXPECT_FALSE(bit_equal(yq, yf)) << "INT8 engine computed exactly FP32's answer";
  }

  // The cache alone rebuilds the same engine (same scales, same kernels).
  ASSERT_TRUE(std::filesystem::exists(cache));
  auto again = Builder().build_serialized(*net, int8_config(nullptr, cache));
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  const Tensor x = random_tensor({2, 3, 12, 12}, 77);
  EXPECT_TRUE(bit_equal(run_once(*again, x), run_once(*int8, x)));

  // Another model (other weights) refuses it, naming the mismatch.
  Status other = build_error(int8_model(50), int8_config(nullptr, cache));
  EXPECT_EQ(other.category(), Category::kCalibrationFailed) << other.to_string();
  EXPECT_NE(other.message().find("model"), std::string::npos) << other.to_string();
  std::filesystem::remove(cache);
}

TEST(RuntimeInt8, ReportRanksLayersByQuantizationErrorAndMinSqnrKeepsTheWorstFp32) {
  ModelBuilder m = int8_model();
  auto net = network_of(m);
  ASSERT_NE(net, nullptr);
  VectorCalibrator calib(batches(40, 4, 100));
  Builder b;
  ASSERT_TRUE(b.build_serialized(*net, int8_config(&calib)).ok());
  const std::vector<LayerQuantError> errs = b.last_summary().calibration.layers;
  ASSERT_EQ(errs.size(), 3u);  // conv1, conv2, fc: every calibrated candidate
  for (size_t i = 0; i < errs.size(); ++i) {
    const LayerQuantError& e = errs[i];
    EXPECT_FALSE(e.kept_fp32);
    // Random weights quantize at ~38 dB (uniform over 255 levels); inputs somewhat lower.
    EXPECT_GT(e.weight_sqnr_db, 30) << e.layer;
    EXPECT_GT(e.input_sqnr_db, 15) << e.layer;
    // Combined noise is at least each part's.
    EXPECT_LT(e.sqnr_db, std::min(e.input_sqnr_db, e.weight_sqnr_db)) << e.layer;
    if (i > 0) {
      EXPECT_LE(errs[i - 1].sqnr_db, e.sqnr_db) << "not worst first";
    }
  }

  // A floor between the worst and the best layer keeps exactly the layers below it FP32.
  const double floor_db = (errs.front().sqnr_db + errs.back().sqnr_db) / 2;
  int below = 0;
  for (const LayerQuantError& e : errs) below += e.sqnr_db < floor_db ? 1 : 0;
  ASSERT_GT(below, 0);
  ASSERT_LT(below, 3);
  BuilderConfig cfg = int8_config(&calib);
  cfg.calibration.min_sqnr_db = floor_db;
  Builder floored;
  auto bytes = floored.build_serialized(*net, cfg);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  int kept = 0;
  for (const LayerQuantError& e : floored.last_summary().calibration.layers) {
    EXPECT_EQ(e.kept_fp32, e.sqnr_db < floor_db) << e.layer;
    kept += e.kept_fp32 ? 1 : 0;
  }
  EXPECT_EQ(kept, below);
  EXPECT_EQ(int8_layers(*bytes), 3 - kept);
}

// Pooling keeps a ReLU output non-negative also after the channels-last pass turned it into
// kiln::PoolNhwc (ResNet-50's first block reads such a MaxPool): the conv after it reads uint8.
// Without the ReLU its input is a signed activation, which keeps it FP32 unless pinned int8;
// conv1 reads the model's input, which runs INT8 either way.
ModelBuilder conv_pool_conv(bool relu) {
  ModelBuilder m(17);
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {"N", 3, 16, 16})
      .output("y", TensorProto::FLOAT, {"N", 8, 8, 8});
  g.initializer(float_tensor("w1", {8, 3, 3, 3}, random_floats(216, 3)));
  g.initializer(float_tensor("w2", {8, 8, 3, 3}, random_floats(576, 4)));
  g.node("Conv", {"x", "w1"}, {"c1"}, "conv1").attr_ints("pads", {1, 1, 1, 1});
  if (relu) g.node("Relu", {"c1"}, {"r1"}, "relu1");
  g.node("MaxPool", {relu ? "r1" : "c1"}, {"p1"}, "pool")
      .attr_ints("kernel_shape", {2, 2})
      .attr_ints("strides", {2, 2});
  g.node("Conv", {"p1", "w2"}, {"y"}, "conv2").attr_ints("pads", {1, 1, 1, 1});
  return m;
}

// The names of the first ONNX node of each INT8 layer.
std::vector<std::string> int8_layer_names(const std::vector<uint8_t>& bytes) {
  auto data = engine::read_engine({bytes.data(), bytes.size()}, engine::host_fingerprint());
  EXPECT_TRUE(data.ok());
  std::vector<std::string> out;
  if (data.ok())
    for (const engine::Layer& l : data->layers)
      if (l.precision == "int8" && !l.fused_from.empty()) out.push_back(l.fused_from.front());
  return out;
}

TEST(RuntimeInt8, SignedActivationsIntoChannelsLastConvsStayFp32UnlessPinned) {
  using Names = std::vector<std::string>;
  for (const bool relu : {true, false}) {
    for (const bool pin : {false, true}) {
      SCOPED_TRACE(std::string(relu ? "relu" : "no relu") + (pin ? ", conv2 pinned int8" : ""));
      ModelBuilder m = conv_pool_conv(relu);
      auto net = network_of(m);
      ASSERT_NE(net, nullptr);
      std::vector<Tensor> xs;
      for (uint32_t i = 0; i < 30; ++i) xs.push_back(random_tensor({4, 3, 16, 16}, 60 + i));
      VectorCalibrator calib(std::move(xs));
      BuilderConfig cfg = int8_config(&calib);
      if (pin) cfg.layer_precisions = {"conv2:int8"};
      cfg.profiles = {
          OptimizationProfile().set("x", {1, 3, 16, 16}, {4, 3, 16, 16}, {8, 3, 16, 16})};
      auto bytes = Builder().build_serialized(*net, cfg);
      ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
      const Names want = relu || pin ? Names{"conv1", "conv2"} : Names{"conv1"};
      EXPECT_EQ(int8_layer_names(*bytes), want);
      // Close to FP32 (the shifted, pre-padded inputs included).
      BuilderConfig f = cfg;
      f.precision.int8 = false;
      const std::vector<uint8_t> fp32 = build_or_die(*net, f);
      const Tensor x = random_tensor({4, 3, 16, 16}, 999);
      EXPECT_GT(cosine(run_once(*bytes, x), run_once(fp32, x)), 0.999);
    }
  }
}

TEST(RuntimeInt8, EveryCalibrationFailureHasItsCode) {
  ModelBuilder m = int8_model();
  // No data at all.
  {
    Status s = build_error(m, int8_config(nullptr));
    EXPECT_EQ(s.category(), Category::kCalibrationFailed) << s.to_string();
    VectorCalibrator empty({});
    s = build_error(m, int8_config(&empty));
    EXPECT_EQ(s.category(), Category::kCalibrationFailed) << s.to_string();
  }
  // A batch whose shape the profile does not allow (N = 9 > max 8), named with its index.
  {
    std::vector<Tensor> xs = batches(3, 4, 10);
    xs.push_back(random_tensor({9, 3, 12, 12}, 20));
    VectorCalibrator c(std::move(xs));
    Status s = build_error(m, int8_config(&c));
    EXPECT_EQ(s.category(), Category::kCalibrationFailed) << s.to_string();
    EXPECT_NE(s.message().find("3"), std::string::npos) << s.to_string();
  }
  // NaN in an input.
  {
    std::vector<Tensor> xs = batches(3, 4, 30);
    xs[1].data_as<float>()[17] = std::nanf("");
    VectorCalibrator c(std::move(xs));
    Status s = build_error(m, int8_config(&c));
    EXPECT_EQ(s.category(), Category::kCalibrationFailed) << s.to_string();
  }
  // All-zero inputs: conv1's input has no range (scale 0).
  {
    std::vector<Tensor> xs = batches(3, 4, 40);
    for (Tensor& t : xs) std::memset(t.data(), 0, t.nbytes());
    VectorCalibrator c(std::move(xs));
    Status s = build_error(m, int8_config(&c));
    EXPECT_EQ(s.category(), Category::kCalibrationFailed) << s.to_string();
    // conv1 reads x (in NHWC after the layout pass: 'x_nhwc').
    EXPECT_NE(s.message().find("'x"), std::string::npos) << s.to_string();
  }
  // Too few samples: an error only with strict.
  {
    VectorCalibrator c(batches(2, 4, 50));
    BuilderConfig cfg = int8_config(&c);
    cfg.calibration.strict = true;
    Status s = build_error(m, cfg);
    EXPECT_EQ(s.category(), Category::kCalibrationFailed) << s.to_string();
    cfg.calibration.strict = false;
    auto net = network_of(m);
    EXPECT_TRUE(Builder().build_serialized(*net, cfg).ok());
  }
}

TEST(RuntimeInt8, PinnedLayersStayFp32AndAlgorithmsDiffer) {
  ModelBuilder m = int8_model();
  auto net = network_of(m);
  VectorCalibrator c(batches(10, 4, 60));
  BuilderConfig cfg = int8_config(&c);
  cfg.calibration.min_samples = 1;
  cfg.layer_precisions = {"conv1:fp32", "f?:fp32"};
  Builder b;
  auto bytes = b.build_serialized(*net, cfg);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  EXPECT_EQ(b.last_summary().int8_layers, 1);
  EXPECT_EQ(int8_layers(*bytes), 1);
  cfg.layer_precisions = {"conv2"};
  EXPECT_EQ(build_error(m, cfg).code(), static_cast<int>(Code::kInvalidOption));

  // minmax keeps every value (saturation 0); percentile 90 clips about a tenth.
  cfg.layer_precisions.clear();
  cfg.calibration.algorithm = "minmax";
  Builder mm;
  ASSERT_TRUE(mm.build_serialized(*net, cfg).ok());
  for (const CalibratedTensor& t : mm.last_summary().calibration.tensors)
    EXPECT_EQ(t.saturation, 0.0) << t.name;
  cfg.calibration.algorithm = "percentile";
  cfg.calibration.percentile = 90;
  Builder pc;
  ASSERT_TRUE(pc.build_serialized(*net, cfg).ok());
  for (const CalibratedTensor& t : pc.last_summary().calibration.tensors) {
    EXPECT_GT(t.saturation, 0.02) << t.name;
    EXPECT_LT(t.saturation, 0.2) << t.name;
  }
  cfg.calibration.algorithm = "kl";
  EXPECT_FALSE(build_error(m, cfg).ok());
}

// The saturation monitor counts each INT8 layer's input values outside the calibrated range:
// few on data like the calibration set, most when the inputs drift far beyond it.
TEST(RuntimeInt8, SaturationMonitorCountsValuesOutsideTheCalibratedRange) {
  ModelBuilder m = int8_model();
  auto net = network_of(m);
  VectorCalibrator calib(batches(40, 4, 100));
  BuilderConfig cfg = int8_config(&calib);
  cfg.calibration.algorithm = "minmax";   // nothing of the calibration data is outside
  cfg.layer_precisions = {"conv1:fp32"};  // monitored: conv2 (first) and fc
  auto e = Engine::deserialize(build_or_die(*net, cfg)).value();
  auto ctx = e->create_context().value();
  EXPECT_TRUE(ctx->saturation().empty()) << "off by default";
  ctx->set_saturation_monitor(true);
  std::vector<ExecutionContext::SaturationStat> s0 = ctx->saturation();
  ASSERT_EQ(s0.size(), 2u);  // conv2, fc
  for (const auto& s : s0) {
    EXPECT_EQ(s.values, 0);
    EXPECT_LT(s.range_lo, s.range_hi);
  }
  // A calibration batch itself: minmax covers every value.
  const Tensor seen = random_tensor({4, 3, 12, 12}, 100);
  ASSERT_TRUE(ctx->set_input("x", seen).ok());
  ASSERT_TRUE(ctx->execute().ok());
  std::vector<ExecutionContext::SaturationStat> s1 = ctx->saturation();
  const int64_t r1 = 4 * 8 * 12 * 12;  // conv2 reads relu1's output
  EXPECT_EQ(s1[0].values, r1);
  for (const auto& s : s1) {
    EXPECT_GT(s.values, 0) << s.layer;
    EXPECT_EQ(s.saturated, 0) << s.layer << " of " << s.tensor;
  }
  // The same data 20x larger: far outside what calibration saw.
  Tensor drift = random_tensor({4, 3, 12, 12}, 100);
  for (int64_t i = 0; i < drift.numel(); ++i) drift.data_as<float>()[i] *= 20.f;
  ASSERT_TRUE(ctx->set_input("x", drift).ok());
  ASSERT_TRUE(ctx->execute().ok());
  std::vector<ExecutionContext::SaturationStat> s2 = ctx->saturation();
  EXPECT_EQ(s2[0].values, 2 * r1);  // cumulative
  const double drift_rate = static_cast<double>(s2[0].saturated - s1[0].saturated) / r1;
  EXPECT_GT(drift_rate, 0.3) << "conv2: " << s2[0].saturated << " of " << s2[0].values;
  // Turning it on again resets; off lists nothing.
  ctx->set_saturation_monitor(true);
  EXPECT_EQ(ctx->saturation()[0].values, 0);
  ctx->set_saturation_monitor(false);
  ASSERT_TRUE(ctx->execute().ok());
  EXPECT_TRUE(ctx->saturation().empty());

  // An FP32 engine has no INT8 layer to monitor.
  cfg.precision.int8 = false;
  auto f = Engine::deserialize(build_or_die(*net, cfg)).value();
  auto fctx = f->create_context().value();
  fctx->set_saturation_monitor(true);
  EXPECT_TRUE(fctx->saturation().empty());
}

TEST(RuntimeObserver, SeesEveryInputAndLayerOutputAndCanStopARun) {
  ModelBuilder m = int8_model();
  auto net = network_of(m);
  BuilderConfig cfg = int8_config(nullptr);
  cfg.precision.int8 = false;
  auto e = Engine::deserialize(build_or_die(*net, cfg)).value();
  auto ctx = e->create_context().value();
  std::vector<std::pair<std::string, int>> seen;
  double y_sum = 0;
  ctx->set_tensor_observer([&](const std::string& name, const Tensor& t, int layer) {
    seen.emplace_back(name, layer);
    if (name == "y")
      for (int64_t i = 0; i < t.numel(); ++i) y_sum += t.data_as<float>()[i];
    return Status::Ok();
  });
  const Tensor x = random_tensor({2, 3, 12, 12}, 5);
  ASSERT_TRUE(ctx->set_input("x", x).ok());
  ASSERT_TRUE(ctx->execute().ok());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front(), (std::pair<std::string, int>{"x", -1}));
  EXPECT_EQ(seen.size(), 1 + e->num_layers());  // every layer here has one output
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_EQ(seen[i].second, static_cast<int>(i - 1));
  const Tensor y = ctx->output("y").value();
  double want = 0;
  for (int64_t i = 0; i < y.numel(); ++i) want += y.data_as<float>()[i];
  EXPECT_EQ(y_sum, want);

  ctx->set_tensor_observer([](const std::string& name, const Tensor&, int layer) {
    return layer == 1 ? err(Code::kInvalidArgument, "stop at ", name) : Status::Ok();
  });
  Status s = ctx->execute();
  EXPECT_EQ(s.code(), static_cast<int>(Code::kInvalidArgument));
  ctx->set_tensor_observer(nullptr);
  EXPECT_TRUE(ctx->execute().ok());
}

}  // namespace
}  // namespace kiln::test
