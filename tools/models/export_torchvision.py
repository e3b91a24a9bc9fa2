#!/usr/bin/env python3
"""Export torchvision's own architectures to ONNX, so that inferd runs exactly the network the
GPU peer (torch.compile on torchvision's models) runs.

Usage: python3 tools/models/export_torchvision.py OUT_DIR [--only alexnet,googlenet] [--seed S]

Writes OUT_DIR/NAME.onnx for NAME in resnet50, googlenet, alexnet, mobilenetv2, squeezenet
(torchvision's resnet50, googlenet, alexnet, mobilenet_v2, squeezenet1_1): random weights from
torchvision's own initialisation under a fixed seed, eval mode, input "data" [N,3,224,224] with
a dynamic batch, output "logits" [N,1000]. Needs torch, torchvision and onnx (the GPU machine
has them; this machine does not). The generated models of gen_models.py are the BVLC/Caffe
variants of AlexNet and GoogLeNet (LRN, grouped convolutions, 5x5 branches), which are not the
networks torchvision builds: a speed ratio between different networks means nothing.
"""
import argparse
import os
import sys

NAMES = {"resnet50": "resnet50", "googlenet": "googlenet", "alexnet": "alexnet",
         "mobilenetv2": "mobilenet_v2", "squeezenet": "squeezenet1_1"}


def build(name, seed):
    import torch
    import torchvision
    torch.manual_seed(seed)
    kwargs = {"weights": None}
    if name == "googlenet":  # eval mode never runs the auxiliary heads; leave them out
        kwargs.update(aux_logits=False, init_weights=True)
    return getattr(torchvision.models, NAMES[name])(**kwargs).eval()


def export(model, path):
    """The TorchScript exporter where this torch still has it (opset 13, which inferd's
    importer covers); the dynamo exporter otherwise."""
    import torch
    x = torch.randn(2, 3, 224, 224)
    common = dict(input_names=["data"], output_names=["logits"])
    try:
        torch.onnx.export(model, x, path, opset_version=13, dynamo=False,
                          dynamic_axes={"data": {0: "N"}, "logits": {0: "N"}}, **common)
        return "torchscript"
    except Exception as e:  # noqa: BLE001 - any failure falls back to the other exporter
        print(f"torchscript exporter failed ({e}); trying dynamo", file=sys.stderr)
    batch = torch.export.Dim("N", min=1, max=4096)
    torch.onnx.export(model, (x,), path, opset_version=18, dynamo=True,
                      dynamic_shapes={"x": {0: batch}}, **common)
    return "dynamo"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--only", default=",".join(NAMES))
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    failed = 0
    for name in (n for n in args.only.split(",") if n):
        if name not in NAMES:
            sys.exit(f"unknown model {name}; known: {', '.join(NAMES)}")
        path = os.path.join(args.out_dir, name + ".onnx")
        try:
            how = export(build(name, args.seed + list(NAMES).index(name)), path)
            print(f"wrote {path} (torchvision {NAMES[name]}, {how} exporter)")
        except Exception as e:  # noqa: BLE001 - report every model, fail at the end
            print(f"cannot export {name}: {e}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
