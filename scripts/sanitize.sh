#!/usr/bin/env bash
# Runs every ctest test under clang ASan + UBSan. It reuses the fuzz build (build-fuzz/: clang,
# ASan + UBSan) with tests enabled, so CI compiles the sources with clang once, not twice; the
# libFuzzer coverage instrumentation it also carries does not change test behaviour.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${KILN_FUZZ_BUILD_DIR:-build-fuzz}"
cxx=clang++
command -v clang++ >/dev/null || cxx=clang++-14
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DKILN_FUZZ=ON -DKILN_SANITIZE=ON -DKILN_BUILD_TESTS=ON -DKILN_CUDA=OFF >/dev/null
else
  # A fuzz-only build gains the tests; no CUDA in sanitized builds (the CUDA runtime is not
  # built for ASan).
  cmake -S . -B "$build" -DKILN_BUILD_TESTS=ON -DKILN_CUDA=OFF >/dev/null
fi
cmake --build "$build" -j "${KILN_JOBS:-2}"
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$build" --output-on-failure --no-tests=error -j 2
