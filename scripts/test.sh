#!/usr/bin/env bash
# Sets up, builds and runs every test: unit tests (ctest), real-model acceptance tests (pytest),
# both fuzzers (importer, engine reader) for a bounded time, and the unit tests again under
# ASan/UBSan (clang).
# Environment: KILN_FUZZ_SECONDS (default 60), KILN_SKIP_SANITIZE=1 to skip the sanitizer pass.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - start )) s)"; }

step "setup"
scripts/setup.sh
step "build"
scripts/build.sh
step "unit tests"
ctest --test-dir build --output-on-failure -j 2
step "real models"
.venv/bin/python scripts/fetch_models.py
KILN_BIN="$PWD/build/src/tools/kiln" .venv/bin/python -m pytest tests/models -q
step "fuzz"
scripts/fuzz.sh "${KILN_FUZZ_SECONDS:-60}"
if [ "${KILN_SKIP_SANITIZE:-0}" != 1 ]; then
  step "unit tests under ASan + UBSan"
  scripts/sanitize.sh
fi
step "all tests passed"
