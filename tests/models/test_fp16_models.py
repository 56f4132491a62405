"""FP16 on the real models. This CPU has no FP16 arithmetic, so `--fp16` means FP16 storage:
every conv/linear layer's weights and every embedding table are rounded to float16 and the engine stores them as float16,
the kernels compute in FP32 (kiln inspect says so). Each output keeps cosine similarity
>= 0.999 to the FP32 reference (`kiln compare`), on the same inputs as the BF16 test — the
untrained ResNet-50 / MobileNetV2 included, since activations stay FP32 — and the weights take
about half the bytes of an unpacked FP32 engine's."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_bf16_models import CASES, FONT, saved_feeds

COSINE = 0.999


@pytest.mark.parametrize("name", sorted(CASES))
def test_fp16_weight_engine_keeps_cosine_and_halves_the_weights(name, kiln, model_path, tmp_path):
    if not Path(FONT).is_file() and CASES[name] == "text":
        pytest.fail(f"{FONT} is missing (scripts/setup.sh installs fonts-dejavu-core)")
    model = model_path(f"{name}.onnx")
    shapes, inputs = saved_feeds(name, tmp_path)
    common = ["--no-autotune", "--no-progress", "--json", "--shapes", *shapes]
    fp16 = kiln.run("build", model, "-o", tmp_path / "fp16.engine", "--fp16", *common)
    assert fp16.returncode == 0, fp16.describe()
    layers = fp16.json()["fp16_layers"]
    assert layers > 0, fp16.describe()
    # Packed copies are float32: compare with an FP32 engine that has none either.
    fp32 = kiln.run("build", model, "-o", tmp_path / "fp32.engine", "--no-pack-weights", *common)
    assert fp32.returncode == 0, fp32.describe()
    size16 = (tmp_path / "fp16.engine").stat().st_size
    size32 = (tmp_path / "fp32.engine").stat().st_size
    info = kiln.run("inspect", tmp_path / "fp16.engine")
    assert f"fp16: {layers} layer(s) store float16 weights" in info.stdout, info.describe()

    c = kiln.run("compare", model, "--engine", tmp_path / "fp16.engine", "--json", "-i", *inputs)
    assert c.returncode in (0, 1), c.describe()  # 1 = beyond the default 1e-4 tolerance
    for out in c.json()["outputs"]:
        print(f"{name} ({layers} fp16-weight layers, engine {size16 / 1e6:.1f} MB vs FP32 "
              f"{size32 / 1e6:.1f} MB) {out['name']}: cosine {out['cosine']:.6f}")
        assert out["cosine"] >= COSINE, f"{name} output {out['name']}: cosine {out['cosine']}"
    # Silero's LSTM weights are read inside an If (the reference interpreter's): they stay
    # float32, a quarter of its bytes.
    assert size16 < (0.85 if name.startswith("silero") else 0.6) * size32, (size16, size32)
