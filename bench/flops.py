"""Counts the multiply-add FLOPs of an ONNX model at fixed input shapes.

Only the ops that dominate CNN and transformer cost are counted (Conv, ConvTranspose, Gemm,
MatMul), each multiply-add as 2 FLOPs; elementwise ops, pooling and normalizations are left out,
as is usual for published model FLOP figures (ResNet-50 at 224x224: ~4.1 GMAC = ~8.2 GFLOP).

    .venv/bin/python bench/flops.py MODEL.onnx NAME:1x3x224x224 [NAME:...]
"""

import math
import sys

import onnx
from onnx import shape_inference


def _fix_input_shapes(model, shapes):
    """Pins the graph inputs to concrete shapes so shape inference yields concrete dims."""
    inits = {i.name for i in model.graph.initializer}
    for inp in model.graph.input:
        if inp.name in inits or inp.name not in shapes:
            continue
        dims = inp.type.tensor_type.shape.dim
        want = shapes[inp.name]
        if len(dims) != len(want):
            raise ValueError(f"input {inp.name} has rank {len(dims)}, shape given {want}")
        for d, v in zip(dims, want):
            d.Clear()
            d.dim_value = int(v)


def _shape_table(model):
    table = {}
    for vi in list(model.graph.input) + list(model.graph.value_info) + list(model.graph.output):
        t = vi.type.tensor_type
        if not t.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        table[vi.name] = dims
    for init in model.graph.initializer:
        table[init.name] = list(init.dims)
    return table


def _attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _known(shape):
    return shape is not None and all(d is not None for d in shape)


def node_flops(node, shapes):
    """FLOPs of one node, or None when the node is counted but its shapes are unknown."""
    op = node.op_type
    if op == "Conv":
        w, y = shapes.get(node.input[1]), shapes.get(node.output[0])
        if not (_known(w) and _known(y)):
            return None
        # y: N x Cout x spatial...; w: Cout x Cin/group x kernel...
        return 2 * math.prod(y) * math.prod(w[1:])
    if op == "ConvTranspose":
        x, w = shapes.get(node.input[0]), shapes.get(node.input[1])
        if not (_known(x) and _known(w)):
            return None
        # Every input pixel scatters a Cout/group x kernel patch: w is Cin x Cout/group x kernel.
        return 2 * math.prod(x) * math.prod(w[1:])
    if op == "Gemm":
        a, y = shapes.get(node.input[0]), shapes.get(node.output[0])
        if not (_known(a) and _known(y)):
            return None
        k = a[0] if _attr(node, "transA", 0) else a[1]
        return 2 * y[0] * y[1] * k
    if op == "MatMul":
        a, y = shapes.get(node.input[0]), shapes.get(node.output[0])
        if not (_known(a) and _known(y)):
            return None
        # y holds the broadcast batch dims and M x N (or fewer for 1-D operands); K is a's last dim.
        return 2 * math.prod(y) * a[-1]
    return 0


def _count(model):
    shapes = _shape_table(model)
    total, by_op, unknown = 0, {}, []
    for node in model.graph.node:
        f = node_flops(node, shapes)
        if f is None:
            unknown.append(node.name or node.output[0])
            continue
        if f:
            total += f
            by_op[node.op_type] = by_op.get(node.op_type, 0) + f
    return total, by_op, unknown


def count_flops(path, input_shapes):
    """Returns (total FLOPs, {op_type: FLOPs}, [names of counted nodes with unknown shapes])."""
    model = onnx.load(path)
    _fix_input_shapes(model, input_shapes)
    result = _count(shape_inference.infer_shapes(model, data_prop=True))
    if not result[2]:
        return result
    # onnx's inference stops at shapes computed in the graph (BERT's Shape -> Gather -> Concat
    # -> Reshape, PP-OCR rec's attention); ONNX Runtime's symbolic inference evaluates those.
    try:
        from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

        return _count(SymbolicShapeInference.infer_shapes(model, auto_merge=True))
    except Exception:  # noqa: BLE001 - any failure there leaves the onnx-only count
        return result


def _parse_shape(spec):
    name, dims = spec.rsplit(":", 1)
    return name, [int(d) for d in dims.split("x")]


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    total, by_op, unknown = count_flops(sys.argv[1], dict(_parse_shape(s) for s in sys.argv[2:]))
    print(f"{total / 1e9:.3f} GFLOP  " + "  ".join(f"{k} {v / 1e9:.3f}" for k, v in by_op.items()))
    if unknown:
        print(f"{len(unknown)} counted nodes with unknown shapes (left out): {unknown[:5]}")
