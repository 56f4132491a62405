#!/usr/bin/env python3
"""Writes tests/fuzz/corpus/engine/built_tiny_cnn.engine: a real builder-made engine (conv with
weights packed at build time, pooling, a linear layer) for the fuzz_engine target, which loads
engines through the runtime, and built_tiny_cnn_fp16.engine, the same built with --fp16 (its
weights stored as float16). Rerun after an engine format change:

    .venv/bin/python tests/fuzz/make_built_seed.py [KILN_BIN]   # default build/src/tools/kiln
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KILN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "src", "tools", "kiln")
OUT = os.path.join(HERE, "corpus", "engine", "built_tiny_cnn.engine")

rng = np.random.default_rng(7)
w = numpy_helper.from_array(rng.uniform(-1, 1, (4, 3, 3, 3)).astype(np.float32), "w")
b = numpy_helper.from_array(rng.uniform(-1, 1, (4,)).astype(np.float32), "b")
fw = numpy_helper.from_array(rng.uniform(-1, 1, (5, 4)).astype(np.float32), "fw")
fb = numpy_helper.from_array(rng.uniform(-1, 1, (5,)).astype(np.float32), "fb")
g = helper.make_graph(
    [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="gap"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1, name="fc"),
    ],
    "tiny_cnn",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6, 6])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
    [w, b, fw, fb],
)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "tiny_cnn.onnx")
    onnx.save(m, path)
    # --no-autotune: the same tactics on every machine, so the seed does not churn.
    subprocess.run([KILN, "build", path, "-o", OUT, "--no-autotune", "--no-progress"], check=True)
    OUT16 = OUT.replace(".engine", "_fp16.engine")
    subprocess.run([KILN, "build", path, "-o", OUT16, "--no-autotune", "--no-progress", "--fp16"],
                   check=True)
for out in (OUT, OUT16):
    print(out, os.path.getsize(out), "bytes")
