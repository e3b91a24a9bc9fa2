#!/usr/bin/env python3
"""Writes the GPU engine section of docs/benchmarks.md (between the gpu-engine markers) from
bench/gpu.sh runs' files (gpu.txt, inferd.jsonl, peer.jsonl, passes.jsonl, tests.txt), one
subsection per run.
Usage: python3 bench/write_gpu_tables.py RESULTS_DIR [RESULTS_DIR ...] [--doc DOC]
       (RESULTS_DIR: e.g. bench/results/gpu-h200)
Ratios are inferd / peer from the same run: latency below 1 and img/s above 1 favour inferd."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_section import write_section  # noqa: E402

PEER_NAMES = {"mobilenet_v2": "mobilenetv2", "squeezenet1_1": "squeezenet"}
MODELS = ["resnet50", "googlenet", "alexnet", "mobilenetv2", "squeezenet"]


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    return [json.loads(l) for l in open(path) if l.strip().startswith("{")]


def fmt(x, digits=1):
    return "n/a" if x is None else f"{x:,.{digits}f}"


def ratio(a, b):
    return "n/a" if a is None or b is None or b == 0 else f"**{a / b:.2f}**"


def model_name(r):
    # Runs before gpu.sh named the model kept inferd's own key: the plan's path.
    return os.path.basename(r["model"]).split(".")[0]


def engine_table(inferd, peer, mode):
    ours = {(model_name(r), r["batch"]): r for r in inferd}
    theirs = {(PEER_NAMES.get(r["model"], r["model"]), r["bs"]): r for r in peer if r.get("mode") == mode and "p50_ms" in r}
    rows = ["| model | batch 1 ms: inferd / peer / ratio | batch 8 ms: inferd / peer / ratio | "
            "batch 256 img/s: inferd / peer / ratio | batch 256 img/s/W: inferd / peer / ratio | plan build s | plan load ms |",
            "|---|---|---|---|---|---|---|"]
    for m in MODELS:
        o1, p1, o8, p8 = ours.get((m, 1)), theirs.get((m, 1)), ours.get((m, 8)), theirs.get((m, 8))
        o256, p256 = ours.get((m, 256)), theirs.get((m, 256))
        if not (o1 or o256):
            continue
        get = lambda r, k: None if r is None else r.get(k)
        eff_o = get(o256, "images_per_joule")
        eff_p = get(p256, "img_s_W")
        rows.append(f"| {m} | {fmt(get(o1, 'median_ms'), 3)} / {fmt(get(p1, 'p50_ms'), 3)} / {ratio(get(o1, 'median_ms'), get(p1, 'p50_ms'))} "
                    f"| {fmt(get(o8, 'median_ms'), 3)} / {fmt(get(p8, 'p50_ms'), 3)} / {ratio(get(o8, 'median_ms'), get(p8, 'p50_ms'))} "
                    f"| {fmt(get(o256, 'images_per_s'), 0)} / {fmt(get(p256, 'img_s'), 0)} / {ratio(get(o256, 'images_per_s'), get(p256, 'img_s'))} "
                    f"| {fmt(eff_o)} / {fmt(eff_p)} / {ratio(eff_o, eff_p)} "
                    f"| {fmt(None if o256 is None else o256.get('plan_build_ms', 0) / 1000.0)} | {fmt(get(o256, 'plan_load_ms'), 0)} |")
    return "\n".join(rows)


def passes_table(passes):
    if not passes:
        return ""
    rows = ["| model | passes left out | kernels | batch 1 ms | batch 256 img/s |", "|---|---|---|---|---|"]
    cells = {}
    for r in passes:
        cells.setdefault((r["model"], r["disabled"], r["kernels"]), {})[r["batch"]] = r
    for (m, off, kernels), by_batch in cells.items():
        b1, b256 = by_batch.get(1), by_batch.get(256)
        rows.append(f"| {m} | {off} | {kernels} | {fmt(b1 and b1['median_ms'], 3)} | {fmt(b256 and b256['images_per_s'], 0)} |")
    return "\n".join(rows)


def run_section(d):
    """The tables of one bench/gpu.sh run: inferd against each peer mode it ran, the pass
    ablation, the gpu tests' summary."""
    gpu = open(os.path.join(d, "gpu.txt")).read().splitlines()
    inferd = read_jsonl(os.path.join(d, "inferd.jsonl"))
    peer = read_jsonl(os.path.join(d, "peer.jsonl"))
    header = next((r for r in peer if "gpu" in r), {})
    tests_path = os.path.join(d, "tests.txt")
    tests = open(tests_path).read().splitlines() if os.path.exists(tests_path) else []
    counts = re.compile(r"^\[  (PASSED|FAILED|SKIPPED) +\] \d+ tests?[,.]|^\[==========\] .* ran\.")
    summary = [l for l in tests if counts.match(l) or "imagenet sample on the GPU" in l]
    parts = [f"### Run of {gpu[5] if len(gpu) > 5 else '?'} (`{os.path.relpath(d, os.path.join(os.path.dirname(__file__), '..'))}`)",
             "",
             f"Machine: {gpu[1] if len(gpu) > 1 else '?'} (nvidia-smi: name, driver, power limit, memory, max SM clock); "
             f"host: {gpu[2].split(':')[-1].strip() if len(gpu) > 2 else '?'}. "
             f"Peer: PyTorch {header.get('torch', '?')} with cuDNN {header.get('cudnn', '?')}, same run. Median latency "
             "of one batch with its synchronization; img/s from batches back to back; board watts from NVML over that loop."]
    titles = {"compile": "**inferd fp16 vs torch.compile (mode=reduce-overhead) fp16 channels_last (`peer_torch.py ... compile`)**:",
              "graphs": "**inferd fp16 vs PyTorch eager fp16 channels_last + CUDA graph (`peer_torch.py ... graphs`)**:"}
    for mode, title in titles.items():
        if any(r.get("mode") == mode for r in peer):
            parts += ["", title, "", engine_table(inferd, peer, mode)]
    passes = read_jsonl(os.path.join(d, "passes.jsonl"))
    if passes:
        parts += ["", "**What horizontal fusion and concat elimination buy on the GPU** (fp16, same run; kernels = plan nodes):",
                  "", passes_table(passes)]
    if summary:
        parts += ["", "gpu tests (`test_gpu`, same run):", "```", *summary, "```"]
    return "\n".join(parts)


def main():
    args = sys.argv[1:]
    doc = os.path.join(os.path.dirname(__file__), "..", "docs", "benchmarks.md")
    if "--doc" in args:
        i = args.index("--doc")
        doc = args[i + 1]
        del args[i:i + 2]
    if not args:
        sys.exit(__doc__)
    write_section(doc, "gpu-engine", "\n\n".join(run_section(d) for d in args))


if __name__ == "__main__":
    main()
