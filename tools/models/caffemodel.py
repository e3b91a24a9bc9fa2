"""Write a model's weights as a Caffe .caffemodel (a binary NetParameter), with no protobuf
package: the few messages needed are encoded here from Caffe's published field numbers.

Current format: NetParameter.layer (100) of LayerParameter {name 1, type 2, blobs 7}, blobs
with a BlobShape (field 7). Legacy V1 format (`v1=True`, as AlexNet/CaffeNet-era files are):
NetParameter.layers (2) of V1LayerParameter {name 4, type 5 (enum), blobs 6}, blobs with the
old num/channels/height/width fields (1-4), 2-D weights as [1, 1, rows, cols] like Caffe wrote.
"""
import struct

import numpy as np
from onnx import numpy_helper

# V1LayerParameter.LayerType values for the layers that carry weights.
_V1_TYPES = {"Convolution": 4, "InnerProduct": 14}


def _varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number, payload):
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint_field(number, value):
    return _varint(number << 3) + _varint(value)


def _blob(array, v1):
    array = np.ascontiguousarray(array, dtype="<f4")
    data = _field(5, array.tobytes())  # repeated float data = 5 [packed = true]
    if not v1:
        dims = b"".join(_varint(d) for d in array.shape)
        return _field(7, _field(1, dims)) + data  # BlobShape shape = 7 { repeated int64 dim = 1 }
    shape = (1,) * (4 - array.ndim) + array.shape
    return b"".join(_varint_field(i + 1, d) for i, d in enumerate(shape)) + data


def _layer(name, layer_type, arrays, v1):
    blobs = b"".join(_field(6 if v1 else 7, _blob(a, v1)) for a in arrays)
    if v1:
        return _field(4, name.encode()) + _varint_field(5, _V1_TYPES[layer_type]) + blobs
    return _field(1, name.encode()) + _field(2, layer_type.encode()) + blobs


def weighted_layers(model):
    """(layer name, Caffe type, [weights, bias]) for every Conv and Gemm of an ONNX model
    whose node outputs are named after the Caffe layers (tools/models/nets.py does that)."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    types = {"Conv": "Convolution", "Gemm": "InnerProduct"}
    return [(node.output[0], types[node.op_type], [inits[i] for i in node.input[1:]])
            for node in model.graph.node if node.op_type in types]


def write_caffemodel(path, net_name, layers, v1=False):
    body = _field(1, net_name.encode())
    for name, layer_type, arrays in layers:
        body += _field(2 if v1 else 100, _layer(name, layer_type, arrays, v1))
    with open(path, "wb") as f:
        f.write(body)
    return len(body)
