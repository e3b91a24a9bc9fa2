#!/usr/bin/env python3
"""Turns bench/run_all.sh's results into the SVG plots (docs/img/) and the summary tables in
docs/benchmarks.md (between the run-all markers). The other sections are written by the
scripts run_all.sh calls. Usage: write_run_all.py RESULTS_DIR BENCHMARKS.md IMG_DIR"""
import json
import os
import re
import statistics
import subprocess
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svg_plot  # noqa: E402
from doc_section import write_section  # noqa: E402


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    return [json.loads(l) for l in open(path) if l.strip().startswith("{")]


def medians(rows, key_fields, value):
    groups = {}
    for r in rows:
        if value(r) is not None:
            groups.setdefault(tuple(r[k] for k in key_fields), []).append(value(r))
    return {k: statistics.median(v) for k, v in groups.items()}


def seed_table(rows):
    """The whitepaper's table: latency and images/s at batch 1 and at the largest batch
    every model ran, inferd / peer, ratio = inferd time / peer time (< 1: inferd faster)."""
    ips = medians(rows, ("model", "engine", "batch"), lambda r: r.get("images_per_s"))
    lat = medians(rows, ("model", "engine", "batch"), lambda r: r.get("median_ms"))
    per_joule = medians(rows, ("model", "engine", "batch"), lambda r: r.get("images_per_joule"))
    models = list(dict.fromkeys(r["model"] for r in rows))
    big = max(b for b in {r["batch"] for r in rows} if all((m, "inferd", b) in ips for m in models))
    peer, peer_label = "onnxruntime", "ONNX Runtime"
    fmt = lambda v, spec: "n/a" if v is None else format(v, spec)
    ratio = lambda a, b: "n/a" if a is None or b is None else f"**{a / b:.2f}**"
    lines = [f"| model | batch 1 ms (inferd / {peer_label} / ratio) | batch 1 img/s | batch {big} ms (inferd / "
             f"{peer_label} / ratio) | batch {big} img/s | inferd img/s/W (batch 1 / {big}) |",
             "|---|---|---|---|---|---|"]
    for m in models:
        g = lambda e, b, d: d.get((m, e, b))
        lines.append(
            f"| {m} | {fmt(g('inferd', 1, lat), '.2f')} / {fmt(g(peer, 1, lat), '.2f')} / "
            f"{ratio(g('inferd', 1, lat), g(peer, 1, lat))} "
            f"| {fmt(g('inferd', 1, ips), '.0f')} / {fmt(g(peer, 1, ips), '.0f')} "
            f"| {fmt(g('inferd', big, lat), '.1f')} / {fmt(g(peer, big, lat), '.1f')} / "
            f"{ratio(g('inferd', big, lat), g(peer, big, lat))} "
            f"| {fmt(g('inferd', big, ips), '.0f')} / {fmt(g(peer, big, ips), '.0f')} "
            f"| {fmt(g('inferd', 1, per_joule), '.2f')} / {fmt(g('inferd', big, per_joule), '.2f')} |")
    return lines


def engine_section(rows, img_dir):
    ips = medians(rows, ("model", "engine", "batch"), lambda r: r.get("images_per_s"))
    models = list(dict.fromkeys(r["model"] for r in rows))
    batches = sorted({r["batch"] for r in rows})
    series = []
    for i, m in enumerate(models):  # one color per model: inferd solid, ONNX Runtime dashed
        for engine, dashed in (("inferd", False), ("onnxruntime", True)):
            pts = [(b, ips.get((m, engine, b))) for b in batches]
            series.append((f"{m} {'inferd' if engine == 'inferd' else 'ORT'}", pts, dashed, i))
    svg_plot.line_chart(f"{img_dir}/engine_throughput.svg", "Engine alone: images/s vs batch size (CPU)",
                        "batch size", "images/s (log)", series, xlog=True, ylog=True)
    rounds = max(Counter((r["model"], r["engine"], r["batch"]) for r in rows).values())
    return ["![engine throughput](img/engine_throughput.svg)", "",
            f"Seed-style table, medians of {rounds} alternating rounds (images/s/W needs readable RAPL counters):",
            ""] + seed_table(rows)


def loadgen_section(rows):
    if not rows:
        return []
    for r in rows:  # hey's lines (bench/parse_hey.py) carry the tool as their name
        r.setdefault("tool", r.get("name"))
    rps = medians(rows, ("tool", "concurrency"), lambda r: r.get("rps"))
    lines = ["", "Load generators driving `POST /v1/noop` (same server, same run):", "",
             "| c | hey req/s | inferd bench req/s | ratio |", "|---|---|---|---|"]
    for c in sorted({r["concurrency"] for r in rows}):
        h, i = rps.get(("hey", c)), rps.get(("inferd", c))
        if h and i:
            lines.append(f"| {c} | {h:.0f} | {i:.0f} | **{i / h:.2f}x** |")
    return lines


def sweep_section(rows, img_path, title, group="batching"):
    """Latency vs throughput curves of `inferd bench --sweep` runs per value of `group` (the
    field run_all.sh or device_run.sh added to each line), plot and table; a point run in
    several rounds shows the medians of its req/s, p50 and p99, and the failures summed."""
    rows = [r for r in rows if "concurrency" in r]  # not the sweep's summary lines
    if not rows:
        return []
    key = (group, "concurrency")
    rps = medians(rows, key, lambda r: r["rps"])
    pct = {p: medians(rows, key, lambda r: r["latency_ms"][p]) for p in ("p50", "p99")}
    bad = {}
    for r in rows:
        k = (r[group], r["concurrency"])
        bad[k] = bad.get(k, 0) + r["requests"] - r["status_classes"]["2xx"] + r["error_count"]
    values = list(dict.fromkeys(r[group] for r in rows))  # in the order they ran
    points = sorted(rps, key=lambda k: (values.index(k[0]), k[1]))
    series = []
    for i, value in enumerate(values):  # p50 solid, p99 dashed
        ks = [k for k in points if k[0] == value]
        for p, dashed in (("p50", False), ("p99", True)):
            series.append((f"{group} {value} {p}" if group == "batching" else f"{value} {p}",
                           [(rps[k], pct[p][k]) for k in ks], dashed, i))
    svg_plot.line_chart(img_path, title, "requests/s", "latency ms", series)
    lines = ["", f"![{title}](img/{os.path.basename(img_path)})", "",
             f"| {group} | c | req/s | p50 ms | p99 ms | non-2xx |", "|---|---|---|---|---|---|"]
    for k in points:
        lines.append(f"| {k[0]} | {k[1]} | {rps[k]:.0f} | {pct['p50'][k]:.1f} | {pct['p99'][k]:.1f} | {bad[k]} |")
    return lines


def profile_section(results_dir, img_dir):
    lines = []
    for model in ("squeezenet", "resnet50"):
        path = f"{results_dir}/profile_{model}.txt"
        if not os.path.exists(path):
            continue
        layers = [(f"{m.group(3)} ({m.group(2)})", float(m.group(1)))
                  for m in re.finditer(r"^\s+([\d.]+) ms\s+(\S+)\s+(\S+)", open(path).read(), re.M)]
        top = sorted(layers, key=lambda l: -l[1])[:15]
        total = sum(v for _, v in layers)
        svg_plot.bar_chart(f"{img_dir}/layers_{model}.svg",
                           f"{model}: the 15 slowest of {len(layers)} layers, batch 1 (total {total:.2f} ms)",
                           "ms (median of 10 runs)", top)
        lines += ["", f"![{model} per-layer times](img/layers_{model}.svg)"]
    return lines


def main():
    results_dir, doc_path, img_dir = sys.argv[1:4]
    os.makedirs(img_dir, exist_ok=True)
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True,
                         text=True).stdout.strip()
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    lines = [f"Machine: {cpu}, {nproc} cores (`bash bench/run_all.sh`)." , ""]
    lines += engine_section(read_jsonl(f"{results_dir}/engine_cpu.jsonl"), img_dir)
    lines += loadgen_section(read_jsonl(f"{results_dir}/loadgen.jsonl"))
    lines += sweep_section(read_jsonl(f"{results_dir}/sweep.jsonl"), f"{img_dir}/server_latency.svg",
                           "POST /classify (SqueezeNet): latency vs throughput")
    lines += profile_section(results_dir, img_dir)
    text = "\n".join(lines)
    write_section(doc_path, "run-all", text)
    print(text)


if __name__ == "__main__":
    main()
