#!/usr/bin/env python3
"""Writes bench/batch_delay.sh's sweep (JSON lines of `inferd bench --sweep --json`, each
with a "variant") into docs/benchmarks.md between the batch-delay markers: per variant and
concurrency, the median over rounds of req/s, p50 and p99.
Usage: write_batch_delay_table.py SWEEP.jsonl BENCHMARKS.md ROUNDS"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_section import write_section  # noqa: E402
from write_run_all import medians, read_jsonl  # noqa: E402

LABELS = {"delay_0": "max_batch 32, delay 0 (default)", "delay_2000": "max_batch 32, delay 2000 us",
          "off": "batching off (max_batch 1)"}


def main():
    sweep_path, doc_path, rounds = sys.argv[1:4]
    rows = [r for r in read_jsonl(sweep_path) if "concurrency" in r]
    rps = medians(rows, ("variant", "concurrency"), lambda r: r["rps"])
    p50 = medians(rows, ("variant", "concurrency"), lambda r: r["latency_ms"]["p50"])
    p99 = medians(rows, ("variant", "concurrency"), lambda r: r["latency_ms"]["p99"])
    variants = [v for v in LABELS if any(k[0] == v for k in rps)]
    cs = sorted({r["concurrency"] for r in rows})
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    lines = [f"Machine: this {nproc}-core VM, load generator on the same cores; POST /classify (SqueezeNet), "
             f"medians of {rounds} alternating rounds; each cell req/s (p50 / p99 ms).", "",
             "| c | " + " | ".join(LABELS[v] for v in variants) + " |", "|---" * (len(variants) + 1) + "|"]
    for c in cs:
        cells = [f"{rps[(v, c)]:.0f} ({p50[(v, c)]:.1f} / {p99[(v, c)]:.1f})" if (v, c) in rps else "n/a"
                 for v in variants]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    text = "\n".join(lines)
    write_section(doc_path, "batch-delay", text)
    print(text)


if __name__ == "__main__":
    main()
