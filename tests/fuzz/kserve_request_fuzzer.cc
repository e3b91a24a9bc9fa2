// Fuzzes the KServe v2 inference request: the Inference-Header-Content-Length value
// (parse_header_length) and the body (parse_infer_request: JSON header, nested "data",
// base64 BYTES, binary tensor data), as the /v2/models/{m}/infer handler calls them.
// Requests that parse are rendered back (render_infer_response, classification_output):
// every tensor must hold exactly the elements its shape says, and the JSON the server
// writes must be valid JSON whatever names and ids the client chose.
//
// Input format: the header value, a '\n', then the body (seeds: corpus/kserve_request).
#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "server/kserve_protocol.h"

namespace {

namespace kserve = inferd::kserve;

size_t element_count(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

void check_tensor(const kserve::TensorData& t) {
  const size_t n = element_count(t.shape);
  if (t.datatype == "FP32") {
    FUZZ_CHECK(t.fp32.size() == n && t.bytes.empty(), t.name);
  } else {
    FUZZ_CHECK(t.datatype == "BYTES" && t.bytes.size() == n && t.fp32.empty(), t.name);
  }
}

void check_json(std::string_view text, const char* what) {
  boost::system::error_code ec;
  boost::json::parse(text, ec);
  FUZZ_CHECK(!ec, std::string(what) + ": " + ec.message() + ": " + std::string(text.substr(0, 200)));
}

// The response the server would write for these tensors: BYTES go binary (raw bytes
// have no JSON form unless they are UTF-8), FP32 as the request asked.
void render(const kserve::InferRequest& request) {
  kserve::InferResult result{"model", "1", request.id, {}, {}};
  for (const auto& t : request.inputs) {
    result.outputs.push_back(t);
    result.binary.push_back(t.datatype == "BYTES" || request.binary_data_output);
  }
  for (const auto& o : request.outputs) {
    if (o.classification <= 0) continue;
    for (const auto& t : request.inputs) {
      auto c = kserve::classification_output(t, o.classification, {"a", "b"});
      if (!c.is_ok()) continue;
      FUZZ_CHECK(c->bytes.size() == element_count(c->shape), o.name);
      result.outputs.push_back(std::move(c).value());
      result.binary.push_back(o.binary_data);
    }
  }
  const inferd::http::Response response = kserve::render_infer_response(result);
  auto length = response.headers.find("Inference-Header-Content-Length");
  if (length == response.headers.end()) {
    check_json(response.body, "JSON response");
    return;
  }
  const size_t header_bytes = std::stoul(length->second);
  FUZZ_CHECK(header_bytes <= response.body.size(), length->second);
  check_json(std::string_view(response.body).substr(0, header_bytes), "binary response header");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  inferd::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  auto header_length = kserve::parse_header_length(input.substr(0, newline));
  if (!header_length.is_ok()) return 0;
  // The handler hands parse_infer_request the body as an std::string: the copy keeps
  // ASan's bounds exact at the end of the body.
  const std::string body(input.substr(newline + 1));
  auto request = kserve::parse_infer_request(body, *header_length);
  if (!request.is_ok()) {
    FUZZ_CHECK(!request.status().message().empty(), "empty error message");
    return 0;
  }
  FUZZ_CHECK(!request->inputs.empty(), "a request without inputs parsed");
  for (const auto& t : request->inputs) check_tensor(t);
  render(*request);
  return 0;
}
