// Choosing a tensor's INT8 range from its calibration statistics.
//
// Every algorithm picks a symmetric range [-amax, amax] that maps onto the INT8 values
// [-127, 127] (scale = amax / 127):
//   minmax      amax = the largest |x| seen: nothing saturates, but one outlier coarsens the
//               steps for every other value.
//   percentile  amax = the upper edge of the first histogram bin at which the cumulative count
//               of |x| reaches p% of the values (capped at the abs-max): about (100 - p)% clip.
//   entropy     TensorRT's KL-divergence threshold (see kl_threshold_bin): the clipping range
//               whose 128-level quantization loses the least information about the histogram
//               of the nonzero values (exact zeros quantize exactly and are left out).
//   mse         the bin edge whose clipping range gives the highest estimated SQNR (sqnr_db,
//               int8 steps), i.e. the least squared quantization error: clipping traded
//               against step size directly. Entropy can pick ranges far too short for
//               skewed activations (PP-OCR rec's HardSwish outputs: 4 dB SQNR).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "calib/tensor_stats.h"
#include "kiln/status.h"

namespace kiln::calib {

enum class Algorithm { kEntropy, kMinMax, kPercentile, kMse };

inline constexpr double kDefaultPercentile = 99.99;
inline constexpr size_t kQuantLevels = 128;  // INT8 magnitudes 0..127 of a symmetric range

const char* algorithm_name(Algorithm algorithm);  // "entropy", "minmax", "percentile", "mse"
// CalibOptionInvalid (K4007) for any other name.
Result<Algorithm> parse_algorithm(std::string_view name);
// CalibOptionInvalid (K4007) unless 0 < percentile <= 100.
Status check_percentile(double percentile);

struct Range {
  float amax = 0;         // quantize to [-amax, amax]
  float scale = 0;        // amax / 127: the real value of one INT8 step
  double saturation = 0;  // fraction of the finite values with |x| > amax (from the histogram)
  // Estimated signal-to-quantization-noise ratio (sqnr_db below) of the tensor quantized to
  // this range as int8 (127 steps) and as uint8 (255 steps; for tensors that are never
  // negative).
  double sqnr_db = 0;
  double sqnr_db_unsigned = 0;
};

// The range `algorithm` picks for a tensor (named in messages by tensor_name). Errors:
// CalibNonFinite (K8002) when the statistics counted NaN/Inf, CalibDegenerateRange (K8001) when
// every value was zero (or none was seen), CalibOptionInvalid (K4007) for a percentile outside
// (0, 100] with Algorithm::kPercentile (other algorithms ignore it).
Result<Range> choose_range(const TensorStats& stats, Algorithm algorithm,
                           double percentile = kDefaultPercentile,
                           std::string_view tensor_name = {});

// The entropy method on any histogram of |x| with at least `levels` bins: returns the number of
// leading bins i (levels <= i <= histogram.size()) to keep, amax = i * bin width. An all-zero
// histogram returns histogram.size().
size_t kl_threshold_bin(std::span<const uint64_t> histogram, size_t levels = kQuantLevels);

// Fraction of the finite values with |x| > amax, from the histogram: exact when amax is a bin
// edge (entropy, percentile) or at least the abs-max (minmax: 0); otherwise the bin holding amax
// counts as not saturated.
double saturation(const TensorStats& stats, float amax);

// Signal-to-quantization-noise ratio, 10 log10(sum x^2 / sum (x - q(x))^2), of the values the
// histogram holds quantized to `steps` levels of [0, amax] (127: int8, 255: uint8), estimated
// from bin centres: a clipped value's error is its distance to amax, a value below half a step
// rounds to 0 (error: itself), any other's error has the uniform rounding noise step^2 / 12.
// Exact zeros are noiseless. Infinity when nothing is lost; 0 without any nonzero value.
double sqnr_db(const TensorStats& stats, float amax, int steps);

}  // namespace kiln::calib
