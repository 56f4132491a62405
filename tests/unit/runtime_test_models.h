// Small models for the builder/runtime tests: each exercises something the engine path must get
// right (dynamic dims, in-place chains, views, subgraphs reading outer activations, graph
// outputs consumed by later layers), plus helpers that build engines and run the reference
// interpreter on the same inputs.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "interp/interpreter.h"
#include "kiln/builder.h"
#include "kiln/engine.h"
#include "onnx_import/importer.h"
#include "unit/model_builder.h"

namespace kiln::test {

using onnx::TensorProto;

inline std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// x[N,3,8,8] → Conv → Relu → Sigmoid → Add(·, conv) → GlobalAveragePool → Flatten → Gemm →
// Softmax → y[N,10]; also returns the conv output as a second graph output that later layers
// read.
inline ModelBuilder cnn_model() {
  ModelBuilder m(17);
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {"N", 3, 8, 8})
      .output("y", TensorProto::FLOAT, {"N", 10})
      .output("c", TensorProto::FLOAT, {"N", 4, 8, 8});
  g.initializer(float_tensor("w", {4, 3, 3, 3}, random_floats(108, 1)));
  g.initializer(float_tensor("b", {4}, random_floats(4, 2)));
  g.initializer(float_tensor("fw", {10, 4}, random_floats(40, 3)));
  g.initializer(float_tensor("fb", {10}, random_floats(10, 4)));
  g.node("Conv", {"x", "w", "b"}, {"c"}, "conv").attr_ints("pads", {1, 1, 1, 1});
  g.node("Relu", {"c"}, {"r"}, "relu");
  g.node("Sigmoid", {"r"}, {"s"}, "sigmoid");
  g.node("Tanh", {"s"}, {"t"}, "tanh");
  g.node("Add", {"t", "c"}, {"a"}, "add");
  g.node("GlobalAveragePool", {"a"}, {"p"}, "gap");
  g.node("Flatten", {"p"}, {"f"}, "flatten");
  g.node("Gemm", {"f", "fw", "fb"}, {"z"}, "fc").attr_i("transB", 1);
  g.node("Softmax", {"z"}, {"y"}, "softmax");
  return m;
}

// x[B,S,8]: MatMul → Add bias → Reshape to [B,S,2,4] (target from Shape: views and shape
// arithmetic) → Transpose → If (ReduceSum > 0) whose branches read the outer `h` → y.
inline ModelBuilder seq_model() {
  ModelBuilder m(17);
  auto& g = m.graph();
  g.input("x", TensorProto::FLOAT, {"B", "S", 8}).output("y", TensorProto::FLOAT, {"B", 2, "S", 4});
  g.initializer(float_tensor("w", {8, 8}, random_floats(64, 5)));
  g.initializer(float_tensor("bias", {8}, random_floats(8, 6)));
  g.initializer(int64_tensor("tail", {2}, {2, 4}));
  g.initializer(int64_tensor("zero", {1}, {0}));
  g.initializer(int64_tensor("two", {1}, {2}));
  g.node("MatMul", {"x", "w"}, {"mm"}, "matmul");
  g.node("Add", {"mm", "bias"}, {"h"}, "bias_add");
  g.node("Shape", {"x"}, {"xs"}, "shape");
  g.node("Slice", {"xs", "zero", "two"}, {"bs"}, "slice");
  g.node("Concat", {"bs", "tail"}, {"target"}, "concat").attr_i("axis", 0);
  g.node("Reshape", {"h", "target"}, {"h4"}, "reshape");
  g.node("Transpose", {"h4"}, {"ht"}, "transpose").attr_ints("perm", {0, 2, 1, 3});
  g.node("ReduceSum", {"x"}, {"sum"}, "reduce").attr_i("keepdims", 0);
  g.node("Greater", {"sum", "zero_f"}, {"cond"}, "greater");
  g.initializer(float_tensor("zero_f", {}, {0.f}));
  GraphBuilder then_b("then_body");
  then_b.output("t", TensorProto::FLOAT, {"B", 2, "S", 4});
  then_b.node("Mul", {"ht", "ht"}, {"t"}, "square");
  GraphBuilder else_b("else_body");
  else_b.output("e", TensorProto::FLOAT, {"B", 2, "S", 4});
  else_b.node("Neg", {"ht"}, {"e"}, "negate");
  g.node("If", {"cond"}, {"y"}, "branch")
      .attr_g("then_branch", then_b.proto())
      .attr_g("else_branch", else_b.proto());
  return m;
}

inline std::unique_ptr<Network> network_of(const ModelBuilder& m) {
  ErrorRecorder rec;
  auto net = Network::from_onnx_bytes(m.bytes(), &rec);
  EXPECT_TRUE(net.ok()) << net.status().to_string();
  return net.ok() ? std::move(net).value() : nullptr;
}

inline std::vector<uint8_t> build_or_die(const Network& net, const BuilderConfig& config) {
  auto bytes = Builder().build_serialized(net, config);
  EXPECT_TRUE(bytes.ok()) << bytes.status().to_string();
  return bytes.ok() ? std::move(bytes).value() : std::vector<uint8_t>{};
}

inline Tensor random_tensor(const std::vector<int64_t>& shape, uint32_t seed) {
  Tensor t = Tensor::allocate(DataType::kFloat32, shape).value();
  const std::vector<float> v = random_floats(static_cast<size_t>(t.numel()), seed);
  std::memcpy(t.data(), v.data(), v.size() * sizeof(float));
  return t;
}

// The reference interpreter's outputs for the same model and inputs.
inline interp::TensorMap reference_outputs(const ModelBuilder& m, const interp::TensorMap& in) {
  auto imported = onnx_import::import_bytes(m.bytes().data(), m.bytes().size());
  EXPECT_TRUE(imported.ok());
  auto out = interp::run(imported->model, in);
  EXPECT_TRUE(out.ok()) << out.status().to_string();
  return out.ok() ? std::move(out).value() : interp::TensorMap{};
}

inline bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.nbytes() == b.nbytes() &&
         std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

// An engine's float32 output against the interpreter's: the CPU backend's own kernels (vectorized
// exp/tanh, other summation orders) are not bit-identical to the reference kernels, so elements
// may differ by 1e-5 * max(1, |want|); other types must be bit-equal.
inline bool matches_reference(const Tensor& got, const Tensor& want) {
  if (got.dtype() != DataType::kFloat32) return bit_equal(got, want);
  if (got.dtype() != want.dtype() || got.shape() != want.shape()) return false;
  const float* g = got.data_as<float>();
  const float* w = want.data_as<float>();
  for (int64_t i = 0; i < got.numel(); ++i) {
    if (g[i] == w[i] || (std::isnan(g[i]) && std::isnan(w[i]))) continue;
    if (!(std::fabs(g[i] - w[i]) <= 1e-5f * std::max(1.0f, std::fabs(w[i])))) return false;
  }
  return true;
}

// One run of the engine `bytes` with input `in` = x; a copy of output `out`.
inline Tensor run_once(const std::vector<uint8_t>& bytes, const Tensor& x,
                       const std::string& in = "x", const std::string& out = "y") {
  auto e = Engine::deserialize(bytes);
  EXPECT_TRUE(e.ok()) << e.status().to_string();
  auto ctx = (*e)->create_context();
  EXPECT_TRUE((*ctx)->set_input(in, x).ok());
  Status s = (*ctx)->execute();
  EXPECT_TRUE(s.ok()) << s.to_string();
  Tensor y = (*ctx)->output(out).value();
  Tensor c = Tensor::allocate(y.dtype(), y.shape()).value();
  std::memcpy(c.data(), y.data(), y.nbytes());
  return c;
}

// Cosine similarity of two float32 tensors of the same size.
inline double cosine(const Tensor& a, const Tensor& b) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.data_as<float>()[i], y = b.data_as<float>()[i];
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / std::sqrt(aa * bb);
}

}  // namespace kiln::test
