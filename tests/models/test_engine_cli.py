"""The build / run split on real models, through the CLI as users drive it:

- `kiln build --opt-level 0` with a dynamic profile, `kiln run model.engine` at three shapes
  inside it, each compared with `kiln run model.onnx` (the reference interpreter) — bit for bit:
  the engine runs the same kernels on the same graph, so any difference is a planner/executor
  bug (memory reuse, views, in-place);
- the same engines built at the highest optimization level (3) against ONNX Runtime with the
  parity tolerances: fusions reorder float arithmetic, so they are held to the oracle's
  tolerance, not to bit equality;
- `kiln inspect --json`: memory plan figures (arena within 1.10x of the liveness lower bound on
  ResNet-50 and BERT-base), layers with their tactic and source nodes;
- `kiln bench --json`: the report's keys (latency percentiles, throughput, load times);
- coded errors for out-of-profile shapes and missing profiles.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from test_parity import ATOL, ATOL_FOR, BERT_VOCAB, GPT2_VOCAB, RTOL, _tokens

# model → (profile flags, [(case name, feeds)]) with every case inside the profile.
def _f32(rng, *s):
    return rng.standard_normal(s).astype(np.float32)


def _plan(name: str):
    rng = np.random.default_rng(1)
    if name in ("resnet50", "mobilenet_v2"):
        flags = ["--min-shapes", "input:1x3x224x224", "--opt-shapes", "input:2x3x224x224",
                 "--max-shapes", "input:3x3x224x224"]
        return flags, [(f"b{b}", {"input": _f32(rng, b, 3, 224, 224)}) for b in (1, 2, 3)]
    if name == "ppocr_det":
        flags = ["--min-shapes", "x:1x3x64x64", "--max-shapes", "x:2x3x96x128"]
        return flags, [(s, {"x": _f32(rng, *map(int, s.split("x")))})
                       for s in ("1x3x64x96", "2x3x96x64", "1x3x96x128")]
    if name == "ppocr_rec":
        flags = ["--min-shapes", "x:1x3x48x96", "--max-shapes", "x:2x3x48x160"]
        return flags, [(s, {"x": _f32(rng, *map(int, s.split("x")))})
                       for s in ("1x3x48x160", "2x3x48x96", "2x3x48x128")]
    if name == "ppocr_cls":
        flags = ["--min-shapes", "x:1x3x48x192", "--max-shapes", "x:3x3x48x192"]
        return flags, [(f"b{b}", {"x": _f32(rng, b, 3, 48, 192)}) for b in (1, 2, 3)]
    if name == "silero_vad":
        flags = ["--min-shapes", "input:1x256,state:2x1x128",
                 "--max-shapes", "input:2x512,state:2x2x128"]
        sr16, sr8 = np.array(16000, np.int64), np.array(8000, np.int64)
        return flags, [
            ("16k_b1", {"input": _f32(rng, 1, 512), "state": np.zeros((2, 1, 128), np.float32), "sr": sr16}),
            ("16k_b2", {"input": _f32(rng, 2, 512), "state": _f32(rng, 2, 2, 128) * 0.1, "sr": sr16}),
            ("8k_b1", {"input": _f32(rng, 1, 256), "state": _f32(rng, 2, 1, 128) * 0.1, "sr": sr8}),
        ]
    if name in ("bert_base", "minilm_l6_v2", "gpt2"):
        bert = name != "gpt2"
        names = ["input_ids", "attention_mask"] + (["token_type_ids"] if bert else [])
        flags = ["--min-shapes", ",".join(f"{n}:1x8" for n in names),
                 "--opt-shapes", ",".join(f"{n}:2x13" for n in names),
                 "--max-shapes", ",".join(f"{n}:3x16" for n in names)]
        vocab = BERT_VOCAB if bert else GPT2_VOCAB
        return flags, [(f"{b}x{s}", _tokens(rng, b, s, vocab, pad, types=bert, bert=bert))
                       for b, s, pad in [(1, 8, False), (2, 13, True), (3, 16, True)]]
    raise KeyError(name)


MODELS = ["resnet50", "mobilenet_v2", "ppocr_det", "ppocr_rec", "ppocr_cls", "silero_vad",
          "bert_base", "gpt2", "minilm_l6_v2"]


@pytest.fixture(scope="module")
def engines(kiln, model_path, tmp_path_factory):
    """engines(name, level=0, tactics=None) -> path of the model's engine at that optimization
    level (and only those tactics, e.g. "cpu.reference"), built once per test module."""
    built: dict[tuple[str, int, str], object] = {}
    out = tmp_path_factory.mktemp("engines")

    def get(name: str, level: int = 0, tactics: str | None = None):
        key = (name, level, tactics or "")
        if key not in built:
            flags, _ = _plan(name)
            engine = out / f"{name}.O{level}{'.' + tactics if tactics else ''}.engine"
            extra = ["--tactics", tactics] if tactics else []
            r = kiln.run("build", str(model_path(f"{name}.onnx")), "-o", str(engine),
                         "--opt-level", str(level), *extra, *flags)
            assert r.returncode == 0, r.describe()
            built[key] = engine
        return built[key]

    return get


def _run(kiln, model, feeds, out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    args = ["run", str(model), "--output-dir", str(out_dir), "--json"]
    for k, v in feeds.items():
        np.save(out_dir / f"in_{k}.npy", v)
        args += ["--input", f"{k}={out_dir / f'in_{k}.npy'}"]
    r = kiln.run(*args)
    assert r.returncode == 0, r.describe()
    return {o["name"]: np.load(o["file"]) for o in r.json()["outputs"]}


@pytest.mark.parametrize("name", MODELS)
def test_engine_matches_reference_interpreter_bit_for_bit(name, kiln, model_path, engines, tmp_path):
    # The reference kernels in an engine (build/run split, memory plan, views) must reproduce
    # the interpreter exactly; the fast tactics are checked against ONNX Runtime below.
    _, cases = _plan(name)
    engine = engines(name, 0, "cpu.reference")
    for case, feeds in cases:
        ref = _run(kiln, model_path(f"{name}.onnx"), feeds, tmp_path / f"ref_{case}")
        got = _run(kiln, engine, feeds, tmp_path / f"eng_{case}")
        assert ref.keys() == got.keys()
        for k in ref:
            assert got[k].dtype == ref[k].dtype and got[k].shape == ref[k].shape, (case, k)
            diff = np.max(np.abs(got[k].astype(np.float64) - ref[k].astype(np.float64))) \
                if ref[k].size else 0.0
            print(f"{name} {case} {k}: max |engine - interpreter| = {diff:.3g}")
            assert np.array_equal(got[k], ref[k], equal_nan=True), f"{case} {k}: {diff}"


@pytest.mark.parametrize("name", MODELS)
def test_optimized_engine_matches_onnxruntime(name, kiln, model_path, engines, tmp_path):
    _, cases = _plan(name)
    engine = engines(name, 3)
    sess = ort.InferenceSession(str(model_path(f"{name}.onnx")), providers=["CPUExecutionProvider"])
    out_names = [o.name for o in sess.get_outputs()]
    for case, feeds in cases:
        want = dict(zip(out_names, sess.run(None, feeds)))
        got = _run(kiln, engine, feeds, tmp_path / case)
        for o in out_names:
            g, w = got[o], want[o]
            assert g.shape == w.shape and g.dtype == w.dtype, (case, o)
            err = float(np.max(np.abs(g.astype(np.float64) - w))) if w.size else 0.0
            print(f"{name} O3 {case} {o}: max abs error vs ONNX Runtime {err:.3g}")
            np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL_FOR.get(name, ATOL),
                                       err_msg=f"{case} {o}")


@pytest.mark.parametrize("name", ["resnet50", "bert_base"])
def test_arena_within_ten_percent_of_liveness_lower_bound(name, kiln, engines):
    r = kiln.run("inspect", str(engines(name, 3)), "--json")
    assert r.returncode == 0, r.describe()
    mem = r.json()["memory"]
    ratio = mem["arena_bytes"] / mem["lower_bound_bytes"]
    print(f"{name}: arena {mem['arena_bytes']} B, lower bound {mem['lower_bound_bytes']} B, "
          f"naive {mem['naive_bytes']} B, arena/bound {ratio:.3f}")
    assert mem["lower_bound_bytes"] <= mem["arena_bytes"] <= mem["naive_bytes"]
    assert ratio <= 1.10


def test_inspect_lists_layers_with_tactic_precision_and_source_nodes(kiln, engines, model_path):
    r = kiln.run("inspect", str(engines("resnet50", 3)), "--json")
    assert r.returncode == 0, r.describe()
    j = r.json()
    assert j["runs_here"] is True and j["format_version"] >= 1
    assert j["build_options"]["profiles"][0]["input"]["max"] == [3, 3, 224, 224]
    layers = j["layers"]
    check = kiln.cached("check", "--json", str(model_path("resnet50.onnx"))).json()
    # The optimizer may fuse nodes into fewer layers; every layer names where it came from.
    assert 0 < len(layers) <= check["summary"]["nodes"]
    for l in layers:
        assert l["tactic"] and l["precision"] and l["fused_from"], l
    sources = {name for l in layers for name in l["fused_from"]}
    assert "/conv1/Conv" in sources
    assert layers[0]["precision"] == "fp32"


def test_bench_reports_latency_percentiles_throughput_and_load(kiln, engines):
    r = kiln.run("bench", str(engines("ppocr_cls")), "--json", "--duration", "0.2",
                 "--warmup", "20", "--iterations", "5", "--threads", "2")
    assert r.returncode == 0, r.describe()
    j = r.json()
    lat = j["latency_ms"]
    assert lat["min"] <= lat["median"] <= lat["p90"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert lat["min"] <= lat["mean"] <= lat["max"]
    assert j["iterations"] >= 10 and j["threads"] == 2 and j["throughput_qps"] > 0
    assert j["load"]["engine_load_ms"] > 0 and j["load"]["context_create_ms"] >= 0
    assert j["shapes"]["x"] == [3, 3, 48, 192]  # the profile's opt, which defaults to max


def test_out_of_profile_shape_is_a_coded_error_naming_the_fix(kiln, engines, tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((4, 3, 48, 192), np.float32))
    r = kiln.run("run", str(engines("ppocr_cls")), "--input", f"x={x}")
    assert r.returncode != 0
    assert "K3009" in r.stderr and "input 'x' dim 0 = 4" in r.stderr and "[1, 3]" in r.stderr
    assert "--max-shapes x:4x3x48x192" in r.stderr


def test_dynamic_model_without_shapes_is_invalid_config(kiln, model_path, tmp_path):
    r = kiln.run("build", str(model_path("ppocr_cls.onnx")), "-o", str(tmp_path / "e.engine"))
    assert r.returncode != 0
    assert "K4001" in r.stderr and "'x'" in r.stderr and "--min-shapes x:" in r.stderr
    assert not (tmp_path / "e.engine").exists()


def test_onnx_file_given_to_inspect_is_engine_corrupt(kiln, model_path):
    r = kiln.run("inspect", str(model_path("ppocr_cls.onnx")))
    assert r.returncode != 0 and "K9501" in r.stderr
