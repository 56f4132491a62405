#!/usr/bin/env python3
"""Writes the seed corpus for the fuzz_import libFuzzer target.

Seeds are small, mostly valid ONNX models that reach deep into the importer, the verifier,
the op support checks and (for IR <= 8, opset <= 17) libonnx's checker and shape inference;
a few are deliberately broken so the error paths start out covered. The fuzzer mutates them.

    .venv/bin/python tests/fuzz/make_corpus.py [OUT_DIR]   # default tests/fuzz/corpus/import

Regenerating rewrites every gen_*.onnx file; copied backend test models keep their names.
"""

import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus", "import")
MAX_SEED_BYTES = 20 * 1024
# The newest IR the linked libonnx (Debian 1.12) knows; seeds stay within it so its checker
# and shape inference run on them unless a seed is about versions.
LIBONNX_IR = 8
BACKEND_DIR = "/usr/include/onnx/backend/test/data/node"
# Small backend test models of ops kiln implements, plus a few it does not (UnknownOp paths).
BACKEND_MODELS = [
    "test_relu",
    "test_softmax_axis_1",
    "test_gather_0",
    "test_slice",
    "test_maxpool_2d_pads",
    "test_conv_with_strides_padding",
    "test_batchnorm_example",
    "test_if",
    "test_loop11",
    "test_sequence_insert_at_back",
]

F = TensorProto.FLOAT
I64 = TensorProto.INT64


def model(nodes, inputs, outputs, inits=(), opset=13, ir=LIBONNX_IR, name="g", **kw):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits),
                              value_info=kw.pop("value_info", None))
    opsets = kw.pop("opsets", None) or [helper.make_opsetid("", opset)]
    m = helper.make_model(graph, opset_imports=opsets, producer_name="kiln-fuzz-seed", **kw)
    m.ir_version = ir
    return m


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def single(op, in_shapes, out_shape, attrs=None, opset=13, elem=F, inits=(), extra_inputs=()):
    names = [f"x{i}" for i in range(len(in_shapes))]
    node = helper.make_node(op, names + list(extra_inputs), ["y"], name=op.lower(),
                            **(attrs or {}))
    return model([node], [vi(n, elem, s) for n, s in zip(names, in_shapes)],
                 [vi("y", elem, out_shape)], inits=inits, opset=opset)


SEEDS = {}


def seed(name):
    def wrap(fn):
        SEEDS[name] = fn
        return fn
    return wrap


# --- single-op models of common ops --------------------------------------------------------
@seed("op_relu")
def _():
    return single("Relu", [[1, 3, 4]], [1, 3, 4])


@seed("op_add_broadcast")
def _():
    return single("Add", [[2, 3], [3]], [2, 3])


@seed("op_matmul")
def _():
    return single("MatMul", [[2, 3], [3, 4]], [2, 4])


@seed("op_softmax")
def _():
    return single("Softmax", [[2, 5]], [2, 5], {"axis": -1})


@seed("op_transpose")
def _():
    return single("Transpose", [[2, 3, 4]], [4, 2, 3], {"perm": [2, 0, 1]})


@seed("op_concat")
def _():
    return single("Concat", [[2, 3], [2, 3], [2, 3]], [6, 3], {"axis": 0})


@seed("op_reshape_init")
def _():
    return single("Reshape", [[2, 3, 4]], [6, 4], inits=[const("shape", np.array([-1, 4], np.int64))],
                  extra_inputs=["shape"])


@seed("op_gather")
def _():
    n = helper.make_node("Gather", ["x", "idx"], ["y"], axis=1)
    return model([n], [vi("x", F, [3, 5])], [vi("y", F, [3, 2])],
                 inits=[const("idx", np.array([0, 4], np.int64))])


@seed("op_slice")
def _():
    n = helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"])
    return model([n], [vi("x", F, [4, 6])], [vi("y", F, [2, 3])],
                 inits=[const("s", np.array([0, 1], np.int64)), const("e", np.array([4, 6], np.int64)),
                        const("a", np.array([0, 1], np.int64)), const("st", np.array([2, 2], np.int64))])


@seed("op_resize")
def _():
    n = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="linear",
                         coordinate_transformation_mode="half_pixel")
    return model([n], [vi("x", F, [1, 1, 2, 2])], [vi("y", F, [1, 1, 4, 4])],
                 inits=[const("scales", np.array([1, 1, 2, 2], np.float32))])


@seed("op_cast")
def _():
    return model([helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT16)],
                 [vi("x", F, [3])], [vi("y", TensorProto.FLOAT16, [3])])


@seed("op_clip")
def _():
    return single("Clip", [[4]], [4], inits=[const("lo", np.float32(0)), const("hi", np.float32(6))],
                  extra_inputs=["lo", "hi"])


@seed("op_pad")
def _():
    return single("Pad", [[1, 2, 2]], [1, 4, 4], {"mode": "reflect"},
                  inits=[const("pads", np.array([0, 1, 1, 0, 1, 1], np.int64))], extra_inputs=["pads"])


@seed("op_maxpool")
def _():
    return single("MaxPool", [[1, 1, 4, 4]], [1, 1, 2, 2],
                  {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [0, 0, 0, 0]})


@seed("op_avgpool_ceil")
def _():
    return single("AveragePool", [[1, 1, 5, 5]], [1, 1, 3, 3],
                  {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1,
                   "count_include_pad": 0})


@seed("op_batchnorm")
def _():
    c = 3
    inits = [const(n, np.arange(c, dtype=np.float32) + 1) for n in ("sc", "b", "m", "v")]
    return single("BatchNormalization", [[1, c, 2, 2]], [1, c, 2, 2], {"epsilon": 1e-5},
                  inits=inits, extra_inputs=["sc", "b", "m", "v"])


@seed("op_layernorm_17")
def _():
    inits = [const("sc", np.ones(4, np.float32)), const("b", np.zeros(4, np.float32))]
    return single("LayerNormalization", [[2, 4]], [2, 4], {"axis": -1, "epsilon": 1e-5}, opset=17,
                  inits=inits, extra_inputs=["sc", "b"])


@seed("op_reducemean_18")
def _():
    return single("ReduceMean", [[2, 3, 4]], [2, 1, 4], {"keepdims": 1}, opset=18,
                  inits=[const("axes", np.array([1], np.int64))], extra_inputs=["axes"])


@seed("op_reducesum_axes_attr_11")
def _():
    return single("ReduceSum", [[2, 3]], [2], {"axes": [1], "keepdims": 0}, opset=11)


@seed("op_where")
def _():
    n = helper.make_node("Where", ["c", "a", "b"], ["y"])
    return model([n], [vi("c", TensorProto.BOOL, [3]), vi("a", F, [3]), vi("b", F, [1])],
                 [vi("y", F, [3])])


@seed("op_split_unsqueeze")
def _():
    nodes = [helper.make_node("Split", ["x", "sp"], ["a", "b"], axis=0),
             helper.make_node("Unsqueeze", ["a", "ax"], ["y"]),
             helper.make_node("Squeeze", ["b", "ax0"], ["z"])]
    return model(nodes, [vi("x", F, [3, 2])], [vi("y", F, [1, 1, 2]), vi("z", F, [2])],
                 inits=[const("sp", np.array([1, 2], np.int64)), const("ax", np.array([0], np.int64)),
                        const("ax0", np.array([0], np.int64))])


@seed("op_shape_expand_cos")
def _():
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("ConstantOfShape", ["s"], ["c"],
                              value=helper.make_tensor("v", F, [1], [1.5])),
             helper.make_node("Expand", ["c", "s"], ["y"])]
    return model(nodes, [vi("x", F, ["n", 3])], [vi("y", F, ["n", 3])])


@seed("op_topk_argmax")
def _():
    nodes = [helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=-1, largest=1),
             helper.make_node("ArgMax", ["x"], ["am"], axis=1, keepdims=0)]
    return model(nodes, [vi("x", F, [2, 5])],
                 [vi("v", F, [2, 2]), vi("i", I64, [2, 2]), vi("am", I64, [2])],
                 inits=[const("k", np.array([2], np.int64))])


@seed("op_lstm")
def _():
    h, i = 2, 3
    inits = [const("W", np.zeros((1, 4 * h, i), np.float32)),
             const("R", np.zeros((1, 4 * h, h), np.float32)),
             const("B", np.zeros((1, 8 * h), np.float32))]
    n = helper.make_node("LSTM", ["x", "W", "R", "B"], ["y", "yh"], hidden_size=h,
                         direction="forward")
    return model([n], [vi("x", F, [5, 1, i])], [vi("y", F, [5, 1, 1, h]), vi("yh", F, [1, 1, h])],
                 inits=inits)


@seed("op_qdq")
def _():
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])]
    return model(nodes, [vi("x", F, [4])], [vi("y", F, [4])],
                 inits=[const("s", np.float32(0.1)), const("z", np.uint8(128))])


@seed("op_depthtospace_tile_flatten")
def _():
    nodes = [helper.make_node("DepthToSpace", ["x"], ["d"], blocksize=2, mode="CRD"),
             helper.make_node("Tile", ["d", "r"], ["t"]),
             helper.make_node("Flatten", ["t"], ["y"], axis=1)]
    return model(nodes, [vi("x", F, [1, 4, 2, 2])], [vi("y", F, [1, 32])],
                 inits=[const("r", np.array([1, 1, 1, 2], np.int64))])


@seed("op_constant_range_erf")
def _():
    nodes = [helper.make_node("Constant", [], ["st"], value=helper.make_tensor("c", F, [], [0.0])),
             helper.make_node("Constant", [], ["lim"], value_float=4.0),
             helper.make_node("Constant", [], ["dl"], value_floats=[1.0]),
             helper.make_node("Squeeze", ["dl"], ["d1"]),
             helper.make_node("Range", ["st", "lim", "d1"], ["r"]),
             helper.make_node("Erf", ["r"], ["y"])]
    return model(nodes, [], [vi("y", F, [4])])


# --- weights: raw_data and each typed field -----------------------------------------------
@seed("conv_raw_data")
def _():
    w = const("W", np.random.default_rng(0).standard_normal((4, 2, 3, 3)).astype(np.float32))
    b = const("B", np.arange(4, dtype=np.float32))
    n = helper.make_node("Conv", ["x", "W", "B"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                         strides=[1, 1], dilations=[1, 1], group=1)
    r = helper.make_node("Relu", ["c"], ["y"])
    return model([n, r], [vi("x", F, ["N", 2, 8, 8])], [vi("y", F, ["N", 4, 8, 8])], inits=[w, b])


@seed("conv_typed_grouped_transpose")
def _():
    w = helper.make_tensor("W", F, [4, 1, 3, 3], [0.5] * 36)
    wt = helper.make_tensor("Wt", F, [4, 2, 2, 2], [0.25] * 32)
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], group=4, auto_pad="SAME_UPPER"),
             helper.make_node("ConvTranspose", ["c", "Wt"], ["y"], strides=[2, 2])]
    return model(nodes, [vi("x", F, [1, 4, 6, 6])], [vi("y", F, [1, 2, 12, 12])], inits=[w, wt])


@seed("gemm_typed_fields")
def _():
    a = helper.make_tensor("A", F, [3, 4], [float(i) for i in range(12)])  # float_data
    c = helper.make_tensor("C", F, [4], [1.0, 2.0, 3.0, 4.0])
    n = helper.make_node("Gemm", ["x", "A", "C"], ["y"], alpha=0.5, beta=1.0, transB=0)
    return model([n], [vi("x", F, [2, 3])], [vi("y", F, [2, 4])], inits=[a, c])


@seed("gemm_raw_transposed")
def _():
    a = numpy_helper.from_array(np.ones((4, 3), np.float32), "A")
    n = helper.make_node("Gemm", ["x", "A"], ["y"], transB=1)
    return model([n], [vi("x", F, [2, 3])], [vi("y", F, [2, 4])], inits=[a])


@seed("tensors_every_field")
def _():
    inits = [
        helper.make_tensor("i64", I64, [2], [1, -2]),  # int64_data
        helper.make_tensor("i32", TensorProto.INT32, [2], [7, -7]),  # int32_data
        helper.make_tensor("f16", TensorProto.FLOAT16, [2], np.array([1, 2], np.float16)),
        helper.make_tensor("bf16", TensorProto.BFLOAT16, [1], [1.0]),
        helper.make_tensor("i8", TensorProto.INT8, [3], [-1, 0, 1]),
        helper.make_tensor("u8", TensorProto.UINT8, [2], [0, 255]),
        helper.make_tensor("b", TensorProto.BOOL, [2], [True, False]),
        helper.make_tensor("u32", TensorProto.UINT32, [1], [4000000000]),
        helper.make_tensor("u64", TensorProto.UINT64, [1], [2**63]),
        helper.make_tensor("f64", TensorProto.DOUBLE, [2], [0.5, -0.5]),
        helper.make_tensor("c64", TensorProto.COMPLEX64, [1], [1 + 2j]),
        helper.make_tensor("s", TensorProto.STRING, [2], [b"a", b"bc"]),
        helper.make_tensor("empty", F, [0, 3], []),
        helper.make_tensor("scalar", F, [], [3.0]),
        numpy_helper.from_array(np.arange(4, dtype=np.int16), "i16raw"),
    ]
    n = helper.make_node("Add", ["x", "scalar"], ["y"])
    return model([n], [vi("x", F, [2])], [vi("y", F, [2])], inits=inits)


@seed("tensors_float8_int4_ir10")
def _():
    inits = [helper.make_tensor("f8", TensorProto.FLOAT8E4M3FN, [2], [1.0, 2.0]),
             helper.make_tensor("i4", TensorProto.INT4, [3], [1, -2, 3]),
             helper.make_tensor("u4", TensorProto.UINT4, [2], [1, 15])]
    n = helper.make_node("Identity", ["x"], ["y"])
    return model([n], [vi("x", F, [2])], [vi("y", F, [2])], inits=inits, opset=21, ir=10)


@seed("input_with_initializer_default")
def _():
    n = helper.make_node("Mul", ["x", "w"], ["y"])
    return model([n], [vi("x", F, [2]), vi("w", F, [2])], [vi("y", F, [2])],
                 inits=[const("w", np.array([2, 3], np.float32))])


# --- control flow -------------------------------------------------------------------------
@seed("if_loop_subgraphs")
def _():
    then_g = helper.make_graph([helper.make_node("Add", ["x", "one"], ["t"])], "then", [],
                               [vi("t", F, [2])])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"])], "else", [],
                               [vi("e", F, [2])])
    # Loop body: (iter, cond, acc) -> (cond, acc + x); reads x from the outer scope.
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["acc_in", "x"], ["acc_out"])],
        "body",
        [vi("iter", I64, []), vi("cond_in", TensorProto.BOOL, []), vi("acc_in", F, [2])],
        [vi("cond_out", TensorProto.BOOL, []), vi("acc_out", F, [2])])
    nodes = [
        helper.make_node("If", ["c"], ["ifo"], then_branch=then_g, else_branch=else_g),
        helper.make_node("Loop", ["trip", "", "ifo"], ["y"], body=body),
    ]
    return model(nodes, [vi("x", F, [2]), vi("c", TensorProto.BOOL, [])], [vi("y", F, [2])],
                 inits=[const("one", np.ones(2, np.float32)), const("trip", np.array(3, np.int64))])


@seed("nested_if_in_loop_scan")
def _():
    inner_then = helper.make_graph([helper.make_node("Identity", ["acc_in"], ["o1"])], "it", [],
                                   [vi("o1", F, [1])])
    inner_else = helper.make_graph([helper.make_node("Abs", ["acc_in"], ["o2"])], "ie", [],
                                   [vi("o2", F, [1])])
    body = helper.make_graph(
        [helper.make_node("If", ["cond_in"], ["acc_out"], then_branch=inner_then,
                          else_branch=inner_else),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body", [vi("i", I64, []), vi("cond_in", TensorProto.BOOL, []), vi("acc_in", F, [1])],
        [vi("cond_out", TensorProto.BOOL, []), vi("acc_out", F, [1])])
    scan_body = helper.make_graph(
        [helper.make_node("Add", ["s_in", "e"], ["s_out"]), helper.make_node("Identity", ["s_out"], ["so"])],
        "scan", [vi("s_in", F, [1]), vi("e", F, [1])], [vi("s_out", F, [1]), vi("so", F, [1])])
    nodes = [helper.make_node("Loop", ["n", "c", "x"], ["l"], body=body),
             helper.make_node("Scan", ["l", "seq"], ["y", "ys"], body=scan_body, num_scan_inputs=1)]
    return model(nodes, [vi("x", F, [1]), vi("c", TensorProto.BOOL, []), vi("n", I64, []),
                         vi("seq", F, [3, 1])], [vi("y", F, [1]), vi("ys", F, [3, 1])])


# --- external data, symbolic dims, non-tensor types ----------------------------------------
@seed("external_data_refs")
def _():
    w = TensorProto(name="W", data_type=F, dims=[2, 2], data_location=TensorProto.EXTERNAL)
    for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", "16")):
        w.external_data.add(key=k, value=v)
    bad = TensorProto(name="V", data_type=F, dims=[2], data_location=TensorProto.EXTERNAL)
    for k, v in (("location", "../escape.bin"), ("offset", "-4")):
        bad.external_data.add(key=k, value=v)
    nodes = [helper.make_node("MatMul", ["x", "W"], ["m"]), helper.make_node("Add", ["m", "V"], ["y"])]
    return model(nodes, [vi("x", F, [2, 2])], [vi("y", F, [2, 2])], inits=[w, bad])


@seed("symbolic_dims")
def _():
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Sigmoid", ["m"], ["y"])]
    x = vi("x", F, ["batch", "seq_len", 8])
    x.type.tensor_type.shape.dim.add()  # a dim with neither value nor param
    return model(nodes, [x, vi("w", F, [8, None, 4])], [vi("y", F, ["batch", "seq_len", "?", 4])],
                 value_info=[vi("m", F, ["batch", "seq_len", None, 4])])


@seed("sequence_types")
def _():
    nodes = [helper.make_node("SplitToSequence", ["x"], ["s"], axis=0),
             helper.make_node("SequenceAt", ["s", "i"], ["a"]),
             helper.make_node("SequenceConstruct", ["a", "a"], ["s2"]),
             helper.make_node("ConcatFromSequence", ["s2"], ["y"], axis=0)]
    seq = helper.make_tensor_sequence_value_info("s", F, None)
    return model(nodes, [vi("x", F, [3, 2])], [vi("y", F, [None, 2])],
                 inits=[const("i", np.array(1, np.int64))], value_info=[seq])


@seed("sequence_io_identity")
def _():
    seq = helper.make_tensor_sequence_value_info
    return model([helper.make_node("Identity", ["s"], ["y"])], [seq("s", F, ["n", 2])],
                 [seq("y", F, ["n", 2])], opset=16)


@seed("optional_map_sparse_types")
def _():
    opt = helper.make_value_info("o", helper.make_optional_type_proto(
        helper.make_tensor_type_proto(F, [2])))
    mp = helper.make_value_info("m", helper.make_map_type_proto(I64, helper.make_tensor_type_proto(F, [])))
    sp = helper.make_value_info("sp", helper.make_sparse_tensor_type_proto(F, [4, 4]))
    nodes = [helper.make_node("Optional", ["x"], ["o"]),
             helper.make_node("OptionalGetElement", ["o"], ["y"])]
    return model(nodes, [vi("x", F, [2]), mp, sp], [vi("y", F, [2])], opset=16)


@seed("opset22_ir10")
def _():
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]),
             helper.make_node("Mish", ["c"], ["y"])]
    return model(nodes, [vi("x", F, [1, 1, 2, 2])], [vi("y", F, [1, 1, 2, 2])],
                 inits=[const("w", np.ones((1, 1, 1, 1), np.float32))], opset=22, ir=10)


@seed("opset21_ir11")
def _():
    return model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", F, [4])], [vi("y", F, [4])],
                 opset=21, ir=11)


@seed("opset7_old_attrs")
def _():
    nodes = [helper.make_node("Upsample", ["x"], ["u"], scales=[1.0, 1.0, 2.0, 2.0]),
             helper.make_node("BatchNormalization", ["u", "s", "b", "m", "v"], ["y"], spatial=1)]
    stats = ("s", "b", "m", "v")
    inits = [const(n, np.ones(1, np.float32)) for n in stats]
    # IR 3 requires every initializer to be listed as a graph input as well.
    inputs = [vi("x", F, [1, 1, 2, 2])] + [vi(n, F, [1]) for n in stats]
    return model(nodes, inputs, [vi("y", F, [1, 1, 4, 4])], inits=inits, opset=7, ir=3)


# --- deliberately broken models (error paths) ----------------------------------------------
@seed("bad_unknown_ops_domains")
def _():
    nodes = [helper.make_node("Reul", ["x"], ["a"]),
             helper.make_node("FusedConv", ["a"], ["b"], domain="com.microsoft"),
             helper.make_node("MyOp", ["b"], ["c"], domain="undeclared.domain"),
             helper.make_node("", ["c"], ["y"])]
    return model(nodes, [vi("x", F, [2])], [vi("y", F, [2])],
                 opsets=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])


@seed("bad_cycle_duplicates")
def _():
    nodes = [helper.make_node("Relu", ["b"], ["a"]), helper.make_node("Relu", ["a"], ["b"]),
             helper.make_node("Abs", ["x"], ["a"]), helper.make_node("Neg", ["missing"], ["y"])]
    return model(nodes, [vi("x", F, [2]), vi("x", F, [2])], [vi("y", F, [2])])


@seed("bad_attrs_arity")
def _():
    n1 = helper.make_node("Conv", ["x"], ["c"], kernel_shape=[3.0], bogus=1)
    n1.attribute.append(helper.make_attribute("bogus", 2))
    n1.attribute.add()  # nameless, typeless
    n2 = helper.make_node("Softmax", ["c", "x", "x"], ["y", "z"], axis="one")
    n3 = helper.make_node("Resize", ["y"], ["r"], mode="cubic_bspline", antialias=3)
    return model([n1, n2, n3], [vi("x", TensorProto.STRING, [1, 1, 3, 3])], [vi("r", F, None)])


@seed("bad_tensor_data")
def _():
    inits = [
        TensorProto(name="neg", data_type=F, dims=[-3]),
        TensorProto(name="huge", data_type=F, dims=[2**40, 2**40]),
        TensorProto(name="short", data_type=F, dims=[4], raw_data=b"\0" * 8),
        TensorProto(name="cnt", data_type=I64, dims=[2], int64_data=[1]),
        TensorProto(name="dt", data_type=99, dims=[1], raw_data=b"\0"),
        TensorProto(name="", data_type=F, dims=[1], float_data=[1.0]),
        TensorProto(name="seg", data_type=F, dims=[1], float_data=[1.0],
                    segment=TensorProto.Segment(begin=0, end=1)),
        TensorProto(name="strraw", data_type=TensorProto.STRING, dims=[1], raw_data=b"x"),
        TensorProto(name="extnoloc", data_type=F, dims=[1], data_location=TensorProto.EXTERNAL),
    ]
    x = vi("x", 77, [-5, 2])
    n = helper.make_node("Identity", ["x"], ["y"])
    return model([n], [x], [vi("y", F, [2])], inits=inits)


@seed("bad_versions_functions")
def _():
    fn = helper.make_function("local", "Fn", ["a"], ["b"], [helper.make_node("Relu", ["a"], ["b"])],
                              [helper.make_opsetid("", 13)])
    n = helper.make_node("Fn", ["x"], ["y"], domain="local")
    m = model([n], [vi("x", F, [2])], [vi("y", F, [2])], ir=2,
              opsets=[helper.make_opsetid("", 99), helper.make_opsetid("ai.onnx", 5),
                      helper.make_opsetid("local", 1)], functions=[fn])
    m.training_info.add()
    m.graph.sparse_initializer.add().values.name = "sp"
    return m


@seed("bad_no_default_opset_no_outputs")
def _():
    m = model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", F, [2])], [],
              opsets=[helper.make_opsetid("com.example", 1)])
    m.metadata_props.add(key="k", value="v")
    return m


@seed("bad_subgraph_scope")
def _():
    # The branch reads a value defined after the If node and one that exists nowhere.
    then_g = helper.make_graph([helper.make_node("Add", ["later", "ghost"], ["t"])], "then", [],
                               [vi("t", F, [2])])
    nodes = [helper.make_node("If", ["c"], ["y"], then_branch=then_g),
             helper.make_node("Relu", ["x"], ["later"])]
    return model(nodes, [vi("x", F, [2]), vi("c", TensorProto.BOOL, [])], [vi("y", F, [2])])


# --- shape inference: contradictions, symbolic chains, constant folding ------------------------
@seed("shape_broadcast_conflict")
def _():
    return single("Add", [[2, 3], [4]], [2, 3])


@seed("shape_declared_conflict")
def _():
    return single("Relu", [[2, 3]], [2, 5])


@seed("shape_reshape_count_mismatch")
def _():
    return single("Reshape", [[2, 3]], [4, 2], inits=[const("shape", np.array([4, 2], np.int64))],
                  extra_inputs=["shape"])


@seed("shape_matmul_inner_mismatch")
def _():
    return single("MatMul", [[2, 3], [4, 5]], [2, 5])


@seed("shape_conv_channel_mismatch")
def _():
    w = const("w", np.zeros((8, 3, 3, 3), np.float32))
    n = helper.make_node("Conv", ["x", "w"], ["y"], name="conv")
    return model([n], [vi("x", F, [1, 4, 8, 8])], [vi("y", F, None)], inits=[w])


@seed("shape_attention_reshape_chain")
def _():
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["b"], axis=0),
        helper.make_node("Gather", ["s", "one"], ["t"], axis=0),
        helper.make_node("Unsqueeze", ["b", "axes"], ["b1"]),
        helper.make_node("Unsqueeze", ["t", "axes"], ["t1"]),
        helper.make_node("Concat", ["b1", "t1", "heads"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["r"]),
        helper.make_node("Transpose", ["r"], ["y"], perm=[0, 2, 1, 3]),
    ]
    inits = [const("zero", np.array(0, np.int64)), const("one", np.array(1, np.int64)),
             const("axes", np.array([0], np.int64)), const("heads", np.array([4, -1], np.int64))]
    return model(nodes, [vi("x", F, ["batch", "seq", 32])], [vi("y", F, ["batch", 4, "seq", 8])],
                 inits=inits)


@seed("shape_fold_range_constant_of_shape")
def _():
    nodes = [
        helper.make_node("Range", ["start", "limit", "delta"], ["r"]),
        helper.make_node("Shape", ["r"], ["s"]),
        helper.make_node("ConstantOfShape", ["s"], ["z"]),
        helper.make_node("Expand", ["x", "s"], ["y"]),
    ]
    inits = [const("start", np.array(0, np.int64)), const("limit", np.array(10, np.int64)),
             const("delta", np.array(3, np.int64))]
    return model(nodes, [vi("x", F, [1])], [vi("y", F, [4]), vi("z", F, [4])], inits=inits)


def copy_backend(out_dir):
    copied = 0
    for name in BACKEND_MODELS:
        src = os.path.join(BACKEND_DIR, name, "model.onnx")
        if not os.path.exists(src) or os.path.getsize(src) > MAX_SEED_BYTES:
            print(f"skip {name}: not found or too large", file=sys.stderr)
            continue
        shutil.copyfile(src, os.path.join(out_dir, f"backend_{name[len('test_'):]}.onnx"))
        copied += 1
    return copied


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.startswith("gen_"):
            os.remove(os.path.join(OUT, f))
    for name, fn in SEEDS.items():
        data = fn().SerializeToString()
        if len(data) > MAX_SEED_BYTES:
            raise SystemExit(f"seed {name} is {len(data)} bytes (limit {MAX_SEED_BYTES})")
        with open(os.path.join(OUT, f"gen_{name}.onnx"), "wb") as fh:
            fh.write(data)
    copied = copy_backend(OUT)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(SEEDS)} generated + {copied} backend seeds in {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
