#!/usr/bin/env bash
# Configures and builds kiln (release with debug info) into build/. Usage: scripts/build.sh [targets]
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${KILN_JOBS:-2}"
[ -f build/build.ninja ] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$JOBS" ${1:+--target "$@"}
