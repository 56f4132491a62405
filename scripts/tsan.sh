#!/usr/bin/env bash
# Runs the multi-threaded runtime tests (many execution contexts on one engine, enqueue on
# streams) under ThreadSanitizer: builds build-tsan/ (clang, -fsanitize=thread) if needed and
# fails on any data race report. Not part of scripts/test.sh (a second full build); run it after
# changing the runtime, the backends or anything kernels share.
#
#   scripts/tsan.sh [GTEST_FILTER]     # default: RuntimeConcurrency.*:RuntimeEngine.*
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KILN_TSAN_BUILD_DIR:-$root/build-tsan}"
filter="${1:-RuntimeConcurrency.*:RuntimeEngine.*}"
cxx=""
for c in clang++ clang++-14; do
  if command -v "$c" >/dev/null; then cxx="$c"; break; fi
done
[[ -n "$cxx" ]] || { echo "tsan.sh: clang++ not found" >&2; exit 2; }
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DKILN_TSAN=ON -DKILN_CUDA=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo $(command -v ccache >/dev/null && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
ninja -C "$build" -j "${KILN_JOBS:-2}" test_runtime
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:${TSAN_OPTIONS:-}" \
  "$build/tests/test_runtime" --gtest_filter="$filter"
echo "tsan.sh: no data races reported ($filter)"
