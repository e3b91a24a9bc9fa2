#!/usr/bin/env python3
"""Writes the GPU device run (bench/device_run.sh, results copied to RESULTS_DIR) into
docs/benchmarks.md between the device markers: the PyTorch peer on the GPU (images/s,
latency and images/s/W at batch 1, 8 and 128), inferd's CPU engine next to ONNX Runtime on
the same host's cores, and the /classify latency-vs-throughput curves there (SVG in IMG_DIR).
Usage: write_device_tables.py RESULTS_DIR BENCHMARKS.md IMG_DIR"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_section import write_section  # noqa: E402
from write_run_all import read_jsonl, seed_table, sweep_section  # noqa: E402

PEER_NAMES = {"mobilenet_v2": "mobilenetv2"}


def peer_table(results):
    fmt = lambda v, spec: "-" if v is None else format(v, spec)
    lines = ["| model | batch | PyTorch mode | GPU ms | GPU img/s | GPU W | GPU img/s/W |", "|---|---|---|---|---|---|---|"]
    for r in read_jsonl(f"{results}/peer_torch.jsonl"):
        if "bs" not in r or "error" in r:
            continue
        lines.append(f"| {PEER_NAMES.get(r['model'], r['model'])} | {r['bs']} | {r['mode']} | {r['p50_ms']:.3f} "
                     f"| {r['img_s']:.0f} | {fmt(r.get('watts'), '.0f')} | {fmt(r.get('img_s_W'), '.1f')} |")
    return lines


def main():
    results, doc_path, img_dir = sys.argv[1:4]
    gpu_lines = open(f"{results}/gpu.txt").read().splitlines()
    gpu, cpu, cores = gpu_lines[1], gpu_lines[2].split(":", 1)[1].strip(), gpu_lines[3]
    lines = [f"GPU: {gpu} (nvidia-smi: name, driver, power limit, memory); host CPU: {cpu}, {cores} cores.", "",
             "**The GPU peer**: PyTorch 2.11 fp16 channels_last (`peer_torch.py`), median latency, board watts "
             "from NVML. inferd has no GPU backend yet, so there is no inferd column here.", ""]
    lines += peer_table(results)
    engine = read_jsonl(f"{results}/engine_cpu.jsonl")
    if any(r.get("engine") == "onnxruntime" for r in engine):
        lines += ["", f"**The host's CPU, same run**: inferd's CPU engine (fp32) / ONNX Runtime "
                  f"(`tools/ort/bench.py`, same settings as bench.js), {cores} threads each, one round "
                  "(no RAPL counters there, so no images/s/W):", ""]
        lines += seed_table(engine)
    sweep = read_jsonl(f"{results}/sweep.jsonl")
    if sweep:
        lines += ["", f"**The server on the host's {cores} cores**: `inferd bench --sweep` of POST /classify "
                  "(the seed photos, closed loop, 4 s per point), inferd serve with its defaults:"]
        lines += sweep_section(sweep, f"{img_dir}/device_server_latency.svg",
                               f"POST /classify on {cores} CPU cores: latency vs throughput", group="model")
    text = "\n".join(lines)
    write_section(doc_path, "device", text)
    print(text)


if __name__ == "__main__":
    main()
