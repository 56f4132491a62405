// Streaming statistics of one float tensor over many calibration batches.
//
// TensorStats keeps, for every value it was fed: count, min, max, abs-max, the number of exact
// zeros, the number of NaN/Inf, and a histogram of |x| with kBins bins over [0, range]. Non-finite
// values are counted but enter neither min/max nor the histogram.
//
// The histogram's range is set by the first batch holding a nonzero finite value (its abs-max;
// until then every value seen is zero, lives in bin 0 and the range stays 0). When a later batch
// exceeds the range, the range doubles as often as needed, each doubling merging bin pairs
// (2i, 2i+1) -> i. Bin i holds the values with trunc(|x| * kBins / range) == i, computed in float
// with kBins / range kept as a float that each doubling halves: halving a float is exact, and
// trunc(trunc(y) / 2) == trunc(y / 2), so a merged histogram holds exactly the counts binning
// the same values at the doubled range gives. A value landing exactly on the upper edge
// (|x| == range, index kBins) is kept in a separate edge counter so that it, too, merges exactly
// (into bin kBins / 2); histogram() reports it in the last bin, whose interval is closed.
// No pass over earlier data is ever needed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace kiln::calib {

class TensorStats {
 public:
  static constexpr size_t kBins = 2048;

  // Adds n values. Two sweeps over the batch: a vectorized reduction (min, max, abs-max, zeros,
  // non-finite count), then binning; earlier batches are never revisited.
  void add(const float* data, size_t n);

  uint64_t count() const { return count_; }  // every value, finite or not
  uint64_t finite_count() const { return count_ - non_finite_; }
  uint64_t zeros() const { return zeros_; }            // values == 0 (either sign)
  uint64_t non_finite() const { return non_finite_; }  // NaN, +Inf, -Inf
  // Over the finite values; 0 while none was seen.
  float min() const { return finite_count() ? min_ : 0.0f; }
  float max() const { return finite_count() ? max_ : 0.0f; }
  float abs_max() const { return abs_max_; }

  // Upper edge of the histogram (0 until a nonzero finite value arrived).
  double range() const { return range_; }
  double bin_width() const { return range_ / static_cast<double>(kBins); }
  // Counts of finite |x| per bin: bin i covers [i, i+1) * bin_width(), the last bin [.., range].
  // While range() is 0, bin 0 holds the zeros seen and every other bin is 0.
  std::array<uint64_t, kBins> histogram() const;

 private:
  void grow_to(float abs_max);  // doubles range_ (merging bins) until it covers abs_max
  void bin_finite(const float* data, size_t n);
  void bin_checked(const float* data, size_t n);  // skips NaN/Inf

  uint64_t count_ = 0;
  uint64_t zeros_ = 0;
  uint64_t non_finite_ = 0;
  float min_ = 0.0f;
  float max_ = 0.0f;
  float abs_max_ = 0.0f;
  double range_ = 0.0;
  float inv_width_ = 0.0f;  // kBins / range_, halved exactly by each doubling
  // kBins bins plus the upper-edge counter (values whose index computes to exactly kBins).
  std::array<uint64_t, kBins + 1> bins_{};
};

}  // namespace kiln::calib
