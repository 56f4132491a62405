"""kiln INT8 (or BF16) vs kiln FP32 on the CPU: speed-up and agreement (the reduced-precision
issue's bar).

    .venv/bin/python bench/int8_bench.py [--precision int8|bf16] [--models resnet50,bert_base]
                                         [--runs 40] [--calib-batches 32] [--algo entropy]
                                         [--kiln PATH]

--precision bf16 builds the second engine with `--bf16` (no calibration) and writes
<out>/<date>-bf16.json and .md instead.

Per model: builds an FP32 engine and an INT8 engine (`--int8 --calib DIR`, DIR holding
--calib-batches synthetic batches of the model's inputs), benchmarks both with `kiln bench` in
alternating rounds (median of all samples), and runs both on --eval inputs unseen by
calibration, reporting the cosine similarity and max abs difference of every output.
Synthetic data measures speed and numerical agreement, not task accuracy: the trained-model
accuracy checks live in tests/models. Writes <out>/<date>-int8.json and .md.
"""

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import cpu_bench as cb  # noqa: E402

MODELS = {k: cb.MODELS[k] for k in ("resnet50", "bert_base", "mobilenet_v2")}


def synth(spec, seed):
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape, kind in spec:
        if kind == "f32":
            out[name] = rng.standard_normal(shape).astype(np.float32)
        elif kind == "ids":
            out[name] = rng.integers(0, 1000, shape, dtype=np.int64)
        elif kind == "ones":
            out[name] = np.ones(shape, np.int64)
        else:
            out[name] = np.zeros(shape, np.int64)
    return out


def write_calib(spec, d, batches):
    d.mkdir(parents=True)
    for b in range(batches):
        bd = d / f"batch{b:04d}"
        bd.mkdir()
        for name, x in synth(spec, 1000 + b).items():
            np.save(bd / f"{name}.npy", x)


def build(a, model, spec, engine, extra):
    cmd = [a.kiln, "build", str(model), "--shapes", *cb.shape_args(spec), "-o", str(engine),
           "--no-progress", "--json", *extra]
    rc, out, err, rss, wall = cb.run_measured(cmd, a.timeout)
    if rc != 0:
        raise RuntimeError(f"kiln build {' '.join(extra)}: {cb.fail_text(rc, err)}")
    return {"wall_s": wall, "report": json.loads(out), "stderr": err[-2000:]}


def run_outputs(a, engine, inputs, d):
    d.mkdir(parents=True, exist_ok=True)
    cmd = [a.kiln, "run", str(engine), "--json", "-o", str(d)]
    for n, p in inputs.items():
        cmd += ["--input", f"{n}={p}"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
    if r.returncode != 0:
        raise RuntimeError(f"kiln run: {cb.fail_text(r.returncode, r.stderr)}")
    return {o["name"]: np.load(o["file"]) for o in json.loads(r.stdout)["outputs"]}


def agreement(x, y):
    x, y = x.astype(np.float64).ravel(), y.astype(np.float64).ravel()
    cos = float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y) + 1e-300))
    return {"cosine": cos, "max_abs": float(np.max(np.abs(x - y))),
            "max_abs_ref": float(np.max(np.abs(y)))}


def bench_model(a, name, tmp):
    file, spec = MODELS[name]
    model = Path(a.models_dir) / file
    d = Path(tmp) / name
    d.mkdir()
    inputs = cb.make_inputs(spec, d)
    calib = d / "calib"
    write_calib(spec, calib, a.calib_batches)
    r = {"model": name, "calib_batches": a.calib_batches, "algorithm": a.algo}
    fp32, int8 = d / "fp32.engine", d / "int8.engine"
    cache = d / "timing.cache"
    cb.log(f"[{name}] build fp32, then {a.precision}")
    r["build_fp32"] = build(a, model, spec, fp32, ["--timing-cache", str(cache)])
    if a.precision == "bf16":
        r["build_int8"] = build(a, model, spec, int8, ["--timing-cache", str(cache), "--bf16"])
    else:
        r["build_int8"] = build(a, model, spec, int8,
                                ["--timing-cache", str(cache), "--int8", "--calib", str(calib),
                                 "--calib-algo", a.algo, "--calib-min-samples",
                                 str(a.calib_batches)])
    probe = cb.kiln_bench(a, fp32, inputs, 1, 0, True)
    warm = a.warmup_runs * probe["report"]["latency_ms"]["median"]
    per_round = max(1, -(-a.runs // a.rounds))
    s32, s8 = [], []
    for _ in range(a.rounds):
        s32 += cb.kiln_bench(a, fp32, inputs, per_round, warm, True)["report"]["samples_ms"]
        s8 += cb.kiln_bench(a, int8, inputs, per_round, warm, True)["report"]["samples_ms"]
    r["fp32_ms"], r["int8_ms"] = cb.stats(s32), cb.stats(s8)
    r["speedup"] = r["fp32_ms"]["median"] / r["int8_ms"]["median"]
    r["eval"] = []
    for k in range(a.eval):
        files = {}
        ed = d / f"eval{k}"
        ed.mkdir()
        for n, x in synth(spec, 5000 + k).items():
            np.save(ed / f"{n}.npy", x)
            files[n] = str(ed / f"{n}.npy")
        y32 = run_outputs(a, fp32, files, ed / "fp32")
        y8 = run_outputs(a, int8, files, ed / "int8")
        r["eval"].append({o: agreement(y8[o], y32[o]) for o in y32})
    r["min_cosine"] = min(v["cosine"] for e in r["eval"] for v in e.values())
    cb.log(f"[{name}] fp32 {r['fp32_ms']['median']:.2f} ms, {a.precision} "
           f"{r['int8_ms']['median']:.2f} ms,"
           f" speed-up {r['speedup']:.2f}x, min cosine {r['min_cosine']:.5f}")
    return r


def header(res, precision):
    m = res["machine"]
    return [f"# kiln {precision} vs FP32, CPU, {res['date']}", "",
            f"{m['cpu_model']}, {m['cpus']} CPUs ({', '.join(m['cpu_flags'])}); "
            f"{res['threads']} threads; batch 1; median of {res['runs']} runs in "
            f"{res['rounds']} alternating rounds. {m['kiln_version']} @ "
            f"{str(m['kiln_git_commit'])[:10]}{' (dirty tree)' if m['kiln_tree_dirty'] else ''}.",
            ""]


def markdown(res):
    if res.get("precision") == "bf16":
        return markdown_bf16(res)
    lines = header(res, "INT8") + [
             "| model | FP32 ms | INT8 ms | speed-up | INT8 layers | calibration | min cosine vs FP32 |",
             "|---|---:|---:|---:|---:|---|---:|"]
    for r in res["models"]:
        if "error" in r:
            lines.append(f"| {r['model']} | error: {r['error']} | | | | | |")
            continue
        i8 = r["build_int8"]["report"].get("int8", {})
        lines.append(f"| {r['model']} | {r['fp32_ms']['median']:.2f} | {r['int8_ms']['median']:.2f} | "
                     f"{r['speedup']:.2f}x | {i8.get('layers', '?')} | {r['algorithm']}, "
                     f"{r['calib_batches']} synthetic batches | {r['min_cosine']:.5f} |")
    lines += ["", "Inputs are synthetic (bench/cpu_bench.py's generator; calibration and evaluation "
              "use disjoint seeds), so the cosine column measures numerical agreement with FP32 on "
              "data like the calibration set, not task accuracy."]
    return "\n".join(lines) + "\n"


def markdown_bf16(res):
    lines = header(res, "BF16") + [
             "| model | FP32 ms | BF16 ms | speed-up | BF16 layers | min cosine vs FP32 |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in res["models"]:
        if "error" in r:
            lines.append(f"| {r['model']} | error: {r['error']} | | | | |")
            continue
        n = r["build_int8"]["report"].get("bf16_layers", "?")
        lines.append(f"| {r['model']} | {r['fp32_ms']['median']:.2f} | {r['int8_ms']['median']:.2f} | "
                     f"{r['speedup']:.2f}x | {n} | {r['min_cosine']:.5f} |")
    lines += ["", "`kiln build --bf16` (autotuned: BF16 or FP32 per layer). Inputs are synthetic, so "
              "the cosine column is numerical agreement, not task accuracy (ResNet-50 and "
              "MobileNetV2 are untrained exports; see tests/models/test_bf16_models.py)."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--precision", choices=["int8", "bf16"], default="int8")
    ap.add_argument("--models", default="resnet50,bert_base")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--warmup-runs", type=int, default=5)
    ap.add_argument("--calib-batches", type=int, default=32)
    ap.add_argument("--algo", default="entropy")
    ap.add_argument("--eval", type=int, default=3, help="evaluation inputs per model")
    ap.add_argument("--kiln", default=str(cb.REPO / "build/src/tools/kiln"))
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--models-dir", default=str(cb.REPO / ".cache/models"))
    ap.add_argument("--timeout", type=float, default=1800)
    a = ap.parse_args()
    date = datetime.date.today().isoformat()
    res = {"date": date, "precision": a.precision, "threads": a.threads, "runs": a.runs, "rounds": a.rounds,
           "machine": cb.machine_info(a), "models": []}
    with tempfile.TemporaryDirectory(prefix="kiln-int8-") as tmp:
        for name in [m for m in a.models.split(",") if m]:
            try:
                res["models"].append(bench_model(a, name, tmp))
            except Exception as e:  # noqa: BLE001 - one model's failure must not lose the others
                cb.log(f"[{name}] failed: {e}")
                res["models"].append({"model": name, "error": str(e)})
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{date}-{a.precision}"
    Path(f"{stem}.json").write_text(json.dumps(res, indent=1) + "\n")
    md = markdown(res)
    Path(f"{stem}.md").write_text(md)
    print(md)
    return 1 if any("error" in r for r in res["models"]) else 0


if __name__ == "__main__":
    sys.exit(main())
