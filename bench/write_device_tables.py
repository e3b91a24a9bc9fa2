#!/usr/bin/env python3
"""Writes the GPU device run (bench/device_run.sh, results copied to RESULTS_DIR) into
docs/benchmarks.md between the device markers: the PyTorch peer on the GPU (images/s,
latency and images/s/W at batch 1, 8 and 128) and inferd's CPU engine on the same host.
Usage: write_device_tables.py RESULTS_DIR BENCHMARKS.md"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_section import write_section  # noqa: E402

PEER_NAMES = {"mobilenet_v2": "mobilenetv2"}


def rows(path):
    return [json.loads(l) for l in open(path) if l.strip().startswith("{")]


def main():
    results, doc_path = sys.argv[1:3]
    gpu_lines = open(f"{results}/gpu.txt").read().splitlines()
    gpu, cpu, cores = gpu_lines[1], gpu_lines[2].split(":", 1)[1].strip(), gpu_lines[3]
    peer = [r for r in rows(f"{results}/peer_torch.jsonl") if "bs" in r and "error" not in r]
    engine = {(r["model"], r["batch"]): r for r in rows(f"{results}/engine_cpu.jsonl")}
    lines = [f"GPU: {gpu} (nvidia-smi: name, driver, power limit, memory); host CPU: {cpu}, {cores} cores. "
             "PyTorch 2.11 fp16 channels_last (`peer_torch.py`), median latency, board watts from NVML. "
             "inferd has no GPU backend yet: its column is the CPU engine on the host's cores "
             "(`inferd bench --engine`, fp32), for scale only.", "",
             "| model | batch | PyTorch mode | GPU ms | GPU img/s | GPU W | GPU img/s/W | inferd CPU ms | inferd CPU img/s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in peer:
        model = PEER_NAMES.get(r["model"], r["model"])
        e = engine.get((model, r["bs"])) or {}
        fmt = lambda v, spec: "-" if v is None else format(v, spec)
        lines.append(f"| {model} | {r['bs']} | {r['mode']} | {r['p50_ms']:.3f} | {r['img_s']:.0f} | {fmt(r.get('watts'), '.0f')} "
                     f"| {fmt(r.get('img_s_W'), '.1f')} | {fmt(e.get('median_ms'), '.2f')} | {fmt(e.get('images_per_s'), '.0f')} |")
    text = "\n".join(lines)
    write_section(doc_path, "device", text)
    print(text)


if __name__ == "__main__":
    main()
