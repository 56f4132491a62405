// The machine's FP32 peak, measured: one thread per core (pinned), each running a tight loop of
// independent fused multiply-adds, AVX-512 when the compiler targets it (-march=native on an
// avx512f CPU) else AVX2 FMA. Prints "PEAK_GFLOPS <value>" and details; cpu_bench.py parses it.
//
//   g++ -O2 -march=native -pthread bench/peak_flops.cpp -o peak_flops && ./peak_flops [threads] [s]
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

#if defined(__AVX512F__)
using Vec = __m512;
constexpr const char* kIsa = "avx512f (zmm, _mm512_fmadd_ps)";
inline Vec splat(float x) {
  return _mm512_set1_ps(x);
}
inline Vec fma(Vec a, Vec b, Vec c) {
  return _mm512_fmadd_ps(a, b, c);
}
// A store, not _mm512_reduce_add_ps: GCC 12's header trips -Wuninitialized on that one.
inline void store(float* f, Vec v) {
  _mm512_store_ps(f, v);
}
#elif defined(__FMA__)
using Vec = __m256;
constexpr const char* kIsa = "avx2 fma (ymm, _mm256_fmadd_ps)";
inline Vec splat(float x) {
  return _mm256_set1_ps(x);
}
inline Vec fma(Vec a, Vec b, Vec c) {
  return _mm256_fmadd_ps(a, b, c);
}
inline void store(float* f, Vec v) {
  _mm256_store_ps(f, v);
}
#else
#error "needs FMA (AVX2) or AVX-512: compile with -march=native on an x86-64 CPU that has them"
#endif

constexpr int kLanes = sizeof(Vec) / sizeof(float);

float sum(Vec v) {
  alignas(64) float f[kLanes];
  store(f, v);
  float s = 0;
  for (float x : f) s += x;
  return s;
}

// 12 independent chains: FMA latency (4 cycles) x 2 FMA ports = 8 in flight at least; 12 covers
// CPUs with longer latency, and still fits in 16 (ymm) / 32 (zmm) registers with a and b.
constexpr int kAcc = 12;
constexpr long kInner = 1 << 16;  // FMAs per chain between clock checks

// Runs FMA blocks until `stop`; returns the number of FMA instructions issued.
long long fma_loop(const std::atomic<bool>& stop, float* sink) {
  Vec acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = splat(0.001f * static_cast<float>(i));
  // a * acc + b with a slightly < 1 keeps the values bounded (no overflow, no denormals).
  const Vec a = splat(0.999999f), b = splat(1e-6f);
  long long n = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    for (long k = 0; k < kInner; ++k) {
#pragma GCC unroll 12
      for (int i = 0; i < kAcc; ++i) acc[i] = fma(a, acc[i], b);
    }
    n += kInner * kAcc;
  }
  // The result is stored so the compiler cannot drop the loop.
  float s = 0;
  for (int i = 0; i < kAcc; ++i) s += sum(acc[i]);
  *sink = s;
  return n;
}

void pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);  // best effort: unpinned still works
}

}  // namespace

int main(int argc, char** argv) {
  const int threads =
      argc > 1 ? std::atoi(argv[1]) : static_cast<int>(std::thread::hardware_concurrency());
  const double seconds = argc > 2 ? std::atof(argv[2]) : 1.0;
  if (threads < 1 || seconds <= 0) {
    std::fprintf(stderr, "usage: peak_flops [threads >= 1] [seconds > 0]\n");
    return 2;
  }
  std::atomic<bool> stop{false};
  std::vector<long long> fmas(threads);
  std::vector<float> sinks(threads);
  std::vector<double> secs(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      pin_to_cpu(t);
      const auto start = std::chrono::steady_clock::now();
      fmas[t] = fma_loop(stop, &sinks[t]);
      secs[t] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& th : pool) th.join();

  double gflops = 0;
  for (int t = 0; t < threads; ++t) {
    // 2 flops (multiply + add) per lane per FMA.
    const double g = 2.0 * kLanes * static_cast<double>(fmas[t]) / secs[t] / 1e9;
    std::printf("thread %d: %.1f GFLOP/s (checksum %g)\n", t, g, static_cast<double>(sinks[t]));
    gflops += g;
  }
  std::printf("ISA %s, %d lanes, %d accumulators, %d threads, %.2f s\n", kIsa, kLanes, kAcc,
              threads, seconds);
  std::printf("PEAK_GFLOPS %.2f\n", gflops);
  return 0;
}
