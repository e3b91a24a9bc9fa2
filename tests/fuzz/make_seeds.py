#!/usr/bin/python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/<target>/), small files made from
the repository's own assets: photos from images/ shrunk to thumbnails, a few generated
PNGs, models/squeezenet/config.toml, tiny ONNX models covering every imported operator,
HTTP requests and KServe v2 bodies. Plans are not kept here: scripts/fuzz.sh builds them
from the ONNX seeds with an inferd of the same source each run (a plan carries the engine
version and format, so stored ones would go stale).

    /usr/bin/python3 tests/fuzz/make_seeds.py

Needs Pillow, numpy and onnx. Deterministic: the same files every time. The
regression-* files in corpus/plan_load are crash inputs the fuzzer found, kept by hand.
"""
import argparse
import base64
import io
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
RNG = np.random.default_rng(7)


def write(target, name, data):
    path = os.path.join(CORPUS, target, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


# ---------------------------------------------------------------- images
def exif_orientation(value):
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def thumbnails():
    """Shrunk photos from images/ in the JPEG and PNG variants the decoder handles."""
    out = {}
    for i in range(1, 6):
        photo = Image.open(os.path.join(ROOT, "images", f"{i}.jpg")).convert("RGB")
        photo.thumbnail((48 + 8 * i, 40 + 6 * i))
        out[i] = photo
    return out


def image_seeds():
    t = "image_preprocess"
    photos = thumbnails()
    for i, photo in photos.items():
        buf = io.BytesIO()
        photo.save(buf, "JPEG", quality=70)
        write(t, f"photo{i}.jpg", buf.getvalue())
    p = photos[1]
    variants = {
        "progressive.jpg": lambda b: p.save(b, "JPEG", quality=60, progressive=True),
        "gray.jpg": lambda b: p.convert("L").save(b, "JPEG", quality=60),
        "cmyk.jpg": lambda b: p.convert("CMYK").save(b, "JPEG", quality=60),
        "subsampling444.jpg": lambda b: p.save(b, "JPEG", quality=60, subsampling=0),
        "restart.jpg": lambda b: photos[2].save(b, "JPEG", quality=50, optimize=True),
        "exif6.jpg": lambda b: photos[3].save(b, "JPEG", quality=50, exif=exif_orientation(6)),
        "exif3.jpg": lambda b: photos[4].save(b, "JPEG", quality=50, exif=exif_orientation(3)),
        "rgb.png": lambda b: p.save(b, "PNG"),
        "rgba.png": lambda b: p.convert("RGBA").save(b, "PNG"),
        "gray.png": lambda b: p.convert("L").save(b, "PNG"),
        "gray_alpha.png": lambda b: p.convert("LA").save(b, "PNG"),
        "palette.png": lambda b: p.convert("P", palette=Image.ADAPTIVE, colors=16).save(b, "PNG"),
        "interlaced.png": lambda b: photos[2].save(b, "PNG", interlace=1),
        "exif8.png": lambda b: p.save(b, "PNG", exif=exif_orientation(8)),
        "gray16.png": lambda b: Image.fromarray(
            (np.asarray(p.convert("L"), dtype=np.uint16) * 257)).save(b, "PNG"),
        "tiny.png": lambda b: Image.new("RGB", (3, 2), (200, 10, 90)).save(b, "PNG"),
        "tiny.jpg": lambda b: Image.new("RGB", (9, 7), (20, 140, 90)).save(b, "JPEG"),
    }
    for name, save in variants.items():
        buf = io.BytesIO()
        save(buf)
        write(t, name, buf.getvalue())


# ---------------------------------------------------------------- ONNX
def weight(name, shape):
    return numpy_helper.from_array(RNG.uniform(-1, 1, shape).astype(np.float32), name)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def model(nodes, inits, inp, out, opset=13, ir_version=7, name="seed"):
    graph = helper.make_graph(nodes, name, [inp], [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
                              initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = ir_version
    return m


def fire(prefix, x, cin, squeeze, expand):
    s, e1, e3 = prefix + "_s", prefix + "_e1", prefix + "_e3"
    nodes = [
        helper.make_node("Conv", [x, s + "_w", s + "_b"], [s], kernel_shape=[1, 1]),
        helper.make_node("Relu", [s], [s + "_r"]),
        helper.make_node("Conv", [s + "_r", e1 + "_w", e1 + "_b"], [e1], kernel_shape=[1, 1]),
        helper.make_node("Relu", [e1], [e1 + "_r"]),
        helper.make_node("Conv", [s + "_r", e3 + "_w", e3 + "_b"], [e3], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", [e3], [e3 + "_r"]),
        helper.make_node("Concat", [e1 + "_r", e3 + "_r"], [prefix], axis=1),
    ]
    inits = [weight(s + "_w", (squeeze, cin, 1, 1)), weight(s + "_b", (squeeze,)),
             weight(e1 + "_w", (expand, squeeze, 1, 1)), weight(e1 + "_b", (expand,)),
             weight(e3 + "_w", (expand, squeeze, 3, 3)), weight(e3 + "_b", (expand,))]
    return nodes, inits


def tiny_squeezenet():
    """SqueezeNet 1.1's structure (conv, fire modules, dropout, global pool) at toy size."""
    inp = helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, 16, 16])
    nodes = [helper.make_node("Conv", ["data", "c1_w", "c1_b"], ["c1"], kernel_shape=[3, 3], strides=[2, 2]),
             helper.make_node("Relu", ["c1"], ["c1_r"]),
             helper.make_node("MaxPool", ["c1_r"], ["p1"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)]
    inits = [weight("c1_w", (8, 3, 3, 3)), weight("c1_b", (8,))]
    n, i = fire("f2", "p1", 8, 4, 8)
    nodes += n
    inits += i
    nodes += [helper.make_node("Dropout", ["f2"], ["d"]),
              helper.make_node("Conv", ["d", "c10_w", "c10_b"], ["c10"], kernel_shape=[1, 1]),
              helper.make_node("Relu", ["c10"], ["c10_r"]),
              helper.make_node("GlobalAveragePool", ["c10_r"], ["gap"]),
              helper.make_node("Flatten", ["gap"], ["flat"]),
              helper.make_node("Softmax", ["flat"], ["prob"], axis=1)]
    inits += [weight("c10_w", (10, 16, 1, 1)), weight("c10_b", (10,))]
    return model(nodes, inits, inp, "prob")


def tiny_resnet():
    """Conv + BatchNorm + Relu, a residual Add, average pooling, a reshape computed from
    Shape/Gather/Unsqueeze/Concat, Gemm."""
    inp = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "g", "b", "m", "v"], ["bn"], epsilon=1e-5),
        helper.make_node("Relu", ["bn"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
        helper.make_node("Add", ["c2", "x"], ["res"]),
        helper.make_node("Relu", ["res"], ["r2"]),
        helper.make_node("AveragePool", ["r2"], ["ap"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Shape", ["ap"], ["shp"]),
        helper.make_node("Gather", ["shp", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["newshape"], axis=0),
        helper.make_node("Reshape", ["ap", "newshape"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1),
    ]
    inits = [weight("w1", (4, 4, 3, 3)), weight("g", (4,)), weight("b", (4,)), weight("m", (4,)),
             numpy_helper.from_array(RNG.uniform(0.5, 1.5, (4,)).astype(np.float32), "v"),
             weight("w2", (4, 4, 3, 3)), ints("zero", 0), ints("axes0", [0]), ints("minus1", [-1]),
             weight("fc_w", (5, 64)), weight("fc_b", (5,))]
    return model(nodes, inits, inp, "logits")


def tiny_mlp():
    """The elementwise and tensor ops: MatMul, Add, Mul, Sum, activations, Clip with
    inputs, Transpose, Squeeze/Unsqueeze, Pad, LRN, Identity, a Constant node and
    a float16 initializer."""
    inp = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4, 4])
    nodes = [
        helper.make_node("Constant", [], ["k"], value=numpy_helper.from_array(np.array([0.5], np.float32))),
        helper.make_node("LRN", ["x"], ["lrn"], size=3),
        helper.make_node("Pad", ["lrn", "pads"], ["pad"], mode="constant"),
        helper.make_node("MaxPool", ["pad"], ["mp"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Transpose", ["mp"], ["tr"], perm=[0, 2, 3, 1]),
        helper.make_node("Flatten", ["tr"], ["fl"], axis=1),
        helper.make_node("MatMul", ["fl", "w"], ["mm"]),
        helper.make_node("Add", ["mm", "bias16"], ["add"]),
        helper.make_node("Mul", ["add", "k"], ["mul"]),
        helper.make_node("LeakyRelu", ["mul"], ["lr"], alpha=0.1),
        helper.make_node("HardSigmoid", ["lr"], ["hs"]),
        helper.make_node("HardSwish", ["hs"], ["hw"]),
        helper.make_node("Sigmoid", ["hw"], ["sg"]),
        helper.make_node("Clip", ["sg", "lo", "hi"], ["cl"]),
        helper.make_node("Sum", ["cl", "mul", "add"], ["sum"]),
        helper.make_node("Unsqueeze", ["sum", "axes"], ["us"]),
        helper.make_node("Squeeze", ["us", "axes"], ["sq"]),
        helper.make_node("Identity", ["sq"], ["y"]),
    ]
    inits = [ints("pads", [0, 0, 1, 1, 0, 0, 1, 1]), weight("w", (27, 6)),
             numpy_helper.from_array(RNG.uniform(-1, 1, (6,)).astype(np.float16), "bias16"),
             numpy_helper.from_array(np.array(0.1, np.float32), "lo"),
             numpy_helper.from_array(np.array(0.9, np.float32), "hi"),
             ints("axes", [2])]
    return model(nodes, inits, inp, "y", opset=14)


def opset7_model():
    """Old-style attributes: Clip min/max, Unsqueeze axes, IR 3 listing weights as inputs."""
    inp = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 6, 6])
    w = helper.make_tensor_value_info("w", TensorProto.FLOAT, [2, 2, 3, 3])
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], strides=[1, 1], group=1),
             helper.make_node("Clip", ["c"], ["cl"], min=0.0, max=6.0),
             helper.make_node("GlobalAveragePool", ["cl"], ["g"]),
             helper.make_node("Reshape", ["g", "shape"], ["y"])]
    graph = helper.make_graph(nodes, "opset7", [inp, w], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              initializer=[weight("w", (2, 2, 3, 3)), ints("shape", [1, 2])])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 7)])
    m.ir_version = 3
    return m


def external_data_model(location):
    """A weight stored as external data (the file is never there: the path checks run)."""
    m = tiny_resnet()
    t = m.graph.initializer[0]
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", str(4 * 4 * 3 * 3 * 4))):
        e = t.external_data.add()
        e.key, e.value = k, v
    return m


def onnx_seeds():
    models = {"squeezenet_like": tiny_squeezenet(), "resnet_like": tiny_resnet(), "mlp_ops": tiny_mlp(),
              "opset7_ir3": opset7_model(), "external_data": external_data_model("weights.bin"),
              "external_data_escape": external_data_model("../../etc/passwd")}
    for name, m in models.items():
        write("onnx_import", name + ".onnx", m.SerializeToString())
    return models


# ---------------------------------------------------------------- config.toml
def config_seeds():
    t = "model_config"
    with open(os.path.join(ROOT, "models", "squeezenet", "config.toml")) as f:
        write(t, "squeezenet.toml", f.read())
    write(t, "full.toml", """name = "resnet50"            # every key, DESIGN.md's defaults
max_batch = 32
[input]
width = 224
height = 224
resize = 256
channel_order = "rgb"
scale = 0.00392156862745098
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]
[output]
labels = 'labels.txt'
softmax = true
top_k = 5
[batching]
max_queue_delay_us = 2000
preferred_batch = [
  4,
  8,   # trailing comma allowed
]
max_queue = 1024
[instances]
count = 2
backend = "auto"
precision = "fp32"
""")
    write(t, "dotted.toml", 'input.width = 299\ninput.height = 299\n"output".top_k = 3\nbatching.preferred_batch = [1, 2]\n'
                            "instances.backend = 'cpu'\n")
    write(t, "empty.toml", "# defaults only\n")
    write(t, "strings.toml", 'name = "m\\u00e9-\\t1"\n[output]\nlabels = "sub dir/\\"l\\".txt"\nsoftmax = false\n')
    write(t, "numbers.toml", "max_batch = 1_024\n[input]\nscale = 1e-3\nmean = [+1, -2.5, 3E2]\nstd = [0.5, 1, 2]\n"
                             "resize = 0\n[batching]\nmax_queue_delay_us = 0\n")
    write(t, "unknown_key.toml", "[input]\nwidht = 224\n")
    write(t, "redefined.toml", "[input]\nwidth = 1\n[input]\nheight = 2\n")


# ---------------------------------------------------------------- KServe v2
def kserve(header_length, body):
    return (b"" if header_length is None else str(header_length).encode()) + b"\n" + body


def kserve_seeds(jpeg):
    t = "kserve_request"
    fp32 = {"id": "req-1", "inputs": [{"name": "data", "datatype": "FP32", "shape": [1, 2, 3],
                                      "data": [[[0.5, -1, 2e3], [1, 2, 3]]]}],
            "outputs": [{"name": "prob", "parameters": {"classification": 2}}]}
    write(t, "fp32_json", kserve(None, json.dumps(fp32).encode()))
    flat = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [4], "data": [1, 2.5, -3, 4e-3]}],
            "parameters": {"binary_data_output": True}}
    write(t, "fp32_flat_binary_out", kserve(None, json.dumps(flat).encode()))
    b64 = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "parameters": {"content_type": "base64"},
                       "data": [base64.b64encode(jpeg[:300]).decode()]}],
           "outputs": [{"name": "prob", "parameters": {"binary_data": True, "classification": 3}}]}
    write(t, "bytes_base64", kserve(None, json.dumps(b64).encode()))
    text = {"inputs": [{"name": "t", "datatype": "BYTES", "shape": [2, 1], "data": [["caf\u00e9"], ["x"]]}]}
    write(t, "bytes_utf8", kserve(None, json.dumps(text).encode()))
    values = struct.pack("<6f", 1, 2, 3, -4, 5.5, 0.25)
    header = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 3],
                                     "parameters": {"binary_data_size": len(values)}}],
                         "outputs": [{"name": "y", "parameters": {"binary_data": True}}]}).encode()
    write(t, "fp32_binary", kserve(len(header), header + values))
    elems = [jpeg[:200], b"\x00\xff\xfe"]
    payload = b"".join(struct.pack("<I", len(e)) + e for e in elems)
    header = json.dumps({"inputs": [{"name": "images", "datatype": "BYTES", "shape": [2],
                                     "parameters": {"binary_data_size": len(payload)}},
                                    {"name": "scale", "datatype": "FP32", "shape": [1], "data": [2]}]}).encode()
    write(t, "bytes_binary_mixed", kserve(len(header), header + payload))


# ---------------------------------------------------------------- HTTP
def http_seeds(jpeg):
    t = "http_request"
    infer = json.dumps({"inputs": [{"name": "data", "datatype": "FP32", "shape": [1], "data": [1]}]})
    seeds = {
        "get_v2": "GET /v2 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "metrics_health_pipelined": "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\nGET /v2/health/live HTTP/1.1\r\n\r\n"
                                    "GET /v2/health/ready HTTP/1.1\r\nConnection: close\r\n\r\n",
        "head": "HEAD /v2 HTTP/1.1\r\nHost: a\r\n\r\nGET /v2/models/m/ready HTTP/1.1\r\n\r\n",
        "http10_keepalive": "GET /v2/models/squeezenet HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                            "GET /v2/models/x/versions/1/config HTTP/1.0\r\n\r\n",
        "infer_json": f"POST /v2/models/squeezenet/infer HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {len(infer)}\r\nX-Request-Timeout-Ms: 500\r\n\r\n{infer}",
        "infer_chunked": "POST /v2/models/m/versions/2/infer HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                         "Inference-Header-Content-Length: 10\r\n\r\n5\r\n{\"inp\r\n3;ext=1\r\nuts\r\n0\r\nTrailer: x\r\n\r\n",
        "expect_continue": "POST /v1/noop?device=0 HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
        "management": "POST /v2/repository/models/resnet-50.v2/load HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
                      "POST /v2/repository/models/..%2F..%2Fetc/unload HTTP/1.1\r\n\r\n",
        "method_not_allowed": "DELETE /v2/health/live HTTP/1.1\r\n\r\nGET /v1/models/a/classify?top=3 HTTP/1.1\r\n\r\n",
        "bad_request": "GET /v2 HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        "obs_fold_header": "GET /v2 HTTP/1.1\r\nX-A: b\r\n  c\r\nX-A: d\r\n\r\n",
    }
    for name, text in seeds.items():
        write(t, name, text)
    body = jpeg[:400]
    write(t, "classify_raw", f"POST /classify HTTP/1.1\r\nContent-Type: image/jpeg\r\nContent-Length: {len(body)}\r\n\r\n"
          .encode() + body)
    boundary = "XyZ"
    multi = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n"
             f"Content-Type: image/jpeg\r\n\r\n").encode() + body + f"\r\n--{boundary}--\r\n".encode()
    write(t, "classify_multipart",
          f"POST /v1/models/squeezenet/classify HTTP/1.1\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
          f"Content-Length: {len(multi)}\r\n\r\n".encode() + multi)


def main():
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args()
    image_seeds()
    with open(os.path.join(CORPUS, "image_preprocess", "photo1.jpg"), "rb") as f:
        jpeg = f.read()
    onnx_seeds()
    config_seeds()
    kserve_seeds(jpeg)
    http_seeds(jpeg)


if __name__ == "__main__":
    main()
