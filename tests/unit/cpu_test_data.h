// Deterministic test data for the cpu tactic tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "unit/cpu_tactic_test_util.h"

namespace kiln::test {

// Uniform floats in [lo, hi) from a fixed-seed generator (same data every run).
inline std::vector<float> uniform(int64_t n, float lo, float hi, uint64_t seed = 1) {
  std::vector<float> v(static_cast<size_t>(n));
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    const double u = static_cast<double>(s >> 11) / 9007199254740992.0;
    x = static_cast<float>(lo + (hi - lo) * u);
  }
  return v;
}

inline int64_t numel_of(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

inline Tensor rand_f32(Shape s, float lo = -3.0f, float hi = 3.0f, uint64_t seed = 1) {
  const int64_t n = numel_of(s);
  return f32(std::move(s), uniform(n, lo, hi, seed));
}

// Prints the error figures of a comparison (collected in the test log for the report).
inline void print_stats(const std::string& what, const ErrorStats& st) {
  std::cout << "[ errors   ] " << what << ": max abs " << st.max_abs << ", max rel " << st.max_rel
            << " over " << st.compared << " values\n";
}

// Deep copies (empty tensors stay empty): a case's operands feed several harnesses.
inline std::vector<Tensor> copies(const std::vector<Tensor>& v) {
  std::vector<Tensor> out;
  for (const Tensor& t : v) {
    if (t.empty()) {
      out.emplace_back();
      continue;
    }
    Tensor c = Tensor::allocate(t.dtype(), t.shape()).value();
    std::memcpy(c.data(), t.data(), t.nbytes());
    out.push_back(std::move(c));
  }
  return out;
}

// A reduced-precision result (`what`: INT8, BF16) against the exact FP32 one: off by less than
// `fraction` of the output's range, and not bit-equal (else the reduced path did not run).
inline void expect_near_but_not_fp32(const std::vector<Tensor>& got,
                                     const std::vector<Tensor>& exact, double fraction,
                                     const std::string& what) {
  double range = 0;
  for (int64_t i = 0; i < exact[0].numel(); ++i)
    range = std::max(range, std::fabs(static_cast<double>(exact[0].data_as<float>()[i])));
  ErrorStats f = compare_outputs(got, exact, 1e9);
  EXPECT_LT(f.max_abs, fraction * range) << what << " result far from FP32: " << f.where;
  EXPECT_GT(f.max_abs, 0.0) << "bit-equal to FP32: the " << what << " path did not run";
}

}  // namespace kiln::test
