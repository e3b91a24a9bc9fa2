// The KServe v2 / Open Inference Protocol (Triton-compatible) REST payloads, as pure
// functions: request bytes -> InferRequest, InferResult -> response bytes, plus the
// metadata documents. No sockets and no engine here; the handlers in server/ call these.
//
// Supported: datatypes FP32 and BYTES; the binary tensor data extension in both
// directions (Inference-Header-Content-Length, parameters.binary_data_size,
// binary_data, binary_data_output); the classification extension (output
// parameters.classification = k -> BYTES "score:index:label" strings).
//
// BYTES in JSON: the protocol carries a BYTES element as a JSON string whose UTF-8
// bytes are the element (Triton's rule). Encoded images are not UTF-8, so clients send
// them either through the binary extension (4-byte little-endian length + bytes per
// element) or as base64 text with the input parameter "content_type": "base64"
// (MLServer's Base64 codec convention), which parse_infer_request decodes.
//
// Every error is invalid_argument with a message meant for the client (-> HTTP 400).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "server/http/http_types.h"

namespace inferd::kserve {

// JSON arrays nested deeper than this (objects included) are rejected by the parser,
// never by recursion: a hostile body cannot overflow the stack.
inline constexpr int kMaxJsonDepth = 64;

struct TensorData {
  std::string name, datatype;          // datatype "FP32" or "BYTES"
  std::vector<int64_t> shape;
  std::vector<float> fp32;             // FP32 elements, row-major
  std::vector<std::string> bytes;      // BYTES elements (e.g. encoded JPEGs), row-major
};

struct RequestedOutput {
  std::string name;
  // The output's parameters.binary_data, else the request's binary_data_output.
  bool binary_data = false;
  // parameters.classification = k (> 0): return the top-k as "score:index:label" strings.
  int classification = 0;
};

struct InferRequest {
  std::string id;
  std::vector<TensorData> inputs;
  std::vector<RequestedOutput> outputs;  // empty = every model output, as JSON
  bool binary_data_output = false;       // request parameters.binary_data_output
};

// `body` is the whole HTTP body; `header_length` the Inference-Header-Content-Length
// value if present: the JSON is then the first N bytes and each input with
// parameters.binary_data_size takes that many bytes of what follows, in input order.
// `max_batch` > 0 bounds each input before its data is converted: a BYTES input to that
// many elements (one image each), another input to that many rows (its first dimension).
// A body of millions of elements is then refused without building them.
Result<InferRequest> parse_infer_request(std::string_view body, std::optional<size_t> header_length,
                                         int64_t max_batch = 0);

// The Inference-Header-Content-Length header value as the server received it:
// nullopt for "" (absent), an error when it is not a decimal byte count.
Result<std::optional<size_t>> parse_header_length(std::string_view value);

struct InferResult {
  std::string model_name, model_version, id;  // version and id are left out when empty
  std::vector<TensorData> outputs;
  std::vector<bool> binary;  // per output: send as binary data (missing entries = JSON)
};

// application/json, or, when any output is binary, the JSON header followed by the
// binary outputs in output order, Inference-Header-Content-Length set and content type
// application/octet-stream. FP32 NaN/Inf have no JSON form and are written as null.
http::Response render_infer_response(const InferResult& result);

// GET /v2: {"name":"inferd","version":"...","extensions":[...]}.
std::string server_metadata_json(std::string_view version);

struct ModelMetadata {
  std::string name;
  std::vector<std::string> versions;
  std::string platform = "inferd_plan";
  std::vector<TensorData> inputs, outputs;  // name, datatype, shape (-1 for the batch) only
};

// GET /v2/models/{name}[/versions/{v}].
std::string model_metadata_json(const ModelMetadata& metadata);

// Triton's classification element "<score>:<index>[:<label>]", score with 6 decimals:
// "0.921100:331:n02328150 Angora, Angora rabbit"; no ":<label>" when the label is empty.
std::string classification_string(float score, int index, const std::string& label);

// The classification extension applied to an FP32 output of shape [batch, classes...]
// (or [classes] unbatched): a BYTES tensor [batch, k] (or [k]) of classification
// strings, highest score first; k is capped at the class count. labels may be empty.
Result<TensorData> classification_output(const TensorData& scores, int k, const std::vector<std::string>& labels);

}  // namespace inferd::kserve
