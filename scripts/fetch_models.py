#!/usr/bin/env python3
"""Fetch, export and derive the real ONNX models that kiln's acceptance tests run on.

Run with the repository's venv (scripts/setup.sh creates it):

    .venv/bin/python scripts/fetch_models.py [--out DIR]

DIR defaults to $KILN_MODEL_DIR, else <repo>/.cache/models. Nothing is downloaded: the
PP-OCR and Silero models ship inside the pip packages rapidocr-onnxruntime and silero-vad
(installed with --no-deps, so they are located with importlib and never imported), and
ResNet-50 is exported from torchvision with fixed random weights. Broken variants are
derived from those. Re-running is cheap: every file that is already present and valid is
kept, anything missing or damaged is rebuilt. One line is printed per model, and
DIR/manifest.json records each file's sha256 and source.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent

# PP-OCR file names inside rapidocr_onnxruntime/models/.
PPOCR = {
    "ppocr_det.onnx": "ch_PP-OCRv4_det_infer.onnx",
    "ppocr_rec.onnx": "ch_PP-OCRv4_rec_infer.onnx",
    "ppocr_cls.onnx": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
}
SILERO = ["silero_vad.onnx", "silero_vad_16k_op15.onnx", "silero_vad_op18_ifless.onnx"]

RESNET_OPSET = 17
# One past kiln's newest supported opset (ops::kMaxOpset == 21).
FUTURE_OPSET = 22
TRUNCATE_FRACTION = 0.6

# A failed download that saved the server's error page under the model's name.
NOT_ONNX_TEXT = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>404 Not Found</title></head>
<body>
<h1>Not Found</h1>
<p>The requested URL /models/resnet50.onnx was not found on this server.</p>
<hr><address>nginx</address>
</body>
</html>
"""

# Nodes of unknown_ops.onnx that kiln must reject, by name: (op_type, domain).
UNKNOWN_NODES = {
    "fancy_act": ("FancyAct", ""),
    "my_norm": ("MyNorm", ""),
    "example_blend": ("Blend", "com.example"),
}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def package_dir(module: str) -> Path:
    """The directory of an installed package, found without importing it (rapidocr's and
    silero's runtime dependencies are deliberately not installed)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"fetch_models: python package '{module}' is not installed in {sys.prefix}; "
                 "run scripts/setup.sh (it pip-installs rapidocr-onnxruntime and silero-vad "
                 "with --no-deps)")
    return Path(list(spec.submodule_search_locations)[0])


def dist_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def write_atomic(dest: Path, produce: Callable[[Path], None]) -> None:
    """produce(tmp) writes the file; it appears under dest only once complete, so an
    interrupted run never leaves a half-written model that a later run would keep."""
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        produce(Path(tmp))
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def loads_as_onnx(path: Path):
    """The parsed model, or None when the file is missing or does not parse."""
    import onnx

    if not path.is_file():
        return None
    try:
        return onnx.load(str(path), load_external_data=False)
    except Exception:  # noqa: BLE001 - any parse failure means "rebuild it"
        return None


def default_opset(model) -> int | None:
    for op in model.opset_import:
        if op.domain in ("", "ai.onnx"):
            return op.version
    return None


# ---- producers: each returns "kept" or what it did, after making dest valid -------------------

def copy_file(src: Path, dest: Path) -> str:
    if dest.is_file() and dest.stat().st_size == src.stat().st_size and sha256(dest) == sha256(src):
        return "kept"
    existed = dest.exists()
    write_atomic(dest, lambda tmp: shutil.copyfile(src, tmp))
    return "replaced" if existed else "copied"


def export_resnet50(dest: Path) -> str:
    m = loads_as_onnx(dest)
    if (m is not None and default_opset(m) == RESNET_OPSET
            and [i.name for i in m.graph.input] == ["input"]
            and [o.name for o in m.graph.output] == ["logits"]):
        return "kept"
    try:
        import torch
        import torchvision
    except ImportError as e:
        sys.exit(f"fetch_models: exporting resnet50 needs torch and torchvision ({e}); the venv "
                 "must see Debian's python3-torch/python3-torchvision (--system-site-packages)")
    torch.manual_seed(0)
    net = torchvision.models.resnet50(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)

    def produce(tmp: Path) -> None:
        with torch.no_grad():
            torch.onnx.export(net, x, str(tmp), input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                              opset_version=RESNET_OPSET, do_constant_folding=True)

    existed = dest.exists()
    write_atomic(dest, produce)
    return "re-exported" if existed else "exported"


def derive_opset22(src: Path, dest: Path) -> str:
    import onnx

    import numpy as np

    m = loads_as_onnx(dest)
    # 17 and 22 are one-byte varints, so a derivation of the current source differs from it
    # in exactly one byte; anything else is stale (resnet50 re-exported) or damaged.
    if (m is not None and default_opset(m) == FUTURE_OPSET
            and dest.stat().st_size == src.stat().st_size):
        a = np.fromfile(src, dtype=np.uint8)
        b = np.fromfile(dest, dtype=np.uint8)
        if int(np.count_nonzero(a != b)) == 1:
            return "kept"
    model = onnx.load(str(src))
    for op in model.opset_import:
        if op.domain in ("", "ai.onnx"):
            op.version = FUTURE_OPSET
    existed = dest.exists()
    # No version conversion: this stands for a model re-saved by a newer exporter.
    write_atomic(dest, lambda tmp: onnx.save(model, str(tmp)))
    return "replaced" if existed else "derived"


def unknown_ops_bytes() -> bytes:
    """A small model whose graph mixes supported ops with three nodes kiln cannot know."""
    from onnx import TensorProto, helper

    def node(op, inputs, outputs, name, domain=""):
        return helper.make_node(op, inputs, outputs, name=name, domain=domain)

    ops = {n: op for n, (op, _) in UNKNOWN_NODES.items()}
    domains = {n: d for n, (_, d) in UNKNOWN_NODES.items()}
    nodes = [
        node("Relu", ["x"], ["relu_out"], "relu"),
        node(ops["fancy_act"], ["relu_out"], ["fancy_out"], "fancy_act", domains["fancy_act"]),
        node(ops["my_norm"], ["fancy_out"], ["norm_out"], "my_norm", domains["my_norm"]),
        node("Mul", ["norm_out", "scale"], ["scaled"], "mul"),
        node(ops["example_blend"], ["scaled", "x"], ["blend_out"], "example_blend",
             domains["example_blend"]),
        node("Add", ["blend_out", "x"], ["y"], "add"),
    ]
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [1, 4], [0.5, 1.0, 1.5, 2.0])
    graph = helper.make_graph(
        nodes, "unknown_ops",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        initializer=[scale])
    model = helper.make_model(
        graph, producer_name="kiln fetch_models.py",
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    model.ir_version = 8
    return model.SerializeToString(deterministic=True)


def write_bytes(dest: Path, data: bytes) -> str:
    if dest.is_file() and dest.read_bytes() == data:
        return "kept"
    existed = dest.exists()
    write_atomic(dest, lambda tmp: tmp.write_bytes(data))
    return "replaced" if existed else "derived"


# ---- main -------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_out = os.environ.get("KILN_MODEL_DIR") or str(REPO / ".cache" / "models")
    ap.add_argument("--out", default=default_out, help=f"output directory (default {default_out})")
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)

    rapid_dir = package_dir("rapidocr_onnxruntime") / "models"
    silero_dir = package_dir("silero_vad") / "data"
    rapid_src = f"pip rapidocr-onnxruntime {dist_version('rapidocr-onnxruntime')}"
    silero_src = f"pip silero-vad {dist_version('silero-vad')}"

    # (name, source description, producer); order matters where one file derives from another.
    plan: list[tuple[str, str, Callable[[Path], str]]] = []
    for name, src in PPOCR.items():
        plan.append((name, f"{rapid_src}: rapidocr_onnxruntime/models/{src}",
                     lambda d, s=rapid_dir / src: copy_file(s, d)))
    for name in SILERO:
        plan.append((name, f"{silero_src}: silero_vad/data/{name}",
                     lambda d, s=silero_dir / name: copy_file(s, d)))
    plan += [
        ("resnet50.onnx",
         f"torchvision {dist_version('torchvision')} resnet50(weights=None), torch.manual_seed(0), "
         f"torch {dist_version('torch')} onnx export opset {RESNET_OPSET}, input 'input' "
         "[batch,3,224,224], output 'logits'",
         export_resnet50),
        ("resnet50_opset22.onnx",
         f"derived: resnet50.onnx with the ai.onnx opset_import set to {FUTURE_OPSET}, "
         "no conversion",
         lambda d: derive_opset22(out / "resnet50.onnx", d)),
        ("unknown_ops.onnx",
         "derived: onnx.helper model with unknown ops " +
         ", ".join(f"{n}:{(d + '::') if d else ''}{op}" for n, (op, d) in UNKNOWN_NODES.items()),
         lambda d: write_bytes(d, unknown_ops_bytes())),
        ("truncated.onnx",
         f"derived: first {int(TRUNCATE_FRACTION * 100)}% of the bytes of ppocr_cls.onnx",
         lambda d: write_bytes(d, (out / "ppocr_cls.onnx").read_bytes()[
             :int((out / "ppocr_cls.onnx").stat().st_size * TRUNCATE_FRACTION)])),
        ("not_onnx.onnx", "derived: an HTML 404 page saved under a model's name",
         lambda d: write_bytes(d, NOT_ONNX_TEXT.encode())),
    ]

    manifest = {"generated_by": "scripts/fetch_models.py", "models": {}}
    t_all = time.monotonic()
    for name, source, produce in plan:
        dest = out / name
        t0 = time.monotonic()
        action = produce(dest)
        digest = sha256(dest)
        size = dest.stat().st_size
        manifest["models"][name] = {"sha256": digest, "bytes": size, "source": source}
        print(f"{name:<28} {action:<11} {size:>11,} B  sha256 {digest[:16]}  "
              f"({time.monotonic() - t0:.1f} s)", flush=True)

    manifest_text = json.dumps(manifest, indent=2) + "\n"
    write_bytes(out / "manifest.json", manifest_text.encode())
    print(f"{len(plan)} models in {out} ({time.monotonic() - t_all:.1f} s); manifest.json written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
