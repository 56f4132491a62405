#!/usr/bin/env bash
# Runs on the GPU machine (the device tool; ../shared/GPU.md): the CUDA tests of a build made on a
# development machine and carried along (build/tests/test_gpu links cuBLASLt and cuDNN from the
# GPU machine's CUDA install, and nothing else of ours). Logs and the gtest JSON go to $OUT.
#   scripts/gpu_run.sh [path/to/test_gpu]
set -uo pipefail
BIN=${1:-build/tests/test_gpu}
OUT=${OUT:-/tmp/kiln-gpu}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv \
  | tee "$OUT/gpu.txt"
"$BIN" --gtest_output=json:"$OUT/test_gpu.json" 2>&1 | tee "$OUT/test_gpu.log" \
  | grep -E "^\[ *(OK|FAILED|SKIPPED|PASSED) *\]|device:|checked|Failure|Expected|actual|error" \
  | head -80
exit "${PIPESTATUS[0]}"
