// Tests for kiln::calib::TensorStats (streaming histogram with range doubling), the range
// algorithms (minmax, percentile, entropy) and the Collector. Histograms are compared with a
// naive one computed here; the entropy search with a slow, literal implementation of its
// definition.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "calib/collector.h"
#include "calib/tensor_stats.h"
#include "calib/thresholds.h"
#include "core/errors.h"

namespace kiln::calib {
namespace {

constexpr size_t kBins = TensorStats::kBins;
constexpr int kDegenerate = static_cast<int>(Code::kCalibDegenerateRange);
constexpr int kNonFinite = static_cast<int>(Code::kCalibNonFinite);
constexpr int kOptionInvalid = static_cast<int>(Code::kCalibOptionInvalid);

// Bin of |x| over [0, range] in double arithmetic: floor(|x| / width), the top edge in the last
// bin. Non-finite values are skipped.
std::vector<uint64_t> naive_histogram(const std::vector<float>& values, double range) {
  std::vector<uint64_t> h(kBins, 0);
  const double width = range / static_cast<double>(kBins);
  for (float v : values) {
    if (!std::isfinite(v)) continue;
    const double a = std::fabs(static_cast<double>(v));
    size_t b = range == 0.0 ? 0 : static_cast<size_t>(std::floor(a / width));
    h[std::min(b, kBins - 1)]++;
  }
  return h;
}

std::vector<uint64_t> as_vector(const std::array<uint64_t, kBins>& a) {
  return std::vector<uint64_t>(a.begin(), a.end());
}

std::vector<float> uniform(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<float> gaussian(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

TensorStats stats_of(const std::vector<float>& v) {
  TensorStats s;
  s.add(v.data(), v.size());
  return s;
}

// ---- TensorStats ------------------------------------------------------------------------------

TEST(TensorStats, CountsMinMaxZerosNonFinite) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> a = {0.0f, -0.0f, 1.5f, -3.25f, 2.0f, nan};
  const std::vector<float> b = {inf, 0.5f, -inf, 0.0f};
  TensorStats s;
  s.add(a.data(), a.size());
  s.add(b.data(), b.size());
  EXPECT_EQ(s.count(), 10u);
  EXPECT_EQ(s.non_finite(), 3u);
  EXPECT_EQ(s.finite_count(), 7u);
  EXPECT_EQ(s.zeros(), 3u);
  EXPECT_EQ(s.min(), -3.25f);
  EXPECT_EQ(s.max(), 2.0f);
  EXPECT_EQ(s.abs_max(), 3.25f);
  const auto h = s.histogram();
  EXPECT_EQ(std::accumulate(h.begin(), h.end(), uint64_t{0}), 7u);  // NaN/Inf are not binned
}

TEST(TensorStats, SummaryOverManyLengthsMatchesScalarLoop) {
  // Lengths around the 16-lane blocks and the 512-value binning blocks, with the extremes and
  // zeros in the tails.
  for (size_t n : {1u, 7u, 13u, 16u, 17u, 127u, 511u, 512u, 513u, 4099u}) {
    std::vector<float> v = uniform(n, -2.0f, 2.0f, static_cast<uint32_t>(n));
    v.back() = -5.0f;
    if (n > 2) v[n - 2] = 0.0f;
    const TensorStats s = stats_of(v);
    EXPECT_EQ(s.count(), n);
    EXPECT_EQ(s.min(), *std::min_element(v.begin(), v.end())) << n;
    EXPECT_EQ(s.max(), *std::max_element(v.begin(), v.end())) << n;
    EXPECT_EQ(s.abs_max(), 5.0f) << n;
    EXPECT_EQ(s.zeros(), static_cast<uint64_t>(std::count(v.begin(), v.end(), 0.0f))) << n;
    EXPECT_EQ(as_vector(s.histogram()), naive_histogram(v, s.range())) << n;
  }
}

TEST(TensorStats, FirstBatchSetsRangeLaterBatchesDoubleIt) {
  TensorStats s;
  const std::vector<float> a = {0.25f, -1.0f};
  s.add(a.data(), a.size());
  EXPECT_EQ(s.range(), 1.0);
  const std::vector<float> b = {3.0f};
  s.add(b.data(), b.size());
  EXPECT_EQ(s.range(), 4.0);  // 1 -> 2 -> 4
  const std::vector<float> c = {-4.0f, 0.5f};
  s.add(c.data(), c.size());
  EXPECT_EQ(s.range(), 4.0);  // exactly the range: no growth
  EXPECT_DOUBLE_EQ(s.bin_width(), 4.0 / kBins);
}

// The central property: growing by merging bin pairs gives the same counts as binning all values
// at the final range. Ranges are powers of two here, so the naive double-precision binning is
// exact and must agree bin for bin.
TEST(TensorStats, GrowthByDoublingEqualsNaiveHistogramAtFinalRange) {
  std::vector<std::vector<float>> batches = {
      uniform(5000, -1.0f, 1.0f, 1), uniform(5000, -3.0f, 3.0f, 2), uniform(5000, -7.5f, 7.5f, 3),
      uniform(5000, -8.0f, 8.0f, 4)};
  batches[0][17] = 1.0f;   // first batch's abs-max is exactly 1: range 1
  batches[0][18] = -1.0f;  // |x| == range sits on the upper edge, then merges to bin 1024
  batches[1][5] = 2.0f;    // exactly the range after the first doubling
  batches[3][99] = -8.0f;  // final range 8, reached exactly
  TensorStats s;
  std::vector<float> all;
  for (const auto& b : batches) {
    s.add(b.data(), b.size());
    all.insert(all.end(), b.begin(), b.end());
  }
  ASSERT_EQ(s.range(), 8.0);
  const std::vector<uint64_t> naive = naive_histogram(all, 8.0);
  EXPECT_EQ(as_vector(s.histogram()), naive);
  // The concatenation in one batch (abs-max 8, so range 8 directly) bins identically.
  const TensorStats one = stats_of(all);
  ASSERT_EQ(one.range(), 8.0);
  EXPECT_EQ(as_vector(one.histogram()), naive);
  // A value that sat on the old upper edge (|x| == 1 at range 1) is in bin 1*2048/8 = 256 now.
  EXPECT_GE(s.histogram()[256], 2u);
}

// With a range that is not a power of two, merging must still equal binning at the doubled
// range exactly: compare incremental growth with a stats object that bins the same values after
// a single growth step.
TEST(TensorStats, GrowthIsExactForAnyBaseRange) {
  const std::vector<float> first = uniform(3001, -0.3f, 0.3f, 7);
  const std::vector<float> b1 = uniform(3001, -0.55f, 0.55f, 8);
  const std::vector<float> b2 = uniform(3001, -2.2f, 2.2f, 9);
  TensorStats inc;
  inc.add(first.data(), first.size());
  inc.add(b1.data(), b1.size());
  inc.add(b2.data(), b2.size());
  TensorStats once;
  once.add(first.data(), first.size());
  std::vector<float> rest = b1;
  rest.insert(rest.end(), b2.begin(), b2.end());
  once.add(rest.data(), rest.size());
  ASSERT_EQ(inc.range(), once.range());
  EXPECT_EQ(as_vector(inc.histogram()), as_vector(once.histogram()));

  // Against the naive double-precision histogram only values within float rounding of a bin
  // edge may land one bin apart.
  std::vector<float> all = first;
  all.insert(all.end(), rest.begin(), rest.end());
  const std::vector<uint64_t> naive = naive_histogram(all, inc.range());
  const auto h = inc.histogram();
  uint64_t differing = 0;
  for (size_t b = 0; b < kBins; ++b)
    differing += static_cast<uint64_t>(std::llabs(static_cast<long long>(h[b] - naive[b])));
  EXPECT_LE(differing, 4u);
  EXPECT_EQ(std::accumulate(h.begin(), h.end(), uint64_t{0}), all.size());
}

TEST(TensorStats, AllZeroFirstBatchesKeepRangeZeroUntilData) {
  TensorStats s;
  const std::vector<float> zeros(1000, 0.0f);
  s.add(zeros.data(), zeros.size());
  s.add(zeros.data(), zeros.size());
  EXPECT_EQ(s.range(), 0.0);
  EXPECT_EQ(s.abs_max(), 0.0f);
  EXPECT_EQ(s.histogram()[0], 2000u);
  const std::vector<float> data = uniform(999, -0.5f, 0.5f, 3);
  s.add(data.data(), data.size());
  EXPECT_EQ(s.range(), static_cast<double>(s.abs_max()));
  std::vector<float> all(2000, 0.0f);
  all.insert(all.end(), data.begin(), data.end());
  const auto h = s.histogram();
  EXPECT_EQ(h[0], naive_histogram(all, s.range())[0]);
  EXPECT_EQ(std::accumulate(h.begin(), h.end(), uint64_t{0}), 2999u);
  EXPECT_EQ(s.zeros(), 2000u);
}

TEST(TensorStats, BatchWithNonFiniteStillBinsItsFiniteValues) {
  std::vector<float> v = uniform(100, -1.0f, 1.0f, 5);
  v[3] = std::numeric_limits<float>::quiet_NaN();
  v[50] = -std::numeric_limits<float>::infinity();
  const TensorStats s = stats_of(v);
  EXPECT_EQ(s.non_finite(), 2u);
  EXPECT_TRUE(std::isfinite(s.min()) && std::isfinite(s.max()));
  EXPECT_EQ(as_vector(s.histogram()), naive_histogram(v, s.range()));
}

TEST(TensorStats, ExtremeMagnitudes) {
  // Tiny values: the range is raised to a floor so kBins / range stays finite.
  const std::vector<float> tiny = {1e-38f, -3e-39f, 0.0f, std::numeric_limits<float>::denorm_min()};
  const TensorStats t = stats_of(tiny);
  EXPECT_EQ(t.abs_max(), 1e-38f);
  EXPECT_GT(t.range(), 0.0);
  auto h = t.histogram();
  EXPECT_EQ(std::accumulate(h.begin(), h.end(), uint64_t{0}), 4u);
  // The largest floats, then growth past them.
  const float big = std::numeric_limits<float>::max();
  TensorStats b;
  const std::vector<float> first = {big / 4, 1.0f};
  const std::vector<float> second = {-big, big, 0.0f};
  b.add(first.data(), first.size());
  b.add(second.data(), second.size());
  EXPECT_EQ(b.abs_max(), big);
  EXPECT_GE(b.range(), static_cast<double>(big));
  h = b.histogram();
  EXPECT_EQ(std::accumulate(h.begin(), h.end(), uint64_t{0}), 5u);
  Result<Range> r = choose_range(b, Algorithm::kPercentile, 50.0, "big");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::isfinite(r->amax));
}

// ---- Algorithms -------------------------------------------------------------------------------

TEST(Thresholds, AlgorithmNamesRoundTrip) {
  for (Algorithm a : {Algorithm::kEntropy, Algorithm::kMinMax, Algorithm::kPercentile}) {
    Result<Algorithm> r = parse_algorithm(algorithm_name(a));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, a);
  }
  EXPECT_STREQ(algorithm_name(Algorithm::kEntropy), "entropy");
  EXPECT_STREQ(algorithm_name(Algorithm::kMinMax), "minmax");
  EXPECT_STREQ(algorithm_name(Algorithm::kPercentile), "percentile");
}

TEST(Thresholds, UnknownAlgorithmIsInvalidConfig) {
  Result<Algorithm> r = parse_algorithm("kl-divergence");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kOptionInvalid);
  EXPECT_EQ(r.status().category(), Category::kInvalidConfig);
  EXPECT_NE(r.status().message().find("'kl-divergence'"), std::string::npos);
}

TEST(Thresholds, MinMaxIsTrueAbsMaxWithoutSaturation) {
  std::vector<float> v = gaussian(100000, 11);
  v[777] = -9.75f;
  const TensorStats s = stats_of(v);
  Result<Range> r = choose_range(s, Algorithm::kMinMax, kDefaultPercentile, "t");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->amax, 9.75f);
  EXPECT_EQ(r->scale, 9.75f / 127.0f);
  EXPECT_EQ(r->saturation, 0.0);
}

TEST(Thresholds, PercentileOfUniformIntegers) {
  std::vector<float> v(10000);
  std::iota(v.begin(), v.end(), 0.0f);  // 0..9999: 99% of |x| are <= 9899
  std::shuffle(v.begin(), v.end(), std::mt19937(3));
  const TensorStats s = stats_of(v);
  Result<Range> r = choose_range(s, Algorithm::kPercentile, 99.0, "ints");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const double exact = 9899.0;
  EXPECT_LE(std::fabs(r->amax - exact), s.bin_width()) << r->amax;
  EXPECT_GE(r->amax, exact);  // an upper bin edge: at least the exact percentile
  EXPECT_NEAR(r->saturation, 0.01, 0.0006);
  // 100 keeps everything.
  Result<Range> all = choose_range(s, Algorithm::kPercentile, 100.0, "ints");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->amax, 9999.0f);
  EXPECT_EQ(all->saturation, 0.0);
}

TEST(Thresholds, PercentileSaturationOnGaussian) {
  const TensorStats s = stats_of(gaussian(1000000, 21));
  Result<Range> r = choose_range(s, Algorithm::kPercentile, 99.0, "g");
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->amax, 2.5758, 0.02);  // the two-sided 99% point of N(0,1)
  EXPECT_NEAR(r->saturation, 0.01, 0.0005);
}

TEST(Thresholds, EntropyOnGaussianClipsTheTail) {
  const TensorStats s = stats_of(gaussian(1000000, 5));
  Result<Range> r = choose_range(s, Algorithm::kEntropy, kDefaultPercentile, "g");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_GT(r->amax, 2.0f);
  EXPECT_LT(r->amax, 5.0f);
  EXPECT_LT(r->amax, s.abs_max() - 0.25f) << "abs-max " << s.abs_max();
  EXPECT_GT(r->saturation, 0.0);
  EXPECT_LT(r->saturation, 0.05);
  // amax is i bins of the histogram for the i the search returns.
  const size_t i = kl_threshold_bin(s.histogram());
  EXPECT_FLOAT_EQ(r->amax, static_cast<float>(static_cast<double>(i) * s.bin_width()));
}

// After a ReLU half the values are exact zeros; they must not drag the range down to the
// shortest candidate (128 bins) through bin 0.
TEST(Thresholds, EntropyIgnoresExactZeros) {
  std::vector<float> v = gaussian(1000000, 5);
  for (float& x : v) x = std::max(x, 0.0f);
  const TensorStats s = stats_of(v);
  ASSERT_GT(s.zeros(), 400000u);
  Result<Range> r = choose_range(s, Algorithm::kEntropy, kDefaultPercentile, "relu");
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->amax, 2.0f);
  EXPECT_LT(r->amax, 5.0f);
  EXPECT_LT(r->saturation, 0.001);
}

TEST(Thresholds, EntropyOnUniformKeepsNearlyEverything) {
  const TensorStats s = stats_of(uniform(1000000, -1.0f, 1.0f, 6));
  Result<Range> r = choose_range(s, Algorithm::kEntropy, kDefaultPercentile, "u");
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->amax, 0.95f * s.abs_max());
  EXPECT_LE(r->amax, s.abs_max());
  EXPECT_LT(r->saturation, 0.05);
}

// The entropy search exactly as its definition reads (thresholds.cpp), O(i) per candidate.
double slow_kl(const std::vector<uint64_t>& hist, size_t i, size_t levels) {
  double total = 0;
  for (uint64_t h : hist) total += static_cast<double>(h);
  std::vector<double> p(i), q(i, 0.0);
  for (size_t b = 0; b < i; ++b) p[b] = static_cast<double>(hist[b]);
  for (size_t b = i; b < hist.size(); ++b) p[i - 1] += static_cast<double>(hist[b]);
  for (size_t j = 0; j < levels; ++j) {
    const size_t s = j * i / levels, e = (j + 1) * i / levels;
    double level_mass = 0;
    size_t nonzero = 0;
    for (size_t b = s; b < e; ++b) {
      level_mass += static_cast<double>(hist[b]);  // without the outliers
      nonzero += p[b] > 0 ? 1 : 0;
    }
    for (size_t b = s; b < e; ++b) q[b] = p[b] > 0 ? level_mass / static_cast<double>(nonzero) : 0;
  }
  const double q_total = std::accumulate(q.begin(), q.end(), 0.0);
  size_t starved = 0;
  for (size_t b = 0; b < i; ++b) {
    p[b] /= total;
    q[b] = q_total > 0 ? q[b] / q_total : 0.0;
    if (p[b] > 0 && q[b] == 0) ++starved;
  }
  const double eps = 1e-4;
  double kl = 0;
  for (size_t b = 0; b < i; ++b) {
    if (p[b] == 0) continue;
    const double qb = q[b] == 0 ? eps : q[b] * (1.0 - eps * static_cast<double>(starved));
    kl += p[b] * std::log(p[b] / qb);
  }
  return kl;
}

size_t slow_threshold(const std::vector<uint64_t>& hist, size_t levels) {
  size_t best = hist.size();
  double best_kl = std::numeric_limits<double>::infinity();
  for (size_t i = levels; i <= hist.size(); ++i) {
    const double kl = slow_kl(hist, i, levels);
    if (kl < best_kl) {
      best_kl = kl;
      best = i;
    }
  }
  return best;
}

void expect_same_threshold(const std::vector<uint64_t>& hist, size_t levels, const char* what) {
  const size_t fast = kl_threshold_bin(hist, levels);
  const size_t slow = slow_threshold(hist, levels);
  if (fast != slow) {  // only a numerical near-tie may differ
    const double a = slow_kl(hist, fast, levels), b = slow_kl(hist, slow, levels);
    EXPECT_NEAR(a, b, 1e-12 * std::max(1.0, std::fabs(b)))
        << what << ": fast picks " << fast << ", slow " << slow;
  }
}

TEST(Thresholds, EntropySearchMatchesLiteralDefinition) {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 12; ++trial) {
    const size_t bins = 128 + rng() % 400;
    std::vector<uint64_t> hist(bins, 0);
    for (size_t b = 0; b < bins; ++b) {
      // Decaying counts with zero runs and the odd spike: levels with empty bins and levels whose
      // only mass is the outliers both occur.
      const double decay = std::exp(-static_cast<double>(b) / (20.0 + rng() % 200));
      hist[b] = rng() % 5 == 0 ? 0 : static_cast<uint64_t>(1000.0 * decay * (rng() % 100) / 50.0);
      if (rng() % 97 == 0) hist[b] += 5000;
    }
    if (trial == 0) std::fill(hist.begin() + 100, hist.end() - 3, 0);  // outliers only at the end
    expect_same_threshold(hist, 128, "random");
  }
  // Fewer levels on a small histogram exercises uneven level widths.
  std::vector<uint64_t> small = {0, 9, 3, 0, 0, 7, 1, 1, 0, 4, 0, 0, 2, 0, 0, 0, 1, 0, 0, 5};
  expect_same_threshold(small, 8, "small");
  // And the full-size histogram of real data.
  const TensorStats s = stats_of(gaussian(200000, 8));
  expect_same_threshold(as_vector(s.histogram()), 128, "gaussian");
}

TEST(Thresholds, ConstantMagnitudeKeepsTheValue) {
  std::vector<float> v(1000, 0.75f);
  for (size_t i = 0; i < v.size(); i += 2) v[i] = -0.75f;
  for (Algorithm a : {Algorithm::kEntropy, Algorithm::kMinMax, Algorithm::kPercentile}) {
    Result<Range> r = choose_range(stats_of(v), a, 99.99, "c");
    ASSERT_TRUE(r.ok()) << algorithm_name(a);
    EXPECT_EQ(r->amax, 0.75f) << algorithm_name(a);
    EXPECT_EQ(r->saturation, 0.0) << algorithm_name(a);
  }
}

// ---- Errors -----------------------------------------------------------------------------------

// SQNR of `values` quantized to `steps` levels of [-amax, amax], computed on the values.
double exact_sqnr_db(const std::vector<float>& values, float amax, int steps) {
  const double step = static_cast<double>(amax) / steps;
  double signal = 0, noise = 0;
  for (float v : values) {
    const double q = std::clamp(std::nearbyint(v / step), -double(steps), double(steps)) * step;
    signal += double(v) * v;
    noise += (v - q) * (v - q);
  }
  return 10 * std::log10(signal / noise);
}

TEST(Thresholds, SqnrEstimateFollowsTheQuantizedValues) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> v(200000);
  for (float& x : v) x = normal(rng);
  v[7] = 9.f;  // one outlier: minmax's step is 9 / 127
  TensorStats s;
  s.add(v.data(), v.size());
  // In range (rounding noise only), clipped at 3 sigma and at 1 sigma (clipping dominates),
  // int8 and uint8 steps: within 0.5 dB of the exact figure.
  for (float amax : {9.f, 3.f, 1.f})
    for (int steps : {127, 255}) {
      const double est = sqnr_db(s, amax, steps), exact = exact_sqnr_db(v, amax, steps);
      EXPECT_NEAR(est, exact, 0.5) << "amax " << amax << " steps " << steps;
    }
  // The range the algorithms choose carries both figures.
  Result<Range> r = choose_range(s, Algorithm::kMinMax);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->sqnr_db, exact_sqnr_db(v, 9.f, 127), 0.5);
  EXPECT_GT(r->sqnr_db_unsigned, r->sqnr_db + 5);  // twice the steps: ~6 dB less noise
  // A tight range beats the outlier's range on this data; far too tight loses to both.
  EXPECT_GT(sqnr_db(s, 4.f, 127), sqnr_db(s, 9.f, 127));
  EXPECT_LT(sqnr_db(s, 0.5f, 127), sqnr_db(s, 9.f, 127));
}

TEST(Thresholds, MseRangeHasTheBestSqnrOfAllRanges) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> v(100000);
  for (float& x : v) x = normal(rng);
  v[3] = 12.f;  // an outlier minmax would keep
  TensorStats s;
  s.add(v.data(), v.size());
  Result<Range> mse = choose_range(s, Algorithm::kMse);
  ASSERT_TRUE(mse.ok());
  EXPECT_LT(mse->amax, 12.f);  // clips the outlier
  EXPECT_GT(mse->amax, 2.f);   // but not the body of the distribution
  // No other algorithm's range, and no range on a fine grid, quantizes the data (exactly,
  // on the samples) meaningfully better.
  const double best = exact_sqnr_db(v, mse->amax, 127);
  for (Algorithm a : {Algorithm::kEntropy, Algorithm::kMinMax, Algorithm::kPercentile})
    EXPECT_GE(best + 0.2, exact_sqnr_db(v, choose_range(s, a)->amax, 127)) << algorithm_name(a);
  for (float amax = 1.f; amax <= 12.f; amax += 0.05f)
    EXPECT_GE(best + 0.3, exact_sqnr_db(v, amax, 127)) << "amax " << amax;
  EXPECT_EQ(parse_algorithm("mse").value(), Algorithm::kMse);
}

TEST(Thresholds, SqnrOfZerosAndOfASingleValue) {
  TensorStats zeros;
  const std::vector<float> z(100, 0.f);
  zeros.add(z.data(), z.size());
  EXPECT_EQ(sqnr_db(zeros, 1.f, 127), 0.0);  // no signal
  TensorStats half;
  const std::vector<float> h = {0.f, 0.f, 0.f, 1e-4f};  // zeros are noiseless
  half.add(h.data(), h.size());
  EXPECT_GT(sqnr_db(half, 1e-4f, 127), 40.0);
}

TEST(Thresholds, AllZeroTensorIsDegenerate) {
  const std::vector<float> zeros(4096, 0.0f);
  for (Algorithm a : {Algorithm::kEntropy, Algorithm::kMinMax, Algorithm::kPercentile}) {
    Result<Range> r = choose_range(stats_of(zeros), a, 99.99, "mask_out");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), kDegenerate);
    EXPECT_EQ(r.status().category(), Category::kCalibrationFailed);
    EXPECT_NE(r.status().message().find("'mask_out'"), std::string::npos);
    EXPECT_NE(r.status().message().find("4096"), std::string::npos);
    EXPECT_NE(r.status().fix().find("mask_out"), std::string::npos);
  }
  Result<Range> none = choose_range(TensorStats(), Algorithm::kMinMax, 99.99, "unseen");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), kDegenerate);
  EXPECT_NE(none.status().message().find("no values"), std::string::npos);
}

TEST(Thresholds, NonFiniteValuesFailNamingTensorAndCount) {
  std::vector<float> v = uniform(50, -1.0f, 1.0f, 1);
  v[1] = v[7] = std::numeric_limits<float>::quiet_NaN();
  v[9] = std::numeric_limits<float>::infinity();
  Result<Range> r = choose_range(stats_of(v), Algorithm::kEntropy, 99.99, "logits");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kNonFinite);
  EXPECT_NE(r.status().message().find("'logits'"), std::string::npos);
  EXPECT_NE(r.status().message().find("3 of 50"), std::string::npos);
}

TEST(Thresholds, PercentileOutsideRangeIsInvalidConfig) {
  const TensorStats s = stats_of(uniform(100, -1.0f, 1.0f, 2));
  for (double p : {0.0, -5.0, 100.5, std::nan("")}) {
    Result<Range> r = choose_range(s, Algorithm::kPercentile, p, "t");
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.status().code(), kOptionInvalid) << p;
    EXPECT_EQ(r.status().category(), Category::kInvalidConfig);
    EXPECT_NE(r.status().message().find(str(p)), std::string::npos) << r.status().message();
  }
  EXPECT_TRUE(choose_range(s, Algorithm::kMinMax, 0.0, "t").ok());  // ignored by minmax
  EXPECT_TRUE(check_percentile(100.0).ok());
  EXPECT_TRUE(check_percentile(1e-9).ok());
}

// ---- Collector --------------------------------------------------------------------------------

Tensor float_tensor(std::vector<float>& v) {
  return Tensor::borrow(DataType::kFloat32, {static_cast<int64_t>(v.size())}, v.data());
}

TEST(Collector, AccumulatesFloatTensorsAndSkipsOthers) {
  Collector c;
  std::vector<float> a = {1.0f, -2.0f}, b = {4.0f};
  std::vector<int64_t> ids = {1, 2, 3};
  ASSERT_TRUE(c.add("x", float_tensor(a), 0).ok());
  ASSERT_TRUE(c.add("x", float_tensor(b), 1).ok());
  ASSERT_TRUE(c.add("ids", Tensor::borrow(DataType::kInt64, {3}, ids.data()), 0).ok());
  ASSERT_NE(c.find("x"), nullptr);
  EXPECT_EQ(c.find("x")->count(), 3u);
  EXPECT_EQ(c.find("x")->abs_max(), 4.0f);
  EXPECT_EQ(c.find("ids"), nullptr);
  ASSERT_EQ(c.skipped().size(), 1u);
  EXPECT_EQ(c.skipped().begin()->first, "ids");
  EXPECT_EQ(c.skipped().begin()->second, DataType::kInt64);
}

TEST(Collector, NonFiniteNamesTensorBatchAndCount) {
  Collector c;
  std::vector<float> ok = {1.0f, 2.0f};
  std::vector<float> bad = {1.0f, std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(), 0.0f};
  ASSERT_TRUE(c.add("softmax_out", float_tensor(ok), 0).ok());
  Status s = c.add("softmax_out", float_tensor(bad), 6);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), kNonFinite);
  EXPECT_NE(s.message().find("'softmax_out'"), std::string::npos);
  EXPECT_NE(s.message().find("batch 6"), std::string::npos);
  EXPECT_NE(s.message().find("2 NaN/Inf values (of 4)"), std::string::npos) << s.message();
  // ranges() reports it too rather than choosing a range from broken data.
  Result<std::map<std::string, Range>> r = c.ranges(Algorithm::kMinMax);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kNonFinite);
  EXPECT_NE(r.status().message().find("'softmax_out'"), std::string::npos);
}

TEST(Collector, RangesReportEveryDegenerateTensorAtOnce) {
  Collector c;
  std::vector<float> good = gaussian(1000, 1), zeros_a(10, 0.0f), zeros_b(20, 0.0f);
  ASSERT_TRUE(c.add("conv1", float_tensor(good), 0).ok());
  ASSERT_TRUE(c.add("mask_a", float_tensor(zeros_a), 0).ok());
  ASSERT_TRUE(c.add("mask_b", float_tensor(zeros_b), 0).ok());
  Result<std::map<std::string, Range>> r = c.ranges(Algorithm::kEntropy);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kDegenerate);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("'mask_a' (10 values seen)"), std::string::npos) << m;
  EXPECT_NE(m.find("'mask_b' (20 values seen)"), std::string::npos) << m;
  EXPECT_EQ(m.find("conv1"), std::string::npos) << m;
  EXPECT_EQ(c.ranges(Algorithm::kPercentile, 0.0).status().code(), kOptionInvalid);
}

TEST(Collector, RangesAndSaturationReport) {
  Collector c;
  std::vector<float> g = gaussian(100000, 3), u = uniform(100000, -1.0f, 1.0f, 4);
  ASSERT_TRUE(c.add("gauss", float_tensor(g), 0).ok());
  ASSERT_TRUE(c.add("uniform", float_tensor(u), 0).ok());
  Result<std::map<std::string, Range>> r = c.ranges(Algorithm::kPercentile, 99.0);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 2u);
  for (const auto& [name, range] : *r) {
    EXPECT_NEAR(range.saturation, 0.01, 0.002) << name;
    EXPECT_EQ(range.scale, range.amax / 127.0f);
  }
  Result<std::map<std::string, Range>> mm = c.ranges(Algorithm::kMinMax);
  ASSERT_TRUE(mm.ok());
  for (const auto& [name, range] : *mm) EXPECT_EQ(range.saturation, 0.0) << name;

  // Entropy clips the Gaussian's tail, hardly anything of the uniform data.
  Result<std::map<std::string, Range>> e = c.ranges(Algorithm::kEntropy);
  ASSERT_TRUE(e.ok());
  EXPECT_GT(e->at("gauss").saturation, e->at("uniform").saturation);
  EXPECT_EQ(most_saturated(*e, 1).at(0).name, "gauss");
}

TEST(Collector, MostSaturatedOrderAndReport) {
  std::map<std::string, Range> ranges;
  ranges["a"] = Range{1.0f, 1.0f / 127, 0.10};
  ranges["b"] = Range{2.0f, 2.0f / 127, 0.30};
  ranges["c"] = Range{3.0f, 3.0f / 127, 0.20};
  ranges["d"] = Range{4.0f, 4.0f / 127, 0.30};
  const std::vector<SaturatedTensor> top = most_saturated(ranges, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].name, "b");  // ties keep name order
  EXPECT_EQ(top[1].name, "d");
  EXPECT_EQ(top[2].name, "c");
  EXPECT_EQ(most_saturated(ranges, 10).size(), 4u);
  const std::string report = saturation_report(ranges, 2);
  EXPECT_NE(report.find("2 most saturated of 4"), std::string::npos) << report;
  EXPECT_NE(report.find("30.0000%"), std::string::npos) << report;
  EXPECT_NE(report.find("'b'"), std::string::npos) << report;
  EXPECT_NE(report.find("'d'"), std::string::npos) << report;
  EXPECT_EQ(report.find("'c'"), std::string::npos) << report;
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 3);
  EXPECT_EQ(saturation_report({}, 5), "");
}

}  // namespace
}  // namespace kiln::calib
