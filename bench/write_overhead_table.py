#!/usr/bin/env python3
"""Prints the server-overhead table of docs/benchmarks.md from a bench/gpu_overhead.sh run:
the empty servers (nginx, /v1/noop, /v1/noop?device=1) at each concurrency, then a lone
/classify's latency against the server's own stages for the same requests (handler to
answer, host decode, queue, instance: the metrics read before and after it). Also reads
bench/server_cost.sh's output (CPU or GPU path). Usage: python3 bench/write_overhead_table.py DIR"""
import json
import os
import re
import sys


def metrics(path):
    out = {}
    for line in open(path):
        m = re.match(r'^(\w+)(?:\{model="[^"]*"(?:,stage="(\w+)")?\})? (\S+)', line)
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
    # Images decoded on the host: by the decoder pool before batching, or by an idle instance
    # on its own thread (inside the instance's time, its stage "host_decode"); the decode
    # histogram counts both, only the pool's part lies outside the instance.
    decodes = delta.get("inferd_image_decode_duration_seconds_count", 0)
    in_instance = delta.get("inferd_batch_stage_duration_seconds_sum:host_decode", 0.0)
    pool_decode_s = delta.get("inferd_image_decode_duration_seconds_sum", 0.0) - in_instance
    host_decode = max(0.0, 1000 * pool_decode_s / decodes) if decodes else 0.0
    answered = delta.get("inferd_request_duration_seconds_count", 0)
    handler = 1000 * delta.get("inferd_request_duration_seconds_sum", 0.0) / answered if answered else 0.0
    lat = c1["latency_ms"]
    noop = next((r for r in loads if r["name"] == "noop" and r["concurrency"] == 1), None)
    device = ""
    if in_instance:
        device = (f" (host decode on its thread {per('inferd_batch_stage_duration_seconds_sum:host_decode'):.3f}, "
                  f"compute {per('inferd_batch_stage_duration_seconds_sum:compute'):.3f})")
    elif "inferd_batch_stage_duration_seconds_sum:compute" in delta:
        device = (f" (on the GPU: decode {per('inferd_batch_stage_duration_seconds_sum:device_decode'):.3f}, "
                  f"compute {per('inferd_batch_stage_duration_seconds_sum:compute'):.3f})")
    print(f"\nA lone /classify (c=1, {c1['requests']} requests, {batches:.0f} batches): client mean "
          f"{lat['mean']:.3f} ms (p50 {lat['p50']:.3f})")
    print("\n| part | ms per request |\n|---|---|")
    print(f"| client's latency (mean) | {lat['mean']:.3f} |")
    if answered:
        print(f"| server, handler to answer (inferd_request_duration_seconds) | {handler:.3f} |")
    if decodes:
        print(f"| of which host decode on the decoder pool | {host_decode:.3f} |")
    print(f"| of which batch queue (includes the instance thread's wake-up) | {queue:.3f} |")
    print(f"| of which instance{device} | {instance:.3f} |")
    if answered:
        print(f"| of which the rest of the handler (hand-offs, top-k, JSON) | "
              f"{handler - host_decode - queue - instance:.3f} |")
        print(f"| outside the handler (client, TCP, body read, the answer's hop to the I/O thread, write) | "
              f"{lat['mean'] - handler:.3f} |")
        writes = delta.get("inferd_answer_write_duration_seconds_count", 0)
        if writes:
            write_ms = 1000 * delta.get("inferd_answer_write_duration_seconds_sum", 0.0) / writes
            print(f"| of which the answer's hop to the I/O thread and its write | {write_ms:.3f} |")
    if noop:
        print(f"| for scale: POST /v1/noop at c=1 (mean) | {noop['latency_ms']['mean']:.3f} |")
    # At c=1 with no batching delay the queue's time is the hand-off to the instance thread
    # (its wake-up): the server's own cost, so it stays in (the tables before 2026-12-06's
    # session 11 took it out: 0.02-0.04 ms less than this).
    print(f"\nThe server's own cost over decode + instance: "
          f"**{lat['mean'] - host_decode - instance:.3f} ms** (the queue's hand-off included; without it "
          f"{lat['mean'] - host_decode - queue - instance:.3f})")
    # The same on the server's side alone: from each request's head parsed to its answer
    # written, without the client's send and receive and the network's hops.
    exchanges = delta.get("inferd_exchange_duration_seconds_count", 0)
    if exchanges:
        exchange = 1000 * delta.get("inferd_exchange_duration_seconds_sum", 0.0) / exchanges
        print(f"On the server's side (head parsed to answer written, {exchange:.3f} ms per request): "
              f"**{exchange - host_decode - instance:.3f} ms** over decode + instance")

if __name__ == "__main__":
    main(sys.argv[1])
