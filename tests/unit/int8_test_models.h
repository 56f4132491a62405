// The small INT8 model and calibration helpers the runtime INT8 tests share.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kiln/calibrator.h"
#include "unit/runtime_test_models.h"

namespace kiln::test {

// x[N,3,12,12] → Conv 3→8 + Relu → Conv 8→8 3x3 + Relu → GlobalAveragePool → Flatten →
// Gemm 8→10 → y: three INT8 candidates, the second and third with non-negative inputs.
inline ModelBuilder int8_model(uint32_t seed = 11) {
  ModelBuilder m(17);
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {"N", 3, 12, 12}).output("y", TensorProto::FLOAT, {"N", 10});
  g.initializer(float_tensor("w1", {8, 3, 3, 3}, random_floats(216, seed)));
  g.initializer(float_tensor("b1", {8}, random_floats(8, seed + 1)));
  g.initializer(float_tensor("w2", {8, 8, 3, 3}, random_floats(576, seed + 2)));
  g.initializer(float_tensor("b2", {8}, random_floats(8, seed + 3)));
  g.initializer(float_tensor("fw", {10, 8}, random_floats(80, seed + 4)));
  g.initializer(float_tensor("fb", {10}, random_floats(10, seed + 5)));
  g.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1").attr_ints("pads", {1, 1, 1, 1});
  g.node("Relu", {"c1"}, {"r1"}, "relu1");
  g.node("Conv", {"r1", "w2", "b2"}, {"c2"}, "conv2").attr_ints("pads", {1, 1, 1, 1});
  g.node("Relu", {"c2"}, {"r2"}, "relu2");
  g.node("GlobalAveragePool", {"r2"}, {"p"}, "gap");
  g.node("Flatten", {"p"}, {"f"}, "flatten");
  g.node("Gemm", {"f", "fw", "fb"}, {"y"}, "fc").attr_i("transB", 1);
  return m;
}

// Batches held in memory.
class VectorCalibrator final : public Calibrator {
 public:
  explicit VectorCalibrator(std::vector<Tensor> xs) : xs_(std::move(xs)) {}
  Result<std::optional<std::vector<std::pair<std::string, Tensor>>>> next_batch() override {
    if (i_ >= xs_.size()) return std::optional<std::vector<std::pair<std::string, Tensor>>>{};
    std::vector<std::pair<std::string, Tensor>> b;
    b.emplace_back("x", xs_[i_++].view());
    return std::optional<std::vector<std::pair<std::string, Tensor>>>(std::move(b));
  }
  void reset() override { i_ = 0; }

 private:
  std::vector<Tensor> xs_;
  size_t i_ = 0;
};

inline std::vector<Tensor> batches(size_t n, int64_t batch, uint32_t seed) {
  std::vector<Tensor> out;
  for (size_t i = 0; i < n; ++i) out.push_back(random_tensor({batch, 3, 12, 12}, seed + i));
  return out;
}

inline BuilderConfig int8_config(Calibrator* c, const std::string& cache = "") {
  BuilderConfig cfg;
  cfg.autotune = false;  // the INT8 tactics come first; same kernels in every build
  cfg.precision.int8 = true;
  cfg.calibration.calibrator = c;
  cfg.calibration.cache_path = cache;
  cfg.calibration.min_samples = 100;
  cfg.profiles.push_back(
      OptimizationProfile().set("x", {1, 3, 12, 12}, {4, 3, 12, 12}, {8, 3, 12, 12}));
  return cfg;
}

}  // namespace kiln::test
