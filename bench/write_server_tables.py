#!/usr/bin/env python3
"""Writes bench/server.sh's results into docs/benchmarks.md between the server markers:
per endpoint and concurrency the median over rounds of req/s, p50 and p99 (each round's
p50/p99 are hey's), and the non-2xx answers summed over rounds.
Usage: write_server_tables.py SERVER.jsonl BENCHMARKS.md ROUNDS"""
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_section import write_section  # noqa: E402


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    rounds = sys.argv[3] if len(sys.argv) > 3 else "1"
    runs = {}
    for r in rows:
        if "rps" in r:
            runs.setdefault((r["name"], r["concurrency"]), []).append(r)
    median = lambda rs, key: statistics.median(r[key] for r in rs)
    hey = {k: {"rps": median(rs, "rps"), "p50_ms": median(rs, "p50_ms"), "p99_ms": median(rs, "p99_ms"),
               "bad": sum(sum(n for code, n in r["status"].items() if not code.startswith("2")) + r.get("errors", 0)
                          for r in rs)} for k, rs in runs.items()}
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    lines = [f"Machine: the {nproc}-core development VM; hey and the servers share its cores. hey -z; medians of "
             f"{rounds} alternating rounds.", "",
             "| endpoint | c | req/s | p50 ms | p99 ms | non-2xx |", "|---|---|---|---|---|---|"]
    for (name, c), r in hey.items():
        lines.append(f"| {name} | {c} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['bad']} |")
    lines += ["", "Ratios: the median over rounds of each round's ratio (the two ran back to back), "
              "with the rounds' range:"]

    def ratio(a, b):  # runs[a][i] / runs[b][i] per round i
        per_round = sorted(x["rps"] / y["rps"] for x, y in zip(runs[a], runs[b]))
        spread = f" (rounds {per_round[0]:.2f}-{per_round[-1]:.2f})" if len(per_round) > 1 else ""
        return f"**{statistics.median(per_round):.2f}x**{spread}"

    for c in (8, 64):
        if ("noop", c) in runs and ("nginx", c) in runs:
            lines.append(f"- /v1/noop vs nginx at c={c}: {ratio(('noop', c), ('nginx', c))}")
    for c in (8, 32):
        on, off = ("classify_batching_on", c), ("classify_batching_off", c)
        if on in runs and off in runs:
            lines.append(f"- /classify c={c}: batching on {hey[on]['rps']:.0f} req/s vs off {hey[off]['rps']:.0f} "
                         f"req/s: {ratio(on, off)}")
    table = "\n".join(lines)
    write_section(sys.argv[2], "server", table)
    print(table)


if __name__ == "__main__":
    main()
