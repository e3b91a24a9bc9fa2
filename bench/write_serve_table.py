#!/usr/bin/env python3
"""Prints the GPU serving table of docs/benchmarks.md from a bench/gpu_serve.sh run's files:
per concurrency, req/s and p50/p99 of inferd serve in each decode mode (inferd-MODE.jsonl)
and of the peer server (peer.jsonl), and inferd / peer; then the decode ceiling
(decode.jsonl). Usage: python3 bench/write_serve_table.py RESULTS_DIR"""
import glob
import json
import os
import sys


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


def main():
    d = sys.argv[1]
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
    print()
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
