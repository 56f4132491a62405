"""INT8 through the CLI: `kiln build --int8 --calib DIR` on a small CNN, the calibration cache,
`kiln inspect`, and `kiln compare --per-layer` finding a layer whose scale was planted wrong
in the cache (the "which layer broke my INT8 engine" question)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper


def cnn(path: Path) -> None:
    rng = np.random.default_rng(3)

    def init(name, shape, scale=0.5):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], "conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], "relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], "conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], "relu2"),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"], "conv3", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c3"], ["r3"], "relu3"),
        helper.make_node("GlobalAveragePool", ["r3"], ["p"], "gap"),
        helper.make_node("Flatten", ["p"], ["f"], "flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], "fc", transB=1),
    ]
    inits = [init("w1", [16, 3, 3, 3]), init("b1", [16]), init("w2", [16, 16, 3, 3], 0.2),
             init("b2", [16]), init("w3", [16, 16, 3, 3], 0.2), init("b3", [16]),
             init("fw", [10, 16]), init("fb", [10])]
    g = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(path))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("int8")
    cnn(d / "cnn.onnx")
    calib = d / "calib"
    calib.mkdir()
    rng = np.random.default_rng(0)
    for i in range(64):
        np.save(calib / f"b{i:03d}.npy", rng.standard_normal([1, 3, 16, 16]).astype(np.float32))
    np.save(d / "x.npy", rng.standard_normal([1, 3, 16, 16]).astype(np.float32))
    return d


def test_int8_build_inspect_and_compare(kiln, setup):
    d = setup
    r = kiln.run("build", d / "cnn.onnx", "-o", d / "int8.engine", "--int8", "--calib", d / "calib",
                 "--calib-cache", d / "calib.cache", "--calib-min-samples", "64", "--json",
                 "--no-progress", "--no-autotune")  # INT8 tactics come first: every layer INT8
    assert r.returncode == 0, r.describe()
    # conv1, conv2, conv3 and the Gemm (conv1's signed raw input shifted into uint8).
    assert r.json()["int8"]["layers"] == 4
    assert r.json()["int8"]["samples"] == 64
    # With autotuning the timing decides per layer: INT8 where it is faster, all listed.
    tuned = kiln.run("build", d / "cnn.onnx", "-o", d / "tuned.engine", "--int8", "--calib-cache",
                     d / "calib.cache", "--json", "--no-progress")
    assert tuned.returncode == 0, tuned.describe()
    assert 0 <= tuned.json()["int8"]["layers"] <= 4
    info = kiln.run("inspect", d / "int8.engine", "--json")
    assert info.returncode == 0, info.describe()
    precisions = [l["precision"] for l in info.json()["layers"]]
    assert precisions.count("int8") == 4, precisions
    text = kiln.run("inspect", d / "int8.engine")
    assert "int8: 4 layer(s)" in text.stdout, text.describe()

    # Within INT8 tolerance of the FP32 reference, layer by layer.
    c = kiln.run("compare", d / "cnn.onnx", "--engine", d / "int8.engine", "--input", f"x={d / 'x.npy'}",
                 "--atol", "0.5", "--rtol", "0.1", "--per-layer", "--json")
    assert c.returncode == 0, c.describe()
    j = c.json()
    assert j["pass"] and j["first_divergence"] is None
    assert len(j["layers"]) >= 4, j["layers"]  # channels-last copies compared too
    assert j["outputs"][0]["cosine"] > 0.999

    # Strict tolerances: an INT8 engine is not FP32-exact, and compare says so (exit 1).
    strict = kiln.run("compare", d / "cnn.onnx", "--engine", d / "int8.engine", "--input",
                      f"x={d / 'x.npy'}", "--atol", "1e-6", "--rtol", "1e-6")
    assert strict.returncode == 1, strict.describe()
    assert "FAIL" in strict.stdout


def test_compare_per_layer_finds_a_planted_bad_scale(kiln, setup):
    d = setup
    if not (d / "calib.cache").exists():
        pytest.skip("needs the cache of test_int8_build_inspect_and_compare")
    text = (d / "calib.cache").read_text()
    # conv3 reads r2 (r2_nhwc after the layout pass): shrink its range 50x, so most of its
    # input saturates.
    m = re.search(r"^(r2(?:_nhwc)?): (\S+)$", text, re.M)
    assert m, text
    bad = text.replace(m.group(0), f"{m.group(1)}: {float(m.group(2)) / 50:.9g}")
    (d / "bad.cache").write_text(bad)
    # By default conv2 hands r2 to conv3 as uint8 at conv3's scale (an INT8 chain): the bad range
    # clips r2 itself, in conv2's epilogue, and that tensor is the first to diverge. Unchained,
    # conv3 quantizes a correct r2 and its own output is.
    for chain, want, fine in ((True, ("r2", "r2_nhwc"), ("r1", "r1_nhwc")),
                              (False, ("c3", "r3", "c3_nhwc", "r3_nhwc"),
                               ("r1", "r2", "r1_nhwc", "r2_nhwc"))):
        r = kiln.run("build", d / "cnn.onnx", "-o", d / "bad.engine", "--int8", "--calib-cache",
                     d / "bad.cache", "--no-progress", "--no-autotune",
                     *([] if chain else ["--no-int8-chain"]))
        assert r.returncode == 0, r.describe()
        c = kiln.run("compare", d / "cnn.onnx", "--engine", d / "bad.engine", "--input",
                     f"x={d / 'x.npy'}", "--atol", "0.5", "--rtol", "0.1", "--per-layer", "--json")
        assert c.returncode == 1, c.describe()
        first = c.json()["first_divergence"]
        assert first is not None
        assert first["tensor"] in want, (chain, first)
        layers = {l["tensor"]: l for l in c.json()["layers"]}
        for t in fine:
            if t in layers:
                assert layers[t]["pass"], layers[t]


def test_int8_cache_of_another_model_is_rejected(kiln, setup, tmp_path):
    d = setup
    if not (d / "calib.cache").exists():
        pytest.skip("needs the cache of test_int8_build_inspect_and_compare")
    other = tmp_path / "other.onnx"
    m = onnx.load(str(d / "cnn.onnx"))
    m.graph.initializer[0].raw_data = bytes(len(m.graph.initializer[0].raw_data))
    onnx.save(m, str(other))
    r = kiln.run("build", other, "-o", tmp_path / "o.engine", "--int8", "--calib-cache",
                 d / "calib.cache", "--no-progress")
    assert r.returncode != 0
    assert "CALIBRATION_FAILED" in r.stderr, r.describe()


def test_run_reports_int8_saturation(kiln, setup, tmp_path):
    """`kiln run --saturation`: per INT8 layer, the share of its input outside the calibrated
    range — low on data like the calibration set, high when the inputs drift far from it."""
    d = setup
    if not (d / "int8.engine").exists():
        pytest.skip("needs the engine of test_int8_build_inspect_and_compare")
    x = np.load(d / "x.npy")
    np.save(tmp_path / "drift.npy", x * 50)
    rates = {}
    for tag, f in (("same", d / "x.npy"), ("drift", tmp_path / "drift.npy")):
        r = kiln.run("run", d / "int8.engine", "--input", f"x={f}", "--saturation", "--json")
        assert r.returncode == 0, r.describe()
        sat = r.json()["saturation"]
        assert len(sat) == 4, sat
        for s in sat:
            assert s["values"] > 0 and 0 <= s["saturated"] <= s["values"], s
            assert s["range"][0] < s["range"][1], s
        rates[tag] = sat[0]["rate"]  # conv1 reads x itself
    assert rates["same"] < 0.05, rates
    assert rates["drift"] > 0.3, rates
    text = kiln.run("run", d / "int8.engine", "--input", f"x={tmp_path / 'drift.npy'}", "--saturation")
    assert "int8 saturation:" in text.stdout, text.describe()
