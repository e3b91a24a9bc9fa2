#!/usr/bin/env python3
"""Turns bench/engine_cpu.sh's JSON lines into the CPU table of docs/benchmarks.md.

The table goes between <!-- engine-cpu:begin --> and <!-- engine-cpu:end -->; the
rest of the file is left as it is."""
import json
import os
import platform
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_section import write_section  # noqa: E402


def cpu_name():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def table(rows):
    # Median over rounds of every figure, per (model, engine, batch).
    groups = {}
    for r in rows:
        groups.setdefault((r["model"], r["engine"], r["batch"]), []).append(r)
    by = {}
    for key, rs in groups.items():
        by[key] = {k: median([x[k] for x in rs]) for k in ("median_ms", "images_per_s", "build_ms", "plan_load_ms")
                   if all(k in x for x in rs)}
    rounds = max(len(rs) for rs in groups.values())
    models = list(dict.fromkeys(r["model"] for r in rows))
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"Machine: {cpu_name()}, {nproc} cores, threads = {nproc}. Median of {rounds} alternating rounds, each the "
        "median of a timed loop (bench/engine_cpu.sh --min-seconds); ratio = inferd / ONNX Runtime time (< 1 is faster).",
        "",
        "| model | batch 1 ms (inferd / ORT / ratio) | batch 8 img/s (inferd / ORT) | batch 32 img/s (inferd / ORT) | build ms | plan load ms |",
        "|---|---|---|---|---|---|",
    ]
    for m in models:
        def get(engine, batch, key):
            r = by.get((m, engine, batch))
            return r.get(key, float("nan")) if r else float("nan")
        b1, o1 = get("inferd", 1, "median_ms"), get("onnxruntime", 1, "median_ms")
        lines.append(
            f"| {m} | {b1:.2f} / {o1:.2f} / **{b1 / o1:.2f}** "
            f"| {get('inferd', 8, 'images_per_s'):.0f} / {get('onnxruntime', 8, 'images_per_s'):.0f} "
            f"| {get('inferd', 32, 'images_per_s'):.0f} / {get('onnxruntime', 32, 'images_per_s'):.0f} "
            f"| {get('inferd', 1, 'build_ms'):.0f} | {get('inferd', 1, 'plan_load_ms'):.0f} |")
    return "\n".join(lines)


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
    write_section(sys.argv[2], "engine-cpu", table(rows))
    print(table(rows))


if __name__ == "__main__":
    main()
