#!/usr/bin/env python3
"""Writes bench/layer_cost.sh's results (medians over rounds) into docs/benchmarks.md between
the layer-cost markers. Usage: write_layer_cost_table.py RESULTS.jsonl BENCHMARKS.md"""
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_section import write_section  # noqa: E402


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    lines = [f"Machine: the {nproc}-core development VM, hey -c 8 on the same cores; medians of "
             f"{max(r['round'] for r in rows)} alternating rounds.", "",
             "| model | served req/s | mean batch | server CPU ms/request (io + decode + exec) | "
             "engine CPU ms/image at that batch | layers' cost | non-2xx |",
             "|---|---|---|---|---|---|---|"]
    for model in dict.fromkeys(r["model"] for r in rows):
        rs = [r for r in rows if r["model"] == model]
        med = lambda f: statistics.median(f(r) for r in rs)
        total, engine = med(lambda r: r["cpu_ms"]["total"]), med(lambda r: r["engine_cpu_ms_per_image"])
        parts = " + ".join(f"{med(lambda r, k=k: r['cpu_ms'][k]):.2f}" for k in ("io", "decode", "exec"))
        cost = med(lambda r: 100 * (r["cpu_ms"]["total"] / r["engine_cpu_ms_per_image"] - 1))
        lines.append(f"| {model} | {med(lambda r: r['rps']):.0f} | {med(lambda r: r['mean_batch']):.1f} | "
                     f"{total:.2f} ({parts}) | {engine:.2f} (batch {rs[0]['engine_batch']}) | **{cost:+.0f}%** | "
                     f"{sum(r['non_2xx'] for r in rs)} |")
    table = "\n".join(lines)
    write_section(sys.argv[2], "layer-cost", table)
    print(table)


if __name__ == "__main__":
    main()
