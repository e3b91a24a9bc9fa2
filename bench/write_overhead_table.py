#!/usr/bin/env python3
"""Prints the server-overhead table of docs/benchmarks.md from a bench/gpu_overhead.sh run:
the empty servers (nginx, /v1/noop, /v1/noop?device=1) at each concurrency, then a lone
/classify's latency against the server's own queue and instance time for the same requests
(the metrics read before and after it). Usage: python3 bench/write_overhead_table.py DIR"""
import json
import os
import re
import sys


def metrics(path):
    out = {}
    for line in open(path):
        m = re.match(r'^(\w+)\{model="[^"]*"(?:,stage="(\w+)")?\} (\S+)', line)
        if m:
            name = m.group(1) + (":" + m.group(2) if m.group(2) else "")
            out[name] = out.get(name, 0.0) + float(m.group(3))
    return out


def main(d):
    rows = [json.loads(l) for l in open(os.path.join(d, "overhead.jsonl")) if l.startswith("{")]
    loads = [r for r in rows if "concurrency" in r]
    print("| server | concurrency | req/s | p50 / p99 ms | not 200 |")
    print("|---|---|---|---|---|")
    for r in loads:
        if r["name"] == "classify-c1":
            continue
        lat = r["latency_ms"]
        print(f"| {r['name']} | {r['concurrency']} | {r['rps']:,.0f} | {lat['p50']:.2f} / {lat['p99']:.2f} | "
              f"{r['requests'] - r['status'].get('200', 0)} |")
    c1 = next((r for r in loads if r["name"] == "classify-c1"), None)
    if c1 is None:
        return
    before, after = metrics(os.path.join(d, "metrics-before.txt")), metrics(os.path.join(d, "metrics-after.txt"))
    delta = {k: after[k] - before.get(k, 0.0) for k in after}
    batches = delta.get("inferd_compute_duration_seconds_count", 0)
    if batches <= 0:
        print("\nno batch ran during the c=1 load")
        return
    per = lambda k: 1000 * delta.get(k, 0.0) / batches  # noqa: E731
    queue, instance = per("inferd_queue_duration_seconds_sum"), per("inferd_compute_duration_seconds_sum")
    lat = c1["latency_ms"]
    print(f"\nA lone /classify (c=1, {c1['requests']} requests, {batches:.0f} batches): client mean "
          f"{lat['mean']:.3f} ms (p50 {lat['p50']:.3f}); the server's queue {queue:.3f} ms and instance "
          f"{instance:.3f} ms per batch (on the GPU: decode {per('inferd_batch_stage_duration_seconds_sum:device_decode'):.3f}, "
          f"compute {per('inferd_batch_stage_duration_seconds_sum:compute'):.3f}); "
          f"the rest, HTTP and the server's hand-offs: **{lat['mean'] - queue - instance:.3f} ms**")


if __name__ == "__main__":
    main(sys.argv[1])
