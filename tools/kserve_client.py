#!/usr/bin/env python3
"""A KServe v2 / Open Inference Protocol REST client (stdlib only), for inferd or any
Triton-compatible server.

  kserve_client.py URL MODEL IMAGE... [--binary] [--classification K]
  kserve_client.py URL MODEL --fp32-random [--batch N] [--seed S] [--binary] [--classification K]
  kserve_client.py health URL
  kserve_client.py metadata URL [MODEL]

Encoded images travel as a BYTES input of shape [N]:
  * --binary: through the binary tensor data extension: JSON header, then each image as a
    4-byte little-endian length and its bytes; Inference-Header-Content-Length gives
    the JSON size.
  * otherwise in the JSON itself. The protocol carries a BYTES element in JSON as a
    string whose UTF-8 bytes are the element; JPEG/PNG bytes are not UTF-8, so each image
    is sent as base64 text and the input says so with "parameters": {"content_type":
    "base64"} (MLServer's Base64 codec convention), which inferd decodes.
--fp32-random sends a preprocessed FP32 tensor instead (the model input's shape with the
batch dimension set to --batch), seeded random values in [-2, 2).

Every function below is importable; none calls sys.exit. Responses come back as
(status, document) with binary outputs already decoded into "data".
"""

import argparse
import base64
import json
import random
import struct
import sys
import urllib.error
import urllib.request

HEADER_LENGTH = "Inference-Header-Content-Length"


# --- HTTP -----------------------------------------------------------------------------

def http_request(method, url, body=None, headers=None, timeout=30.0):
    """Returns (status, headers as a dict with lower-case names, body bytes); HTTP error
    statuses are returned, not raised. Connection failures raise urllib.error.URLError."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, _lower_headers(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, _lower_headers(error.headers), error.read()


def _lower_headers(message):
    return {name.lower(): value for name, value in message.items()} if message else {}


def _json_or_error(status, body):
    try:
        return status, json.loads(body.decode("utf-8")) if body else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        return status, {"error": "response is not JSON: %r" % body[:200]}


def model_path(model, version=None):
    path = "/v2/models/" + urllib.request.quote(model, safe="")
    if version:
        path += "/versions/" + urllib.request.quote(str(version), safe="")
    return path


# --- health and metadata -------------------------------------------------------------

def health(url, model=None, timeout=10.0):
    """{"live": bool, "ready": bool[, "model_ready": bool]} from the /v2/health endpoints."""
    base = url.rstrip("/")
    result = {
        "live": http_request("GET", base + "/v2/health/live", timeout=timeout)[0] == 200,
        "ready": http_request("GET", base + "/v2/health/ready", timeout=timeout)[0] == 200,
    }
    if model:
        status = http_request("GET", base + model_path(model) + "/ready", timeout=timeout)[0]
        result["model_ready"] = status == 200
    return result


def server_metadata(url, timeout=10.0):
    status, _, body = http_request("GET", url.rstrip("/") + "/v2", timeout=timeout)
    return _json_or_error(status, body)


def model_metadata(url, model, version=None, timeout=10.0):
    status, _, body = http_request("GET", url.rstrip("/") + model_path(model, version), timeout=timeout)
    return _json_or_error(status, body)


# --- building requests ---------------------------------------------------------------

def bytes_input(name, elements, binary):
    """A BYTES input of shape [N]. Returns (input JSON object, binary part or b"")."""
    tensor = {"name": name, "datatype": "BYTES", "shape": [len(elements)]}
    if binary:
        data = b"".join(struct.pack("<I", len(e)) + e for e in elements)
        tensor["parameters"] = {"binary_data_size": len(data)}
        return tensor, data
    tensor["parameters"] = {"content_type": "base64"}
    tensor["data"] = [base64.b64encode(e).decode("ascii") for e in elements]
    return tensor, b""


def fp32_input(name, shape, values, binary):
    """An FP32 input (values flat, row-major). Returns (input JSON object, binary part)."""
    count = 1
    for d in shape:
        count *= d
    if count != len(values):
        raise ValueError("shape %s has %d elements but %d values were given" % (shape, count, len(values)))
    tensor = {"name": name, "datatype": "FP32", "shape": list(shape)}
    if binary:
        data = struct.pack("<%df" % len(values), *values)
        tensor["parameters"] = {"binary_data_size": len(data)}
        return tensor, data
    tensor["data"] = list(values)
    return tensor, b""


def random_fp32(shape, seed=0):
    """Seeded values in [-2, 2), never all zeros."""
    rng = random.Random(seed)
    count = 1
    for d in shape:
        count *= d
    return [rng.uniform(-2.0, 2.0) for _ in range(count)]


def requested_outputs(output_name, binary, classification):
    if not output_name:
        return None
    parameters = {}
    if binary:
        parameters["binary_data"] = True
    if classification:
        parameters["classification"] = int(classification)
    output = {"name": output_name}
    if parameters:
        output["parameters"] = parameters
    return [output]


def build_request(inputs, outputs=None, request_id=None, binary_output=False):
    """inputs: [(input JSON object, binary part)] in order. Returns (body, headers)."""
    document = {"inputs": [tensor for tensor, _ in inputs]}
    if request_id:
        document["id"] = request_id
    if binary_output:
        document["parameters"] = {"binary_data_output": True}
    if outputs:
        document["outputs"] = outputs
    header = json.dumps(document, separators=(",", ":")).encode("utf-8")
    binary = b"".join(data for _, data in inputs)
    if not binary:
        return header, {"Content-Type": "application/json"}
    return header + binary, {"Content-Type": "application/octet-stream", HEADER_LENGTH: str(len(header))}


# --- reading responses ---------------------------------------------------------------

def _decode_binary(output, data):
    datatype = output.get("datatype")
    if datatype == "FP32":
        if len(data) % 4:
            raise ValueError("output %r: %d bytes is not a whole number of FP32" % (output.get("name"), len(data)))
        return list(struct.unpack("<%df" % (len(data) // 4), data))
    if datatype == "BYTES":
        elements, pos = [], 0
        while pos < len(data):
            if len(data) - pos < 4:
                raise ValueError("output %r: truncated BYTES length prefix" % output.get("name"))
            (length,) = struct.unpack_from("<I", data, pos)
            pos += 4
            if length > len(data) - pos:
                raise ValueError("output %r: BYTES element runs past its binary_data_size" % output.get("name"))
            elements.append(data[pos:pos + length])
            pos += length
        return elements
    raise ValueError("output %r: cannot decode binary %s" % (output.get("name"), datatype))


def parse_infer_response(body, headers):
    """The response document with every binary output decoded into "data" (FP32 ->
    floats, BYTES -> bytes). headers: lower-case names."""
    length = headers.get(HEADER_LENGTH.lower())
    header_size = int(length) if length is not None else len(body)
    if header_size > len(body):
        raise ValueError("%s %d is larger than the body (%d bytes)" % (HEADER_LENGTH, header_size, len(body)))
    document = json.loads(body[:header_size].decode("utf-8"))
    offset = header_size
    for output in document.get("outputs", []):
        size = output.get("parameters", {}).get("binary_data_size")
        if size is None:
            continue
        if offset + size > len(body):
            raise ValueError("output %r: binary_data_size %d runs past the end of the body" % (output.get("name"), size))
        output["data"] = _decode_binary(output, body[offset:offset + size])
        offset += size
    if offset != len(body):
        raise ValueError("%d bytes left over after the binary outputs" % (len(body) - offset))
    return document


def infer(url, model, inputs, outputs=None, version=None, request_id=None, binary_output=False, timeout=60.0):
    """POSTs an inference request. inputs as for build_request. Returns (status, document):
    the decoded response on 200, the server's {"error": ...} otherwise."""
    body, headers = build_request(inputs, outputs, request_id, binary_output)
    status, response_headers, response_body = http_request(
        "POST", url.rstrip("/") + model_path(model, version) + "/infer", body, headers, timeout)
    if status != 200:
        return _json_or_error(status, response_body)
    return status, parse_infer_response(response_body, response_headers)


def classify_images(url, model, images, input_name, output_name=None, binary=False, classification=0,
                    version=None, timeout=60.0):
    """Sends encoded images (a list of bytes) as one BYTES input. Returns (status, document)."""
    return infer(url, model, [bytes_input(input_name, images, binary)],
                 requested_outputs(output_name, binary, classification), version, timeout=timeout)


def classifications(document):
    """Classification strings "score:index:label" of every BYTES output, as
    {output name: [(score, index, label or None), ...]} (rows flattened)."""
    result = {}
    for output in document.get("outputs", []):
        if output.get("datatype") != "BYTES":
            continue
        parsed = []
        for element in output.get("data", []):
            text = element.decode("utf-8") if isinstance(element, bytes) else element
            parts = text.split(":", 2)
            parsed.append((float(parts[0]), int(parts[1]), parts[2] if len(parts) > 2 else None))
        result[output["name"]] = parsed
    return result


# --- command line --------------------------------------------------------------------

def _printable(document):
    def convert(value):
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        return value
    return json.dumps(convert(document), indent=2)


def _io_names(url, model, args):
    """The input and output names: from the flags, else the model's metadata."""
    if args.input and (args.output or not args.classification):
        return args.input, args.output, None
    status, metadata = model_metadata(url, model, args.model_version, args.timeout)
    if status != 200:
        raise RuntimeError("GET %s: %d %s" % (model_path(model, args.model_version), status, metadata.get("error", "")))
    input_name = args.input or metadata["inputs"][0]["name"]
    output_name = args.output or metadata["outputs"][0]["name"]
    return input_name, output_name, metadata


def run_infer(args):
    input_name, output_name, metadata = _io_names(args.url, args.model, args)
    outputs = requested_outputs(output_name, args.binary, args.classification)
    if args.fp32_random:
        if metadata is None:
            status, metadata = model_metadata(args.url, args.model, args.model_version, args.timeout)
            if status != 200:
                raise RuntimeError("model metadata: %d %s" % (status, metadata.get("error", "")))
        shape = [args.batch if d < 0 else d for d in metadata["inputs"][0]["shape"]]
        inputs = [fp32_input(input_name, shape, random_fp32(shape, args.seed), args.binary)]
    else:
        if not args.images:
            raise RuntimeError("give at least one IMAGE, or --fp32-random")
        images = []
        for path in args.images:
            with open(path, "rb") as f:
                images.append(f.read())
        inputs = [bytes_input(input_name, images, args.binary)]
    status, document = infer(args.url, args.model, inputs, outputs, args.model_version, args.id,
                             binary_output=args.binary, timeout=args.timeout)
    print(_printable(document))
    return 0 if status == 200 else 1


def _infer_parser():
    p = argparse.ArgumentParser(prog="kserve_client.py", description="KServe v2 inference request")
    p.add_argument("url", help="server base URL, e.g. http://127.0.0.1:8000")
    p.add_argument("model")
    p.add_argument("images", nargs="*", metavar="IMAGE", help="encoded images (JPEG/PNG), sent as one BYTES batch")
    p.add_argument("--binary", action="store_true", help="binary tensor data extension, both directions")
    p.add_argument("--classification", type=int, default=0, metavar="K", help="ask for the top-K classification strings")
    p.add_argument("--fp32-random", action="store_true", help="send a seeded random FP32 tensor instead of images")
    p.add_argument("--batch", type=int, default=1, help="batch size for --fp32-random")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--input", help="input name (default: the model metadata's first input)")
    p.add_argument("--output", help="output name (default: the model metadata's first output)")
    p.add_argument("--model-version")
    p.add_argument("--id", help="request id, echoed in the response")
    p.add_argument("--timeout", type=float, default=60.0)
    return p


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "health":
            p = argparse.ArgumentParser(prog="kserve_client.py health")
            p.add_argument("url")
            p.add_argument("model", nargs="?")
            a = p.parse_args(argv[1:])
            state = health(a.url, a.model)
            print(json.dumps(state))
            return 0 if all(state.values()) else 1
        if argv and argv[0] == "metadata":
            p = argparse.ArgumentParser(prog="kserve_client.py metadata")
            p.add_argument("url")
            p.add_argument("model", nargs="?")
            p.add_argument("--model-version")
            a = p.parse_args(argv[1:])
            status, document = (model_metadata(a.url, a.model, a.model_version) if a.model
                                else server_metadata(a.url))
            print(json.dumps(document, indent=2))
            return 0 if status == 200 else 1
        return run_infer(_infer_parser().parse_args(argv))
    except (OSError, RuntimeError, ValueError) as error:  # URLError is an OSError
        print("kserve_client.py: %s" % error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
