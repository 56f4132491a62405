// Reference kernels of the remaining ONNX ops: StringNormalizer, TfIdfVectorizer,
// NonMaxSuppression, GridSample, RoiAlign, Det, DFT, STFT, the Hann/Hamming/Blackman windows,
// MelWeightMatrix and the random generators (checked by seeded reproducibility, ranges and
// sample statistics). Expected values are worked out by hand (derivation in the comment) or taken
// from NumPy / ONNX Runtime 1.32 (the call is quoted), never from kiln. Covers what the ONNX
// backend data lacks: other revisions, dtypes and attribute combinations, Unicode, ONNX
// Runtime's choices where the spec leaves room, and the coded errors for bad ranks, sizes and
// values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "interp/interpreter.h"
#include "ir/graph.h"
#include "kernel_test_util.h"
#include "ops/kernel_util.h"

namespace kiln::misc_kernel_test {
namespace {

using namespace kiln::test;  // NOLINT(google-build-using-namespace): the shared harness

using V = std::vector<double>;
using S = std::vector<std::string>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Tensor scalar_i64(int64_t v) {
  return i64({}, {v});
}
Tensor scalar_f32(float v) {
  return f32({}, {v});
}

constexpr int64_t kHuge = int64_t{1} << 40;

// ---- Det ---------------------------------------------------------------------------------------

TEST(MiscKernels, DetOfMatricesAndBatches) {
  // 1*4 - 2*3.
  Tensor y = run1("Det", 11, {f32({2, 2}, {1, 2, 3, 4})});
  EXPECT_EQ(y.shape(), Shape{});
  expect_near(y, {-2});
  // Cofactors along row 0 of [[0,1,2],[1,0,3],[4,-3,8]]: 0 - 1*(8-12) + 2*(-3-0) = -2; the zero
  // in the corner forces a row swap.
  expect_near(run1("Det", 11, {f64({3, 3}, {0, 1, 2, 1, 0, 3, 4, -3, 8})}), {-2}, 1e-12);
  // A batch: diag(2, 3) -> 6; [[1,2],[2,4]] is singular -> exactly 0.
  Tensor b = run1("Det", 11, {f32({2, 2, 2}, {2, 0, 0, 3, 1, 2, 2, 4})});
  EXPECT_EQ(b.shape(), (Shape{2}));
  EXPECT_EQ(values(b), (V{6, 0}));
  // 0.5*3 - 1*2 in float16.
  Tensor h = run1("Det", 11, {f16({2, 2}, {0.5f, 1, 2, 3})});
  EXPECT_EQ(h.dtype(), D::kFloat16);
  expect_near(h, {-0.5});
  // The empty product: a 0x0 matrix has determinant 1 (numpy.linalg.det(np.zeros((0,0))) = 1).
  expect_near(run1("Det", 11, {f32({0, 0}, {})}), {1});
  // An empty batch gives an empty result.
  EXPECT_EQ(run1("Det", 11, {f32({0, 3, 3}, {})}).shape(), (Shape{0}));
}

TEST(MiscKernels, DetRejectsNonMatrices) {
  std::string m =
      expect_error(run_single("Det", 11, {f32({3}, {1, 2, 3})}), Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "[3]")) << m;
  m = expect_error(run_single("Det", 11, {iota_f32({2, 3})}), Code::kIncompatibleShapes);
  EXPECT_TRUE(contains(m, "2x3")) << m;
  expect_error(run_single("Det", 11, {i64({1, 1}, {5})}), Code::kTypeUnsupported);
}

// ---- windows -----------------------------------------------------------------------------------

TEST(MiscKernels, CosineWindows) {
  // Hann: sin^2(pi n / N). Periodic (N = size = 4): 0, 1/2, 1, 1/2.
  expect_near(run1("HannWindow", 17, {scalar_i64(4)}), {0, 0.5, 1, 0.5}, 1e-7);
  // Symmetric (N = size - 1 = 4) over 5 points, size given as int32.
  expect_near(run1("HannWindow", 17, {i32({}, {5})}, Attrs().i("periodic", 0)), {0, 0.5, 1, 0.5, 0},
              1e-7);
  // Hamming with ONNX's exact coefficients: 25/46 - 21/46 cos(pi n / 2) for n = 0..3.
  expect_near(run1("HammingWindow", 17, {scalar_i64(4)}), {4.0 / 46, 25.0 / 46, 1, 25.0 / 46},
              1e-7);
  // Blackman: 0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N); N = 4:
  // n=0: 0.42 - 0.5 + 0.08 = 0, n=1: 0.42 - 0.08 = 0.34, n=2: 0.42 + 0.5 + 0.08 = 1.
  expect_near(run1("BlackmanWindow", 17, {scalar_i64(5)}, Attrs().i("periodic", 0)),
              {0, 0.34, 1, 0.34, 0}, 1e-7);
  expect_near(run1("BlackmanWindow", 17, {scalar_i64(4)}), {0, 0.34, 1, 0.34}, 1e-7);
}

TEST(MiscKernels, WindowOutputTypesAndEdgeSizes) {
  // output_datatype 7 = int64: values truncate like Cast (0.5 -> 0).
  Tensor i =
      run1("HannWindow", 17, {scalar_i64(5)}, Attrs().i("periodic", 0).i("output_datatype", 7));
  EXPECT_EQ(i.dtype(), D::kInt64);
  EXPECT_EQ(values(i), (V{0, 0, 1, 0, 0}));
  // The Blackman peak is exactly 1 (0.42 + 0.5 + 0.08): onnxruntime gives [0,0,0,1,0,0,0].
  Tensor b =
      run1("BlackmanWindow", 17, {scalar_i64(7)}, Attrs().i("periodic", 0).i("output_datatype", 7));
  EXPECT_EQ(values(b), (V{0, 0, 0, 1, 0, 0, 0}));
  Tensor d = run1("HammingWindow", 17, {scalar_i64(2)}, Attrs().i("output_datatype", 11));
  EXPECT_EQ(d.dtype(), D::kFloat64);
  expect_near(d, {4.0 / 46, 1}, 1e-15);  // N = 2: cos(0) and cos(pi)
  EXPECT_EQ(run1("HannWindow", 17, {scalar_i64(0)}).shape(), (Shape{0}));
  // One symmetric point divides 0 by 0: NaN, as onnxruntime.InferenceSession gives for
  // HannWindow(size=1, periodic=0).
  expect_near(run1("HannWindow", 17, {scalar_i64(1)}, Attrs().i("periodic", 0)), {kNaN});
  // Periodic size 1: N = 1, n = 0 -> 0 for Hann.
  expect_near(run1("HannWindow", 17, {scalar_i64(1)}), {0});
}

TEST(MiscKernels, WindowErrors) {
  std::string m =
      expect_error(run_single("HannWindow", 17, {scalar_i64(-3)}), Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "-3")) << m;
  expect_error(run_single("HammingWindow", 17, {scalar_i64(kHuge)}), Code::kInvalidArgument);
  expect_error(run_single("BlackmanWindow", 17, {i64({2}, {3, 4})}), Code::kInvalidArgument);
  // 9 = bool is not a T2 type.
  m = expect_error(run_single("HannWindow", 17, {scalar_i64(4)}, Attrs().i("output_datatype", 9)),
                   Code::kAttributeValueUnsupported);
  EXPECT_TRUE(contains(m, "9")) << m;
  expect_error(run_single("HannWindow", 17, {scalar_i64(4)}, Attrs().i("output_datatype", 12345)),
               Code::kAttributeValueUnsupported);
}

// ---- DFT ---------------------------------------------------------------------------------------

TEST(MiscKernels, DftRealForwardAndOnesided) {
  // X[k] = sum_t x[t] (-i)^(kt) for x = 1,2,3,4: X0 = 10, X1 = 1 - 2i - 3 + 4i = -2 + 2i,
  // X2 = 1 - 2 + 3 - 4 = -2, X3 = -2 - 2i.
  Tensor y = run1("DFT", 17, {f32({1, 4, 1}, {1, 2, 3, 4})});
  EXPECT_EQ(y.shape(), (Shape{1, 4, 2}));
  expect_near(y, {10, 0, -2, 2, -2, 0, -2, -2});
  Tensor h = run1("DFT", 17, {f32({1, 4, 1}, {1, 2, 3, 4})}, Attrs().i("onesided", 1));
  EXPECT_EQ(h.shape(), (Shape{1, 3, 2}));
  expect_near(h, {10, 0, -2, 2, -2, 0});
  // A length that is not a power of two (numpy.fft.fft([1, 2, 3, 4, 5])).
  expect_near(run1("DFT", 17, {f64({1, 5, 1}, {1, 2, 3, 4, 5})}),
              {15, 0, -2.5, 3.440954801, -2.5, 0.812299241, -2.5, -0.812299241, -2.5, -3.440954801},
              1e-9);
}

TEST(MiscKernels, DftLengthPadsOrTruncates) {
  // numpy.fft.fft([1, 2, 3, 4], n=6) and n=3.
  expect_near(
      run1("DFT", 17, {f64({1, 4, 1}, {1, 2, 3, 4}), scalar_i64(6)}),
      {10, 0, -3.5, -4.330127019, 2.5, 0.866025404, -2, 0, 2.5, -0.866025404, -3.5, 4.330127019},
      1e-9);
  expect_near(run1("DFT", 17, {f64({1, 4, 1}, {1, 2, 3, 4}), i32({}, {3})}),
              {6, 0, -1.5, 0.866025404, -1.5, -0.866025404}, 1e-9);
}

TEST(MiscKernels, DftInverseAndComplexToReal) {
  // numpy.fft.ifft([1+1j, 2, 0, -1j]) = [0.75, 0.75j, -0.25+0.5j, 0.5-0.25j].
  expect_near(run1("DFT", 17, {f32({1, 4, 2}, {1, 1, 2, 0, 0, 0, 0, -1})}, Attrs().i("inverse", 1)),
              {0.75, 0, 0, 0.75, -0.25, 0.5, 0.5, -0.25});
  // The one-sided spectrum of 1,2,3,4 (above) back to the signal: default length 2*(3-1) = 4.
  Tensor r = run1("DFT", 17, {f32({1, 3, 2}, {10, 0, -2, 2, -2, 0})},
                  Attrs().i("inverse", 1).i("onesided", 1));
  EXPECT_EQ(r.shape(), (Shape{1, 4, 1}));
  expect_near(r, {1, 2, 3, 4});
  // numpy.fft.irfft([10, -2+2j, -2], n=5).
  expect_near(run1("DFT", 17, {f64({1, 3, 2}, {10, 0, -2, 2, -2, 0}), scalar_i64(5)},
                   Attrs().i("inverse", 1).i("onesided", 1)),
              {0.4, 1.639154787, 1.929771798, 2.870228202, 3.160845213}, 1e-9);
}

TEST(MiscKernels, DftAxes) {
  // x[a][b] = [[1, 2], [3, 5]] transformed along axis 0: column j -> (x0j + x1j, x0j - x1j).
  const auto x = [] { return f32({2, 2, 1}, {1, 2, 3, 5}); };
  expect_near(run1("DFT", 17, {x()}, Attrs().i("axis", 0)), {4, 0, 7, 0, -2, 0, -3, 0});
  expect_near(run1("DFT", 20, {x(), none(), scalar_i64(0)}), {4, 0, 7, 0, -2, 0, -3, 0});
  // DFT-20 defaults to axis -2 (the last signal dim): rows -> (x0 + x1, x0 - x1).
  expect_near(run1("DFT", 20, {x()}), {3, 0, -1, 0, 8, 0, -2, 0});
  // DFT-17 defaults to axis 1, the same dim here.
  expect_near(run1("DFT", 17, {x()}), {3, 0, -1, 0, 8, 0, -2, 0});
  Tensor h = run1("DFT", 17, {f16({1, 2, 1}, {1, 2})});
  EXPECT_EQ(h.dtype(), D::kFloat16);
  expect_near(h, {3, 0, -1, 0});
}

TEST(MiscKernels, DftErrors) {
  expect_error(run_single("DFT", 17, {f32({4}, {1, 2, 3, 4})}), Code::kInvalidArgument);
  std::string m = expect_error(run_single("DFT", 17, {f32({1, 2, 3}, {1, 2, 3, 4, 5, 6})}),
                               Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "[1,2,3]")) << m;
  // The last dim holds the components and is no signal axis.
  expect_error(run_single("DFT", 17, {f32({1, 4, 1}, {1, 2, 3, 4})}, Attrs().i("axis", -1)),
               Code::kInvalidArgument);
  expect_error(run_single("DFT", 17, {f32({1, 4, 1}, {1, 2, 3, 4})}, Attrs().i("axis", 2)),
               Code::kInvalidArgument);
  expect_error(run_single("DFT", 20, {f32({1, 4, 1}, {1, 2, 3, 4}), none(), scalar_i64(-4)}),
               Code::kInvalidArgument);
  m = expect_error(run_single("DFT", 17, {f32({1, 4, 1}, {1, 2, 3, 4}), scalar_i64(0)}),
                   Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "dft_length 0")) << m;
  expect_error(run_single("DFT", 17, {f32({1, 4, 1}, {1, 2, 3, 4}), scalar_i64(kHuge)}),
               Code::kInvalidArgument);
  expect_error(run_single("DFT", 17, {f32({1, 2, 2}, {1, 2, 3, 4})}, Attrs().i("onesided", 1)),
               Code::kInvalidArgument);
  expect_error(run_single("DFT", 17, {f32({1, 4, 1}, {1, 2, 3, 4})},
                          Attrs().i("onesided", 1).i("inverse", 1)),
               Code::kInvalidArgument);
  // A one-bin one-sided spectrum has no default length (2 * (1 - 1) = 0).
  expect_error(
      run_single("DFT", 17, {f32({1, 1, 2}, {1, 0})}, Attrs().i("onesided", 1).i("inverse", 1)),
      Code::kInvalidArgument);
  expect_error(run_single("DFT", 17, {i64({1, 2, 1}, {1, 2})}), Code::kTypeUnsupported);
}

// ---- STFT --------------------------------------------------------------------------------------

TEST(MiscKernels, StftFramesWithoutWindow) {
  // Signal 0..7, frames of 4 every 2 samples: 1 + (8 - 4) / 2 = 3 frames starting at 0, 2, 4.
  // Frame [s, s+1, s+2, s+3]: X0 = 4s + 6, X1 = s - (s+1)i - (s+2) + (s+3)i = -2 + 2i,
  // X2 = s - (s+1) + (s+2) - (s+3) = -2.
  Tensor y = run1("STFT", 17, {iota_f32({1, 8, 1}), scalar_i64(2), none(), scalar_i64(4)});
  EXPECT_EQ(y.shape(), (Shape{1, 3, 3, 2}));
  expect_near(y, {6, 0, -2, 2, -2, 0, 14, 0, -2, 2, -2, 0, 22, 0, -2, 2, -2, 0});
  // Two-sided adds X3 = conj(X1) for a real signal.
  Tensor t = run1("STFT", 17, {iota_f32({1, 8, 1}), scalar_i64(4), none(), scalar_i64(4)},
                  Attrs().i("onesided", 0));
  EXPECT_EQ(t.shape(), (Shape{1, 2, 4, 2}));
  expect_near(t, {6, 0, -2, 2, -2, 0, -2, -2, 22, 0, -2, 2, -2, 0, -2, -2});
}

TEST(MiscKernels, StftWithWindow) {
  // Window 0, .5, 1, .5 (periodic Hann of 4); frame_length comes from the window. Frame at s
  // weighted: [0, .5(s+1), s+2, .5(s+3)] -> X0 = 2s + 4, X1 = -.5(s+1)i - (s+2) + .5(s+3)i =
  // -(s+2) + i, X2 = -.5(s+1) + (s+2) - .5(s+3) = 0.
  Tensor y = run1("STFT", 17, {iota_f32({1, 8, 1}), scalar_i64(2), f32({4}, {0, 0.5f, 1, 0.5f})});
  EXPECT_EQ(y.shape(), (Shape{1, 3, 3, 2}));
  expect_near(y, {4, 0, -2, 1, 0, 0, 8, 0, -4, 1, 0, 0, 12, 0, -6, 1, 0, 0});
  // Complex signal, two-sided: a single frame of (1, i) -> X0 = 1 + i, X1 = 1 - i.
  Tensor c =
      run1("STFT", 17, {f32({1, 2, 2}, {1, 0, 0, 1}), scalar_i64(1)}, Attrs().i("onesided", 0));
  EXPECT_EQ(c.shape(), (Shape{1, 1, 2, 2}));
  expect_near(c, {1, 1, 1, -1});
}

TEST(MiscKernels, StftErrors) {
  std::string m = expect_error(
      run_single("STFT", 17, {iota_f32({1, 8, 1}), scalar_i64(0), none(), scalar_i64(4)}),
      Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "frame_step 0")) << m;
  expect_error(run_single("STFT", 17,
                          {iota_f32({1, 8, 1}), scalar_i64(2), f32({3}, {1, 1, 1}), scalar_i64(4)}),
               Code::kIncompatibleShapes);
  expect_error(run_single("STFT", 17, {iota_f32({1, 8, 1}), scalar_i64(2), none(), scalar_i64(9)}),
               Code::kInvalidArgument);
  expect_error(run_single("STFT", 17, {iota_f32({1, 8, 1}), scalar_i64(2), none(), scalar_i64(-1)}),
               Code::kInvalidArgument);
  expect_error(run_single("STFT", 17, {iota_f32({1, 4, 2}), scalar_i64(2), none(), scalar_i64(2)}),
               Code::kInvalidArgument);  // complex signal, onesided
  expect_error(run_single("STFT", 17, {iota_f32({8, 1}), scalar_i64(2)}), Code::kInvalidArgument);
  expect_error(
      run_single("STFT", 17, {iota_f32({1, 8, 1}), scalar_i64(2), f32({2, 2}, {1, 1, 1, 1})}),
      Code::kInvalidArgument);
  expect_error(run_single("STFT", 17, {iota_f32({1, 8, 1}), scalar_i64(2), f64({4}, {1, 1, 1, 1})}),
               Code::kTypeUnsupported);
}

// ---- MelWeightMatrix ---------------------------------------------------------------------------

TEST(MiscKernels, MelWeightMatrixMatchesOnnxRuntime) {
  // onnxruntime MelWeightMatrix(num_mel_bins=3, dft_length=16, sample_rate=8000, lower=0,
  // upper=4000). By hand: mel(4000) = 2595 log10(1 + 4000/700) = 2146.06, step = 2146.06 / 5;
  // the 5 points are 0, 324.6, 799.4, 1494.8, 2511.7 Hz -> bins floor(17 f / 8000) = 0, 0, 1, 3,
  // 5: filter 0 peaks at row 0 (zero-width rise), filter 1 rises 0->1 over rows 0..1 and falls
  // over 1..2, filter 2 rises over rows 1..3 and falls over 3..4.
  Tensor y =
      run1("MelWeightMatrix", 17,
           {scalar_i64(3), scalar_i64(16), scalar_i64(8000), scalar_f32(0), scalar_f32(4000)});
  EXPECT_EQ(y.shape(), (Shape{9, 3}));
  EXPECT_EQ(y.dtype(), D::kFloat32);
  expect_near(
      y, {1, 0, 0, 0, 1, 0, 0, 0.5, 0.5, 0, 0, 1, 0, 0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  Tensor d = run1("MelWeightMatrix", 17,
                  {i32({}, {3}), i32({}, {16}), i32({}, {8000}), f64({}, {0}), f64({}, {4000})},
                  Attrs().i("output_datatype", 11));
  EXPECT_EQ(d.dtype(), D::kFloat64);
  EXPECT_EQ(values(d)[7], 0.5);
}

TEST(MiscKernels, MelWeightMatrixErrors) {
  auto mel = [](int64_t bins, int64_t len, int64_t rate, float lo, float hi) {
    return run_single(
        "MelWeightMatrix", 17,
        {scalar_i64(bins), scalar_i64(len), scalar_i64(rate), scalar_f32(lo), scalar_f32(hi)});
  };
  // The upper edge at the sample rate maps far past the last of the 9 bins.
  std::string m = expect_error(mel(3, 16, 8000, 0, 8000), Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "8000")) << m;
  expect_error(mel(3, 16, 8000, -5, 4000), Code::kInvalidArgument);
  expect_error(mel(3, 16, 8000, 3000, 1000), Code::kInvalidArgument);
  expect_error(mel(-1, 16, 8000, 0, 4000), Code::kInvalidArgument);
  expect_error(mel(3, 0, 8000, 0, 4000), Code::kInvalidArgument);
  expect_error(mel(3, 16, 0, 0, 4000), Code::kInvalidArgument);
  expect_error(mel(kHuge, kHuge, 8000, 0, 1), Code::kInvalidArgument);
  expect_error(mel(3, 16, 8000, 0, std::numeric_limits<float>::quiet_NaN()),
               Code::kInvalidArgument);
}

// ---- StringNormalizer --------------------------------------------------------------------------

TEST(MiscKernels, StringNormalizerStopWordsAndCase) {
  const S days{"monday", "tuesday", "Monday", "wednesday"};
  // Case-insensitive by default: both mondays go.
  Tensor y = run1("StringNormalizer", 10, {strings({4}, days)},
                  Attrs().strings("stopwords", {"MONDAY"}).s("case_change_action", "UPPER"));
  EXPECT_EQ(y.shape(), (Shape{2}));
  EXPECT_EQ(y.string_data(), (S{"TUESDAY", "WEDNESDAY"}));
  // Case-sensitive: only the exact spelling goes.
  y = run1("StringNormalizer", 10, {strings({1, 4}, days)},
           Attrs()
               .strings("stopwords", {"monday"})
               .i("is_case_sensitive", 1)
               .s("case_change_action", "UPPER"));
  EXPECT_EQ(y.shape(), (Shape{1, 3}));
  EXPECT_EQ(y.string_data(), (S{"TUESDAY", "MONDAY", "WEDNESDAY"}));
  // NONE keeps the case; no stop words keeps everything.
  y = run1("StringNormalizer", 10, {strings({4}, days)});
  EXPECT_EQ(y.string_data(), days);
  // Everything dropped: one empty string, [1] for [C] input and [1, 1] for [1, C].
  y = run1("StringNormalizer", 10, {strings({2}, {"a", "A"})}, Attrs().strings("stopwords", {"a"}));
  EXPECT_EQ(y.shape(), (Shape{1}));
  EXPECT_EQ(y.string_data(), (S{""}));
  y = run1("StringNormalizer", 10, {strings({1, 1}, {"a"})}, Attrs().strings("stopwords", {"a"}));
  EXPECT_EQ(y.shape(), (Shape{1, 1}));
  EXPECT_EQ(y.string_data(), (S{""}));
}

TEST(MiscKernels, StringNormalizerUnicode) {
  // Unicode simple case mapping: É <-> é, Greek capitals <-> small letters; ß has no
  // single-character uppercase and stays.
  const S words{
      "\xc3\x89"
      "cole",
      "Stra\xc3\x9f"
      "e",
      "\xce\xb1\xce\xb2\xce\xb3"};
  Tensor lo = run1("StringNormalizer", 10, {strings({3}, words)},
                   Attrs().s("case_change_action", "LOWER").s("locale", "en_US"));
  EXPECT_EQ(lo.string_data(), (S{"\xc3\xa9"
                                 "cole",
                                 "stra\xc3\x9f"
                                 "e",
                                 "\xce\xb1\xce\xb2\xce\xb3"}));
  Tensor up =
      run1("StringNormalizer", 10, {strings({3}, words)}, Attrs().s("case_change_action", "UPPER"));
  EXPECT_EQ(up.string_data(), (S{"\xc3\x89"
                                 "COLE",
                                 "STRA\xc3\x9f"
                                 "E",
                                 "\xce\x91\xce\x92\xce\x93"}));
  // Case-insensitive stop words match across scripts: "ΑΒΓ" removes "αβγ".
  Tensor s = run1("StringNormalizer", 10, {strings({3}, words)},
                  Attrs().strings("stopwords", {"\xce\x91\xce\x92\xce\x93",
                                                "\xc3\x89"
                                                "COLE"}));
  EXPECT_EQ(s.string_data(), (S{"Stra\xc3\x9f"
                                "e"}));
}

TEST(MiscKernels, StringNormalizerMatchesOnnxRuntime) {
  // onnxruntime StringNormalizer(stopwords=["MONDAY", "αβγ", "École"], locale="C.UTF-8"); empty
  // strings are elements like any other and stay; title-case ǅ lowers to ǆ, uppers to Ǆ.
  const S words{"Monday",
                "monday",
                "TUESDAY",
                "Stra\xc3\x9f"
                "e",
                "\xc3\x89"
                "cole",
                "\xce\x91\xce\x92\xce\x93",
                "x y",
                "",
                "na\xc3\xafve",
                "\xc7\x85"};
  auto run = [&](const char* action, int64_t case_sensitive) {
    return run1("StringNormalizer", 10, {strings({10}, words)},
                Attrs()
                    .strings("stopwords", {"MONDAY", "\xce\xb1\xce\xb2\xce\xb3",
                                           "\xc3\x89"
                                           "cole"})
                    .s("case_change_action", action)
                    .i("is_case_sensitive", case_sensitive)
                    .s("locale", "C.UTF-8"))
        .string_data();
  };
  EXPECT_EQ(run("LOWER", 0), (S{"tuesday",
                                "stra\xc3\x9f"
                                "e",
                                "x y", "", "na\xc3\xafve", "\xc7\x86"}));
  EXPECT_EQ(run("UPPER", 1), (S{"MONDAY", "MONDAY", "TUESDAY",
                                "STRA\xc3\x9f"
                                "E",
                                "\xce\x91\xce\x92\xce\x93", "X Y", "",
                                "NA\xc3\x8f"
                                "VE",
                                "\xc7\x84"}));
}

TEST(MiscKernels, StringNormalizerErrors) {
  std::string m =
      expect_error(run_single("StringNormalizer", 10, {strings({2, 2}, {"a", "b", "c", "d"})}),
                   Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "[2,2]")) << m;
  expect_error(run_single("StringNormalizer", 10, {strings({}, {"a"})}), Code::kInvalidArgument);
  m = expect_error(run_single("StringNormalizer", 10, {strings({2}, {"ok", "bad\xff"})},
                              Attrs().s("case_change_action", "LOWER")),
                   Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "element 1")) << m;
  // Truncated multi-byte sequence, overlong encoding, UTF-16 surrogate.
  for (const char* bad : {"\xc3", "\xc0\xaf", "\xed\xa0\x80"})
    expect_error(run_single("StringNormalizer", 10, {strings({1}, {bad})}), Code::kInvalidArgument);
  expect_error(run_single("StringNormalizer", 10, {strings({1}, {"i"})},
                          Attrs().s("case_change_action", "UPPER").s("locale", "tr_TR.UTF-8")),
               Code::kAttributeValueUnsupported);
  expect_error(run_single("StringNormalizer", 10, {strings({1}, {"i"})},
                          Attrs().s("case_change_action", "TITLE")),
               Code::kAttributeValueUnsupported);
  expect_error(run_single("StringNormalizer", 10, {i64({1}, {1})}), Code::kTypeUnsupported);
}

// ---- TfIdfVectorizer ---------------------------------------------------------------------------

// Pool: unigrams 2, 3, 5, 4 (coordinates 0-3), bigrams (5,6), (7,8), (6,7) (coordinates 4-6).
Attrs tfidf_attrs(const std::string& mode, int64_t min_n, int64_t max_n, int64_t skip,
                  std::vector<float> weights = {}) {
  Attrs a = Attrs()
                .s("mode", mode)
                .i("min_gram_length", min_n)
                .i("max_gram_length", max_n)
                .i("max_skip_count", skip)
                .ints("ngram_counts", {0, 4})
                .ints("ngram_indexes", {0, 1, 2, 3, 4, 5, 6})
                .ints("pool_int64s", {2, 3, 5, 4, 5, 6, 7, 8, 6, 7});
  if (weights.empty()) return a;
  return std::move(a).floats("weights", std::move(weights));
}
Tensor tfidf_rows() {
  return i32({2, 6}, {1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8});
}

TEST(MiscKernels, TfIdfCountsWithSkips) {
  // Values from onnxruntime; by hand: row 0 has unigram 3 three times. Row 1 (8 6 7 5 6 8) has
  // unigram 5 once; adjacent pairs give (6,7) and (5,6); pairs 3 apart (skip 2) give (7,8).
  Tensor y = run1("TfIdfVectorizer", 9, {tfidf_rows()}, tfidf_attrs("TF", 1, 2, 2));
  EXPECT_EQ(y.shape(), (Shape{2, 7}));
  EXPECT_EQ(values(y), (V{0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1}));
  // Bigrams only.
  y = run1("TfIdfVectorizer", 9, {tfidf_rows()}, tfidf_attrs("TF", 2, 2, 2));
  EXPECT_EQ(values(y), (V{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1}));
  // IDF without skips: presence times the weight (1.5 for 5, 2.5 for (5,6), 3.5 for (6,7)).
  y = run1("TfIdfVectorizer", 9, {tfidf_rows()},
           tfidf_attrs("IDF", 1, 2, 0, {0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f}));
  EXPECT_EQ(values(y), (V{0, 1, 0, 0, 0, 0, 0, 0, 0, 1.5, 0, 2.5, 0, 3.5}));
  // TF-IDF: count times weight (3 x 1 for the threes).
  y = run1("TfIdfVectorizer", 9, {tfidf_rows()},
           tfidf_attrs("TFIDF", 1, 2, 2, {0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f}));
  EXPECT_EQ(values(y), (V{0, 3, 0, 0, 0, 0, 0, 0, 0, 1.5, 0, 2.5, 3, 3.5}));
}

TEST(MiscKernels, TfIdfWeightsFollowThePoolOrder) {
  // onnxruntime gives [400, 900, 100]: the weight of pool entry i scales the count written to
  // ngram_indexes[i] (20 -> coordinate 0 with weight 200, twice; 30 -> 1 with 300, three
  // times; 10 -> 2 with 100, once).
  Tensor y = run1("TfIdfVectorizer", 9, {i64({6}, {10, 20, 20, 30, 30, 30})},
                  Attrs()
                      .s("mode", "TFIDF")
                      .i("min_gram_length", 1)
                      .i("max_gram_length", 1)
                      .i("max_skip_count", 0)
                      .ints("ngram_counts", {0})
                      .ints("ngram_indexes", {2, 0, 1})
                      .ints("pool_int64s", {10, 20, 30})
                      .floats("weights", {100, 200, 300}));
  EXPECT_EQ(y.shape(), (Shape{3}));
  EXPECT_EQ(values(y), (V{400, 900, 100}));
}

TEST(MiscKernels, TfIdfStrings) {
  // a b a c b a x with pool a->3, b->0, (a,b)->1, (b,a)->2 and skips up to 1. Unigrams: a x3,
  // b x2. Adjacent pairs: ab, ba, ba (+ ac, cb, ax); pairs 2 apart: ab (+ aa, bc, ca, bx).
  Tensor y = run1("TfIdfVectorizer", 9, {strings({7}, {"a", "b", "a", "c", "b", "a", "x"})},
                  Attrs()
                      .s("mode", "TF")
                      .i("min_gram_length", 1)
                      .i("max_gram_length", 2)
                      .i("max_skip_count", 1)
                      .ints("ngram_counts", {0, 2})
                      .ints("ngram_indexes", {3, 0, 1, 2})
                      .strings("pool_strings", {"a", "b", "a", "b", "b", "a"}));
  EXPECT_EQ(values(y), (V{2, 2, 2, 3}));
  // Empty rows count nothing.
  Tensor e = run1("TfIdfVectorizer", 9, {i32({2, 0}, {})}, tfidf_attrs("TF", 1, 2, 2));
  EXPECT_EQ(e.shape(), (Shape{2, 7}));
  EXPECT_EQ(values(e), V(14, 0.0));
}

TEST(MiscKernels, TfIdfErrors) {
  auto base = [](std::vector<int64_t> counts, std::vector<int64_t> indexes,
                 const std::string& mode = "TF", int64_t min_n = 1, int64_t skip = 0) {
    return Attrs()
        .s("mode", mode)
        .i("min_gram_length", min_n)
        .i("max_gram_length", 2)
        .i("max_skip_count", skip)
        .ints("ngram_counts", std::move(counts))
        .ints("ngram_indexes", std::move(indexes));
  };
  const auto x = [] { return i64({3}, {1, 2, 3}); };
  std::string m =
      expect_error(run_single("TfIdfVectorizer", 9, {x()}, base({0}, {0})), Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "neither")) << m;
  expect_error(run_single("TfIdfVectorizer", 9, {x()},
                          base({0}, {0}).ints("pool_int64s", {1}).strings("pool_strings", {"a"})),
               Code::kInvalidArgument);
  expect_error(run_single("TfIdfVectorizer", 9, {strings({1}, {"a"})},
                          base({0}, {0}).ints("pool_int64s", {1})),
               Code::kTypeUnsupported);
  expect_error(
      run_single("TfIdfVectorizer", 9, {x()}, base({0}, {0}).strings("pool_strings", {"a"})),
      Code::kTypeUnsupported);
  // Two unigrams but one coordinate.
  m = expect_error(
      run_single("TfIdfVectorizer", 9, {x()}, base({0}, {0}).ints("pool_int64s", {1, 2})),
      Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "ngram_indexes")) << m;
  expect_error(run_single("TfIdfVectorizer", 9, {x()}, base({0}, {-1}).ints("pool_int64s", {1})),
               Code::kInvalidArgument);
  expect_error(run_single("TfIdfVectorizer", 9, {x()}, base({0}, {kHuge}).ints("pool_int64s", {1})),
               Code::kInvalidArgument);
  // Bigrams from item 1 on: 3 items are not whole bigrams.
  expect_error(run_single("TfIdfVectorizer", 9, {x()},
                          base({0, 1}, {0, 1}).ints("pool_int64s", {1, 2, 3, 4})),
               Code::kInvalidArgument);
  expect_error(run_single("TfIdfVectorizer", 9, {x()}, base({0, 9}, {0}).ints("pool_int64s", {1})),
               Code::kInvalidArgument);
  expect_error(run_single("TfIdfVectorizer", 9, {x()},
                          base({0}, {0}).ints("pool_int64s", {1}).floats("weights", {1, 2})),
               Code::kInvalidArgument);
  expect_error(
      run_single("TfIdfVectorizer", 9, {x()}, base({0}, {0}, "TF", 0).ints("pool_int64s", {1})),
      Code::kInvalidArgument);
  expect_error(
      run_single("TfIdfVectorizer", 9, {x()}, base({0}, {0}, "TF", 1, -1).ints("pool_int64s", {1})),
      Code::kInvalidArgument);
  expect_error(run_single("TfIdfVectorizer", 9, {i64({1, 1, 3}, {1, 2, 3})},
                          base({0}, {0}).ints("pool_int64s", {1})),
               Code::kInvalidArgument);
  expect_error(
      run_single("TfIdfVectorizer", 9, {x()}, base({0}, {0}, "BM25").ints("pool_int64s", {1})),
      Code::kAttributeValueUnsupported);
}

// ---- NonMaxSuppression -------------------------------------------------------------------------

// Six unit-height boxes [y1, x1, y2, x2]: 0-2 overlap heavily (IoU 0.9/1.1 = 0.82 between 0 and
// 1 or 2), 3-4 likewise, 5 stands alone.
Tensor nms_boxes() {
  return f32({1, 6, 4}, {0, 0,  1, 1,  0, 0.1f,  1, 1.1f,  0, -0.1f, 1, 0.9f,
                         0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100,   1, 101});
}
Tensor nms_scores() {
  return f32({1, 1, 6}, {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f});
}

std::vector<double> triples(const Tensor& t) {
  EXPECT_EQ(t.dtype(), D::kInt64);
  EXPECT_EQ(t.rank(), 2u);
  return values(t);
}

TEST(MiscKernels, NonMaxSuppressionGreedySelection) {
  // By score: 3 (0.95) kept, 0 (0.9) kept, 1 and 2 overlap 0, 4 overlaps 3, 5 (0.3) kept.
  Tensor y = run1("NonMaxSuppression", 11,
                  {nms_boxes(), nms_scores(), scalar_i64(3), scalar_f32(0.5f), scalar_f32(0)});
  EXPECT_EQ(y.shape(), (Shape{3, 3}));
  EXPECT_EQ(triples(y), (V{0, 0, 3, 0, 0, 0, 0, 0, 5}));
  // Score threshold 0.4 drops box 5; max 2 per class stops after box 0.
  y = run1("NonMaxSuppression", 11,
           {nms_boxes(), nms_scores(), scalar_i64(3), scalar_f32(0.5f), scalar_f32(0.4f)});
  EXPECT_EQ(triples(y), (V{0, 0, 3, 0, 0, 0}));
  y = run1("NonMaxSuppression", 10, {nms_boxes(), nms_scores(), scalar_i64(2), scalar_f32(0.5f)});
  EXPECT_EQ(triples(y), (V{0, 0, 3, 0, 0, 0}));
  // No max_output_boxes_per_class: ONNX's default 0 selects nothing.
  y = run1("NonMaxSuppression", 11, {nms_boxes(), nms_scores()});
  EXPECT_EQ(y.shape(), (Shape{0, 3}));
  // A negative max selects nothing either.
  y = run1("NonMaxSuppression", 11, {nms_boxes(), nms_scores(), scalar_i64(-1)});
  EXPECT_EQ(y.shape(), (Shape{0, 3}));
}

TEST(MiscKernels, NonMaxSuppressionFormatsAndTies) {
  // The same boxes as [x_center, y_center, width, height].
  Tensor centers = f32({1, 6, 4}, {0.5f,  0.5f, 1, 1, 0.6f,  0.5f, 1, 1, 0.4f,   0.5f, 1, 1,
                                   10.5f, 0.5f, 1, 1, 10.6f, 0.5f, 1, 1, 100.5f, 0.5f, 1, 1});
  Tensor y = run1("NonMaxSuppression", 11, {centers, nms_scores(), scalar_i64(3), scalar_f32(0.5f)},
                  Attrs().i("center_point_box", 1));
  EXPECT_EQ(triples(y), (V{0, 0, 3, 0, 0, 0, 0, 0, 5}));
  // Corners in the other diagonal order describe the same boxes.
  Tensor flipped = f32({1, 6, 4}, {1, 1,  0, 0,  0, 0.1f,  1, 1.1f,  0, -0.1f, 1, 0.9f,
                                   1, 11, 0, 10, 0, 10.1f, 1, 11.1f, 1, 101,   0, 100});
  y = run1("NonMaxSuppression", 11, {flipped, nms_scores(), scalar_i64(3), scalar_f32(0.5f)});
  EXPECT_EQ(triples(y), (V{0, 0, 3, 0, 0, 0, 0, 0, 5}));
  // IoU exactly at the threshold keeps the box: [0,0,1,1] vs [0,0,1,2] -> 1 / 2.
  Tensor two = f32({1, 2, 4}, {0, 0, 1, 1, 0, 0, 1, 2});
  y = run1("NonMaxSuppression", 11,
           {two, f32({1, 1, 2}, {0.9f, 0.8f}), scalar_i64(5), scalar_f32(0.5f)});
  EXPECT_EQ(triples(y), (V{0, 0, 0, 0, 0, 1}));
  // Equal scores: the lower box index first. NaN scores are never selected.
  y = run1("NonMaxSuppression", 11,
           {f32({1, 3, 4}, {0, 0, 1, 1, 5, 5, 6, 6, 9, 9, 10, 10}),
            f32({1, 1, 3}, {static_cast<float>(kNaN), 0.5f, 0.5f}), scalar_i64(5)});
  EXPECT_EQ(triples(y), (V{0, 0, 1, 0, 0, 2}));
}

TEST(MiscKernels, NonMaxSuppressionBatchesAndClasses) {
  // Batch 1 repeats batch 0; class 1 scores the boxes in reverse, so box 5 leads there.
  std::vector<float> b(24), s;
  Tensor one = nms_boxes();
  std::memcpy(b.data(), one.data(), 24 * sizeof(float));
  b.insert(b.end(), b.begin(), b.begin() + 24);
  const std::vector<float> c0{0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f};
  const std::vector<float> c1{0.3f, 0.5f, 0.95f, 0.6f, 0.75f, 0.9f};
  for (int k = 0; k < 2; ++k) {
    s.insert(s.end(), c0.begin(), c0.end());
    s.insert(s.end(), c1.begin(), c1.end());
  }
  // Class 1: 2 (0.95) kept, 5 (0.9) kept, 4 (0.75) kept, 3 overlaps 4, 1 and 0 overlap 2.
  Tensor y = run1("NonMaxSuppression", 11,
                  {f32({2, 6, 4}, b), f32({2, 2, 6}, s), scalar_i64(3), scalar_f32(0.5f)});
  EXPECT_EQ(triples(y), (V{0, 0, 3, 0, 0, 0, 0, 0, 5, 0, 1, 2, 0, 1, 5, 0, 1, 4,
                           1, 0, 3, 1, 0, 0, 1, 0, 5, 1, 1, 2, 1, 1, 5, 1, 1, 4}));
}

TEST(MiscKernels, NonMaxSuppressionErrors) {
  std::string m = expect_error(
      run_single("NonMaxSuppression", 11, {f32({1, 2, 3}, {0, 0, 1, 1, 0, 0}), nms_scores()}),
      Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "[1,2,3]")) << m;
  expect_error(run_single("NonMaxSuppression", 11, {nms_boxes(), f32({1, 1, 5}, {1, 1, 1, 1, 1})}),
               Code::kIncompatibleShapes);
  expect_error(
      run_single("NonMaxSuppression", 11, {nms_boxes(), f32({2, 1, 6}, std::vector<float>(12, 1))}),
      Code::kIncompatibleShapes);
  m = expect_error(run_single("NonMaxSuppression", 11,
                              {nms_boxes(), nms_scores(), scalar_i64(3), scalar_f32(1.5f)}),
                   Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "1.5")) << m;
  expect_error(run_single("NonMaxSuppression", 11, {nms_boxes(), nms_scores(), i64({2}, {3, 3})}),
               Code::kInvalidArgument);
  expect_error(run_single("NonMaxSuppression", 11, {nms_boxes(), nms_scores()},
                          Attrs().i("center_point_box", 2)),
               Code::kAttributeValueUnsupported);
}

// ---- RoiAlign ----------------------------------------------------------------------------------

// X[y][x] = 4y + x on a 4x4 map: bilinear interpolation of a linear function is exact, so a
// sample at (y, x) reads 4y + x.
Tensor ramp() {
  return iota_f32({1, 1, 4, 4});
}

Tensor roi_run(int64_t opset, Tensor x, std::vector<float> rois, std::vector<int64_t> idx,
               Attrs attrs) {
  const int64_t n = static_cast<int64_t>(idx.size());
  return run1("RoiAlign", opset, {std::move(x), f32({n, 4}, std::move(rois)), i64({n}, idx)},
              std::move(attrs));
}

TEST(MiscKernels, RoiAlignCoordinateModes) {
  // ROI [0,0,3,3] pooled to 1x1 with one sample. half_pixel shifts the ROI to [-0.5, 2.5]: the
  // sample sits at (1, 1) -> 5. output_half_pixel (and opset 10) keep [0, 3]: sample at
  // (1.5, 1.5) -> 7.5. onnxruntime agrees on all three.
  EXPECT_EQ(values(roi_run(16, ramp(), {0, 0, 3, 3}, {0}, Attrs().i("sampling_ratio", 1))), V{5});
  EXPECT_EQ(
      values(roi_run(
          16, ramp(), {0, 0, 3, 3}, {0},
          Attrs().i("sampling_ratio", 1).s("coordinate_transformation_mode", "output_half_pixel"))),
      V{7.5});
  EXPECT_EQ(values(roi_run(10, ramp(), {0, 0, 3, 3}, {0}, Attrs().i("sampling_ratio", 1))), V{7.5});
  // Two samples per side at -0.5 + 0.75 and -0.5 + 2.25: mean of 4y + x over {0.25, 1.75}^2 = 5.
  EXPECT_EQ(values(roi_run(16, ramp(), {0, 0, 3, 3}, {0}, Attrs().i("sampling_ratio", 2))), V{5});
  // 2x2 bins of [0, 3] (opset 10): bin centers 0.75 and 2.25 -> 4y + x.
  Tensor y = roi_run(10, ramp(), {0, 0, 3, 3}, {0},
                     Attrs().i("sampling_ratio", 1).i("output_height", 2).i("output_width", 2));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  expect_near(y, {3.75, 5.25, 9.75, 11.25});
}

TEST(MiscKernels, RoiAlignAdaptiveSamplingMatchesOnnxRuntime) {
  // X[b][c] = (c + 1) * base_b with base_0 = k^2 / 10, base_1 = -k for k = 4y + x; three ROIs
  // (one reaching outside the map) pooled to 2x3 with adaptive sampling. Expected values from
  // onnxruntime RoiAlign-16 (output_height=2, output_width=3, sampling_ratio=0).
  std::vector<float> xv;
  for (int b = 0; b < 2; ++b)
    for (int c = 0; c < 2; ++c)
      for (int k = 0; k < 16; ++k)
        xv.push_back(static_cast<float>(c + 1) *
                     (b == 0 ? static_cast<float>(k * k) / 10 : -static_cast<float>(k)));
  Tensor y = roi_run(16, f32({2, 2, 4, 4}, xv),
                     {0.3f, 0.6f, 3.2f, 2.9f, 1.1f, 0.2f, 2.5f, 3.9f, -1, -1, 5, 5}, {1, 0, 0},
                     Attrs().i("output_height", 2).i("output_width", 3));
  EXPECT_EQ(y.shape(), (Shape{3, 2, 2, 3}));
  expect_near(y,
              {-2.9833335876464844, -3.950000286102295,  -4.9166669845581055, -7.583333969116211,
               -8.55000114440918,   -9.516667366027832,  -5.966667175292969,  -7.90000057220459,
               -9.833333969116211,  -15.166667938232422, -17.10000228881836,  -19.033334732055664,
               1.6400002241134644,  1.9800002574920654,  2.3533334732055664,  11.933334350585938,
               12.964000701904297,  14.028000831604004,  3.2800004482269287,  3.960000514984131,
               4.706666946411133,   23.866668701171875,  25.928001403808594,  28.056001663208008,
               0.5333333611488342,  1.1833332777023315,  2.2333333492279053,  11.733333587646484,
               15.183333396911621,  19.03333282470703,   1.0666667222976685,  2.366666555404663,
               4.4666666984558105,  23.46666717529297,   30.366666793823242,  38.06666564941406},
              1e-5);
  // Max mode, 2x2 samples per bin, spatial_scale 0.5 (onnxruntime, same X, ROI 0).
  Tensor m = roi_run(16, f32({2, 2, 4, 4}, xv), {0.6f, 1.2f, 6.4f, 5.8f}, {0},
                     Attrs()
                         .s("mode", "max")
                         .i("output_height", 2)
                         .i("output_width", 2)
                         .i("sampling_ratio", 2)
                         .f("spatial_scale", 0.5f));
  expect_near(m,
              {2.135547399520874, 2.295562267303467, 6.3800153732299805, 5.879685401916504,
               4.271094799041748, 4.591124534606934, 12.760030746459961, 11.759370803833008},
              1e-5);
}

TEST(MiscKernels, RoiAlignMaxTakesTheLargestWeightedCorner) {
  // 5x5 map of k = 5y + x; ROI [0.75, 0.75, 1.75, 1.75] shifted by half a pixel puts the single
  // sample at (0.75, 0.75): corner weights 1/16, 3/16, 3/16, 9/16 on values 0, 1, 5, 6. ONNX
  // Runtime's max mode takes max(w * v) = 9/16 * 6 = 3.375 (the interpolated value would be 4.5).
  EXPECT_EQ(values(roi_run(16, iota_f32({1, 1, 5, 5}), {0.75f, 0.75f, 1.75f, 1.75f}, {0},
                           Attrs().s("mode", "max").i("sampling_ratio", 1))),
            V{3.375});
  // A half-pixel ROI with x2 < x1 has no samples: the bin is 0.
  EXPECT_EQ(values(roi_run(16, ramp(), {3, 3, 1, 1}, {0}, Attrs())), V{0});
  // float64 and float16 run too.
  Tensor d = run1("RoiAlign", 16,
                  {f64({1, 1, 2, 2}, {1, 2, 3, 4}), f64({1, 4}, {0, 0, 1, 1}), i64({1}, {0})},
                  Attrs().i("sampling_ratio", 1));
  EXPECT_EQ(d.dtype(), D::kFloat64);
  EXPECT_EQ(values(d), V{1});  // sample at (0, 0)
}

TEST(MiscKernels, RoiAlignErrors) {
  auto run = [](Tensor x, Tensor rois, Tensor idx, Attrs a = {}) {
    return run_single("RoiAlign", 16, {std::move(x), std::move(rois), std::move(idx)},
                      std::move(a));
  };
  std::string m =
      expect_error(run(ramp(), f32({1, 4}, {0, 0, 1, 1}), i64({1}, {1})), Code::kIndexOutOfRange);
  EXPECT_TRUE(contains(m, "batch index 1")) << m;
  expect_error(run(ramp(), f32({1, 4}, {0, 0, 1, 1}), i64({1}, {-1})), Code::kIndexOutOfRange);
  expect_error(run(ramp(), f32({1, 3}, {0, 0, 1}), i64({1}, {0})), Code::kInvalidArgument);
  expect_error(run(ramp(), f32({1, 4}, {0, 0, 1, 1}), i64({2}, {0, 0})), Code::kIncompatibleShapes);
  expect_error(run(iota_f32({1, 4, 4}), f32({1, 4}, {0, 0, 1, 1}), i64({1}, {0})),
               Code::kInvalidArgument);
  expect_error(run(ramp(), f32({1, 4}, {0, 0, 1, 1}), i64({1}, {0}), Attrs().i("output_height", 0)),
               Code::kInvalidArgument);
  expect_error(
      run(ramp(), f32({1, 4}, {0, 0, 1, 1}), i64({1}, {0}), Attrs().i("sampling_ratio", -1)),
      Code::kInvalidArgument);
  expect_error(run(ramp(), f32({1, 4}, {0, static_cast<float>(kNaN), 1, 1}), i64({1}, {0})),
               Code::kInvalidArgument);
  // Absurd ROIs or sampling ratios would take billions of samples per bin.
  m = expect_error(run(ramp(), f32({1, 4}, {0, 0, 1e12f, 1e12f}), i64({1}, {0})),
                   Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "sampling grid")) << m;
  expect_error(run(ramp(), f32({1, 4}, {0, 0, 1, 1}), i64({1}, {0}),
                   Attrs().i("sampling_ratio", int64_t{1} << 20)),
               Code::kInvalidArgument);
  expect_error(run(ramp(), f64({1, 4}, {0, 0, 1, 1}), i64({1}, {0})), Code::kTypeUnsupported);
}

// ---- GridSample --------------------------------------------------------------------------------

// X = [[1, 2], [3, 4]] sampled at 8 (x, y) positions; expected values from onnxruntime
// GridSample-16 with the same attributes.
Tensor gs_x() {
  return f32({1, 1, 2, 2}, {1, 2, 3, 4});
}
Tensor gs_grid() {
  return f32({1, 2, 4, 2},
             {-1, -1, 0, 0, 1, 1, -2, 0.5f, 0.5f, -0.3f, 1.7f, -1.4f, -0.9f, 0.2f, 3.1f, 2.6f});
}
Attrs gs_attrs(const std::string& mode, const std::string& padding, int64_t align) {
  return Attrs().s("mode", mode).s("padding_mode", padding).i("align_corners", align);
}

TEST(MiscKernels, GridSampleBilinear) {
  // By hand for the first points (align_corners=0): (-1,-1) is the outer corner of pixel 1,
  // a quarter of it under zeros padding; (0,0) is the center, the mean 2.5.
  Tensor y = run1("GridSample", 16, {gs_x(), gs_grid()}, gs_attrs("bilinear", "zeros", 0));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 4}));
  expect_near(y, {0.25, 2.5, 1, 0, 2.4, 0, 1.44, 0});
  expect_near(run1("GridSample", 16, {gs_x(), gs_grid()}, gs_attrs("bilinear", "zeros", 1)),
              {1, 2.5, 4, 1.25, 2.45, 1.04, 2.25, 0});
  expect_near(run1("GridSample", 16, {gs_x(), gs_grid()}, gs_attrs("bilinear", "border", 1)),
              {1, 2.5, 4, 2.5, 2.45, 2, 2.25, 4});
  expect_near(run1("GridSample", 16, {gs_x(), gs_grid()}, gs_attrs("bilinear", "reflection", 0)),
              {1, 2.5, 4, 3.5, 2.4, 1.8, 2.4, 1});
  expect_near(run1("GridSample", 16, {gs_x(), gs_grid()}, gs_attrs("bilinear", "reflection", 1)),
              {1, 2.5, 4, 3, 2.45, 2.05, 2.25, 1.45});
  // The defaults are bilinear, zeros, align_corners=0.
  expect_near(run1("GridSample", 16, {gs_x(), gs_grid()}), {0.25, 2.5, 1, 0, 2.4, 0, 1.44, 0});
}

// Bicubic pads each of the 4x4 neighbours rather than moving the position in first, so positions
// outside the image (points 4-8) blend border or reflected pixels with cubic weights.
TEST(MiscKernels, GridSampleNearestAndBicubic) {
  // Nearest: (0,0) maps to pixel coordinate 0.5, which rounds to the even index 0.
  expect_near(run1("GridSample", 16, {gs_x(), gs_grid()}, gs_attrs("nearest", "zeros", 0)),
              {1, 1, 0, 0, 2, 0, 3, 0});
  expect_near(run1("GridSample", 16, {gs_x(), gs_grid()}, gs_attrs("nearest", "reflection", 0)),
              {1, 1, 4, 4, 2, 2, 3, 1});
  expect_near(run1("GridSample", 16, {gs_x(), gs_grid()}, gs_attrs("nearest", "border", 1)),
              {1, 1, 4, 3, 2, 2, 3, 4});
  expect_near(run1("GridSample", 16, {gs_x(), gs_grid()}, gs_attrs("bicubic", "zeros", 0)),
              {0.109375, 3.5253906, 1.140625, -0.28125, 2.6400003, -0.0144481, 1.60083, 0});
  expect_near(run1("GridSample", 16, {gs_x(), gs_grid()}, gs_attrs("bicubic", "border", 0)),
              {0.71875, 2.5, 4.28125, 3, 2.3520017, 1.9865017, 2.3339999, 3.999999});
  expect_near(run1("GridSample", 16, {gs_x(), gs_grid()}, gs_attrs("bicubic", "border", 1)),
              {1, 2.5, 4, 2.453125, 2.4393132, 1.9189076, 2.26331, 4.0479984});
  expect_near(run1("GridSample", 16, {gs_x(), gs_grid()}, gs_attrs("bicubic", "reflection", 0)),
              {0.4375, 2.5, 4.5625, 3.5, 2.3520017, 1.6890007, 2.2619996, 0.6849998});
  expect_near(run1("GridSample", 16, {gs_x(), gs_grid()}, gs_attrs("bicubic", "reflection", 1)),
              {1, 2.5, 4, 3.1875, 2.4072506, 1.9262512, 2.3032479, 1.2152501});
}

TEST(MiscKernels, GridSampleOtherRanksAndTypes) {
  // Volumetric (opset 20): X = 0..7 over [2,2,2]; from onnxruntime GridSample-20: (0,0,0) is
  // the center, the mean 3.5; (-1,-1,-1) an outer corner (1/8 of pixel 0 = 0); (0.5,-0.5,0.25)
  // -> 4. Nearest rounds 0.5 to 0, reading pixel 0; the last point reads pixel 5.
  Tensor xv = iota_f32({1, 1, 2, 2, 2});
  Tensor gv = f32({1, 1, 1, 3, 3}, {0, 0, 0, -1, -1, -1, 0.5f, -0.5f, 0.25f});
  Tensor y = run1("GridSample", 20, {xv, gv});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 1, 1, 3}));
  expect_near(y, {3.5, 0, 4});
  expect_near(run1("GridSample", 20, {xv, gv}, Attrs().s("mode", "nearest")), {0, 0, 5});
  // One spatial dim, align_corners=1: -1 -> pixel 0, 0.5 -> 1.5, between 2 and 4.
  expect_near(run1("GridSample", 20, {f32({1, 1, 3}, {1, 2, 4}), f32({1, 2, 1}, {-1, 0.5f})},
                   Attrs().i("align_corners", 1)),
              {1, 3});
  // Integer data interpolates in floating point and converts at the end: the mean of 10, 21,
  // 30, 41 is 25.5 -> 25.
  Tensor u =
      run1("GridSample", 20, {u8({1, 1, 2, 2}, {10, 21, 30, 41}), f32({1, 1, 1, 2}, {0, 0})});
  EXPECT_EQ(u.dtype(), D::kUInt8);
  EXPECT_EQ(values(u), V{25});
  // Cubic in opset 20 is the same computation as bicubic in 16.
  expect_near(run1("GridSample", 20, {gs_x(), gs_grid()}, gs_attrs("cubic", "zeros", 0)),
              {0.109375, 3.5253906, 1.140625, -0.28125, 2.6400003, -0.0144481, 1.60083, 0});
  // NaN positions sample nothing; channels and batches are independent.
  Tensor two = f32({2, 2, 1, 1}, {1, 2, 3, 4});
  Tensor pts = f32({2, 1, 2, 2}, {0, 0, static_cast<float>(kNaN), 0, 0, 0, 0, 0});
  expect_near(run1("GridSample", 16, {two, pts}, gs_attrs("bilinear", "border", 0)),
              {1, 0, 2, 0, 3, 3, 4, 4});
  // Far outside under zeros padding reads zeros; under border the nearest edge.
  Tensor far = f32({1, 1, 1, 2}, {1e30f, -1e30f});
  expect_near(run1("GridSample", 16, {gs_x(), far}), {0});
  expect_near(run1("GridSample", 16, {gs_x(), far}, gs_attrs("bilinear", "border", 0)), {2});
  expect_near(run1("GridSample", 16, {gs_x(), far}, gs_attrs("bicubic", "border", 0)), {2});
}

TEST(MiscKernels, GridSampleErrors) {
  std::string m = expect_error(
      run_single("GridSample", 16, {iota_f32({1, 1, 2, 2, 2}), f32({1, 1, 1, 1, 3}, {0, 0, 0})}),
      Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "[N, C, H, W]")) << m;
  expect_error(run_single("GridSample", 16, {gs_x(), f32({1, 1, 1, 3}, {0, 0, 0})}),
               Code::kIncompatibleShapes);
  expect_error(run_single("GridSample", 16, {gs_x(), f32({2, 1, 1, 2}, {0, 0, 0, 0})}),
               Code::kIncompatibleShapes);
  expect_error(run_single("GridSample", 20, {iota_f32({1, 1}), f32({1, 2}, {0, 0})}),
               Code::kInvalidArgument);
  // Opset 16 spells the modes bilinear/bicubic, opset 20 linear/cubic.
  expect_error(run_single("GridSample", 16, {gs_x(), gs_grid()}, Attrs().s("mode", "linear")),
               Code::kAttributeValueUnsupported);
  expect_error(run_single("GridSample", 20, {gs_x(), gs_grid()}, Attrs().s("mode", "bicubic")),
               Code::kAttributeValueUnsupported);
  expect_error(run_single("GridSample", 20, {gs_x(), gs_grid()}, Attrs().s("padding_mode", "wrap")),
               Code::kAttributeValueUnsupported);
  // Seven spatial dims: cubic would visit 4^7 neighbours per element.
  expect_error(run_single("GridSample", 20,
                          {iota_f32({1, 1, 1, 1, 1, 1, 1, 1, 1}),
                           f32({1, 1, 1, 1, 1, 1, 1, 1, 7}, std::vector<float>(7, 0))}),
               Code::kInvalidArgument);
  expect_error(
      run_single("GridSample", 20, {boolean({1, 1, 1, 1}, {true}), f32({1, 1, 1, 2}, {0, 0})}),
      Code::kTypeUnsupported);
  expect_error(run_single("GridSample", 20, {gs_x(), i64({1, 1, 1, 2}, {0, 0})}),
               Code::kTypeUnsupported);
}

// ---- random generators -------------------------------------------------------------------------

// Sample mean and standard deviation.
std::pair<double, double> moments(const V& v) {
  double mean = 0, var = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  for (double x : v) var += (x - mean) * (x - mean);
  return {mean, std::sqrt(var / static_cast<double>(v.size()))};
}

// The generator is fixed (mt19937_64 with kiln's own transforms), so seeded runs are
// reproducible and the statistical bounds below (5+ standard errors wide) cannot flake.
TEST(MiscKernels, RandomUniformAndNormal) {
  auto uniform = [](float seed) {
    return run1("RandomUniform", 17, {},
                Attrs().ints("shape", {1000}).f("seed", seed).f("low", -2).f("high", 5));
  };
  Tensor a = uniform(3), b = uniform(3), c = uniform(4);
  EXPECT_EQ(a.shape(), (Shape{1000}));
  EXPECT_EQ(a.dtype(), D::kFloat32);
  EXPECT_EQ(values(a), values(b));
  EXPECT_NE(values(a), values(c));
  for (double v : values(a)) {
    EXPECT_GE(v, -2);
    EXPECT_LE(v, 5);
  }
  // Uniform on [-2, 5): mean 1.5, standard deviation 7 / sqrt(12) = 2.02 (standard error of
  // the mean over 1000 draws: 0.064).
  auto [mean, sd] = moments(values(a));
  EXPECT_NEAR(mean, 1.5, 0.35);
  EXPECT_NEAR(sd, 7 / std::sqrt(12.0), 0.2);
  Tensor n =
      run1("RandomNormal", 17, {},
           Attrs().ints("shape", {40, 100}).f("seed", 1).f("mean", 3).f("scale", 2).i("dtype", 11));
  EXPECT_EQ(n.shape(), (Shape{40, 100}));
  EXPECT_EQ(n.dtype(), D::kFloat64);
  std::tie(mean, sd) = moments(values(n));
  EXPECT_NEAR(mean, 3, 0.2);  // standard error 2 / sqrt(4000) = 0.032
  EXPECT_NEAR(sd, 2, 0.15);
  // Unseeded nodes draw a fresh seed per run.
  auto fresh = [] { return values(run1("RandomNormal", 17, {}, Attrs().ints("shape", {64}))); };
  EXPECT_NE(fresh(), fresh());
  EXPECT_EQ(run1("RandomUniform", 17, {}, Attrs().ints("shape", {2, 0}).i("dtype", 10)).dtype(),
            D::kFloat16);
}

TEST(MiscKernels, RandomLikeOps) {
  Tensor u = run1("RandomUniformLike", 17, {i64({2, 3}, {0, 0, 0, 0, 0, 0})},
                  Attrs().i("dtype", 1).f("seed", 0).f("low", 10).f("high", 11));
  EXPECT_EQ(u.shape(), (Shape{2, 3}));
  EXPECT_EQ(u.dtype(), D::kFloat32);
  for (double v : values(u)) {
    EXPECT_GE(v, 10);
    EXPECT_LE(v, 11);
  }
  // Without dtype the output takes the input's type, which must be a float type.
  EXPECT_EQ(run1("RandomNormalLike", 17, {f16({3}, {0, 0, 0})}).dtype(), D::kFloat16);
  EXPECT_EQ(run1("RandomNormalLike", 17, {f64({0}, {})}).shape(), (Shape{0}));
  expect_error(run_single("RandomUniformLike", 17, {i64({2}, {0, 0})}), Code::kTypeUnsupported);
  // A zero scale gives the mean exactly.
  EXPECT_EQ(values(run1("RandomNormalLike", 17, {strings({2}, {"a", "b"})},
                        Attrs().i("dtype", 1).f("mean", 4).f("scale", 0))),
            (V{4, 4}));
}

TEST(MiscKernels, BernoulliAndMultinomial) {
  // Probabilities 0 and 1 are certain.
  Tensor b = run1("Bernoulli", 17, {f32({4}, {0, 1, 0, 1})});
  EXPECT_EQ(b.dtype(), D::kFloat32);
  EXPECT_EQ(values(b), (V{0, 1, 0, 1}));
  Tensor bb = run1("Bernoulli", 17, {f64({2}, {1, 0})}, Attrs().i("dtype", 9));
  EXPECT_EQ(bb.dtype(), D::kBool);
  EXPECT_EQ(values(bb), (V{1, 0}));
  // p = 0.3 over 4000 draws: standard error 0.0072.
  Tensor many =
      run1("Bernoulli", 17, {f32({4000}, std::vector<float>(4000, 0.3f))}, Attrs().f("seed", 5));
  EXPECT_NEAR(moments(values(many)).first, 0.3, 0.04);
  // Multinomial takes unnormalized log-probabilities per row; -inf is probability 0.
  const float ninf = -std::numeric_limits<float>::infinity();
  Tensor m = run1("Multinomial", 17, {f32({2, 3}, {0, ninf, ninf, ninf, ninf, 7})},
                  Attrs().i("sample_size", 5));
  EXPECT_EQ(m.shape(), (Shape{2, 5}));
  EXPECT_EQ(m.dtype(), D::kInt32);
  EXPECT_EQ(values(m), (V{0, 0, 0, 0, 0, 2, 2, 2, 2, 2}));
  // log(1) and log(4): class 1 with probability 0.8 (standard error over 4000: 0.0063).
  Tensor f = run1("Multinomial", 17, {f32({1, 2}, {0, std::log(4.0f)})},
                  Attrs().i("sample_size", 4000).i("dtype", 7).f("seed", 2));
  EXPECT_EQ(f.dtype(), D::kInt64);
  EXPECT_NEAR(moments(values(f)).first, 0.8, 0.04);
}

TEST(MiscKernels, RandomErrors) {
  expect_error(run_single("RandomUniform", 17, {}, Attrs().ints("shape", {-1})),
               Code::kInvalidArgument);
  expect_error(run_single("RandomUniform", 17, {}, Attrs().ints("shape", {kHuge, kHuge})),
               Code::kInvalidArgument);
  expect_error(
      run_single("RandomUniform", 17, {}, Attrs().ints("shape", {2}).f("low", 3).f("high", 1)),
      Code::kInvalidArgument);
  expect_error(run_single("RandomNormal", 17, {}, Attrs().ints("shape", {2}).f("scale", -1)),
               Code::kInvalidArgument);
  expect_error(run_single("RandomNormal", 17, {}, Attrs().ints("shape", {2}).i("dtype", 7)),
               Code::kAttributeValueUnsupported);
  std::string m =
      expect_error(run_single("Bernoulli", 17, {f32({2}, {0.5f, 1.5f})}), Code::kInvalidArgument);
  EXPECT_TRUE(contains(m, "1.5")) << m;
  expect_error(run_single("Bernoulli", 17, {f32({1}, {static_cast<float>(kNaN)})}),
               Code::kInvalidArgument);
  expect_error(run_single("Bernoulli", 17, {f32({1}, {0.5f})}, Attrs().i("dtype", 8)),
               Code::kAttributeValueUnsupported);
  expect_error(run_single("Multinomial", 17, {f32({3}, {0, 0, 0})}), Code::kInvalidArgument);
  const float ninf = -std::numeric_limits<float>::infinity();
  expect_error(run_single("Multinomial", 17, {f32({1, 2}, {ninf, ninf})}), Code::kInvalidArgument);
  expect_error(run_single("Multinomial", 17, {f32({1, 0}, {})}), Code::kInvalidArgument);
  expect_error(run_single("Multinomial", 17, {f32({1, 2}, {0, static_cast<float>(kNaN)})}),
               Code::kInvalidArgument);
  expect_error(run_single("Multinomial", 17, {f32({1, 2}, {0, 0})}, Attrs().i("sample_size", -1)),
               Code::kInvalidArgument);
  expect_error(run_single("Multinomial", 17, {f32({1, 2}, {0, 0})}, Attrs().i("dtype", 1)),
               Code::kAttributeValueUnsupported);
}

}  // namespace
}  // namespace kiln::misc_kernel_test
