#!/usr/bin/env python3
"""Turns bench/engine_int8_cpu.sh's JSON lines into the INT8-vs-FP32 CPU table of
docs/benchmarks.md (between <!-- engine-int8-cpu:begin --> and <!-- engine-int8-cpu:end -->)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_section import write_section  # noqa: E402
from write_engine_table import cpu_name, median  # noqa: E402


def table(rows):
    groups, coverage = {}, {}
    for r in rows:
        if "activations" in r:
            coverage[r["model"]] = (r["int8_activations"], r["activations"])
        else:
            groups.setdefault((r["model"], r["precision"], r["batch"]), []).append(r)
    by = {k: {f: median([x[f] for x in rs]) for f in ("median_ms", "images_per_s")} for k, rs in groups.items()}
    rounds = max(len(rs) for rs in groups.values())
    models = list(dict.fromkeys(k[0] for k in groups))
    batches = sorted({k[2] for k in groups})
    lines = [
        f"Machine: {cpu_name()}, {os.cpu_count()} cores, threads = {os.cpu_count()}. Median of {rounds} "
        "alternating rounds, each the median of a timed loop; speed-up = FP32 time / INT8 time. INT8: "
        "each layer INT8 or float by the build's clock, INT8 tensors between INT8 layers (the default); "
        "in brackets, the speed-up with every layer INT8 that can be (`--int8-layers all`: all) and with "
        "every value stored fp32 (`--disable-pass int8_storage`: fp32 values).",
        "",
        "| model | INT8 activations | " + " | ".join(f"batch {b} ms (FP32 / INT8 / speed-up)" for b in batches) + " |",
        "|---|---|" + "---|" * len(batches),
    ]
    for m in models:
        cells = []
        for b in batches:
            f, i = by.get((m, "fp32", b)), by.get((m, "int8", b))
            if f and i:
                others = [f"{label} {f['median_ms'] / by[(m, p, b)]['median_ms']:.2f}x"
                          for p, label in (("int8all", "all"), ("int8f32", "fp32 values")) if (m, p, b) in by]
                every = f" ({', '.join(others)})" if others else ""
                cells.append(f"{f['median_ms']:.2f} / {i['median_ms']:.2f} / **{f['median_ms'] / i['median_ms']:.2f}x**"
                             + every)
            else:
                cells.append("-")
        int8, total = coverage.get(m, (0, 0))
        lines.append(f"| {m} | {int8} of {total} | " + " | ".join(cells) + " |")
    if any(k[1] == "ort-qdq" for k in by):
        lines += ["", "The same calibration as an ONNX Q/DQ model (`inferd quantize`), built by inferd and run by "
                  "ONNX Runtime; ratio = inferd time / ONNX Runtime time (< 1: inferd is faster).", "",
                  "| model | " + " | ".join(f"batch {b} ms (inferd / ONNX Runtime / ratio)" for b in batches) + " |",
                  "|---|" + "---|" * len(batches)]
        for m in models:
            cells = []
            for b in batches:
                q, o = by.get((m, "qdq", b)), by.get((m, "ort-qdq", b))
                cells.append(f"{q['median_ms']:.2f} / {o['median_ms']:.2f} / **{q['median_ms'] / o['median_ms']:.2f}**"
                             if q and o else "-")
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    write_section(sys.argv[2], "engine-int8-cpu", table(rows))


if __name__ == "__main__":
    main()
