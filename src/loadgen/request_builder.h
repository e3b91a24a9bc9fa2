// The requests of a run, serialized once before it starts (the hot path only writes
// bytes): request line, Host, Content-Type, Content-Length, the user's headers, body.
//
// Body modes:
//   raw            the file as it is, Content-Type from -T (application/octet-stream)
//   classify       the image as it is, Content-Type from its extension (POST /classify)
//   kserve-binary  KServe v2 infer with the binary tensor data extension: a JSON header
//                  naming one BYTES input of shape [1] whose binary_data_size covers the
//                  4-byte little-endian length and the image bytes that follow it;
//                  Inference-Header-Content-Length gives the JSON's size
//   kserve-json    KServe v2 infer in plain JSON: the image as base64 text with input
//                  parameter content_type "base64" (MLServer's convention, which inferd
//                  accepts; the protocol itself has no way to put non-UTF-8 bytes in JSON)
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "loadgen/url.h"

namespace inferd::loadgen {

enum class BodyMode { kRaw, kClassify, kKserveBinary, kKserveJson };
Result<BodyMode> parse_body_mode(std::string_view text);
const char* to_string(BodyMode mode);

struct BodyFile {
  std::string path;
  std::string bytes;
};

// One file, read whole.
Result<BodyFile> read_body_file(const std::string& path);
// Every *.jpg, *.jpeg and *.png in `dir` (not recursive, case-insensitive), sorted by name.
Result<std::vector<BodyFile>> read_image_dir(const std::string& dir);
// "image/jpeg" or "image/png" from the extension, else application/octet-stream.
std::string image_content_type(const std::string& path);

using Header = std::pair<std::string, std::string>;
// "Name: value" (-H): a token name, a value without CR or LF.
Result<Header> parse_header(std::string_view text);

struct RequestOptions {
  std::string method;                                     // empty: GET without a body, POST with one
  std::vector<Header> headers;                            // added last; Host and Content-Type given here replace ours
  std::string content_type = "application/octet-stream";  // raw mode
  BodyMode mode = BodyMode::kRaw;
  // KServe modes.
  std::string input_name = "image";
  std::string output_name;  // empty: no "outputs" (the server returns every output)
  int classification = 0;   // > 0: ask for the top-k as "score:index:label" (needs output_name)
};

// One request per body (none: one request without a body), in order.
Result<std::vector<std::string>> build_requests(const Url& url, const RequestOptions& options,
                                                const std::vector<BodyFile>& bodies);

// The pieces, public for tests.
std::string base64_encode(std::string_view bytes);
std::string kserve_binary_body(std::string_view image, const RequestOptions& options, size_t* json_size);
std::string kserve_json_body(std::string_view image, const RequestOptions& options);

}  // namespace inferd::loadgen
