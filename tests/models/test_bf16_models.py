"""BF16 on the real models: every conv/linear layer the builder may run in BF16 does (built with
--no-autotune, where the BF16 tactics come first: the most BF16 an engine can hold), and each
output keeps cosine similarity >= 0.999 to the FP32 reference (`kiln compare`). Inputs: the
parity tests' for the transformers and PP-OCR cls; rendered text (DejaVu Sans, PIL) for PP-OCR
det and rec, whose outputs on noise are near-zero maps where cosine means little.

ResNet-50 and MobileNetV2 are untrained exports (torchvision weights=None, BatchNorm statistics
estimated on random images; scripts/fetch_models.py): random deep networks amplify small
perturbations, and rounding only their *input* to bfloat16 precision (relative 2^-9) already
moves ONNX Runtime's FP32 logits to cosine 0.9984 (ResNet-50) / 0.9994 (MobileNetV2). Ideal
BF16 — ONNX Runtime in FP32 with every conv/linear layer's input and weights rounded to
bfloat16, the first layer excepted as kiln does — reaches only 0.9953 / 0.9972: no BF16
engine reaches 0.999 on them. Their bar here is 0.99, and a second test holds kiln's BF16
engine to that ideal (within 0.0005): it loses nothing beyond the rounding itself.

Silero VAD: the 16 kHz opset-15 export, whose STFT, encoder and decoder convolutions sit at the
top level (the other export runs every layer inside an If, which the engine runs with the
reference interpreter).

Skipped on CPUs without native BF16 (AVX512-BF16), where kiln keeps every layer FP32; that
case is checked too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from test_parity import _cases

# model → the parity case it is compared on ("text": rendered text lines).
CASES = {"resnet50": "batch1", "mobilenet_v2": "batch1", "ppocr_det": "text",
         "ppocr_rec": "text", "ppocr_cls": "1x3x48x192", "bert_base": "2x13_padded",
         "minilm_l6_v2": "2x13_padded", "gpt2": "2x13_padded", "silero_vad_16k_op15": "audio"}
COSINE = 0.999
UNTRAINED_COSINE = 0.99  # see the module docstring
UNTRAINED = {"resnet50", "mobilenet_v2"}
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def render(lines: list[str], h: int, w: int, mean, std) -> np.ndarray:
    """Black text on white, one line per row band, normalized as PP-OCR's preprocessing:
    (x / 255 - mean) / std per channel; NCHW float32."""
    from PIL import Image, ImageDraw, ImageFont
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    band = h // len(lines)
    font = ImageFont.truetype(FONT, max(10, int(band * 0.7)))
    for i, text in enumerate(lines):
        draw.text((4, i * band + band // 8), text, fill="black", font=font)
    x = np.asarray(img, np.float32) / 255.0
    x = (x - np.array(mean, np.float32)) / np.array(std, np.float32)
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def feeds_of(name: str) -> dict:
    if name == "ppocr_det":
        return {"x": render(["Invoice 2026-12-03", "kiln BF16 engine", "Total: 42.50 EUR"], 192, 320,
                            [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])}
    if name == "ppocr_rec":
        return {"x": render(["Quarterly report 7"], 48, 320, [0.5] * 3, [0.5] * 3)}
    if name == "silero_vad_16k_op15":
        # A voiced-speech-like frame (harmonics of a 140 Hz pitch with a formant-like envelope,
        # plus noise) per batch row, 64 samples of context + 512, and a zero state.
        rng = np.random.default_rng(0)
        t = np.arange(576) / 16000.0
        rows = []
        for b in range(4):
            f0 = 110 + 30 * b
            x = sum(np.sin(2 * np.pi * k * f0 * t) / k * np.exp(-((k * f0 - 700) / 900) ** 2)
                    for k in range(1, 30))
            rows.append(0.3 * x + 0.01 * rng.standard_normal(576))
        return {"input": np.array(rows, np.float32), "state": np.zeros((2, 4, 128), np.float32),
                "sr": np.array(16000, np.int64)}
    return dict(_cases(name))[CASES[name]]


def saved_feeds(name: str, tmp_path: Path) -> tuple[list[str], list[str]]:
    """The model's inputs saved as .npy: (`--shapes` values of the non-scalar inputs,
    `NAME=FILE` arguments)."""
    shapes, inputs = [], []
    for k, v in feeds_of(name).items():
        np.save(tmp_path / f"{k}.npy", v)
        inputs.append(f"{k}={tmp_path / f'{k}.npy'}")
        if v.shape:
            shapes.append(f"{k}:{'x'.join(map(str, v.shape))}")
    return shapes, inputs


def native_bf16() -> bool:
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@pytest.mark.parametrize("name", sorted(CASES))
def test_bf16_engine_keeps_cosine_to_fp32(name, kiln, model_path, tmp_path):
    if not Path(FONT).is_file() and CASES[name] == "text":
        pytest.fail(f"{FONT} is missing (scripts/setup.sh installs fonts-dejavu-core)")
    model = model_path(f"{name}.onnx")
    shape_args, inputs = saved_feeds(name, tmp_path)
    engine = tmp_path / "bf16.engine"
    r = kiln.run("build", model, "-o", engine, "--bf16", "--no-autotune", "--no-progress", "--json",
                 "--shapes", *shape_args)
    assert r.returncode == 0, r.describe()
    layers = r.json()["bf16_layers"]
    if not native_bf16():
        assert layers == 0
        pytest.skip("no native BF16 on this CPU: every layer stayed FP32")
    assert layers > 0, f"{name}: no layer runs BF16\n{r.describe()}"
    c = kiln.run("compare", model, "--engine", engine, "--json", "-i", *inputs)
    assert c.returncode in (0, 1), c.describe()  # 1 = beyond the default 1e-4 tolerance
    report = c.json()
    for out in report["outputs"]:
        print(f"{name} ({layers} bf16 layers) {out['name']}: cosine {out['cosine']:.6f} "
              f"max abs {out['max_abs']:.3g}")
        bar = UNTRAINED_COSINE if name in UNTRAINED else COSINE
        assert out["cosine"] >= bar, f"{name} output {out['name']}: cosine {out['cosine']}"


def bf16_round(a: np.ndarray) -> np.ndarray:
    """float32 -> nearest bfloat16 (ties to even) -> float32."""
    u = np.ascontiguousarray(a, np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)


def ideal_bf16_cosine(model_file: Path, feeds: dict) -> float:
    """ONNX Runtime's FP32 output against the same model with every Conv/Gemm/MatMul but the
    first reading its input rounded to bfloat16 (Cast to BFLOAT16 and back) and its constant
    weights rounded: BF16 storage with exact FP32 arithmetic, the best any BF16 engine does."""
    ort = pytest.importorskip("onnxruntime")
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    m = onnx.load(str(model_file))
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    nodes, k = [], 0
    for n in g.node:
        if n.op_type in ("Conv", "Gemm", "MatMul"):
            if k > 0:
                a, b = f"bf16_sim_{k}_a", f"bf16_sim_{k}_b"
                nodes.append(helper.make_node("Cast", [n.input[0]], [a], to=TensorProto.BFLOAT16))
                nodes.append(helper.make_node("Cast", [a], [b], to=TensorProto.FLOAT))
                n.input[0] = b
                w = inits.get(n.input[1])
                if w is not None:
                    w.CopyFrom(numpy_helper.from_array(bf16_round(numpy_helper.to_array(w)), w.name))
            k += 1
        nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)
    ref = ort.InferenceSession(str(model_file), providers=["CPUExecutionProvider"]).run(None, feeds)
    sim = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, feeds)
    x, y = ref[0].astype(np.float64).ravel(), sim[0].astype(np.float64).ravel()
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


@pytest.mark.parametrize("name", sorted(UNTRAINED))
def test_bf16_on_untrained_cnns_loses_no_more_than_bf16_rounding(name, kiln, model_path,
                                                                   tmp_path):
    if not native_bf16():
        pytest.skip("no native BF16 on this CPU: every layer stays FP32")
    model = model_path(f"{name}.onnx")
    shape_args, inputs = saved_feeds(name, tmp_path)
    ideal = ideal_bf16_cosine(model, feeds_of(name))
    engine = tmp_path / "bf16.engine"
    r = kiln.run("build", model, "-o", engine, "--bf16", "--no-autotune", "--no-progress",
                 "--shapes", *shape_args)
    assert r.returncode == 0, r.describe()
    c = kiln.run("compare", model, "--engine", engine, "--json", "-i", *inputs)
    assert c.returncode in (0, 1), c.describe()
    got = c.json()["outputs"][0]["cosine"]
    print(f"{name}: kiln BF16 cosine {got:.5f}, ideal BF16 {ideal:.5f}")
    assert ideal < COSINE, f"{name}: ideal BF16 reaches {ideal}; hold it to {COSINE} then"
    assert got >= ideal - 5e-4, f"{name}: kiln BF16 {got} vs ideal BF16 {ideal}"
