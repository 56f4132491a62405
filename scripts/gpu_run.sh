#!/usr/bin/env bash
# Runs on the GPU machine (the device tool; ../shared/GPU.md), from the repository root, on the
# bundle scripts/gpu_bundle.sh made on a development machine (carry ["dist"]): the CUDA tests,
# then kiln itself on a small model (the CPU engine, and what --device cuda says). Logs and the
# gtest JSON go to $OUT; a short summary is printed last.
set -uo pipefail
OUT=${OUT:-/tmp/kiln-gpu}
mkdir -p "$OUT"
export LD_LIBRARY_PATH="$PWD/dist/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
K=dist/bin/kiln
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv \
  | tee "$OUT/gpu.txt"
dist/bin/test_gpu --gtest_output=json:"$OUT/test_gpu.json" > "$OUT/test_gpu.log" 2>&1
rc=$?
grep -E "^\[ *(OK|FAILED|SKIPPED|PASSED) *\]|device:|checked|Failure|Expected|actual" \
  "$OUT/test_gpu.log" | head -60

# kiln on this machine: a small CNN exported here, built and run on the CPU backend, and the
# CUDA device's answer to the same build.
python3 - "$OUT/cnn.onnx" <<'PY' > "$OUT/kiln.log" 2>&1
import sys, torch
m = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(),
                        torch.nn.Conv2d(16, 8, 3, padding=1)).eval()
torch.onnx.export(m, torch.randn(1, 3, 32, 32), sys.argv[1], opset_version=17, dynamo=False)
PY
{
  "$K" --version
  "$K" check "$OUT/cnn.onnx"
  "$K" build "$OUT/cnn.onnx" -o "$OUT/cnn.engine" --no-progress && "$K" bench "$OUT/cnn.engine" --duration 1
  "$K" build "$OUT/cnn.onnx" -o "$OUT/cnn_cuda.engine" --device cuda --no-progress
  echo "kiln --device cuda exit code: $?"
} >> "$OUT/kiln.log" 2>&1
tail -25 "$OUT/kiln.log"
exit "$rc"
