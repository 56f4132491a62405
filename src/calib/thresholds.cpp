#include "calib/thresholds.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "core/errors.h"

namespace kiln::calib {

const char* algorithm_name(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kEntropy:
      return "entropy";
    case Algorithm::kMinMax:
      return "minmax";
    case Algorithm::kPercentile:
      return "percentile";
    case Algorithm::kMse:
      return "mse";
  }
  return "?";
}

Result<Algorithm> parse_algorithm(std::string_view name) {
  for (Algorithm a :
       {Algorithm::kEntropy, Algorithm::kMinMax, Algorithm::kPercentile, Algorithm::kMse})
    if (name == algorithm_name(a)) return a;
  return err(Code::kCalibOptionInvalid, "unknown calibration algorithm '", name,
             "'; kiln knows entropy, minmax, percentile and mse")
      .with_fix("use --calib-algo entropy (the default), minmax, percentile or mse");
}

Status check_percentile(double percentile) {
  if (percentile > 0.0 && percentile <= 100.0) return Status::Ok();
  return err(Code::kCalibOptionInvalid, "calibration percentile ", percentile,
             " is outside (0, 100]")
      .with_fix(str("give a percentage in (0, 100], e.g. 99.99",
                    percentile > 0.0 && percentile <= 1.0
                        ? ""
                        : " (a fraction such as 0.9999 would be read as 0.9999%)"));
}

// ---- Entropy (KL divergence) ------------------------------------------------------------------
//
// TensorRT's method ("8-bit Inference with TensorRT", Szymon Migacz, GTC 2017), on a histogram h
// of |x| with N bins of width w and T = sum(h) values. For every candidate i in [L, N] (L = 128
// quantization levels):
//   P  the reference distribution: h[0, i), with the outlier mass sum(h[i, N)) added to bin i-1
//      (clipping at i * w moves every larger value onto the edge). P sums to T.
//   Q  the candidate: the bins h[0, i) *without* the outliers merged into L levels (level j
//      covers bins [j*i/L, (j+1)*i/L)), each level's mass then spread uniformly over the bins of
//      that level where P is nonzero (bins where P is zero stay zero). Q sums to sum(h[0, i)).
//      Built from P instead, i = L would give Q == P and a divergence of 0: the outliers are what
//      makes a short range costly.
//   Both are normalized to sum 1. A bin where P > 0 but Q == 0 (only when a level's bins hold
//   nothing but outliers) gets Q = eps = 1e-4, taken proportionally from Q's other bins, so the
//   divergence is finite (and large).
//   KL(P||Q) = sum over P > 0 of P log(P / Q).
// The candidate with the smallest divergence wins (the smallest i on ties); amax = i * w.
// choose_range removes the exact zeros from bin 0 before the search (see there).
//
// Within a level Q is constant over the bins where P > 0, so sum P log Q is a sum over levels of
// (P's mass in the level) * log(Q's value there): with prefix sums of h, of the count of
// nonzero bins and of h log h, each candidate costs O(L) instead of O(i).
size_t kl_threshold_bin(std::span<const uint64_t> hist, size_t levels) {
  const size_t bins = hist.size();
  if (levels == 0 || bins < levels) return bins;
  std::vector<double> mass(bins + 1, 0.0);     // mass[k] = sum h[0, k)
  std::vector<uint32_t> nonzero(bins + 1, 0);  // bins in [0, k) with h > 0
  std::vector<double> hlogh(bins + 1, 0.0);    // sum of h log h over [0, k)
  for (size_t b = 0; b < bins; ++b) {
    const double h = static_cast<double>(hist[b]);
    mass[b + 1] = mass[b] + h;
    nonzero[b + 1] = nonzero[b] + (hist[b] > 0 ? 1 : 0);
    hlogh[b + 1] = hlogh[b] + (hist[b] > 0 ? h * std::log(h) : 0.0);
  }
  const double total = mass[bins];
  if (total == 0.0) return bins;
  const double log_total = std::log(total);
  constexpr double kEps = 1e-4;

  size_t best = bins;
  double best_kl = std::numeric_limits<double>::infinity();
  for (size_t i = levels; i <= bins; ++i) {
    const double outliers = total - mass[i];
    const double last = static_cast<double>(hist[i - 1]) + outliers;  // P's bin i-1 (unnormalized)
    // sum P log P with P = p / total: (sum p log p) / total - log total.
    double plogp = hlogh[i - 1] + (last > 0 ? last * std::log(last) : 0.0);
    plogp = plogp / total - log_total;

    const double q_total = mass[i];  // sum of Q before normalization
    // First pass: count the P > 0 bins of levels whose Q mass is zero (they get eps).
    size_t starved = 0;
    for (size_t j = 0; j < levels; ++j) {
      const size_t s = j * i / levels, e = (j + 1) * i / levels;
      const bool has_last = e == i;
      size_t nz = nonzero[e] - nonzero[s];
      if (has_last) nz = nz - (hist[i - 1] > 0 ? 1 : 0) + (last > 0 ? 1 : 0);
      if (mass[e] - mass[s] == 0.0) starved += nz;
    }
    const double keep = 1.0 - kEps * static_cast<double>(starved);
    double plogq = 0.0;
    for (size_t j = 0; j < levels; ++j) {
      const size_t s = j * i / levels, e = (j + 1) * i / levels;
      const bool has_last = e == i;
      const double q_mass = mass[e] - mass[s];
      double p_mass = q_mass + (has_last ? outliers : 0.0);
      if (p_mass == 0.0) continue;
      p_mass /= total;
      if (q_mass == 0.0) {
        plogq += p_mass * std::log(kEps);
        continue;
      }
      size_t nz = nonzero[e] - nonzero[s];
      if (has_last) nz = nz - (hist[i - 1] > 0 ? 1 : 0) + (last > 0 ? 1 : 0);
      const double q = keep * q_mass / (static_cast<double>(nz) * q_total);
      plogq += p_mass * std::log(q);
    }
    const double kl = plogp - plogq;
    if (kl < best_kl) {
      best_kl = kl;
      best = i;
    }
  }
  return best;
}

// ---- Ranges -----------------------------------------------------------------------------------

double saturation(const TensorStats& stats, float amax) {
  const uint64_t finite = stats.finite_count();
  if (finite == 0 || amax >= stats.abs_max() || stats.range() == 0.0) return 0.0;
  const double q = static_cast<double>(amax) / stats.bin_width();
  // amax is usually a bin edge rounded to float: treat "within 1e-4 bins of an edge" as the edge.
  const double nearest = std::round(q);
  const double first_above = std::fabs(q - nearest) < 1e-4 ? nearest : std::ceil(q);
  const auto hist = stats.histogram();
  uint64_t above = 0;
  for (size_t b = static_cast<size_t>(std::max(0.0, first_above)); b < hist.size(); ++b)
    above += hist[b];
  return static_cast<double>(above) / static_cast<double>(finite);
}

namespace {

size_t percentile_bin(const std::array<uint64_t, TensorStats::kBins>& hist, uint64_t finite,
                      double percentile) {
  const double target = percentile * static_cast<double>(finite) / 100.0;
  uint64_t cumulative = 0;
  for (size_t b = 0; b < hist.size(); ++b) {
    cumulative += hist[b];
    if (static_cast<double>(cumulative) >= target) return b;
  }
  return hist.size() - 1;
}

}  // namespace

Result<Range> choose_range(const TensorStats& stats, Algorithm algorithm, double percentile,
                           std::string_view tensor_name) {
  if (algorithm == Algorithm::kPercentile) KILN_RETURN_IF_ERROR(check_percentile(percentile));
  if (stats.non_finite() > 0)
    return err(Code::kCalibNonFinite, "tensor '", tensor_name, "': ", stats.non_finite(), " of ",
               stats.count(), " calibration values are NaN or Inf");
  if (stats.abs_max() == 0.0f)
    return err(Code::kCalibDegenerateRange, "tensor '", tensor_name, "' has a degenerate range: ",
               stats.count() == 0
                   ? "calibration saw no values for it"
                   : str("all ", stats.count(), " values calibration saw are zero (abs-max 0)"))
        .with_fix(str("exclude '", tensor_name,
                      "' from INT8 (keep its layer in floating point), or feed calibration data "
                      "that exercises it"));
  Range r;
  switch (algorithm) {
    case Algorithm::kMinMax:
      r.amax = stats.abs_max();
      break;
    case Algorithm::kPercentile: {
      const size_t b = percentile_bin(stats.histogram(), stats.finite_count(), percentile);
      r.amax = static_cast<float>(static_cast<double>(b + 1) * stats.bin_width());
      break;
    }
    case Algorithm::kMse: {
      // Candidate ranges: every bin edge from a 128th of the histogram up, and the abs-max.
      double best = -1;
      const double w = stats.bin_width();
      for (size_t i = kQuantLevels; i <= TensorStats::kBins; ++i) {
        const float amax =
            std::min(static_cast<float>(static_cast<double>(i) * w), stats.abs_max());
        const double db = sqnr_db(stats, amax, 127);
        if (db > best) {
          best = db;
          r.amax = amax;
        }
      }
      break;
    }
    case Algorithm::kEntropy: {
      // Exact zeros quantize to 0 whatever the range, so they say nothing about it; left in bin
      // 0 they would dominate P after a ReLU (half the values) and pull the search to the
      // shortest range, whose first level is that one bin.
      auto hist = stats.histogram();
      hist[0] -= stats.zeros();
      const size_t i = kl_threshold_bin(hist, kQuantLevels);
      r.amax = static_cast<float>(static_cast<double>(i) * stats.bin_width());
      break;
    }
  }
  // A bin edge above every value clips nothing: the abs-max is the tighter, equivalent range.
  r.amax = std::min(r.amax, stats.abs_max());
  r.scale = r.amax / 127.0f;
  r.saturation = saturation(stats, r.amax);
  r.sqnr_db = sqnr_db(stats, r.amax, 127);
  r.sqnr_db_unsigned = sqnr_db(stats, r.amax, 255);
  return r;
}

double sqnr_db(const TensorStats& stats, float amax, int steps) {
  if (stats.range() == 0 || !(amax > 0) || steps <= 0) return 0;
  auto hist = stats.histogram();
  hist[0] -= std::min<uint64_t>(hist[0], stats.zeros());
  const double w = stats.bin_width();
  const double step = static_cast<double>(amax) / steps;
  const double rounding = step * step / 12;
  double signal = 0, noise = 0;
  for (size_t i = 0; i < hist.size(); ++i) {
    if (hist[i] == 0) continue;
    const double c = (static_cast<double>(i) + 0.5) * w;
    const double n = static_cast<double>(hist[i]);
    signal += n * c * c;
    if (c > amax)
      noise += n * (c - amax) * (c - amax);
    else
      noise += n * (c < step / 2 ? c * c : rounding);
  }
  if (signal == 0) return 0;
  if (noise == 0) return std::numeric_limits<double>::infinity();
  return 10 * std::log10(signal / noise);
}

}  // namespace kiln::calib
