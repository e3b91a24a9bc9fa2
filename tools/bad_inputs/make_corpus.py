#!/usr/bin/env python3
"""Writes the payload files of the server's bad-input corpus (tests/server/bad_inputs/).

  /usr/bin/python3 tools/bad_inputs/make_corpus.py [--out DIR]

Standard library only. Every file is derived from the project's images/1.jpg or built
from scratch here (JPEG segments, PNG chunks and ONNX protobuf are written by hand), so
the output is the same on every run. Two files need jpegtran (Debian package
libjpeg-turbo-progs): the progressive and the grayscale JPEG, both lossless transcodes
of images/1.jpg.

The manifest, tests/server/bad_inputs/cases.toml, is written by hand and names these
files; tests/server/bad_inputs_test.cc runs it.
"""

import argparse
import os
import shutil
import struct
import subprocess
import tempfile
import sys
import zlib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Binary KServe bodies start with a JSON header padded with spaces to this many bytes,
# so that the manifest can state Inference-Header-Content-Length as a constant.
KSERVE_HEADER_BYTES = 256


# --- JPEG ------------------------------------------------------------------------------

def jpeg_segments(data):
    """(marker, offset of the marker, segment length) for each segment before SOS."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG (no SOI)")
    pos, out = 2, []
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("JPEG: expected a marker at byte %d" % pos)
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        out.append((marker, pos, length))
        if marker == 0xDA:  # SOS: entropy-coded data follows
            break
        pos += 2 + length
    return out


def sof_offset(data):
    for marker, pos, _ in jpeg_segments(data):
        if marker in (0xC0, 0xC1, 0xC2):
            return pos
    raise ValueError("JPEG: no SOF0/1/2 segment")


def with_sof_size(data, width, height):
    """The JPEG with its frame header claiming width x height (the pixels stay)."""
    pos = sof_offset(data)
    out = bytearray(data)
    out[pos + 5:pos + 9] = struct.pack(">HH", height, width)
    return bytes(out)


def huffman_table(table_class, table_id, lengths):
    """DHT segment body: lengths is a list of (code length, symbols)."""
    bits = [0] * 16
    values = b""
    for length, symbols in lengths:
        bits[length - 1] += len(symbols)
        values += bytes(symbols)
    return bytes([table_class << 4 | table_id]) + bytes(bits) + values


def segment(marker, body):
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


class BitWriter:
    def __init__(self):
        self.out, self.acc, self.count = bytearray(), 0, 0

    def put(self, value, nbits):
        for i in reversed(range(nbits)):
            self.acc = self.acc << 1 | (value >> i & 1)
            self.count += 1
            if self.count == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)  # byte stuffing
                self.acc, self.count = 0, 0

    def finish(self):
        while self.count:
            self.put(1, 1)  # pad with 1-bits (T.81 F.1.2.3)
        return bytes(self.out)


def cmyk_jpeg(blocks_x=2, blocks_y=2):
    """A baseline 4-component (CMYK) JPEG, one flat 8x8 block per component per MCU,
    with an Adobe APP14 segment (transform 0) as Photoshop writes CMYK files.

    Each block holds only its DC coefficient (quantizer 1, DC = 8 * (sample - 128)); the
    Huffman tables are minimal: DC categories 0..11 as 4-bit codes, AC only EOB as '0'."""
    adobe = b"Adobe" + struct.pack(">HHHB", 100, 0, 0, 0)
    dqt = b"\x00" + bytes([1] * 64)
    comps = 4
    sof = struct.pack(">BHHB", 8, blocks_y * 8, blocks_x * 8, comps)
    for c in range(comps):
        sof += bytes([c + 1, 0x11, 0])
    dht = huffman_table(0, 0, [(4, range(12))]) + huffman_table(1, 0, [(1, [0])])
    sos = bytes([comps]) + b"".join(bytes([c + 1, 0x00]) for c in range(comps)) + b"\x00\x3f\x00"
    bits = BitWriter()
    previous = [0] * comps
    for by in range(blocks_y):
        for bx in range(blocks_x):
            for c in range(comps):
                # Stored samples (Adobe CMYK is stored inverted: 255 - ink).
                sample = 40 + 50 * c + 30 * bx + 20 * by
                dc = 8 * (sample - 128)
                diff = dc - previous[c]
                previous[c] = dc
                category = abs(diff).bit_length()
                bits.put(category, 4)
                bits.put(diff if diff >= 0 else diff + (1 << category) - 1, category)
                bits.put(0, 1)  # EOB
    return (b"\xff\xd8" + segment(0xEE, adobe) + segment(0xDB, dqt) + segment(0xC0, sof) +
            segment(0xC4, dht) + segment(0xDA, sos) + bits.finish() + b"\xff\xd9")


def jpegtran(args, source):
    tool = shutil.which("jpegtran")
    if tool is None:
        sys.exit("make_corpus.py: jpegtran not found: apt-get install libjpeg-turbo-progs")
    return subprocess.run([tool] + args + [source], check=True, capture_output=True).stdout


def scan_bomb(source, scans=99):
    """A progressive JPEG of `source` with one scan per AC coefficient: every scan is another
    pass over the whole image (jpegtran's scan scripts allow at most 100 scans)."""
    lines = ["0,1,2: 0-0, 0, 0;"]
    for c in (0, 1, 2):
        for k in range(1, 64):
            lines.append("%d: %d-%d, 0, 0;" % (c, k, k))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as script:
        script.write("\n".join(lines[:scans]) + "\n")
    try:
        return jpegtran(["-scans", script.name, "-copy", "none"], source)
    finally:
        os.unlink(script.name)


# --- PNG -------------------------------------------------------------------------------

def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width, height, idat, color_type=2):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) +
            png_chunk(b"IEND", b""))


def with_bad_chunk_crc(data, kind):
    """The PNG with the CRC of its first `kind` chunk flipped (length and type stay)."""
    at = data.index(kind)
    length = struct.unpack(">I", data[at - 4:at])[0]
    crc = at + 4 + length
    return data[:crc] + bytes(b ^ 0xFF for b in data[crc:crc + 4]) + data[crc + 4:]


def black_png(side):
    """A valid side x side black RGB PNG: every row is filter byte 0 and zeros."""
    raw = (b"\x00" + b"\x00" * (3 * side)) * side
    return png(side, side, zlib.compress(raw, 9))


# --- ONNX (protobuf wire format, onnx.proto field numbers) -----------------------------

def varint(n):
    n &= (1 << 64) - 1  # negative int64 as two's complement
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def field_bytes(number, value):
    if isinstance(value, str):
        value = value.encode()
    return varint(number << 3 | 2) + varint(len(value)) + value


def value_info(name, dims):
    """ValueInfoProto: name=1, type=2 -> TypeProto.tensor_type=1 -> elem_type=1 (FLOAT),
    shape=2 -> TensorShapeProto.dim=1 -> Dimension.dim_value=1."""
    shape = b"".join(field_bytes(1, field_varint(1, d)) for d in dims)
    tensor_type = field_varint(1, 1) + field_bytes(2, shape)
    return field_bytes(1, name) + field_bytes(2, field_bytes(1, tensor_type))


def node(op_type, inputs, outputs, name):
    """NodeProto: input=1, output=2, name=3, op_type=4."""
    return (b"".join(field_bytes(1, i) for i in inputs) + b"".join(field_bytes(2, o) for o in outputs) +
            field_bytes(3, name) + field_bytes(4, op_type))


def external_initializer(name, dims, location):
    """TensorProto with data_location=EXTERNAL (14) and external_data (13) entries."""
    body = b"".join(field_varint(1, d) for d in dims) + field_varint(2, 1) + field_bytes(8, name)
    body += field_bytes(13, field_bytes(1, "location") + field_bytes(2, location))
    return body + field_varint(14, 1)


def onnx_model(nodes, inputs, outputs, initializers=()):
    """ModelProto: ir_version=1, graph=7, opset_import=8 (opset 13)."""
    graph = b"".join(field_bytes(1, n) for n in nodes) + field_bytes(2, "bad_input")
    graph += b"".join(field_bytes(5, t) for t in initializers)
    graph += b"".join(field_bytes(11, v) for v in inputs) + b"".join(field_bytes(12, v) for v in outputs)
    opset = field_bytes(1, "") + field_varint(2, 13)
    return field_varint(1, 7) + field_bytes(2, "inferd make_corpus.py") + field_bytes(7, graph) + field_bytes(8, opset)


def onnx_models():
    """{folder name: model.onnx bytes} for the management load cases."""
    relu = lambda i, o, n: node("Relu", [i], [o], n)
    return {
        # 3 x 2^31 elements in the input alone: over the per-tensor cap.
        "huge_dims": onnx_model([relu("x", "y", "relu")], [value_info("x", [1, 3, 1 << 31, 1])],
                                [value_info("y", [1, 3, 1 << 31, 1])]),
        # Within the per-tensor cap (805M elements, 3 GiB), but no image classifier needs it.
        "huge_activation": onnx_model([relu("x", "y", "relu")], [value_info("x", [1, 3, 16384, 16384])],
                                      [value_info("y", [1, 3, 16384, 16384])]),
        # a -> b -> a: no topological order.
        "cyclic_graph": onnx_model([relu("b", "a", "first"), relu("a", "b", "second")],
                                   [value_info("x", [1, 3, 8, 8])], [value_info("b", [1, 3, 8, 8])]),
        "external_data_escape": onnx_model(
            [node("Add", ["x", "w"], ["y"], "add")], [value_info("x", [1, 3, 8, 8])], [value_info("y", [1, 3, 8, 8])],
            [external_initializer("w", [1, 3, 8, 8], "../../../../../../etc/passwd")]),
        "not_onnx": b"\x08\x07\x12\xff\xff\xff\xff\x0f this is not a protobuf",
    }


# --- KServe v2 bodies -------------------------------------------------------------------

def kserve_binary(header, binary):
    text = header.encode()
    if len(text) > KSERVE_HEADER_BYTES:
        raise ValueError("KServe JSON header over %d bytes: %s" % (KSERVE_HEADER_BYTES, header))
    return text + b" " * (KSERVE_HEADER_BYTES - len(text)) + binary


def bytes_input(size):
    """The JSON header of one BYTES input of shape [1] whose binary part is `size` bytes."""
    return ('{"inputs":[{"name":"x","datatype":"BYTES","shape":[1],'
            '"parameters":{"binary_data_size":%d}}]}' % size)


def element(data):
    return struct.pack("<I", len(data)) + data


def kserve_bodies(jpeg):
    fp32 = '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,3],"parameters":{"binary_data_size":%d}}]}'
    return {
        "kserve_zero_byte_jpeg.bin": kserve_binary(bytes_input(4), element(b"")),
        "kserve_truncated_jpeg.bin": kserve_binary(bytes_input(4 + 600), element(jpeg[:600])),
        "kserve_data_size_past_end.bin": kserve_binary(bytes_input(len(jpeg) + 4 + 100), element(jpeg)),
        "kserve_data_size_short.bin": kserve_binary(bytes_input(8), element(jpeg)),
        "kserve_element_length_lie.bin": kserve_binary(bytes_input(4 + 100), struct.pack("<I", 1 << 30) + jpeg[:100]),
        "kserve_more_elements_than_shape.bin": kserve_binary(bytes_input(2 * (4 + len(jpeg))), element(jpeg) * 2),
        "kserve_fp32_size_mismatch.bin": kserve_binary(fp32 % 8, b"\x00\x00\x80\x3f" * 2),
        "kserve_good_jpeg.bin": kserve_binary(bytes_input(4 + len(jpeg)), element(jpeg)),
    }


def json_bodies():
    nested = '{"inputs":' + "[" * 10000 + "]" * 10000 + "}"
    # "x\xff" is not UTF-8: JSON text must be (RFC 8259 section 8.1).
    bad_utf8 = b'{"inputs":[{"name":"x\xff\xfe","datatype":"FP32","shape":[1],"data":[1.5]}]}'
    return {"nested.json": nested.encode(), "invalid_utf8.json": bad_utf8}


def raw_requests():
    """Whole requests with bytes a TOML string cannot hold (it must be UTF-8)."""
    return {"invalid_utf8_target.http": b"GET /v2/models/\xff\xfe HTTP/1.1\r\nHost: a\r\n\r\n"}


# --- driver ----------------------------------------------------------------------------

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "server", "bad_inputs"))
    args = parser.parse_args()
    source = os.path.join(ROOT, "images", "1.jpg")
    with open(source, "rb") as f:
        jpeg = f.read()
    sof = sof_offset(jpeg)
    files = {
        "soi_only.jpg": jpeg[:3],
        "truncated_half.jpg": jpeg[:len(jpeg) // 2],
        "truncated_in_header.jpg": jpeg[:sof + 6],
        "bomb_65500x65500.jpg": with_sof_size(jpeg, 65500, 65500),
        "bomb_8193x8192.jpg": with_sof_size(jpeg, 8193, 8192),
        "zero_height.jpg": with_sof_size(jpeg, 227, 0),
        "cmyk_adobe.jpg": cmyk_jpeg(),
        "progressive.jpg": jpegtran(["-progressive", "-copy", "none"], source),
        "grayscale.jpg": jpegtran(["-grayscale", "-copy", "none"], source),
        "scan_bomb_99_scans.jpg": scan_bomb(source),
        "bomb_100000x100000.png": png(100000, 100000, zlib.compress(b"\x00" * 64)),
        "over_decoder_limit.png": png(0x7FFFFFFF, 1, zlib.compress(b"\x00" * 64)),
        "ihdr_bad_crc.png": with_bad_chunk_crc(black_png(16), b"IHDR"),
        "corrupt_zlib.png": png(16, 16, b"\x78\x9c" + bytes(range(7, 250, 3))),
        "truncated.png": black_png(64)[:60],
        "black_2048.png": black_png(2048),
    }
    files.update(kserve_bodies(jpeg))
    files.update(json_bodies())
    files.update(raw_requests())
    for name, data in sorted(files.items()):
        write(os.path.join(args.out, "files", name), data)
    for name, data in sorted(onnx_models().items()):
        write(os.path.join(args.out, "models", name, "1", "model.onnx"), data)
    total = sum(len(d) for d in files.values())
    print("wrote %d files (%d bytes) and %d models under %s" % (len(files), total, len(onnx_models()), args.out))


if __name__ == "__main__":
    main()
