#!/usr/bin/env bash
# Fuzzes kiln's ONNX importer + checker (tests/fuzz/fuzz_import.cpp) and its .engine reader
# (tests/fuzz/fuzz_engine.cpp) for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET]   # SECONDS default 60; TARGET all (default), import, engine
#
# With TARGET=all the time is split: two thirds to the importer (the larger surface), one third
# to the engine reader. Builds build-fuzz/ (clang, libFuzzer, ASan + UBSan) if needed, fuzzes a
# scratch copy of tests/fuzz/corpus/<target> (new inputs never land in the repo), and exits
# non-zero if any input crashed, leaked, hit a sanitizer report, ran past 10 s or used more than
# 2 GB. Crash inputs go to build-fuzz/artifacts/; minimise one with
#   build-fuzz/tests/fuzz/fuzz_<target> -minimize_crash=1 -runs=10000 build-fuzz/artifacts/<file>
# and keep it as tests/fuzz/regressions/<what>.onnx (importer) or engine_<what>.bin (engine):
# every input there runs first, on each run.
#
# Environment: KILN_FUZZ_BUILD_DIR (default <repo>/build-fuzz), KILN_FUZZ_KEEP_CORPUS=1 to go on
# from the previous run's scratch corpus instead of a fresh copy of the seeds (for long runs in
# chunks), KILN_FUZZ_JOBS (ninja -j, default 2).
set -euo pipefail

seconds="${1:-60}"
which="${2:-all}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]] || ! [[ "$which" =~ ^(all|import|engine)$ ]]; then
  echo "usage: $0 [SECONDS] [all|import|engine]  (SECONDS a positive whole number, default 60)" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KILN_FUZZ_BUILD_DIR:-$root/build-fuzz}"
artifacts="$build/artifacts"

cxx=""
for c in clang++ clang++-14; do
  if command -v "$c" >/dev/null; then cxx="$c"; break; fi
done
if [[ -z "$cxx" ]]; then
  echo "fuzz.sh: clang++ not found (install clang and libclang-rt-14-dev)" >&2
  exit 2
fi

case "$which" in
  all)
    targets=(import engine)
    engine_seconds=$((seconds / 3))
    (( engine_seconds >= 1 )) || engine_seconds=1
    import_seconds=$((seconds - engine_seconds))
    (( import_seconds >= 1 )) || import_seconds=1
    ;;
  import) targets=(import); import_seconds=$seconds ;;
  engine) targets=(engine); engine_seconds=$seconds ;;
esac

# Configure once (tests included: scripts/sanitize.sh runs the unit tests from this same
# sanitized build); an existing build dir must already be a fuzz build (never reconfigure someone
# else's directory into one).
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
    -DKILN_FUZZ=ON -DKILN_SANITIZE=ON -DKILN_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DKILN_CUDA=OFF  # sanitized host code only: the CUDA runtime is not built for ASan
elif ! grep -q '^KILN_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
  echo "fuzz.sh: $build exists but is not configured with -DKILN_FUZZ=ON" >&2
  exit 2
fi
ninja -C "$build" -j "${KILN_FUZZ_JOBS:-2}" "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
# kiln's kernels keep their own oneDNN primitives; oneDNN's process-wide cache of up to 1024
# more (JIT code included) would only grow with every fuzzed engine's new shapes until the RSS
# limit stops the run.
export ONEDNN_PRIMITIVE_CACHE_CAPACITY=0 DNNL_PRIMITIVE_CACHE_CAPACITY=0
mkdir -p "$artifacts"

# fuzz_target NAME SECONDS: regressions, then a bounded run; prints the summary line and returns
# non-zero on any finding.
fuzz_target() {
  local name="$1" secs="$2"
  local fuzzer="$build/tests/fuzz/fuzz_$name"
  local seeds="$root/tests/fuzz/corpus/$name"
  local work="$build/fuzz-run-$name"
  local flags=() regressions=()
  if [[ "$name" == import ]]; then
    # The importer's scratch directory keeps its historical name.
    work="$build/fuzz-run"
    flags=(-dict="$root/tests/fuzz/onnx.dict" -max_len=8192)
    regressions=("$root"/tests/fuzz/regressions/*.onnx)
  else
    flags=(-max_len=32768)
    regressions=("$root"/tests/fuzz/regressions/engine_*.bin)
  fi

  # Inputs that once crashed run first, each once: a regression fails fast and by name.
  if [[ -e "${regressions[0]}" ]]; then
    if ! "$fuzzer" "${regressions[@]}" >"$build/fuzz-regressions-$name.log" 2>&1; then
      echo "fuzz.sh: a regression input crashes fuzz_$name again; log: $build/fuzz-regressions-$name.log" >&2
      grep -E 'Running: |ERROR: |runtime error:|SUMMARY: ' "$build/fuzz-regressions-$name.log" | tail -n 5 >&2
      return 1
    fi
    echo "fuzz_$name: ${#regressions[@]} regression inputs pass"
  fi

  mkdir -p "$work"
  local corpus="$work/corpus"
  if [[ "${KILN_FUZZ_KEEP_CORPUS:-0}" != 1 || ! -d "$corpus" ]]; then
    rm -rf "$corpus"
    mkdir -p "$corpus"
  fi
  cp "$seeds"/* "$corpus"/
  if [[ -e "${regressions[0]}" ]]; then cp "${regressions[@]}" "$corpus"/; fi

  local log="$work/fuzz_$name.log"
  local marker="$work/.started"
  touch "$marker"
  local start rc elapsed execs crashes
  start=$(date +%s)
  set +e
  # detect_leaks (above): an input that leaks is a bug like any other. The outer timeout only
  # guards against libFuzzer itself hanging; -max_total_time is what bounds a normal run.
  timeout --kill-after=30 $((secs + 120)) \
    "$fuzzer" "$corpus" "${flags[@]}" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
  rc=$?
  set -e
  elapsed=$(($(date +%s) - start))

  # The last progress line ("#N DONE cov: ... exec/s: ..."), or the last one before a crash.
  grep -E '^#[0-9]+' "$log" | tail -n 1 || true
  execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  if [[ -z "$execs" ]]; then
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
  fi
  # Only findings count (crash-, leak-, timeout-, oom-); slow-unit- files are reports, not failures.
  found() { find "$artifacts" -type f -newer "$marker" \( -name 'crash-*' -o -name 'leak-*' \
    -o -name 'timeout-*' -o -name 'oom-*' \) "$@"; }
  crashes=$(found | wc -l)
  if [[ $rc -ne 0 && $crashes -eq 0 ]]; then crashes=1; fi  # killed before writing an artifact

  echo "fuzz_$name: ${execs:-0} executions in ${elapsed} s, ${crashes} crashes"
  if [[ $rc -ne 0 ]]; then
    echo "fuzz.sh: libFuzzer exited with $rc; log: $log" >&2
    grep -E 'ERROR: |runtime error:|SUMMARY: |Test unit written to' "$log" | head -n 20 >&2 || true
    found -printf '  artifact: %p\n' >&2 || true
    return 1
  fi
}

status=0
for t in "${targets[@]}"; do
  secs_var="${t}_seconds"
  fuzz_target "$t" "${!secs_var}" || status=1
done
exit $status
