// The CPU backend's intra-op thread pool.
//
// It is OpenMP's (libgomp): Debian's oneDNN is built on it, so oneDNN primitives and kiln's own
// kernels share one set of worker threads instead of two pools fighting for the cores. The pool
// size is a per-calling-thread setting (OpenMP's nthreads ICV), so each engine's runs use the
// size that engine was loaded with, and two engines run side by side without resizing each
// other. Work is split statically, so a fixed thread count gives bit-identical results.
#pragma once

#include <algorithm>
#include <cstdint>

namespace kiln::backends::cpu {

// Physical cores of this machine (hyper-threads not counted); at least 1.
int physical_cores();

// Threads the calling thread's parallel regions use from now on (n <= 0: physical cores).
void set_intra_op_threads(int n);
int intra_op_threads();

// Ends the calling thread's worker threads (they are started again by its next parallel
// region). Called when a run returns, so that
//  - no worker busy-waits after a run (OpenMP spins its workers after each region), and
//  - runs from other threads (contexts on server threads) do not share the cores with idle
//    workers parked for this thread: with more live workers than cores, libgomp falls back to
//    sleeping at every barrier, which made a 5 ms network 2x slower.
// Costs starting the workers again per run (tens of microseconds).
void release_workers();

// Runs body(begin, end) over [0, n) split into at most intra_op_threads() contiguous ranges of
// at least `grain` items each, statically (range i always goes to the same worker).
template <typename F>
void parallel_for(int64_t n, int64_t grain, F&& body) {
  if (n <= 0) return;
  const int64_t max_parts = std::max<int64_t>(1, n / std::max<int64_t>(1, grain));
  const int64_t parts = std::min<int64_t>(max_parts, intra_op_threads());
  if (parts <= 1) {
    body(int64_t{0}, n);
    return;
  }
#pragma omp parallel for num_threads(parts) schedule(static, 1)
  for (int64_t p = 0; p < parts; ++p) body(n * p / parts, n * (p + 1) / parts);
}

}  // namespace kiln::backends::cpu
