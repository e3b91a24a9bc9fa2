#!/usr/bin/env python3
"""ONNX Runtime (CPU) benchmark peer through the Python package, for machines that have
onnxruntime for Python but no Node (the GPU device machine). Same settings and the same
JSON lines as bench.js: intra-op threads = --threads, 1 inter-op thread, sequential, all
graph optimizations; per batch size a fresh session, warm-up, then timed runs until both
--min-time-s and --min-iters are reached.
Usage: bench.py MODEL.onnx [--batch 1,8,32] [--threads 2] [--warmup 3] [--min-time-s 2]
                [--min-iters 10] [--seed 1]"""
import argparse
import json
import os
import statistics
import sys
import time


def session(ort, model, threads):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def bench_batch(ort, np, args, batch):
    t0 = time.perf_counter()
    sess = session(ort, args.model, args.threads)
    create_ms = (time.perf_counter() - t0) * 1000
    inputs = sess.get_inputs()
    if len(inputs) != 1:
        sys.exit(f"bench.py: {args.model}: expected one graph input")
    rest = inputs[0].shape[1:]
    if not all(isinstance(d, int) and d > 0 for d in rest):
        sys.exit(f"bench.py: {args.model}: input shape {inputs[0].shape} has a symbolic dimension besides the batch")
    # Uniform in [-1, 1) with exact zeros replaced: unit-scale data, never all zeros.
    data = np.random.default_rng(args.seed).uniform(-1, 1, size=[batch, *rest]).astype(np.float32)
    data[data == 0] = 0.5
    feeds = {inputs[0].name: data}
    fetches = [sess.get_outputs()[0].name]
    for _ in range(args.warmup):
        sess.run(fetches, feeds)
    samples = []
    start = time.perf_counter()
    while len(samples) < args.min_iters or time.perf_counter() - start < args.min_time_s:
        t = time.perf_counter()
        sess.run(fetches, feeds)
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    median = statistics.median(samples)
    p90 = samples[min(len(samples), max(1, -(-9 * len(samples) // 10))) - 1]  # nearest rank
    r3 = lambda x: round(x, 3)
    return {"model": os.path.basename(args.model).removesuffix(".onnx"), "batch": batch, "threads": args.threads,
            "iters": len(samples), "median_ms": r3(median), "p90_ms": r3(p90), "min_ms": r3(samples[0]),
            "images_per_s": r3(batch * 1000 / median), "session_create_ms": r3(create_ms),
            "ort_version": ort.__version__}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("--batch", default="1", type=lambda s: [int(b) for b in s.split(",")])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--min-time-s", type=float, default=2)
    p.add_argument("--min-iters", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    import numpy as np
    import onnxruntime as ort
    for batch in args.batch:
        print(json.dumps(bench_batch(ort, np, args, batch), separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
