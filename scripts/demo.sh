#!/usr/bin/env bash
# The main job on real models: set up, build, fetch/export the models, then `kiln check` each
# (pre-flight report + import summary). Later stages (build → run → bench) join here as they land.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh kiln
.venv/bin/python scripts/fetch_models.py
MODELS="${KILN_MODEL_DIR:-.cache/models}"
status=0
for m in resnet50 ppocr_det ppocr_rec ppocr_cls silero_vad; do
  echo
  build/src/tools/kiln check "$MODELS/$m.onnx" || status=$?
done
echo
echo "== what a failing model looks like (exported at opset 22, past kiln's range) =="
build/src/tools/kiln check "$MODELS/resnet50_opset22.onnx" || true
exit $status
