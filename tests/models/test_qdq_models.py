"""Explicit quantization: models quantized by ONNX Runtime's QDQ quantizer (PyPI onnxruntime,
`quantize_static(..., quant_format=QDQ)`) build without calibration data and run their conv /
linear layers INT8 with the model's own scales, giving the answer the Q/DQ pairs define (the
same as ONNX Runtime running the quantized model)."""
from __future__ import annotations

import numpy as np
import onnx
import pytest

from onnx import TensorProto, helper, numpy_helper

from test_int8_cli import cnn

ort = pytest.importorskip("onnxruntime")
quant = pytest.importorskip("onnxruntime.quantization")
ort.set_default_logger_severity(3)


class Reader(quant.CalibrationDataReader):
    def __init__(self, batches):
        self.it = iter(batches)

    def get_next(self):
        return next(self.it, None)


def quantize(src, dst, batches, symmetric: bool, **kw):
    quant.quantize_static(
        str(src), str(dst), Reader(batches), quant_format=quant.QuantFormat.QDQ, per_channel=True,
        activation_type=quant.QuantType.QInt8 if symmetric else quant.QuantType.QUInt8,
        weight_type=quant.QuantType.QInt8, extra_options={"ActivationSymmetric": symmetric}, **kw)


def inputs_only(src, dst):
    """Keeps Q/DQ pairs only where a MatMul / Conv / Gemm reads them (TensorRT's placement for
    explicit quantization); every other reader reads the float tensor instead."""
    m = onnx.load(str(src))
    g = m.graph
    prod = {o: n for n in g.node for o in n.output}
    for n in g.node:
        if n.op_type in ("MatMul", "Conv", "Gemm"):
            continue
        for k, i in enumerate(n.input):
            dq = prod.get(i)
            if dq is not None and dq.op_type == "DequantizeLinear" and dq.input[0] in prod \
                    and prod[dq.input[0]].op_type == "QuantizeLinear":
                n.input[k] = prod[dq.input[0]].input[0]
    while True:
        used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
        keep = [n for n in g.node if any(o in used for o in n.output)]
        if len(keep) == len(g.node):
            break
        del g.node[:]
        g.node.extend(keep)
    onnx.save(m, str(dst))


def cosines(a, b):
    a, b = a.astype(np.float64).reshape(len(a), -1), b.astype(np.float64).reshape(len(b), -1)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("symmetric", [False, True], ids=["uint8-asymmetric", "int8-symmetric"])
def test_ort_quantized_cnn_runs_int8_with_its_own_scales(kiln, tmp_path, symmetric):
    cnn(tmp_path / "cnn.onnx")
    rng = np.random.default_rng(0)
    batches = [{"x": rng.standard_normal([1, 3, 16, 16]).astype(np.float32)} for _ in range(32)]
    quantize(tmp_path / "cnn.onnx", tmp_path / "qdq.onnx", batches, symmetric)
    x = rng.standard_normal([1, 3, 16, 16]).astype(np.float32)
    np.save(tmp_path / "x.npy", x)

    r = kiln.run("build", tmp_path / "qdq.onnx", "-o", tmp_path / "q.engine", "--json",
                 "--no-progress", "--no-autotune")  # no --int8, no calibration data
    assert r.returncode == 0, r.describe()
    # Every layer: the padded channels-last convs read signed int8 (symmetric) or uint8 with a
    # zero point (asymmetric) shifted into uint8, quantized into a buffer pre-padded with the
    # shift; the Gemm reads int8 or (behind a ReLU) zero-point-free uint8.
    assert r.json()["int8"]["layers"] == 4, r.describe()
    info = kiln.run("inspect", tmp_path / "q.engine")
    assert "explicit quantization (Q/DQ)" in info.stdout, info.describe()

    c = kiln.run("compare", tmp_path / "qdq.onnx", "--engine", tmp_path / "q.engine", "--input",
                 f"x={tmp_path / 'x.npy'}", "--atol", "0.5", "--rtol", "0.1", "--json")
    assert c.returncode == 0, c.describe()
    assert c.json()["outputs"][0]["cosine"] > 0.9999, c.json()
    ours = kiln.run("run", tmp_path / "q.engine", "--input", f"x={tmp_path / 'x.npy'}", "--json",
                    "--output-dir", tmp_path / "out")
    assert ours.returncode == 0, ours.describe()
    y = np.load(ours.json()["outputs"][0]["file"])
    theirs = ort.InferenceSession(str(tmp_path / "qdq.onnx"),
                                  providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    assert cosines(y, theirs)[0] > 0.999

    # Pinned FP32 the layers still see the pairs' clipping (the asymmetric model's ReLUs live
    # only in the uint8 ranges): the same answer within rounding, not another one.
    pinned = kiln.run("build", tmp_path / "qdq.onnx", "-o", tmp_path / "p.engine", "--json",
                      "--no-progress", "--layer-precision", "*:fp32")
    assert pinned.returncode == 0 and pinned.json()["int8"]["layers"] == 0, pinned.describe()
    c = kiln.run("compare", tmp_path / "qdq.onnx", "--engine", tmp_path / "p.engine", "--input",
                 f"x={tmp_path / 'x.npy'}", "--atol", "0.5", "--rtol", "0.1", "--json")
    assert c.returncode == 0 and c.json()["outputs"][0]["cosine"] > 0.999, c.describe()


def test_minilm_quantized_by_ort_runs_int8_and_agrees_with_ort(kiln, model_path, tmp_path):
    from test_int8_accuracy import sentences
    from test_parity import minilm_tokenizer_or_skip

    model = model_path("minilm_l6_v2.onnx")
    tok = minilm_tokenizer_or_skip()
    names = ("input_ids", "attention_mask", "token_type_ids")

    def enc(ss):
        e = tok(ss, padding="max_length", truncation=True, max_length=32, return_tensors="np")
        return {k: e[k].astype(np.int64) for k in names}

    calib_s = sentences(300, 1)
    eval_s = [s for s in sentences(300, 2) if s not in set(calib_s)]
    g = onnx.load(str(model)).graph
    weights = {i.name for i in g.initializer}
    # The linear layers only: attention's activation x activation MatMuls stay float.
    attention = [n.name for n in g.node if n.op_type == "MatMul" and n.input[1] not in weights]
    quantize(model, tmp_path / "ort_qdq.onnx", [enc(calib_s[b:b + 20]) for b in range(0, 300, 20)],
             True, op_types_to_quantize=["MatMul"], nodes_to_exclude=attention)
    inputs_only(tmp_path / "ort_qdq.onnx", tmp_path / "qdq.onnx")

    n = len(eval_s)
    shapes = []
    for flag, b in (("--min-shapes", 1), ("--opt-shapes", 20), ("--max-shapes", n)):
        shapes += [flag, *[f"{k}:{b}x32" for k in names]]
    r = kiln.run("build", tmp_path / "qdq.onnx", "-o", tmp_path / "q.engine", "--json",
                 "--no-progress", "--no-autotune", *shapes)
    assert r.returncode == 0, r.describe()
    assert r.json()["int8"]["layers"] == 36, r.describe()  # 6 x (Q, K, V, out, FFN in, FFN out)

    e = enc(eval_s)
    args = ["run", tmp_path / "q.engine", "--json", "--output-dir", tmp_path / "out"]
    for k in names:
        np.save(tmp_path / f"{k}.npy", e[k])
        args += ["--input", f"{k}={tmp_path / f'{k}.npy'}"]
    run = kiln.run(*args)
    assert run.returncode == 0, run.describe()
    ours = np.load({o["name"]: o["file"] for o in run.json()["outputs"]}["sentence_embedding"])

    def ort_run(path):
        s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return s.run(["sentence_embedding"], e)[0]

    vs_ort = cosines(ours, ort_run(tmp_path / "qdq.onnx"))
    vs_fp32 = cosines(ours, ort_run(model))
    ort_vs_fp32 = cosines(ort_run(tmp_path / "qdq.onnx"), ort_run(model))
    print(f"\nMiniLM QDQ (36 INT8 layers) on {n} sentences: kiln vs ONNX Runtime running the same "
          f"QDQ model: min cosine {vs_ort.min():.4f}, median {np.median(vs_ort):.5f}; vs FP32: "
          f"kiln median {np.median(vs_fp32):.4f}, ONNX Runtime median {np.median(ort_vs_fp32):.4f}")
    # Two implementations of the same quantized model: they differ only where a value rounds to
    # a neighbouring integer step.
    assert vs_ort.min() > 0.98 and np.median(vs_ort) > 0.999
    # And kiln is no further from FP32 than ONNX Runtime is.
    assert np.median(vs_fp32) > np.median(ort_vs_fp32) - 0.002


def pointwise_cnn(path) -> None:
    """Two unpadded 1x1 convolutions on signed inputs (the raw input, then the first conv's
    output: no ReLU between), pooled into a linear layer."""
    rng = np.random.default_rng(5)

    def init(name, shape, scale=0.4):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], "conv1"),
             helper.make_node("Conv", ["c1", "w2", "b2"], ["c2"], "conv2"),
             helper.make_node("Relu", ["c2"], ["r2"], "relu2"),
             helper.make_node("GlobalAveragePool", ["r2"], ["p"], "gap"),
             helper.make_node("Flatten", ["p"], ["f"], "flatten"),
             helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], "fc", transB=1)]
    inits = [init("w1", [32, 8, 1, 1]), init("b1", [32]), init("w2", [24, 32, 1, 1], 0.2),
             init("b2", [24]), init("fw", [10, 24]), init("fb", [10])]
    g = helper.make_graph(nodes, "pointwise", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 8, 12, 12])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(path))


@pytest.mark.parametrize("symmetric", [False, True], ids=["uint8-asymmetric", "int8-symmetric"])
def test_unpadded_convs_on_signed_or_zero_point_inputs_run_int8_like_ort(kiln, tmp_path,
                                                                          symmetric):
    """Signed int8 inputs and uint8 inputs with a zero point both reach the INT8 conv as uint8
    (shifted by 128, or by the zero point) with the shift taken back in the bias: every layer
    here runs INT8 and answers like ONNX Runtime."""
    pointwise_cnn(tmp_path / "pw.onnx")
    rng = np.random.default_rng(1)
    batches = [{"x": rng.standard_normal([1, 8, 12, 12]).astype(np.float32)} for _ in range(32)]
    quantize(tmp_path / "pw.onnx", tmp_path / "qdq.onnx", batches, symmetric)
    r = kiln.run("build", tmp_path / "qdq.onnx", "-o", tmp_path / "q.engine", "--json",
                 "--no-progress", "--no-autotune")
    assert r.returncode == 0, r.describe()
    assert r.json()["int8"]["layers"] == 3, r.describe()
    sess = ort.InferenceSession(str(tmp_path / "qdq.onnx"), providers=["CPUExecutionProvider"])
    for seed in range(3):
        x = np.random.default_rng(100 + seed).standard_normal([1, 8, 12, 12]).astype(np.float32)
        np.save(tmp_path / "x.npy", x)
        c = kiln.run("compare", tmp_path / "qdq.onnx", "--engine", tmp_path / "q.engine",
                     "--input", f"x={tmp_path / 'x.npy'}", "--atol", "0.5", "--rtol", "0.1",
                     "--json")
        assert c.returncode == 0 and c.json()["outputs"][0]["cosine"] > 0.9999, c.describe()
        ours = kiln.run("run", tmp_path / "q.engine", "--input", f"x={tmp_path / 'x.npy'}",
                        "--json", "--output-dir", tmp_path / "out")
        assert ours.returncode == 0, ours.describe()
        y = np.load(ours.json()["outputs"][0]["file"])
        assert cosines(y, sess.run(None, {"x": x})[0])[0] > 0.999
