#!/usr/bin/env python3
"""Quantizes an image classifier with ONNX Runtime's own static quantizer (QDQ format), for
issue 16's test that inferd runs a Q/DQ model made by a tool other than itself: what a user
who quantized with ONNX Runtime would bring. Runs where onnxruntime's Python package is (the
GPU device machine); the file it writes is small enough to keep in tests/model/data.

The calibration images are preprocessed as the model folder's config.toml says for the
bundled SqueezeNet (Caffe style): shorter side resized to --resize, centre crop --size,
BGR, 0..255, minus --mean, NCHW float32.
Usage: quantize_qdq.py MODEL.onnx IMAGES_DIR OUT.onnx [--images 100] [--resize 256]
                       [--size 224] [--mean 104,117,123] [--per-channel]"""
import argparse
import os
import sys

import numpy as np
from PIL import Image


def preprocess(path, resize, size, mean):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    scale = resize / min(w, h)
    img = img.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BILINEAR)
    w, h = img.size
    left, top = (w - size) // 2, (h - size) // 2
    img = img.crop((left, top, left + size, top + size))
    x = np.asarray(img, dtype=np.float32)[:, :, ::-1]  # RGB -> BGR
    x = x - np.asarray(mean, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("images")
    parser.add_argument("out")
    parser.add_argument("--images", dest="count", type=int, default=100)
    parser.add_argument("--resize", type=int, default=256)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--mean", default="104,117,123")
    parser.add_argument("--per-channel", action="store_true")
    args = parser.parse_args(argv)
    try:
        import onnxruntime
        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    except ImportError as e:
        sys.exit(f"quantize_qdq.py: onnxruntime's quantizer is not installed here ({e})")
    mean = [float(v) for v in args.mean.split(",")]
    files = sorted(f for f in os.listdir(args.images) if f.lower().endswith((".jpg", ".jpeg")))[: args.count]
    if not files:
        sys.exit(f"quantize_qdq.py: no JPEGs in {args.images}")
    input_name = onnxruntime.InferenceSession(args.model, providers=["CPUExecutionProvider"]).get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(files)

        def get_next(self):
            f = next(self.it, None)
            return None if f is None else {input_name: preprocess(os.path.join(args.images, f), args.resize, args.size, mean)}

    quantize_static(args.model, args.out, Reader(), quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, per_channel=args.per_channel)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes, onnxruntime {onnxruntime.__version__}, "
          f"{len(files)} calibration images)")


if __name__ == "__main__":
    main(sys.argv[1:])
