#!/usr/bin/env python3
"""Writes bench/server.sh's results into docs/benchmarks.md between the server markers."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_section import write_section  # noqa: E402


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    hey = {(r["name"], r["concurrency"]): r for r in rows if "rps" in r}
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    lines = [f"Machine: the {nproc}-core development VM; hey and the servers share its cores. hey -z, medians by hey.", "",
             "| endpoint | c | req/s | p50 ms | p99 ms | non-2xx |", "|---|---|---|---|---|---|"]
    for (name, c), r in hey.items():
        bad = sum(n for code, n in r["status"].items() if not code.startswith("2")) + r.get("errors", 0)
        lines.append(f"| {name} | {c} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {bad} |")
    lines.append("")
    for c in (8, 64):
        if ("noop", c) in hey and ("nginx", c) in hey:
            lines.append(f"- /v1/noop vs nginx at c={c}: **{hey[('noop', c)]['rps'] / hey[('nginx', c)]['rps']:.2f}x**")
    for c in (8, 32):
        on, off = hey.get(("classify_batching_on", c)), hey.get(("classify_batching_off", c))
        if on and off:
            lines.append(f"- /classify c={c}: batching on {on['rps']:.0f} req/s vs off {off['rps']:.0f} req/s "
                         f"(**{on['rps'] / off['rps']:.2f}x**)")
    table = "\n".join(lines)
    write_section(sys.argv[2], "server", table)
    print(table)


if __name__ == "__main__":
    main()
