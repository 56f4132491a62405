"""The ONNX Runtime side of cpu_bench.py, run in its own process so its peak RSS is its own.

    ort_runner.py MODEL.onnx --inputs NAME=FILE.npy ... --threads T --runs N --warmup-runs W
    ort_runner.py --baseline     # imports numpy + onnxruntime, does nothing: the RSS floor

Prints one JSON object on stdout: per-run latencies (ms) and session creation time.
"""

import argparse
import json
import time

import numpy as np
import onnxruntime as ort


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", nargs="?")
    p.add_argument("--inputs", nargs="*", default=[])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup-runs", type=int, default=5)
    p.add_argument("--baseline", action="store_true")
    a = p.parse_args()
    if a.baseline:
        print(json.dumps({"baseline": True, "ort_version": ort.__version__}))
        return

    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    t = time.perf_counter()
    sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    session_s = time.perf_counter() - t

    feeds = {}
    for spec in a.inputs:
        name, path = spec.split("=", 1)
        feeds[name] = np.load(path)
    for _ in range(a.warmup_runs):
        sess.run(None, feeds)
    samples = []
    for _ in range(a.runs):
        t = time.perf_counter()
        sess.run(None, feeds)
        samples.append((time.perf_counter() - t) * 1000.0)
    print(json.dumps({"samples_ms": samples, "session_create_s": session_s,
                      "warmup_runs": a.warmup_runs, "ort_version": ort.__version__}))


if __name__ == "__main__":
    main()
