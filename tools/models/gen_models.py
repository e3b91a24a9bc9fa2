#!/usr/bin/python3
"""Write ResNet-50, GoogLeNet, AlexNet, CaffeNet and MobileNetV2 as ONNX files with random weights
(and the three BVLC Caffe nets as .caffemodel files too, same weights).

Usage: /usr/bin/python3 tools/models/gen_models.py OUT_DIR [--only resnet50,alexnet] [--seed S]

Each model: opset 13, IR 7, float32, input "data" [N,3,224,224] (dynamic batch "N"), output
"prob" [N,1000] (softmax probabilities). The layouts are the standard ones at their real sizes,
so the files serve speed work and engine-vs-ONNX-Runtime comparisons; the weights are random
(fixed seed), so the models classify nothing: never quote accuracy from them.
Needs only Debian's python3-onnx (1.12) and python3-numpy.
"""
import argparse
import os
import sys
import time

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from caffemodel import weighted_layers, write_caffemodel  # noqa: E402
from nets import ARCHITECTURES  # noqa: E402  (after the path fix so the script runs from anywhere)

# Each model gets its own fixed seed, so --only never changes the weights of a model.
SEED_OFFSETS = {"resnet50": 0, "googlenet": 1, "alexnet": 2, "mobilenetv2": 3, "caffenet": 4}
# The BVLC Caffe nets also get NAME.caffemodel with the same weights (layer names as in
# their deploy.prototxt): AlexNet and CaffeNet in the legacy V1 format their published
# files use, GoogLeNet in the current one.
CAFFE_V1 = {"alexnet": True, "caffenet": True, "googlenet": False}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", help="folder for NAME.onnx (created if missing)")
    parser.add_argument("--only", default=",".join(ARCHITECTURES),
                        help="comma-separated subset of: " + ", ".join(ARCHITECTURES))
    parser.add_argument("--seed", type=int, default=2024, help="base seed (default 2024)")
    args = parser.parse_args(argv)
    args.only = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in args.only if n not in ARCHITECTURES]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {list(ARCHITECTURES)}")
    return args


def generate(name, seed, out_dir):
    """Build, check and save one model; return a line of facts about it."""
    start = time.perf_counter()
    builder, output = ARCHITECTURES[name](seed)
    prob = builder.calib[output]
    if not np.all(np.isfinite(prob)):
        raise RuntimeError(f"{name}: calibration output is not finite; the generator is broken")
    model = builder.model(output)
    onnx.checker.check_model(model, full_check=True)
    path = os.path.join(out_dir, name + ".onnx")
    onnx.save(model, path)
    if name in CAFFE_V1:
        weights = os.path.join(out_dir, name + ".caffemodel")
        write_caffemodel(weights, name, weighted_layers(model), v1=CAFFE_V1[name])
    return (f"{name}: {path} params={builder.param_count:,} nodes={len(model.graph.node)} "
            f"bytes={os.path.getsize(path):,} calib_prob[max={prob.max():.4f} "
            f"min={prob.min():.2e}] seed={seed} time={time.perf_counter() - start:.1f}s")


def main(argv):
    args = parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    for name in args.only:
        try:
            print(generate(name, args.seed + SEED_OFFSETS[name], args.out_dir), flush=True)
        except (onnx.checker.ValidationError, OSError, RuntimeError) as err:
            print(f"gen_models: {name}: {err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
