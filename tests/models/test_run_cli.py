"""`kiln run` on bad inputs: every mistake a user can make with --input gets a coded error that
names the input (or, when the sizes only break a node deeper in the graph, the node), and none
crashes. Models are built here with onnx.helper; expected values come from numpy."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT


def _save(tmp_path, nodes, inputs, outputs, inits=(), name="m.onnx"):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    path = tmp_path / name
    onnx.save(m, path)
    return path


@pytest.fixture
def reshape_model(tmp_path):
    """y = Reshape(x [N, 6], [-1, 4]) + b: valid only when 6 * N divides by 4."""
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["r"], name="split_rows"),
             helper.make_node("Add", ["r", "b"], ["y"], name="add_bias")]
    inits = [numpy_helper.from_array(np.array([-1, 4], np.int64), "shape"),
             numpy_helper.from_array(np.arange(4, dtype=np.float32), "b")]
    return _save(tmp_path, nodes, [helper.make_tensor_value_info("x", F, ["N", 6])],
                 [helper.make_tensor_value_info("y", F, [None, 4])], inits)


def _npy(tmp_path, name, arr):
    p = tmp_path / f"{name}.npy"
    np.save(p, arr)
    return p


def _run(kiln, model, *inputs, out=None):
    args = ["run", str(model), "--json"]
    for name, path in inputs:
        args += ["--input", f"{name}={path}"]
    if out is not None:
        args += ["--output-dir", str(out)]
    return kiln.run(*args)


def _codes(r):
    text = r.stdout + r.stderr
    return {w.strip(":,.") for w in text.split() if len(w) >= 5 and w[0] == "K" and w[1:5].isdigit()}


def test_valid_run_matches_numpy(kiln, reshape_model, tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    r = _run(kiln, reshape_model, ("x", _npy(tmp_path, "x", x)), out=tmp_path / "out")
    assert r.returncode == 0, r.describe()
    got = np.load(tmp_path / "out" / "y.npy")
    np.testing.assert_array_equal(got, x.reshape(-1, 4) + np.arange(4, dtype=np.float32))


@pytest.mark.parametrize("case, array, code, words", [
    ("float64", np.zeros((2, 6)), "K3005", ["'x'", "float64", "float32"]),
    ("rank", np.zeros((2, 6, 1), np.float32), "K3006", ["'x'", "rank 3", "rank 2"]),
    ("fixed_dim", np.zeros((2, 5), np.float32), "K3006", ["'x'", "dim 1", "5", "6"]),
    # 1 x 6 = 6 elements do not split into rows of 4: named at the Reshape node, before running.
    ("breaks_reshape", np.zeros((1, 6), np.float32), "K3007", ["split_rows", "Reshape"]),
])
def test_bad_array(kiln, reshape_model, tmp_path, case, array, code, words):
    r = _run(kiln, reshape_model, ("x", _npy(tmp_path, case, array)))
    assert r.returncode == 2, r.describe()
    assert code in _codes(r), r.describe()
    for w in words:
        assert w in r.stdout + r.stderr, (w, r.describe())


def test_missing_and_unknown_inputs(kiln, reshape_model, tmp_path):
    r = _run(kiln, reshape_model)
    assert r.returncode == 2 and "K3003" in _codes(r), r.describe()
    x = _npy(tmp_path, "x", np.zeros((2, 6), np.float32))
    r = _run(kiln, reshape_model, ("x", x), ("mask", x))
    assert r.returncode == 2 and "K3004" in _codes(r), r.describe()
    assert "'mask'" in r.stdout + r.stderr


@pytest.mark.parametrize("case, content, code", [
    ("missing_file", None, "K0101"),
    ("not_npy", b"hello, this is not an array", "K1021"),
    ("truncated", "truncate", "K1024"),
    ("fortran", "fortran", "K1022"),
    ("object", "object", "K1023"),
])
def test_bad_npy_files(kiln, reshape_model, tmp_path, case, content, code):
    p = tmp_path / f"{case}.npy"
    if isinstance(content, bytes):
        p.write_bytes(content)
    elif content == "truncate":
        np.save(p, np.zeros((2, 6), np.float32))
        p.write_bytes(p.read_bytes()[:-10])
    elif content == "fortran":
        np.save(p, np.asfortranarray(np.zeros((2, 6), np.float32)))
    elif content == "object":
        np.save(p, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    r = _run(kiln, reshape_model, ("x", p))
    assert r.returncode != 0, r.describe()
    assert code in _codes(r), r.describe()
    assert "Traceback" not in r.stderr and "Segmentation" not in r.stderr


def test_data_errors_name_the_node(kiln, tmp_path):
    """Values (not shapes) that a kernel refuses: the error names the node that saw them."""
    nodes = [helper.make_node("Gather", ["table", "ids"], ["e"], name="embed"),
             helper.make_node("Div", ["e", "d"], ["y"], name="divide")]
    table = numpy_helper.from_array(np.arange(12, dtype=np.int64).reshape(4, 3), "table")
    model = _save(tmp_path, nodes,
                  [helper.make_tensor_value_info("ids", TensorProto.INT64, ["n"]),
                   helper.make_tensor_value_info("d", TensorProto.INT64, [3])],
                  [helper.make_tensor_value_info("y", TensorProto.INT64, ["n", 3])], [table])
    ids_bad = _npy(tmp_path, "ids_bad", np.array([0, 7], np.int64))
    ones = _npy(tmp_path, "ones", np.ones(3, np.int64))
    r = _run(kiln, model, ("ids", ids_bad), ("d", ones))
    assert r.returncode == 2 and "K3008" in _codes(r) and "embed" in r.stdout + r.stderr, \
        r.describe()
    ids = _npy(tmp_path, "ids", np.array([0, 3], np.int64))
    zeros = _npy(tmp_path, "zeros", np.array([1, 0, 1], np.int64))
    r = _run(kiln, model, ("ids", ids), ("d", zeros))
    assert r.returncode == 2 and "K7001" in _codes(r) and "divide" in r.stdout + r.stderr, \
        r.describe()
    r = _run(kiln, model, ("ids", ids), ("d", ones), out=tmp_path / "ok")
    assert r.returncode == 0, r.describe()
    np.testing.assert_array_equal(np.load(tmp_path / "ok" / "y.npy"),
                                  np.arange(12).reshape(4, 3)[[0, 3]])
    assert json.loads(r.stdout)["outputs"][0]["name"] == "y"
