#include "calib/tensor_stats.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

// The binary targets baseline x86-64; the two sweeps get AVX-512 and AVX2 clones picked at load
// time (GCC/clang function multiversioning). The loops are plain C++ written to vectorize.
#if defined(__x86_64__) && !defined(__clang__)
#define KILN_CALIB_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define KILN_CALIB_CLONES
#endif

namespace kiln::calib {
namespace {

constexpr size_t kLanes = 16;
constexpr uint32_t kExponentMask = 0x7f800000u;
// Below this the histogram range is raised to it, so kBins / range stays a finite float.
constexpr float kMinRange = 1e-30f;

struct Summary {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  uint64_t zeros = 0;
  uint64_t non_finite = 0;
};

// One sweep, kLanes independent accumulators (the inner loop is elementwise across lanes, so it
// vectorizes without reassociating a float reduction). NaN never wins a comparison, so it stays
// out of min/max; an Inf does get in, and add() then redoes the batch on the checked path.
KILN_CALIB_CLONES
Summary summarize(const float* data, size_t n) {
  float mn[kLanes], mx[kLanes];
  uint32_t zeros[kLanes], non_finite[kLanes];
  for (size_t j = 0; j < kLanes; ++j) {
    mn[j] = std::numeric_limits<float>::infinity();
    mx[j] = -std::numeric_limits<float>::infinity();
    zeros[j] = non_finite[j] = 0;
  }
  Summary s;
  size_t i = 0;
  while (n - i >= kLanes) {
    // Per-lane counters are 32-bit; flush them before they could wrap.
    const size_t end = i + std::min<size_t>((n - i) / kLanes * kLanes, size_t{1} << 30);
    for (; i < end; i += kLanes) {
      for (size_t j = 0; j < kLanes; ++j) {
        const float v = data[i + j];
        const uint32_t bits = std::bit_cast<uint32_t>(v);
        mn[j] = v < mn[j] ? v : mn[j];
        mx[j] = v > mx[j] ? v : mx[j];
        zeros[j] += v == 0.0f ? 1u : 0u;
        non_finite[j] += (bits & kExponentMask) == kExponentMask ? 1u : 0u;
      }
    }
    for (size_t j = 0; j < kLanes; ++j) {
      s.zeros += zeros[j];
      s.non_finite += non_finite[j];
      zeros[j] = non_finite[j] = 0;
    }
  }
  for (; i < n; ++i) {
    const float v = data[i];
    mn[0] = v < mn[0] ? v : mn[0];
    mx[0] = v > mx[0] ? v : mx[0];
    s.zeros += v == 0.0f ? 1 : 0;
    s.non_finite += std::isfinite(v) ? 0 : 1;
  }
  for (size_t j = 0; j < kLanes; ++j) {
    s.min = std::min(s.min, mn[j]);
    s.max = std::max(s.max, mx[j]);
  }
  return s;
}

// Bins finite values into four interleaved 32-bit sub-histograms (so runs of equal values, e.g.
// the zeros after a ReLU, do not serialize on one counter), then adds them into `bins`.
// Indices are computed a block at a time in a vectorizable loop; every value must be finite and
// have |x| * inv_width <= kBins (+ rounding), which the caller guarantees.
KILN_CALIB_CLONES
void bin_values(const float* data, size_t n, float inv_width, uint64_t* bins) {
  constexpr size_t kSlots = TensorStats::kBins + 1;
  constexpr size_t kBlock = 512;
  constexpr size_t kFlushEvery = size_t{1} << 30;  // keeps each 32-bit counter from wrapping
  uint32_t sub[4][kSlots];                         // 32 KiB: stays in L1 with the block of indices
  uint32_t index[kBlock];
  constexpr float kTop = static_cast<float>(TensorStats::kBins);
  for (size_t flushed = 0; flushed < n;) {
    const size_t stop = std::min(n, flushed + kFlushEvery);
    std::fill(&sub[0][0], &sub[0][0] + 4 * kSlots, 0u);
    for (size_t i = flushed; i < stop; i += kBlock) {
      const size_t m = std::min(kBlock, stop - i);
      const float* x = data + i;
      for (size_t k = 0; k < m; ++k) {
        float y = std::fabs(x[k]) * inv_width;
        y = y < kTop ? y : kTop;
        index[k] = static_cast<uint32_t>(static_cast<int32_t>(y));
      }
      size_t k = 0;
      for (; k + 4 <= m; k += 4) {
        ++sub[0][index[k]];
        ++sub[1][index[k + 1]];
        ++sub[2][index[k + 2]];
        ++sub[3][index[k + 3]];
      }
      for (; k < m; ++k) ++sub[0][index[k]];
    }
    for (size_t b = 0; b < kSlots; ++b)
      bins[b] += uint64_t{sub[0][b]} + sub[1][b] + sub[2][b] + sub[3][b];
    flushed = stop;
  }
}

}  // namespace

void TensorStats::add(const float* data, size_t n) {
  if (n == 0) return;
  const Summary s = summarize(data, n);
  if (s.non_finite > 0) {
    bin_checked(data, n);
    return;
  }
  if (finite_count() == 0) {
    min_ = s.min;
    max_ = s.max;
  } else {
    min_ = std::min(min_, s.min);
    max_ = std::max(max_, s.max);
  }
  count_ += n;
  zeros_ += s.zeros;
  grow_to(std::max(std::fabs(s.min), std::fabs(s.max)));
  bin_finite(data, n);
}

void TensorStats::grow_to(float batch_abs_max) {
  abs_max_ = std::max(abs_max_, batch_abs_max);
  if (batch_abs_max == 0.0f) return;  // zeros live in bin 0 whatever the range
  if (range_ == 0.0) {
    range_ = std::max(batch_abs_max, kMinRange);
    inv_width_ = static_cast<float>(kBins) / static_cast<float>(range_);
    return;
  }
  while (range_ < batch_abs_max) {
    bins_[0] += bins_[1];
    for (size_t i = 1; i < kBins / 2; ++i) bins_[i] = bins_[2 * i] + bins_[2 * i + 1];
    bins_[kBins / 2] = bins_[kBins];  // |x| == old range lands on the new middle edge
    std::fill(bins_.begin() + kBins / 2 + 1, bins_.end(), uint64_t{0});
    range_ *= 2;
    inv_width_ *= 0.5f;
  }
}

void TensorStats::bin_finite(const float* data, size_t n) {
  if (range_ == 0.0) {  // all zeros so far
    bins_[0] += n;
    return;
  }
  bin_values(data, n, inv_width_, bins_.data());
}

// The rare path for batches holding NaN/Inf: scalar, skips them for min/max and the histogram.
void TensorStats::bin_checked(const float* data, size_t n) {
  float mn = std::numeric_limits<float>::infinity();
  float mx = -std::numeric_limits<float>::infinity();
  uint64_t finite = 0, zeros = 0;
  for (size_t i = 0; i < n; ++i) {
    const float v = data[i];
    if (!std::isfinite(v)) continue;
    mn = std::min(mn, v);
    mx = std::max(mx, v);
    ++finite;
    zeros += v == 0.0f ? 1 : 0;
  }
  count_ += n;
  non_finite_ += n - finite;
  zeros_ += zeros;
  if (finite == 0) return;
  const bool first = count_ - non_finite_ == finite;  // no finite value before this batch
  min_ = first ? mn : std::min(min_, mn);
  max_ = first ? mx : std::max(max_, mx);
  grow_to(std::max(std::fabs(mn), std::fabs(mx)));
  if (range_ == 0.0) {
    bins_[0] += finite;
    return;
  }
  const float top = static_cast<float>(kBins);
  for (size_t i = 0; i < n; ++i) {
    const float v = data[i];
    if (!std::isfinite(v)) continue;
    const float y = std::min(std::fabs(v) * inv_width_, top);
    ++bins_[static_cast<size_t>(y)];
  }
}

std::array<uint64_t, TensorStats::kBins> TensorStats::histogram() const {
  std::array<uint64_t, kBins> h;
  std::copy(bins_.begin(), bins_.begin() + kBins, h.begin());
  h[kBins - 1] += bins_[kBins];
  return h;
}

}  // namespace kiln::calib
