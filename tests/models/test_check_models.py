"""`kiln check` on real exported models and on broken variants derived from them.

Expected values come from the onnx Python package reading the same files, never from kiln."""

from __future__ import annotations

import collections
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from conftest import REAL_MODELS

# The "clean report" acceptance item: no errors and no warnings (info notes are fine).
CLEAN_MODELS = ["ppocr_det.onnx", "ppocr_rec.onnx", "ppocr_cls.onnx", "silero_vad.onnx",
                "resnet50.onnx", "mobilenet_v2.onnx", "bert_base.onnx", "gpt2.onnx",
                "minilm_l6_v2.onnx"]
# This export really carries initializers that no node reads.
UNUSED_INIT_MODEL = "silero_vad_op18_ifless.onnx"


# ---- what onnx sees -----------------------------------------------------------------------------

@lru_cache(maxsize=None)
def load(path: Path) -> onnx.ModelProto:
    return onnx.load(str(path))


def subgraphs(node: onnx.NodeProto):
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            yield a.g
        elif a.type == onnx.AttributeProto.GRAPHS:
            yield from a.graphs


def all_graphs(g: onnx.GraphProto):
    """g and every graph nested in its nodes' attributes (If/Loop/Scan bodies), recursively."""
    yield g
    for n in g.node:
        for sub in subgraphs(n):
            yield from all_graphs(sub)


def op_key(n: onnx.NodeProto) -> str:
    return n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}::{n.op_type}"


def dynamic_dims(vi: onnx.ValueInfoProto) -> list[int]:
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return []
    # Paddle exports (ppocr_cls) mark a dynamic dimension with dim_value -1, which ONNX Runtime
    # also reads as unknown; only a non-negative dim_value is a fixed size.
    return [i for i, d in enumerate(t.shape.dim)
            if not (d.HasField("dim_value") and d.dim_value >= 0)]


def unused_initializers(g: onnx.GraphProto) -> list[str]:
    # Subgraph nodes may read top-level initializers by outer-scope reference.
    read = {i for sub in all_graphs(g) for n in sub.node for i in n.input}
    outs = {o.name for o in g.output}
    return [t.name for t in g.initializer if t.name not in read and t.name not in outs]


def problems_with(report: dict, code: str) -> list[dict]:
    return [p for p in report["problems"] if p["code"] == code]


def codes(report: dict, severity: str | None = None) -> list[str]:
    return [p["code"] for p in report["problems"] if severity is None or p["severity"] == severity]


# ---- real models --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", REAL_MODELS)
def test_real_model_checks_ok(check_json, name):
    run, report = check_json(name)
    assert run.returncode == 0, run.describe()
    assert report["ok"] is True, run.describe()
    assert report["parsed"] is True
    assert report["errors"] == 0, f"errors: {codes(report, 'error')}\n{run.describe()}"
    assert report["errors"] == len(codes(report, "error"))
    assert report["warnings"] == len(codes(report, "warning"))


@pytest.mark.parametrize("name", CLEAN_MODELS)
def test_real_model_report_is_clean(check_json, name):
    run, report = check_json(name)
    assert report["errors"] == 0 and report["warnings"] == 0, (
        f"errors {codes(report, 'error')}, warnings {codes(report, 'warning')}\n{run.describe()}")


@pytest.mark.parametrize("name", REAL_MODELS)
def test_real_model_human_output(kiln, model_path, name):
    r = kiln.cached("check", str(model_path(name)))
    assert r.returncode == 0, r.describe()
    assert r.stdout.startswith(f"kiln check: {model_path(name)}\n"), r.describe()
    assert re.search(r"^result: OK \(0 errors, \d+ warnings?\)$", r.stdout, re.M), r.describe()
    assert r.stderr == "", r.describe()


@pytest.mark.parametrize("name", REAL_MODELS)
def test_summary_op_counts_match_onnx(check_json, model_path, name):
    _, report = check_json(name)
    g = load(model_path(name)).graph
    # kiln counts nodes of subgraphs too.
    expected = collections.Counter(op_key(n) for sub in all_graphs(g) for n in sub.node)
    s = report["summary"]
    assert s["op_counts"] == dict(expected)
    assert s["nodes"] == len(g.node)
    assert s["nodes_total"] == sum(expected.values())
    assert s["subgraphs"] == sum(1 for _ in all_graphs(g)) - 1


@pytest.mark.parametrize("name", REAL_MODELS)
def test_summary_io_matches_onnx(check_json, model_path, name):
    _, report = check_json(name)
    m = load(model_path(name))
    inits = {t.name for t in m.graph.initializer}
    inputs = [i for i in m.graph.input if i.name not in inits]
    s = report["summary"]
    assert [i["name"] for i in s["inputs"]] == [i.name for i in inputs]
    assert [o["name"] for o in s["outputs"]] == [o.name for o in m.graph.output]
    assert [i["dynamic_dims"] for i in s["inputs"]] == [dynamic_dims(i) for i in inputs]
    assert s["ir_version"] == m.ir_version
    assert s["opsets"] == {(o.domain or "ai.onnx"): o.version for o in m.opset_import}
    assert s["graph"] == m.graph.name


@pytest.mark.parametrize("name", REAL_MODELS)
def test_summary_parameters_match_numpy(check_json, model_path, name):
    _, report = check_json(name)
    g = load(model_path(name)).graph
    arrays = [numpy_helper.to_array(t) for t in g.initializer]
    s = report["summary"]
    assert s["initializers"] == len(arrays)
    assert s["parameters"] == sum(int(np.asarray(a).size) for a in arrays)
    assert s["weight_bytes"] == sum(int(np.asarray(a).nbytes) for a in arrays)
    assert s["file_bytes"] == model_path(name).stat().st_size


def test_resnet50_summary_facts(check_json):
    # Pins the export itself, so a changed fetch script cannot silently weaken the checks above.
    _, report = check_json("resnet50.onnx")
    s = report["summary"]
    # ResNet-50 has 25,557,032 parameters; folding its 53 BatchNorms (26,560 channels, weight and
    # bias each) into the convolutions adds one bias per channel: 25,557,032 - 26,560.
    assert s["parameters"] == 25_530_472
    assert s["inputs"] == [{"name": "input", "type": "float32[batch,3,224,224]",
                            "dynamic_dims": [0]}]
    assert [o["name"] for o in s["outputs"]] == ["logits"]
    assert s["op_counts"]["Conv"] == 53
    dyn = problems_with(report, "K4001")
    assert len(dyn) == 1 and dyn[0]["severity"] == "info", report["problems"]
    assert "'input'" in dyn[0]["message"] and "batch" in dyn[0]["message"]


def test_mobilenet_v2_summary_facts(check_json):
    _, report = check_json("mobilenet_v2.onnx")
    s = report["summary"]
    # torchvision's 3,504,872 parameters with the BatchNorms folded: each of the 17,056 BN
    # channels (stem 32, 17 inverted-residual blocks, last 1280) loses scale and shift and
    # gives its convolution a bias.
    assert s["parameters"] == 3_504_872 - 17_056
    assert s["inputs"] == [{"name": "input", "type": "float32[batch,3,224,224]",
                            "dynamic_dims": [0]}]
    # stem + 2 (first block) + 16 x 3 + last 1x1; a ReLU6 (Clip) after all but projections.
    assert (s["op_counts"]["Conv"], s["op_counts"]["Clip"], s["op_counts"]["Gemm"]) == (52, 35, 1)


TOKEN_INPUT = "int64[batch,sequence]"


@pytest.mark.parametrize("name, inputs, outputs, opset, layers, op_counts", [
    # BertConfig(): 12 layers; opset 17 keeps LayerNorm whole (2 per layer + embeddings) and
    # GELU is exact (Erf).
    ("bert_base.onnx", ["input_ids", "attention_mask", "token_type_ids"],
     ["last_hidden_state", "pooler_output"], 17, 12, {"LayerNormalization": 25, "Erf": 12}),
    # GPT2Config(): 12 layers, tanh GELU, a causal mask (Where) per layer, and at opset 14 the
    # 25 LayerNorms spelled out (Pow for the variance).
    ("gpt2.onnx", ["input_ids", "attention_mask"], ["logits"], 14, 12,
     {"Where": 12, "Tanh": 12, "LayerNormalization": 0}),
    # all-MiniLM-L6-v2: 6 layers, exact GELU, LayerNorm spelled out at opset 15.
    ("minilm_l6_v2.onnx", ["input_ids", "attention_mask", "token_type_ids"],
     ["last_hidden_state", "sentence_embedding"], 15, 6, {"Erf": 6, "LayerNormalization": 0}),
])
def test_transformer_summary_facts(check_json, name, inputs, outputs, opset, layers, op_counts):
    # Pins the exports: dynamic batch and sequence on every input, one Softmax per layer.
    _, report = check_json(name)
    s = report["summary"]
    assert s["opsets"] == {"ai.onnx": opset}
    assert s["inputs"] == [{"name": n, "type": TOKEN_INPUT, "dynamic_dims": [0, 1]}
                           for n in inputs]
    assert [o["name"] for o in s["outputs"]] == outputs
    assert s["op_counts"]["Softmax"] == layers
    for op, n in op_counts.items():
        assert s["op_counts"].get(op, 0) == n, op
    assert len(problems_with(report, "K4001")) == len(inputs)


def test_unused_initializers_reported(check_json, model_path):
    run, report = check_json(UNUSED_INIT_MODEL)
    unused = unused_initializers(load(model_path(UNUSED_INIT_MODEL)).graph)
    assert unused, "the model was expected to carry unused initializers"
    found = problems_with(report, "K1026")
    assert len(found) == 1, run.describe()
    p = found[0]
    assert p["severity"] == "warning" and p["category"] == "PARSE_ERROR"
    assert p["message"].startswith(f"{len(unused)} initializer(s) are never used"), p["message"]
    named = re.findall(r"'([^']+)'", p["message"])
    assert len(named) == min(len(unused), 8), p["message"]
    assert set(named) <= set(unused), p["message"]
    assert report["warnings"] >= 1


def test_strict_turns_warnings_into_exit_1(kiln, model_path):
    r = kiln.run("check", "--strict", str(model_path(UNUSED_INIT_MODEL)))
    assert r.returncode == 1, r.describe()
    assert "K1026" in r.stdout


# ---- broken variants ----------------------------------------------------------------------------

def test_opset22_json_names_opset_range_and_fix(check_json):
    run, report = check_json("resnet50_opset22.onnx")
    assert run.returncode == 2, run.describe()
    assert report["ok"] is False
    found = problems_with(report, "K1004")
    assert len(found) == 1, run.describe()
    p = found[0]
    assert p["category"] == "PARSE_ERROR" and p["severity"] == "error"
    assert "22" in p["message"], p["message"]  # the model's opset
    assert "1–21" in p["message"], p["message"]  # kiln's range
    assert "opset_version=21" in p["fix"], p["fix"]  # what to do


def test_opset22_only_error_is_k1004(check_json):
    # Nothing but the opset number changed: every node is still supported, so one error.
    run, report = check_json("resnet50_opset22.onnx")
    assert codes(report, "error") == ["K1004"], run.describe()


def test_opset22_human_output(kiln, model_path):
    r = kiln.cached("check", str(model_path("resnet50_opset22.onnx")))
    assert r.returncode == 2, r.describe()
    line = next((ln for ln in r.stdout.splitlines() if "K1004" in ln), None)
    assert line is not None, r.describe()
    assert "22" in line and "1–21" in line, line
    assert "opset_version=21" in r.stdout, r.describe()
    assert "K1004" in r.stderr, r.describe()
    assert re.search(r"^result: FAILED \(1 error,", r.stdout, re.M), r.describe()


def unknown_nodes(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    return [n for n in model.graph.node if not onnx.defs.has(n.op_type, n.domain)]


def test_unknown_ops_all_reported_in_one_report(check_json, model_path):
    run, report = check_json("unknown_ops.onnx")
    assert run.returncode == 2, run.describe()
    model = load(model_path("unknown_ops.onnx"))
    unknown = unknown_nodes(model)
    assert len(unknown) >= 3, "fetch_models.py should build at least three unknown nodes"
    node_problems = [p for p in report["problems"] if p["node"] is not None]
    for n in unknown:
        mine = [p for p in node_problems if p["node"]["name"] == n.name]
        expected = "K2001" if n.domain in ("", "ai.onnx") else "K2004"
        assert [p["code"] for p in mine] == [expected], (
            f"node '{n.name}' ({n.domain or 'ai.onnx'}::{n.op_type}): {mine}\n{run.describe()}")
        p = mine[0]
        assert p["severity"] == "error" and p["category"] == "UNSUPPORTED_NODE"
        assert p["node"]["op_type"] == n.op_type and p["node"]["domain"] == n.domain
        assert n.op_type in p["message"], p["message"]
        if n.domain:
            assert n.domain in p["message"], p["message"]
    assert report["errors"] >= len(unknown)


def test_unknown_ops_spare_the_known_nodes(check_json, model_path):
    _, report = check_json("unknown_ops.onnx")
    model = load(model_path("unknown_ops.onnx"))
    known = {n.name for n in model.graph.node} - {n.name for n in unknown_nodes(model)}
    blamed = [p for p in report["problems"] if p["node"] and p["node"]["name"] in known]
    assert blamed == []


def test_unknown_ops_human_output_names_each_node(kiln, model_path):
    r = kiln.cached("check", str(model_path("unknown_ops.onnx")))
    assert r.returncode == 2, r.describe()
    for n in unknown_nodes(load(model_path("unknown_ops.onnx"))):
        assert re.search(rf"^error\s+K200[14] .*'{re.escape(n.name)}'", r.stdout, re.M), (
            f"no error line naming node '{n.name}'\n{r.describe()}")
    errors = len(re.findall(r"^error ", r.stdout, re.M))
    assert f"kiln check: {errors} error(s); first: K" in r.stderr, r.describe()


def test_unknown_ops_each_reported_once(check_json, model_path):
    # One problem per unknown node and nothing else: the onnx reference checker stops at the
    # first unknown op (K1015 naming only 'fancy_act'), so adding its verdict repeats one
    # node's finding in vaguer words and pushes it ahead of kiln's own on stderr.
    run, report = check_json("unknown_ops.onnx")
    expected = sorted("K2001" if n.domain in ("", "ai.onnx") else "K2004"
                      for n in unknown_nodes(load(model_path("unknown_ops.onnx"))))
    assert sorted(codes(report, "error")) == expected, run.describe()


@pytest.mark.parametrize("json_flag", [True, False], ids=["json", "human"])
def test_truncated_model_is_diagnosed_not_crashed(kiln, model_path, json_flag):
    args = ["check", *(["--json"] if json_flag else []), str(model_path("truncated.onnx"))]
    r = kiln.cached(*args)
    assert r.returncode >= 0, f"killed by signal {-r.returncode}\n{r.describe()}"
    assert r.returncode == 2, r.describe()
    assert re.search(r"K100[12]", r.stderr), r.describe()
    if json_flag:
        report = r.json()
        assert report["parsed"] is False and report["summary"] is None
        assert codes(report) and set(codes(report)) <= {"K1001", "K1002"}, report["problems"]


def test_not_onnx_says_html(check_json):
    run, report = check_json("not_onnx.onnx")
    assert run.returncode == 2, run.describe()
    found = problems_with(report, "K1001")
    assert len(found) == 1, run.describe()
    assert "HTML" in found[0]["message"], found[0]["message"]
    assert "K1001" in run.stderr


def test_missing_file(kiln, model_dir):
    path = model_dir / "no_such_model.onnx"
    r = kiln.run("check", str(path))
    assert r.returncode == 2, r.describe()
    assert "K0101" in r.stderr and str(path) in r.stderr, r.describe()
