#!/usr/bin/env python3
"""Prints the GPU serving table of docs/benchmarks.md from a bench/gpu_serve.sh run's files:
per concurrency, req/s and p50/p99 of inferd serve in each decode mode (inferd-MODE.jsonl)
and of the peer server (peer.jsonl), and inferd / peer; then the decode ceiling
(decode.jsonl) and where each mode's batches spent their time (metrics.txt). Usage: python3 bench/write_serve_table.py RESULTS_DIR [--plot FILE.svg]
With --plot, also draws p50 (solid) and p99 (dashed) latency against req/s per server; where
peer.jsonl did not come back from the device, the peer's points are read from the run's
table.md (the table that call printed)."""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svg_plot  # noqa: E402


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    return [json.loads(l) for l in open(path) if l.strip().startswith("{")]


def by_concurrency(rows):
    return {r["concurrency"]: r for r in rows if "concurrency" in r}


def cell(r):
    if r is None:
        return "n/a | n/a"
    bad = sum(v for k, v in r.get("status", {}).items() if k != "200") + r.get("error_count", 0)
    flag = f" ({bad} not 200)" if bad else ""
    lat = r["latency_ms"]
    return f"{r['rps']:,.0f}{flag} | {lat['p50']:.1f} / {lat['p99']:.1f}"


def peer_from_table(d):
    """{concurrency: (rps, p50, p99)} from table.md's peer columns (the 3rd-to-last pair)."""
    path = f"{d}/table.md"
    if not os.path.exists(path):
        return {}
    lines = [l for l in open(path) if l.startswith("| ") and l[2].isdigit()]
    head = next(l for l in open(path) if l.startswith("| concurrency"))
    cols = [c.strip() for c in head.strip().strip("|").split("|")]
    at = cols.index("peer server req/s")
    out = {}
    for l in lines:
        v = [c.strip() for c in l.strip().strip("|").split("|")]
        p50, p99 = (float(x) for x in v[at + 1].split("/"))
        out[int(v[0])] = (float(v[at].replace(",", "")), p50, p99)
    return out


def read_metrics(path):
    """{mode: {(metric, stage): value}} from metrics.txt's "== decode = MODE" sections (the
    histograms' _sum and _count lines, summed over models)."""
    out, mode = {}, None
    if not os.path.exists(path):
        return out
    for line in open(path):
        if line.startswith("== decode = "):
            mode = line.split("=")[-1].strip()
            out[mode] = {}
        elif mode and line.startswith("inferd_") and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            metric = name.split("{")[0]
            stage = name.split('stage="')[1].split('"')[0] if 'stage="' in name else ""
            key = (metric, stage)
            out[mode][key] = out[mode].get(key, 0.0) + float(value)
    return out


def stage_lines(d):
    """Where a batch's time went per decode mode, over the whole run (means of the server's
    histograms): queue wait and the instance's time per batch, its device stages, and host
    decoding per image."""
    lines = []
    for mode, m in sorted(read_metrics(f"{d}/metrics.txt").items()):
        def mean_ms(metric, stage=""):
            n = m.get((metric + "_count", stage), 0)
            return f"{1000 * m[(metric + '_sum', stage)] / n:.2f}" if n else "n/a"
        batches = m.get(("inferd_batch_size_count", ""), 0)
        size = m.get(("inferd_batch_size_sum", ""), 0) / batches if batches else 0
        stages = sorted(s for (k, s) in m if k == "inferd_batch_stage_duration_seconds_count" and s)
        parts = ", ".join(f"{s} {mean_ms('inferd_batch_stage_duration_seconds', s)}" for s in stages)
        lines.append(f"- decode={mode}: mean batch {size:.1f}; per batch queue {mean_ms('inferd_queue_duration_seconds')}"
                     f" ms, instance {mean_ms('inferd_compute_duration_seconds')} ms"
                     + (f" (on the GPU: {parts} ms)" if parts else "")
                     + f"; host decode {mean_ms('inferd_image_decode_duration_seconds')} ms per image")
    return lines


def plot(d, runs, peer, path):
    series = []
    for i, (name, points) in enumerate(runs):
        for pct, dashed in (("p50", False), ("p99", True)):
            series.append((f"{name} {pct}", [(p[0], p[1] if pct == "p50" else p[2]) for p in points], dashed, i))
    # The GPU from the run's gpu.txt (nvidia-smi's CSV: a header, then "name, driver, ...").
    gpu = "one GPU"
    if os.path.exists(f"{d}/gpu.txt"):
        lines = open(f"{d}/gpu.txt").read().splitlines()
        if len(lines) > 1 and "," in lines[1]:
            gpu = "one " + lines[1].split(",")[0].strip()
    # Log latency: the peer's tail (seconds) would flatten inferd's milliseconds.
    svg_plot.line_chart(path, f"ResNet-50 fp16 behind /classify on {gpu}: latency vs throughput", "requests/s",
                        "latency ms (log)", series, ylog=True)


def main():
    d = sys.argv[1]
    plot_path = sys.argv[sys.argv.index("--plot") + 1] if "--plot" in sys.argv else None
    modes = sorted(os.path.basename(p)[len("inferd-"):-len(".jsonl")] for p in glob.glob(f"{d}/inferd-*.jsonl"))
    runs = {m: by_concurrency(read_jsonl(f"{d}/inferd-{m}.jsonl")) for m in modes}
    peer = by_concurrency(read_jsonl(f"{d}/peer.jsonl"))
    levels = sorted(set().union(*[set(r) for r in runs.values()], set(peer)))
    head = "| concurrency | " + " | ".join(f"inferd decode={m} req/s | p50 / p99 ms" for m in modes)
    head += " | peer server req/s | p50 / p99 ms | " + " | ".join(f"{m} / peer" for m in modes) + " |"
    print(head)
    print("|" + "---|" * (1 + 2 * len(modes) + 2 + len(modes)))
    for c in levels:
        row = [str(c)] + [cell(runs[m].get(c)) for m in modes] + [cell(peer.get(c))]
        for m in modes:
            a, b = runs[m].get(c), peer.get(c)
            row.append(f"**{a['rps'] / b['rps']:.2f}**" if a and b and b["rps"] else "n/a")
        print("| " + " | ".join(row) + " |")
    if plot_path:
        curves = [(f"inferd decode={m}", [(r["rps"], r["latency_ms"]["p50"], r["latency_ms"]["p99"])
                                          for _, r in sorted(runs[m].items())]) for m in modes]
        peer_points = [(r["rps"], r["latency_ms"]["p50"], r["latency_ms"]["p99"]) for _, r in sorted(peer.items())]
        curves.append(("peer server", peer_points or [v for _, v in sorted(peer_from_table(d).items())]))
        plot(d, curves, peer, plot_path)
    print()
    for line in stage_lines(d):
        print(line)
    for r in read_jsonl(f"{d}/decode.jsonl"):
        if r.get("decoder") == "cpu":
            print(f"- decode ceiling, CPU: {r['threads']} threads {r['images_per_s']:,.0f} img/s")
        elif "error" in r:
            print(f"- decode ceiling, GPU: not measured: {r['error']}")
        else:
            print(f"- decode ceiling, GPU ({r['backend']}, batch {r['batch']}, {r.get('threads', 1)} decoders): "
                  f"{r['images_per_s']:,.0f} img/s")


if __name__ == "__main__":
    main()
