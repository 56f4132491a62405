"""Shared fixtures for the real-model acceptance tests: the kiln binary, the model
directory (filled by scripts/fetch_models.py on first use) and helpers that run kiln.

A model that fetch_models.py reports as unavailable (its exporter package is not installed)
skips the tests that need it, with the reason; under CI (CI set) or KILN_REQUIRE_MODELS=1 that
is a failure instead, since scripts/setup.sh installs everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Every file scripts/fetch_models.py produces; a missing one triggers a fetch.
REAL_MODELS = [
    "ppocr_det.onnx",
    "ppocr_rec.onnx",
    "ppocr_cls.onnx",
    "silero_vad.onnx",
    "silero_vad_16k_op15.onnx",
    "silero_vad_op18_ifless.onnx",
    "resnet50.onnx",
    "mobilenet_v2.onnx",
    "bert_base.onnx",
    "gpt2.onnx",
    "minilm_l6_v2.onnx",
]
BROKEN_MODELS = ["resnet50_opset22.onnx", "unknown_ops.onnx", "truncated.onnx", "not_onnx.onnx"]

# A check that hangs is a bug, but it should not hang the suite.
KILN_TIMEOUT_S = 300


@dataclass
class KilnRun:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return (f"`kiln {' '.join(self.args)}` exited {self.returncode}\n"
                f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}")

    def json(self):
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as e:
            pytest.fail(f"stdout is not JSON ({e})\n{self.describe()}")


class Kiln:
    def __init__(self, binary: Path):
        self.binary = binary
        self._cache: dict[tuple[str, ...], KilnRun] = {}

    def run(self, *args: str) -> KilnRun:
        argv = [str(a) for a in args]
        p = subprocess.run([str(self.binary), *argv], capture_output=True, text=True,
                           timeout=KILN_TIMEOUT_S, errors="replace")
        return KilnRun(argv, p.returncode, p.stdout, p.stderr)

    def cached(self, *args: str) -> KilnRun:
        """Same as run(), memoized: several tests read one (slow) check of the same model."""
        key = tuple(str(a) for a in args)
        if key not in self._cache:
            self._cache[key] = self.run(*key)
        return self._cache[key]


@pytest.fixture(scope="session")
def kiln() -> Kiln:
    binary = Path(os.environ.get("KILN_BIN") or REPO / "build" / "src" / "tools" / "kiln")
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(f"kiln binary not found at {binary}; build it (ninja -C build kiln) or set "
                    "KILN_BIN to its path", pytrace=False)
    return Kiln(binary)


def models_required() -> bool:
    return os.environ.get("CI", "") not in ("", "0", "false") or \
        os.environ.get("KILN_REQUIRE_MODELS") == "1"


@pytest.fixture(scope="session")
def model_dir() -> Path:
    d = Path(os.environ.get("KILN_MODEL_DIR") or REPO / ".cache" / "models")
    missing = [m for m in REAL_MODELS + BROKEN_MODELS if not (d / m).is_file()]
    if missing:
        script = REPO / "scripts" / "fetch_models.py"
        p = subprocess.run([sys.executable, str(script), "--out", str(d)], capture_output=True,
                           text=True)
        if p.returncode != 0:
            pytest.fail(f"{script} failed (exit {p.returncode}) fetching {missing}:\n"
                        f"{p.stdout}\n{p.stderr}", pytrace=False)
    return d


@pytest.fixture(scope="session")
def model_path(model_dir: Path):
    """model_path(name) -> the model's path; skips (fails under CI) when it could not be made."""

    def get(name: str) -> Path:
        path = model_dir / name
        if path.is_file():
            return path
        try:
            entry = json.loads((model_dir / "manifest.json").read_text())["models"].get(name, {})
        except (OSError, ValueError, KeyError):
            entry = {}
        reason = entry.get("unavailable")
        if reason is None:
            pytest.fail(f"scripts/fetch_models.py ran but did not produce {path}", pytrace=False)
        msg = f"{name} cannot be obtained on this machine: {reason}"
        if models_required():
            pytest.fail(msg + " (CI / KILN_REQUIRE_MODELS=1: every model is required)",
                        pytrace=False)
        pytest.skip(msg)

    return get


@pytest.fixture(scope="session")
def check_json(kiln: Kiln, model_path):
    """check_json(name) -> (KilnRun, parsed report) of `kiln check --json` on a model."""

    def get(name: str):
        r = kiln.cached("check", "--json", str(model_path(name)))
        return r, r.json()

    return get
