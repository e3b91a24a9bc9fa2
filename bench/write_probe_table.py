#!/usr/bin/env python3
"""Prints the cuDNN quantized-convolution table of docs/benchmarks.md from
bench_cudnn_quant_probe's JSON lines (bench/cuda/cudnn_quant_probe.cc): per ResNet-50 layer
kind, the fused conv + scale + bias + ReLU graph's fastest engine time per storage type, its
speed against fp16, and whether cuDNN offered an engine at all.
Usage: python3 bench/write_probe_table.py PROBE.jsonl"""
import json
import sys


def main(path):
    rows = [json.loads(l) for l in open(path) if l.strip().startswith("{")]
    head = next((r for r in rows if "gpu" in r), {})
    cells = [r for r in rows if "layer" in r]
    layers = list(dict.fromkeys(r["layer"] for r in cells))
    types = list(dict.fromkeys(r["types"] for r in cells))
    at = {(r["layer"], r["types"]): r for r in cells}
    print(f"{head.get('gpu', '?')}, sm_{head.get('sm', '?')}, cuDNN {head.get('cudnn', '?')}, "
          f"batch {cells[0]['batch'] if cells else '?'}: ms (TOPS; x fp16)\n")
    print("| layer | " + " | ".join(types) + " |")
    print("|---" * (len(types) + 1) + "|")
    for layer in layers:
        base = at.get((layer, "fp16"), {}).get("best_ms")
        out = []
        for t in types:
            r = at.get((layer, t), {})
            if "best_ms" not in r:
                out.append("no engine" if r.get("offered", 0) == 0 else "none finalized")
                continue
            speed = f"; {base / r['best_ms']:.2f}x" if base and t != "fp16" else ""
            out.append(f"{r['best_ms']:.3f} ({r['tops']:.0f}{speed})")
        print(f"| {layer} | " + " | ".join(out) + " |")
    worst = {t: max((at[(l, t)].get("max_error", 0) for l in layers if (l, t) in at), default=0) for t in types}
    print("\nLargest error at 256 sampled outputs per layer (integer outputs in rounding steps, "
          "float outputs relative): " + ", ".join(f"{t} {worst[t]:.3g}" for t in types))


if __name__ == "__main__":
    main(sys.argv[1])
