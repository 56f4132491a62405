"""Real-model parity: `kiln run` (reference interpreter) against ONNX Runtime on the same random
inputs (fixed seeds), including batch and sequence sizes other than the export's.

Tolerances: rtol 1e-4, and atol 1e-5 scaled by the output's magnitude (max(1, max|ref|)).
Both kiln and ONNX Runtime sum float32 products in different orders; on a randomly initialised
ResNet-50 the logits reach ~75 and the two disagree by ~1e-4 absolute on near-zero logits,
i.e. ~1e-6 of the output scale. An unscaled atol of 1e-5 would test summation order, not
correctness. Each test prints the max abs error (pytest -s) for the record."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

RTOL, ATOL = 1e-4, 1e-5

# model → list of (case name, {input: array}) built from a seeded generator.
def _cases(name: str):
    rng = np.random.default_rng(0)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    if name == "resnet50":
        return [("batch1", {"input": f32(1, 3, 224, 224)}), ("batch2", {"input": f32(2, 3, 224, 224)})]
    if name == "ppocr_det":
        return [("1x3x64x96", {"x": f32(1, 3, 64, 96)}), ("2x3x96x64", {"x": f32(2, 3, 96, 64)})]
    if name == "ppocr_rec":
        return [("1x3x48x160", {"x": f32(1, 3, 48, 160)}), ("2x3x48x96", {"x": f32(2, 3, 48, 96)})]
    if name == "ppocr_cls":
        return [("1x3x48x192", {"x": f32(1, 3, 48, 192)}), ("3x3x48x192", {"x": f32(3, 3, 48, 192)})]
    if name == "silero_vad":
        sr = np.array(16000, dtype=np.int64)
        return [
            ("16k_batch1", {"input": f32(1, 512), "state": np.zeros((2, 1, 128), np.float32), "sr": sr}),
            ("16k_batch2", {"input": f32(2, 512), "state": f32(2, 2, 128) * 0.1, "sr": sr}),
            ("8k_batch1", {"input": f32(1, 256), "state": np.zeros((2, 1, 128), np.float32),
                           "sr": np.array(8000, dtype=np.int64)}),
        ]
    raise KeyError(name)


MODELS = ["resnet50", "ppocr_det", "ppocr_rec", "ppocr_cls", "silero_vad"]


@pytest.mark.parametrize("name", MODELS)
def test_matches_onnxruntime(name, kiln, model_dir, tmp_path):
    path = model_dir / f"{name}.onnx"
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out_names = [o.name for o in sess.get_outputs()]
    report = []
    for case, feeds in _cases(name):
        want = dict(zip(out_names, sess.run(None, feeds)))
        args = ["run", str(path), "--output-dir", str(tmp_path / case), "--json"]
        for k, v in feeds.items():
            f = tmp_path / f"{case}_{k}.npy"
            np.save(f, v)
            args += ["--input", f"{k}={f}"]
        r = kiln.run(*args)
        assert r.returncode == 0, r.describe()
        outputs = {o["name"]: o for o in json.loads(r.stdout)["outputs"]}
        for o in out_names:
            got = np.load(outputs[o]["file"])
            ref = want[o]
            assert got.shape == ref.shape, f"{case} {o}: shape {got.shape} vs {ref.shape}"
            assert got.dtype == ref.dtype, f"{case} {o}: dtype {got.dtype} vs {ref.dtype}"
            err = float(np.max(np.abs(got.astype(np.float64) - ref))) if got.size else 0.0
            report.append(f"{name} {case} {o}: max abs error {err:.3g}")
            scale = max(1.0, float(np.max(np.abs(ref)))) if ref.size and ref.dtype.kind == "f" else 1.0
            np.testing.assert_allclose(got, ref, rtol=RTOL, atol=ATOL * scale,
                                       err_msg=f"{case} {o}")
    print("\n" + "\n".join(report))
