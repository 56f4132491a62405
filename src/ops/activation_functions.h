// The activations kiln's fused ops (FusedConv, FusedGemm, FusedMatMul) apply after their
// product: one scalar definition of each, evaluated in the compute type (float for 16-bit
// floats, as the standalone activation kernels do), and the `activation` / `activation_params`
// attribute spelling the optimizer writes and the kernels read.
//
// These are written independently of the standalone kernels in activations.cpp / clip.cpp on
// purpose: the fused kernels are tested against the unfused graph, so a shared mistake could
// not hide.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <optional>
#include <string_view>

namespace kiln::ops {

enum class Activation : uint8_t {
  kNone,
  kRelu,
  kClip,  // params: min, max
  kSigmoid,
  kHardSigmoid,  // params: alpha, beta
  kHardSwish,
  kLeakyRelu,  // params: alpha
  kSilu,       // x * sigmoid(x)
  kTanh,
  kGelu,      // erf form
  kGeluTanh,  // tanh approximation
};

// Attribute spellings in enum order; "" is no activation.
inline constexpr std::array<std::string_view, 11> kActivationNames = {
    "",          "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish",
    "LeakyRelu", "Silu", "Tanh", "Gelu",    "GeluTanh"};

inline std::optional<Activation> activation_from_name(std::string_view name) {
  for (size_t i = 0; i < kActivationNames.size(); ++i)
    if (kActivationNames[i] == name) return static_cast<Activation>(i);
  return std::nullopt;
}
inline std::string_view activation_name(Activation a) {
  return kActivationNames[static_cast<size_t>(a)];
}
// How many activation_params an activation takes.
inline size_t activation_param_count(Activation a) {
  switch (a) {
    case Activation::kClip:
    case Activation::kHardSigmoid:
      return 2;
    case Activation::kLeakyRelu:
      return 1;
    default:
      return 0;
  }
}

namespace act {

// Comparisons are written so that NaN propagates (every comparison with NaN is false).
template <typename V>
V relu(V v) {
  return v < V{0} ? V{0} : v;
}
template <typename V>
V clip(V v, V lo, V hi) {
  const V r = v < lo ? lo : v;
  return hi < r ? hi : r;
}
// exp never overflows: the exponent is always <= 0.
template <typename V>
V sigmoid(V v) {
  if (v >= V{0}) return V{1} / (V{1} + std::exp(-v));
  const V e = std::exp(v);
  return e / (V{1} + e);
}
template <typename V>
V hard_sigmoid(V v, V alpha, V beta) {
  return clip(alpha * v + beta, V{0}, V{1});
}
// ONNX's HardSwish: HardSigmoid with alpha 1/6, beta 1/2, times x.
template <typename V>
V hard_swish(V v) {
  return v * clip(v / V{6} + V{0.5}, V{0}, V{1});
}
template <typename V>
V leaky_relu(V v, V alpha) {
  return v < V{0} ? alpha * v : v;
}
template <typename V>
V silu(V v) {
  return v * sigmoid(v);
}
template <typename V>
V gelu(V v) {
  return V{0.5} * v * (V{1} + std::erf(v / static_cast<V>(std::numbers::sqrt2)));
}
template <typename V>
V gelu_tanh(V v) {
  const V k = static_cast<V>(std::sqrt(2.0 / std::numbers::pi));
  return V{0.5} * v * (V{1} + std::tanh(k * (v + V{0.044715} * v * v * v)));
}

}  // namespace act

// An activation with its parameters (unused ones are 0).
struct ActivationSpec {
  Activation kind = Activation::kNone;
  double p0 = 0, p1 = 0;
};

// Calls fn(f) with f a callable V -> V for `a`, so that loops over a tensor are instantiated per
// activation instead of switching per element.
template <typename V, typename Fn>
auto with_activation(const ActivationSpec& a, Fn&& fn) {
  const V p0 = static_cast<V>(a.p0), p1 = static_cast<V>(a.p1);
  switch (a.kind) {
    case Activation::kRelu:
      return fn([](V v) { return act::relu(v); });
    case Activation::kClip:
      return fn([p0, p1](V v) { return act::clip(v, p0, p1); });
    case Activation::kSigmoid:
      return fn([](V v) { return act::sigmoid(v); });
    case Activation::kHardSigmoid:
      return fn([p0, p1](V v) { return act::hard_sigmoid(v, p0, p1); });
    case Activation::kHardSwish:
      return fn([](V v) { return act::hard_swish(v); });
    case Activation::kLeakyRelu:
      return fn([p0](V v) { return act::leaky_relu(v, p0); });
    case Activation::kSilu:
      return fn([](V v) { return act::silu(v); });
    case Activation::kTanh:
      return fn([](V v) { return std::tanh(v); });
    case Activation::kGelu:
      return fn([](V v) { return act::gelu(v); });
    case Activation::kGeluTanh:
      return fn([](V v) { return act::gelu_tanh(v); });
    case Activation::kNone:
      break;
  }
  return fn([](V v) { return v; });
}

}  // namespace kiln::ops
