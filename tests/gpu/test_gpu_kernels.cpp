// The CUDA backend's library wrappers on a real GPU, against float64 references computed here
// on the host from the same (rounded) operands: device query and fingerprint, device memory
// (round trip, out-of-memory naming both sizes), cuBLASLt GEMM with every epilogue and operand
// type over odd shapes and every heuristic algorithm, cuDNN convolution (grouped, strided,
// residual, ReLU) in float32 and float16. Outputs are poisoned (NaN bytes) before every run so
// an unwritten element fails. Without a GPU every test skips, saying why (CI has none; the GPU
// machine runs them: scripts/gpu_run.sh).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cudnn_conv.h"
#include "backends/cuda/device_info.h"
#include "backends/cuda/device_memory.h"
#include "backends/cuda/lt_gemm.h"
#include "core/errors.h"
#include "core/half.h"

namespace kiln::cuda {
namespace {

#define SKIP_WITHOUT_GPU()                                                      \
  do {                                                                          \
    Result<DeviceInfo> gpu = query_device(0);                                   \
    if (!gpu.ok()) GTEST_SKIP() << "no GPU here: " << gpu.status().to_string(); \
  } while (0)

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

uint16_t bf16_from_float(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fff + ((u >> 16) & 1);  // round to nearest even
  return static_cast<uint16_t>(u >> 16);
}
float float_from_bf16(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Host values in the operand type: the bytes to upload, and the values they stand for (the
// reference computes with those).
struct Operand {
  std::vector<uint8_t> bytes;
  std::vector<float> values;
};
Operand make_operand(const std::vector<float>& v, MathMode m) {
  Operand o;
  o.values = v;
  if (element_bytes(m) == 4) {
    o.bytes.resize(v.size() * 4);
    std::memcpy(o.bytes.data(), v.data(), o.bytes.size());
    return o;
  }
  o.bytes.resize(v.size() * 2);
  auto* p = reinterpret_cast<uint16_t*>(o.bytes.data());
  for (size_t i = 0; i < v.size(); ++i) {
    p[i] = m == MathMode::kFp16 ? half_from_float(v[i]) : bf16_from_float(v[i]);
    o.values[i] = m == MathMode::kFp16 ? float_from_half(p[i]) : float_from_bf16(p[i]);
  }
  return o;
}
std::vector<float> read_values(const std::vector<uint8_t>& bytes, MathMode m) {
  const size_t n = bytes.size() / element_bytes(m);
  std::vector<float> v(n);
  if (element_bytes(m) == 4) {
    std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
  }
  const auto* p = reinterpret_cast<const uint16_t*>(bytes.data());
  for (size_t i = 0; i < n; ++i)
    v[i] = m == MathMode::kFp16 ? float_from_half(p[i]) : float_from_bf16(p[i]);
  return v;
}

// Device copy of host bytes.
DeviceMemory upload(const std::vector<uint8_t>& bytes) {
  DeviceMemory m = DeviceMemory::allocate(bytes.size(), "a test operand").value();
  EXPECT_EQ(cudaMemcpy(m.get(), bytes.data(), bytes.size(), cudaMemcpyHostToDevice), cudaSuccess);
  return m;
}
std::vector<uint8_t> download(const DeviceMemory& m, size_t bytes) {
  std::vector<uint8_t> out(bytes);
  EXPECT_EQ(cudaMemcpy(out.data(), m.get(), bytes, cudaMemcpyDeviceToHost), cudaSuccess);
  return out;
}

// ‖got − want‖ / ‖want‖; infinity when got holds a NaN (an unwritten, poisoned element).
double rel_error(const std::vector<float>& got, const std::vector<double>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

double tolerance(MathMode m) {
  switch (m) {
    case MathMode::kFp32:
      return 1e-5;
    case MathMode::kTf32:
      return 3e-3;
    case MathMode::kFp16:
      return 3e-3;  // operands exact in the reference; the float16 output rounding dominates
    case MathMode::kBf16:
      return 2e-2;
  }
  return 0;
}

const char* name(MathMode m) {
  switch (m) {
    case MathMode::kFp32:
      return "fp32";
    case MathMode::kTf32:
      return "tf32";
    case MathMode::kFp16:
      return "fp16";
    case MathMode::kBf16:
      return "bf16";
  }
  return "?";
}

TEST(GpuDevice, QueriesTheDeviceOrSaysWhyNot) {
  Result<DeviceInfo> d = query_device(0);
  if (!d.ok()) {
    EXPECT_EQ(d.status().code(), static_cast<int>(Code::kDeviceUnavailable));
    EXPECT_NE(d.status().message().find("no CUDA device"), std::string::npos)
        << d.status().to_string();
    GTEST_SKIP() << "no GPU here: " << d.status().to_string();
  }
  std::printf("  device: %s\n", d->summary().c_str());
  EXPECT_FALSE(d->name.empty());
  EXPECT_GE(d->sm_major, 7);
  EXPECT_GT(d->multiprocessors, 0);
  EXPECT_GT(d->total_bytes, d->free_bytes / 2);
  EXPECT_GE(d->cudnn_version, 90000u);
  EXPECT_EQ(d->sm(), "sm_" + std::to_string(d->sm_major) + std::to_string(d->sm_minor));
  // A device that does not exist is named as such.
  Result<DeviceInfo> none = query_device(1000);
  EXPECT_EQ(none.status().code(), static_cast<int>(Code::kDeviceUnavailable));
}

TEST(GpuMemory, RoundTripAndOutOfMemoryNamingBothSizes) {
  SKIP_WITHOUT_GPU();
  const std::vector<float> v = random_floats(16 << 20, 1);  // 64 MiB
  std::vector<uint8_t> bytes(v.size() * 4);
  std::memcpy(bytes.data(), v.data(), bytes.size());
  DeviceMemory m = upload(bytes);
  EXPECT_EQ(download(m, bytes.size()), bytes);

  const DeviceInfo d = query_device(0).value();
  const uint64_t huge = d.total_bytes * 4;
  Result<DeviceMemory> too_big = DeviceMemory::allocate(huge, "a test");
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), static_cast<int>(Code::kDeviceOutOfMemory))
      << too_big.status().to_string();
  EXPECT_NE(too_big.status().message().find(std::to_string(huge)), std::string::npos)
      << too_big.status().message();
  EXPECT_NE(too_big.status().message().find("bytes free"), std::string::npos);
  EXPECT_FALSE(too_big.status().fix().empty());
  // The failure left no sticky error behind.
  EXPECT_TRUE(DeviceMemory::allocate(1 << 20, "a test").ok());
}

// Row-major reference: C[m,n] = epi(A[m,k] · B + bias).
std::vector<double> gemm_reference(const GemmDesc& d, const std::vector<float>& a,
                                   const std::vector<float>& b, const std::vector<float>& bias) {
  std::vector<double> c(static_cast<size_t>(d.m * d.n));
  for (int64_t i = 0; i < d.m; ++i)
    for (int64_t j = 0; j < d.n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < d.k; ++p)
        s += static_cast<double>(a[static_cast<size_t>(i * d.k + p)]) *
             b[static_cast<size_t>(d.trans_b ? j * d.k + p : p * d.n + j)];
      if (d.epilogue != GemmEpilogue::kNone) s += bias[static_cast<size_t>(j)];
      if (d.epilogue == GemmEpilogue::kBiasRelu) s = std::max(s, 0.0);
      if (d.epilogue == GemmEpilogue::kBiasGeluTanh)
        s = 0.5 * s * (1 + std::tanh(0.7978845608028654 * (s + 0.044715 * s * s * s)));
      c[static_cast<size_t>(i * d.n + j)] = s;
    }
  return c;
}

TEST(GpuGemm, EveryEpilogueTypeAndAlgorithmMatchesTheReference) {
  SKIP_WITHOUT_GPU();
  struct Shape {
    int64_t m, n, k;
  };
  const Shape shapes[] = {{1, 768, 768}, {7, 13, 127}, {128, 3072, 768}, {64, 1000, 2048}};
  const uint64_t ws_bytes = 32 << 20;
  DeviceMemory ws = DeviceMemory::allocate(ws_bytes, "GEMM workspace").value();
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  uint32_t seed = 100;
  int runs = 0;
  for (const Shape& s : shapes)
    for (bool trans_b : {false, true})
      for (MathMode math : {MathMode::kFp32, MathMode::kTf32, MathMode::kFp16, MathMode::kBf16})
        for (GemmEpilogue epi : {GemmEpilogue::kNone, GemmEpilogue::kBias, GemmEpilogue::kBiasRelu,
                                 GemmEpilogue::kBiasGeluTanh}) {
          // The full cross product on the small shapes; one epilogue per type on the large.
          if (s.m * s.n * s.k > (1 << 22) && epi != GemmEpilogue::kBiasRelu) continue;
          const GemmDesc d{s.m, s.n, s.k, trans_b, math, epi};
          SCOPED_TRACE(testing::Message()
                       << s.m << "x" << s.n << "x" << s.k << (trans_b ? " B^T " : " ") << name(math)
                       << " epilogue " << static_cast<int>(epi));
          Result<std::unique_ptr<LtGemm>> g = LtGemm::create(d, ws_bytes, 4);
          ASSERT_TRUE(g.ok()) << g.status().to_string();
          const Operand a = make_operand(random_floats(size_t(s.m * s.k), ++seed), math);
          const Operand b = make_operand(random_floats(size_t(s.k * s.n), ++seed), math);
          const Operand bias = make_operand(random_floats(size_t(s.n), ++seed), math);
          DeviceMemory da = upload(a.bytes), db = upload(b.bytes), dbias = upload(bias.bytes);
          if (epi != GemmEpilogue::kNone) {
            ASSERT_TRUE((*g)->set_bias(dbias.get()).ok());
          }
          const size_t c_bytes = size_t(s.m * s.n) * element_bytes(math);
          DeviceMemory dc = DeviceMemory::allocate(c_bytes, "C").value();
          const std::vector<double> want = gemm_reference(d, a.values, b.values, bias.values);
          for (int algo = 0; algo < (*g)->num_algos(); ++algo) {
            ASSERT_EQ(cudaMemset(dc.get(), 0xff, c_bytes), cudaSuccess);  // NaN in every type
            Status st = (*g)->run(stream, da.get(), db.get(), dc.get(), ws.get(), algo);
            ASSERT_TRUE(st.ok()) << st.to_string();
            ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
            const double e = rel_error(read_values(download(dc, c_bytes), math), want);
            EXPECT_LT(e, tolerance(math)) << "algorithm " << algo;
            ++runs;
          }
        }
  std::printf("  %d GEMM runs checked\n", runs);
  cudaStreamDestroy(stream);
}

// NHWC reference with KRSC weights.
std::vector<double> conv_reference(const ConvDesc& d, int64_t oh, int64_t ow,
                                   const std::vector<float>& x, const std::vector<float>& w,
                                   const std::vector<float>& bias, const std::vector<float>& z) {
  const int64_t cg = d.c / d.groups, kg = d.k / d.groups;
  std::vector<double> y(static_cast<size_t>(d.n * oh * ow * d.k));
  for (int64_t n = 0; n < d.n; ++n)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t k = 0; k < d.k; ++k) {
          const int64_t g = k / kg;
          double s = bias[static_cast<size_t>(k)];
          for (int64_t r = 0; r < d.r; ++r)
            for (int64_t q = 0; q < d.s; ++q) {
              const int64_t hi = i * d.stride_h - d.pad_h + r * d.dil_h;
              const int64_t wi = j * d.stride_w - d.pad_w + q * d.dil_w;
              if (hi < 0 || hi >= d.h || wi < 0 || wi >= d.w) continue;
              for (int64_t c = 0; c < cg; ++c)
                s += static_cast<double>(
                         x[static_cast<size_t>(((n * d.h + hi) * d.w + wi) * d.c + g * cg + c)]) *
                     w[static_cast<size_t>(((k * d.r + r) * d.s + q) * cg + c)];
            }
          const size_t at = static_cast<size_t>(((n * oh + i) * ow + j) * d.k + k);
          if (d.residual) s += z[at];
          y[at] = d.relu ? std::max(s, 0.0) : s;
        }
  return y;
}

TEST(GpuConv, GroupedStridedResidualConvolutionsMatchTheReference) {
  SKIP_WITHOUT_GPU();
  std::vector<ConvDesc> cases;
  auto add = [&](int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t r, int64_t pad,
                 int64_t stride, int64_t groups, bool relu, bool residual) {
    ConvDesc d;
    d.n = n, d.c = c, d.h = h, d.w = w, d.k = k, d.r = r, d.s = r;
    d.pad_h = d.pad_w = pad;
    d.stride_h = d.stride_w = stride;
    d.groups = groups;
    d.relu = relu;
    d.residual = residual;
    cases.push_back(d);
  };
  add(1, 64, 56, 56, 64, 3, 1, 1, 1, true, false);     // ResNet 3x3
  add(1, 3, 224, 224, 64, 7, 3, 2, 1, true, false);    // ResNet stem
  add(2, 32, 15, 15, 32, 3, 1, 1, 32, true, false);    // depthwise, odd size
  add(1, 128, 28, 28, 256, 1, 0, 2, 1, false, false);  // projection, no activation
  add(1, 64, 14, 14, 64, 1, 0, 1, 1, true, true);      // conv + residual + ReLU
  add(3, 13, 9, 11, 7, 3, 1, 1, 1, true, true);        // odd everything
  const uint64_t ws_limit = 256 << 20;
  DeviceMemory ws = DeviceMemory::allocate(ws_limit, "conv workspace").value();
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  uint32_t seed = 500;
  for (ConvDesc d : cases)
    for (MathMode math : {MathMode::kFp32, MathMode::kFp16}) {
      d.math = math;
      SCOPED_TRACE(testing::Message()
                   << "N" << d.n << " C" << d.c << " " << d.h << "x" << d.w << " K" << d.k << " "
                   << d.r << "x" << d.s << " s" << d.stride_h << " g" << d.groups
                   << (d.relu ? " relu" : "") << (d.residual ? " +z" : "") << " " << name(math));
      Result<std::unique_ptr<CudnnConv>> conv = CudnnConv::create(d, ws_limit);
      ASSERT_TRUE(conv.ok()) << conv.status().to_string();
      const int64_t oh = (*conv)->out_h(), ow = (*conv)->out_w();
      const size_t ny = size_t(d.n * oh * ow * d.k);
      const Operand x = make_operand(random_floats(size_t(d.n * d.h * d.w * d.c), ++seed), math);
      const Operand w = make_operand(
          random_floats(size_t(d.k * d.r * d.s * (d.c / d.groups)), ++seed, -0.3f, 0.3f), math);
      const Operand bias = make_operand(random_floats(size_t(d.k), ++seed), math);
      const Operand z = make_operand(random_floats(ny, ++seed), math);
      DeviceMemory dx = upload(x.bytes), dw = upload(w.bytes), db = upload(bias.bytes),
                   dz = upload(z.bytes);
      const size_t y_bytes = ny * element_bytes(math);
      DeviceMemory dy = DeviceMemory::allocate(y_bytes, "y").value();
      const std::vector<double> want =
          conv_reference(d, oh, ow, x.values, w.values, bias.values, z.values);
      for (int algo = 0; algo < (*conv)->num_algos(); ++algo) {
        ASSERT_EQ(cudaMemset(dy.get(), 0xff, y_bytes), cudaSuccess);
        Status st = (*conv)->run(stream, dx.get(), dw.get(), db.get(),
                                 d.residual ? dz.get() : nullptr, dy.get(), ws.get(), algo);
        ASSERT_TRUE(st.ok()) << st.to_string() << " (algorithm " << algo << ")";
        ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
        const double e = rel_error(read_values(download(dy, y_bytes), math), want);
        EXPECT_LT(e, math == MathMode::kFp32 ? 1e-5 : 3e-3) << "algorithm " << algo;
      }
    }
  cudaStreamDestroy(stream);
}

}  // namespace
}  // namespace kiln::cuda
