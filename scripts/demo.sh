#!/usr/bin/env bash
# The main job on a real model, CPU by default: set up, build kiln, fetch/export the models,
# then check → build → run → bench ResNet-50 (and `kiln check` the other real models).
#   KILN_DEMO_MODEL=mobilenet_v2 scripts/demo.sh   # another model with an `input` NCHW tensor
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh kiln
.venv/bin/python scripts/fetch_models.py
MODELS="${KILN_MODEL_DIR:-.cache/models}"
OUT="${KILN_DEMO_DIR:-.cache/demo}"
MODEL="${KILN_DEMO_MODEL:-resnet50}"
KILN=build/src/tools/kiln
mkdir -p "$OUT"

echo "== 1. check: every problem at once, before any build =="
$KILN check "$MODELS/$MODEL.onnx"

echo
echo "== 2. build: an engine for batch 1..4 (tuned for 1), written to $OUT/$MODEL.engine =="
$KILN build "$MODELS/$MODEL.onnx" -o "$OUT/$MODEL.engine" \
  --min-shapes input:1x3x224x224 --opt-shapes input:1x3x224x224 --max-shapes input:4x3x224x224
$KILN inspect "$OUT/$MODEL.engine"

echo
echo "== 3. run: the engine on a batch of 2 images, outputs in $OUT/out/ =="
.venv/bin/python -c "import numpy as np; np.save('$OUT/x.npy', np.random.default_rng(0).standard_normal((2, 3, 224, 224)).astype(np.float32))"
$KILN run "$OUT/$MODEL.engine" --input "input=$OUT/x.npy" --output-dir "$OUT/out"

echo
echo "== 4. bench: latency and throughput at batch 1 =="
$KILN bench "$OUT/$MODEL.engine" --warmup 0 --duration 0 --iterations "${KILN_DEMO_ITERATIONS:-5}"

echo
echo "== the other real models: kiln check =="
status=0
for m in ppocr_det ppocr_rec ppocr_cls silero_vad bert_base; do
  echo
  $KILN check "$MODELS/$m.onnx" || status=$?
done
echo
echo "== what a failing model looks like (exported at opset 22, past kiln's range) =="
$KILN check "$MODELS/resnet50_opset22.onnx" || true
exit $status
