"""kiln vs ONNX Runtime on the CPU: latency, peak RSS, build time, % of the machine's FP32 peak.

    .venv/bin/python bench/cpu_bench.py [--models a,b] [--threads 2] [--runs 20]
                                        [--kiln PATH] [--out bench/results]

Writes <out>/<date>-cpu.json (every raw figure), <out>/<date>-cpu.md (the table, also printed)
and <out>/<date>-cpu.png (ratio and latency charts). bench/README.md explains the method.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import flops  # noqa: E402

# name -> (file, [(input, shape, kind)]); kind picks the synthetic data (see make_inputs).
MODELS = {
    "resnet50": ("resnet50.onnx", [("input", [1, 3, 224, 224], "f32")]),
    "mobilenet_v2": ("mobilenet_v2.onnx", [("input", [1, 3, 224, 224], "f32")]),
    "bert_base": ("bert_base.onnx", [("input_ids", [1, 128], "ids"),
                                     ("attention_mask", [1, 128], "ones"),
                                     ("token_type_ids", [1, 128], "zeros")]),
    "ppocr_det": ("ppocr_det.onnx", [("x", [1, 3, 640, 640], "f32")]),
    "ppocr_rec": ("ppocr_rec.onnx", [("x", [1, 3, 48, 320], "f32")]),
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def ensure_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        # numpy is pinned to the version in use: an unpinned install upgrades it (to 2.x), which
        # breaks the venv's numpy<2 packages; pip then picks a matplotlib that fits this numpy.
        log(f"matplotlib is missing: installing it into this venv "
            f"(pip install matplotlib numpy=={np.__version__})")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "matplotlib",
                        f"numpy=={np.__version__}"], check=True)
        subprocess.run([sys.executable, "-c", "import matplotlib"], check=True)


# Runs argv[2:] as its child and writes that child's peak RSS (KiB) to the file argv[1]. Why a
# launcher: Linux starts a process's max RSS at its parent's RSS when it forks (kept across exec),
# and this script holds ONNX models in memory; a bare `python -S` launcher is ~10 MB, below any
# process measured here, so the child's figure is its own.
_LAUNCHER = """
import os, resource, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status = os.waitpid(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(cmd, timeout_s):
    """Runs cmd; returns (exit code, stdout, stderr, peak RSS of that process in KiB, wall s)."""
    with tempfile.TemporaryDirectory() as d:
        rss_file = Path(d) / "maxrss"
        t = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-S", "-c", _LAUNCHER, str(rss_file), *cmd],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            out, err = p.communicate()
            err += f"\ntimed out after {timeout_s:.0f} s"
        wall = time.perf_counter() - t
        rss = int(rss_file.read_text()) if rss_file.exists() else 0
        return p.returncode, out, err, rss, wall


def make_inputs(spec, directory):
    rng = np.random.default_rng(0)
    files = {}
    for name, shape, kind in spec:
        if kind == "f32":
            x = rng.standard_normal(shape).astype(np.float32)
        elif kind == "ids":
            x = rng.integers(0, 1000, shape, dtype=np.int64)
        elif kind == "ones":
            x = np.ones(shape, np.int64)
        else:
            x = np.zeros(shape, np.int64)
        path = Path(directory) / f"{name}.npy"
        np.save(path, x)
        files[name] = str(path)
    return files


def stats(samples):
    s = sorted(samples)

    def nearest_rank(q):  # as kiln bench (and trtexec) report percentiles
        r = max(1, -(-len(s) * q // 100))
        return s[min(len(s), int(r)) - 1]

    return {"median": statistics.median(s), "p90": nearest_rank(90), "min": s[0], "max": s[-1],
            "mean": statistics.fmean(s), "n": len(s)}


def shape_args(spec):
    return [f"{n}:{'x'.join(map(str, s))}" for n, s, _ in spec]


def kiln_help(kiln, sub):
    return subprocess.run([kiln, sub, "--help"], capture_output=True, text=True).stdout


def fail_text(rc, err):
    m = re.search(r"K\d{3,4} [A-Z_]+[^\n]*", err)
    return (m.group(0) if m else err.strip().splitlines()[-1] if err.strip() else f"exit {rc}")[:300]


def kiln_build(a, model_path, spec, engine, cache, use_cache):
    cmd = [a.kiln, "build", str(model_path), "--opt-level", "3", "--shapes", *shape_args(spec),
           "-o", str(engine), "--no-progress", "--json"]
    if use_cache:
        cmd += ["--timing-cache", str(cache)]
    rc, out, err, rss, wall = run_measured(cmd, a.timeout)
    if rc != 0:
        raise RuntimeError(f"kiln build: {fail_text(rc, err)}")
    return {"wall_s": wall, "peak_rss_kb": rss, "report": json.loads(out)}


def kiln_bench(a, engine, inputs, runs, warmup_ms, intra_flag):
    cmd = [a.kiln, "bench", str(engine), "--json", "--iterations", str(runs),
           "--warmup", f"{warmup_ms:.0f}", "--duration", "0"]
    for name, path in inputs.items():
        cmd += ["--input", f"{name}={path}"]
    if intra_flag:
        cmd += ["--intra-op-threads", str(a.threads)]
    rc, out, err, rss, wall = run_measured(cmd, a.timeout)
    if rc != 0:
        raise RuntimeError(f"kiln bench: {fail_text(rc, err)}")
    return {"wall_s": wall, "peak_rss_kb": rss, "report": json.loads(out), "cmd": cmd}


def ort_bench(a, model_path, inputs, runs=None):
    cmd = [sys.executable, str(HERE / "ort_runner.py"), str(model_path), "--threads", str(a.threads),
           "--runs", str(runs or a.runs), "--warmup-runs", str(a.warmup_runs),
           "--inputs", *[f"{n}={p}" for n, p in inputs.items()]]
    rc, out, err, rss, wall = run_measured(cmd, a.timeout)
    if rc != 0:
        raise RuntimeError(f"onnxruntime: {fail_text(rc, err)}")
    r = json.loads(out)
    return {"wall_s": wall, "peak_rss_kb": rss, "samples_ms": r["samples_ms"],
            "latency_ms": stats(r["samples_ms"]), "session_create_s": r["session_create_s"]}


def ort_baseline_rss(a):
    rc, _, err, rss, _ = run_measured([sys.executable, str(HERE / "ort_runner.py"), "--baseline"],
                                      a.timeout)
    if rc != 0:
        raise RuntimeError(f"onnxruntime baseline: {fail_text(rc, err)}")
    return rss


def measure_peak(a, tmp):
    src, exe = HERE / "peak_flops.cpp", Path(tmp) / "peak_flops"
    subprocess.run(["g++", "-O2", "-march=native", "-pthread", str(src), "-o", str(exe)], check=True)
    # Best of a few 1 s runs: other load on the machine only ever lowers the figure.
    runs = []
    for _ in range(a.peak_repeats):
        out = subprocess.run([str(exe), str(os.cpu_count())], capture_output=True, text=True,
                             check=True).stdout
        runs.append(float(re.search(r"PEAK_GFLOPS ([\d.]+)", out).group(1)))
    isa = re.search(r"ISA (.*), \d+ lanes", out).group(1)
    return {"gflops": max(runs), "runs_gflops": runs, "isa": isa, "threads": os.cpu_count(),
            "compile": "g++ -O2 -march=native -pthread"}


def machine_info(a):
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.*)", cpuinfo)
    flags = set(re.search(r"flags\s*:\s*(.*)", cpuinfo).group(1).split())
    kiln_dir = Path(a.kiln).resolve().parent

    def git(*args):
        r = subprocess.run(["git", "-C", str(kiln_dir), *args], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    import onnxruntime
    import onnx
    return {
        "cpu_model": model.group(1).strip() if model else platform.processor(),
        "cpus": os.cpu_count(),
        "cpu_flags": sorted(flags & {"avx2", "fma", "avx512f", "avx512bw", "avx512_vnni",
                                      "avx512_bf16", "amx_tile", "f16c"}),
        "kernel": platform.release(),
        "kiln": str(Path(a.kiln).resolve()),
        "kiln_version": subprocess.run([a.kiln, "--version"], capture_output=True,
                                       text=True).stdout.strip(),
        "kiln_git_commit": git("rev-parse", "HEAD"),
        # The binary may be built from uncommitted changes: say so.
        "kiln_tree_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "kiln_binary_mtime": datetime.datetime.fromtimestamp(
            Path(a.kiln).stat().st_mtime).isoformat(timespec="seconds"),
        "ort_version": onnxruntime.__version__,
        "onnx_version": onnx.__version__,
        "numpy_version": np.__version__,
        "python": platform.python_version(),
    }


def bench_model(a, name, tmp, intra_flag):
    file, spec = MODELS[name]
    model_path = Path(a.models_dir) / file
    r = {"model": name, "file": str(model_path),
         "inputs": {n: {"shape": s, "data": k} for n, s, k in spec}}
    total, by_op, unknown = flops.count_flops(str(model_path), {n: s for n, s, _ in spec})
    r["flops"] = {"total": total, "by_op": by_op, "nodes_with_unknown_shapes": unknown}
    d = Path(tmp) / name
    d.mkdir()
    inputs = make_inputs(spec, d)
    engine, cache = d / f"{name}.engine", d / "timing.cache"

    log(f"[{name}] kiln build (cold, then warm with the timing cache)")
    use_cache = "--timing-cache" in kiln_help(a.kiln, "build")
    r["build_cold"] = kiln_build(a, model_path, spec, engine, cache, use_cache)
    r["build_warm"] = kiln_build(a, model_path, spec, engine, cache, use_cache)
    r["timing_cache_used"] = use_cache

    # kiln's warm-up is a time: a 1-run probe sizes it to warmup_runs runs, as ORT gets.
    probe = kiln_bench(a, engine, inputs, 1, 0, intra_flag)
    warmup_ms = a.warmup_runs * probe["report"]["latency_ms"]["median"]
    r["kiln_probe_ms"] = probe["report"]["latency_ms"]["median"]
    log(f"[{name}] kiln bench: {a.runs} runs after {warmup_ms:.0f} ms warm-up; then onnxruntime")
    # Alternating rounds (kiln, ORT, kiln, ORT, …) so that the shared machine's slow and fast
    # phases hit both alike; medians are over all samples of all rounds.
    per_round = max(1, -(-a.runs // a.rounds))
    kiln_rounds, ort_rounds = [], []
    for _ in range(a.rounds):
        kiln_rounds.append(kiln_bench(a, engine, inputs, per_round, warmup_ms, intra_flag))
        ort_rounds.append(ort_bench(a, model_path, inputs, per_round))
    kiln_samples = [x for kr in kiln_rounds for x in kr["report"]["samples_ms"]]
    ort_samples = [x for o in ort_rounds for x in o["samples_ms"]]
    r["kiln"] = dict(kiln_rounds[0])
    r["kiln"]["peak_rss_kb"] = max(kr["peak_rss_kb"] for kr in kiln_rounds)
    r["kiln"]["rounds"] = [kr["report"] for kr in kiln_rounds]
    r["kiln"]["samples_ms"] = kiln_samples
    r["kiln"]["latency_ms"] = stats(kiln_samples)
    r["ort"] = dict(ort_rounds[0])
    r["ort"]["peak_rss_kb"] = max(o["peak_rss_kb"] for o in ort_rounds)
    r["ort"]["samples_ms"] = ort_samples
    r["ort"]["latency_ms"] = stats(ort_samples)
    r["rounds"] = a.rounds
    k = r["kiln"]["latency_ms"]
    r["ratio"] = k["median"] / r["ort"]["latency_ms"]["median"]
    return r


def fmt(x, digits=1):
    return "—" if x is None else f"{x:.{digits}f}"


def markdown(res):
    m, lines = res["machine"], []
    lines.append(f"# kiln vs ONNX Runtime, CPU, {res['date']}")
    lines.append("")
    lines.append(f"{m['cpu_model']}, {m['cpus']} CPUs ({', '.join(m['cpu_flags'])}); "
                 f"{res['threads']} intra-op threads; batch 1, FP32; median of {res['runs']} runs "
                 f"after {res['warmup_runs']} warm-up runs. {m['kiln_version']} "
                 f"@ {(m['kiln_git_commit'] or '?')[:10]}{' (+uncommitted changes)' if m['kiln_tree_dirty'] else ''}, "
                 f"onnxruntime {m['ort_version']}.")
    if not res["kiln_intra_op_threads"]:
        lines.append("")
        lines.append("**kiln ran single-threaded**: this kiln's `bench` has no `--intra-op-threads`.")
    lines.append("")
    lines.append("| model | kiln ms | ORT ms | kiln/ORT | kiln RSS MB | ORT RSS MB | ORT RSS − baseline MB "
                 "| build s cold | build s warm |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    base = res["ort_baseline_rss_kb"] / 1024
    for r in res["models"]:
        if "error" in r:
            lines.append(f"| {r['model']} | error: {r['error']} | | | | | | | |")
            continue
        lines.append(
            f"| {r['model']} | {fmt(r['kiln']['latency_ms']['median'], 2)} "
            f"| {fmt(r['ort']['latency_ms']['median'], 2)} | {fmt(r['ratio'], 2)} "
            f"| {fmt(r['kiln']['peak_rss_kb'] / 1024)} | {fmt(r['ort']['peak_rss_kb'] / 1024)} "
            f"| {fmt(r['ort']['peak_rss_kb'] / 1024 - base)} "
            f"| {fmt(r['build_cold']['wall_s'], 2)} | {fmt(r['build_warm']['wall_s'], 2)} |")
    p = res["peak"]
    lines.append("")
    lines.append(f"Machine FP32 peak (measured by bench/peak_flops.cpp: {p['isa']}, {p['threads']} threads, "
                 f"best of {len(p['runs_gflops'])} runs): **{p['gflops']:.1f} GFLOP/s**.")
    lines.append("")
    lines.append("| model | GFLOP | kiln GFLOP/s | kiln % peak | ORT GFLOP/s | ORT % peak |")
    lines.append("|---|---:|---:|---:|---:|---:|")
    for r in res["models"]:
        if "error" in r:
            continue
        g = r["flops"]["total"] / 1e9
        kg = g / (r["kiln"]["latency_ms"]["median"] / 1e3)
        og = g / (r["ort"]["latency_ms"]["median"] / 1e3)
        lines.append(f"| {r['model']} | {g:.2f} | {kg:.1f} | {100 * kg / p['gflops']:.1f} "
                     f"| {og:.1f} | {100 * og / p['gflops']:.1f} |")
    lines.append("")
    lines.append(f"ms: median latency per inference. kiln/ORT: ratio of medians (< 1: kiln faster). "
                 f"RSS: peak resident set of the benchmarking process (kiln: `kiln bench` on the engine; "
                 f"ORT: a Python process with numpy + onnxruntime); ORT RSS − baseline subtracts a Python "
                 f"process that only imports numpy + onnxruntime ({base:.1f} MB). build: wall time of "
                 f"`kiln build --opt-level 3`, cold = no timing cache, warm = second build with the cache. "
                 f"GFLOP: Conv/ConvTranspose/Gemm/MatMul multiply-adds × 2 (bench/flops.py). "
                 f"Load average before/after: {res['loadavg_before']} / {res['loadavg_after']}.")
    return "\n".join(lines) + "\n"


def chart(res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in res["models"] if "error" not in r]
    names = [r["model"] for r in ok]
    ratios = [r["ratio"] for r in ok]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    bars = ax1.bar(names, ratios, color=["tab:green" if x <= 0.8 else "tab:orange" if x <= 1 else "tab:red"
                                  for x in ratios])
    ax1.bar_label(bars, fmt="%.2f")
    ax1.axhline(1.0, color="black", lw=1, label="1.0 (parity)")
    ax1.axhline(0.8, color="tab:blue", lw=1, ls="--", label="0.8 (target)")
    if ratios and max(ratios) > 10:
        ax1.set_yscale("log")
    ax1.set_ylabel("kiln / ORT median latency")
    kt = res["kiln_intra_op_threads"] or 1
    ax1.set_title(f"latency ratio (kiln {kt}, ORT {res['threads']} threads; lower is better)")
    ax1.legend()
    x = np.arange(len(ok))
    ax2.bar(x - 0.2, [r["kiln"]["latency_ms"]["median"] for r in ok], 0.4, label="kiln")
    ax2.bar(x + 0.2, [r["ort"]["latency_ms"]["median"] for r in ok], 0.4, label="ONNX Runtime")
    ax2.set_xticks(x, names)
    ax2.set_yscale("log")
    ax2.set_ylabel("median latency, ms (log)")
    ax2.set_title("absolute medians")
    ax2.legend()
    for ax in (ax1, ax2):
        ax.tick_params(axis="x", labelrotation=20)
    fig.suptitle(f"kiln vs ONNX Runtime, CPU, {res['date']} — {res['machine']['cpu_model']}")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated, of: " + ", ".join(MODELS))
    ap.add_argument("--threads", type=int, default=2, help="intra-op threads of both runtimes")
    ap.add_argument("--runs", type=int, default=40, help="timed runs per model and runtime")
    ap.add_argument("--rounds", type=int, default=4,
                    help="alternating kiln/ORT rounds the runs are split into")
    ap.add_argument("--warmup-runs", type=int, default=5, help="untimed runs before (>= 5 by default)")
    ap.add_argument("--kiln", default=str(REPO / "build/src/tools/kiln"))
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--models-dir", default=str(REPO / ".cache/models"))
    ap.add_argument("--peak-repeats", type=int, default=6, help="1 s peak-FLOPS runs (best kept: interference only lowers it)")
    ap.add_argument("--timeout", type=float, default=1800, help="per subprocess, s")
    a = ap.parse_args()
    names = [m for m in a.models.split(",") if m]
    for m in names:
        if m not in MODELS:
            sys.exit(f"unknown model '{m}'; choose from {', '.join(MODELS)}")
    if not Path(a.kiln).exists():
        sys.exit(f"no kiln at {a.kiln}: build it (scripts/build.sh) or pass --kiln PATH")
    ensure_matplotlib()

    intra_flag = "--intra-op-threads" in kiln_help(a.kiln, "bench")
    if not intra_flag:
        log("note: this kiln's `bench` has no --intra-op-threads: kiln runs single-threaded")
    date = datetime.date.today().isoformat()
    res = {"date": date, "threads": a.threads, "runs": a.runs, "warmup_runs": a.warmup_runs,
           "kiln_intra_op_threads": a.threads if intra_flag else None,
           "loadavg_before": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
           "machine": machine_info(a), "models": []}
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as tmp:
        log("measuring the FP32 peak (bench/peak_flops.cpp)")
        res["peak"] = measure_peak(a, tmp)
        res["ort_baseline_rss_kb"] = ort_baseline_rss(a)
        for name in names:
            try:
                res["models"].append(bench_model(a, name, tmp, intra_flag))
            except Exception as e:  # noqa: BLE001 - one model's failure must not lose the others
                log(f"[{name}] failed: {e}")
                res["models"].append({"model": name, "error": str(e)})
    res["loadavg_after"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{date}-cpu"
    Path(f"{stem}.json").write_text(json.dumps(res, indent=1) + "\n")
    md = markdown(res)
    Path(f"{stem}.md").write_text(md)
    chart(res, f"{stem}.png")
    print(md)
    log(f"wrote {stem}.json, {stem}.md, {stem}.png")
    return 1 if any("error" in r for r in res["models"]) else 0


if __name__ == "__main__":
    sys.exit(main())
