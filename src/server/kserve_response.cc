// Writing KServe v2 responses: inference results (JSON or JSON + binary tensor data),
// server and model metadata, and the classification extension's strings.
#include <bit>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <span>

#include "core/json.h"
#include "runtime/postprocess.h"
#include "server/kserve_protocol.h"

namespace inferd::kserve {
namespace {

namespace json = boost::json;

bool is_bytes(const TensorData& t) { return t.datatype == "BYTES"; }

void append_shape(std::string& out, const std::vector<int64_t>& shape) {
  out += '[';
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(shape[i]);
  }
  out += ']';
}

// Shortest text that reads back as the same float; JSON has no NaN/Inf, so null.
void append_float(std::string& out, float f) {
  if (!std::isfinite(f)) {
    out += "null";
    return;
  }
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  out.append(buf, end);
}

void append_le32(std::string& out, uint32_t v) {
  const char bytes[4] = {static_cast<char>(v & 0xFF), static_cast<char>((v >> 8) & 0xFF),
                         static_cast<char>((v >> 16) & 0xFF), static_cast<char>((v >> 24) & 0xFF)};
  out.append(bytes, 4);
}

// Bytes of the tensor in the binary tensor data extension's layout.
size_t binary_size(const TensorData& t) {
  if (!is_bytes(t)) return t.fp32.size() * 4;
  size_t n = 0;
  for (const std::string& s : t.bytes) n += 4 + s.size();
  return n;
}

void append_binary(std::string& out, const TensorData& t) {
  if (!is_bytes(t)) {
    for (float f : t.fp32) append_le32(out, std::bit_cast<uint32_t>(f));
    return;
  }
  for (const std::string& s : t.bytes) {
    append_le32(out, static_cast<uint32_t>(s.size()));
    out += s;
  }
}

void append_json_data(std::string& out, const TensorData& t) {
  out += ",\"data\":[";
  const size_t n = is_bytes(t) ? t.bytes.size() : t.fp32.size();
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    if (is_bytes(t)) out += json_quote(t.bytes[i]);
    else append_float(out, t.fp32[i]);
  }
  out += ']';
}

void append_output(std::string& out, const TensorData& t, bool binary) {
  out += "{\"name\":" + json_quote(t.name) + ",\"datatype\":" + json_quote(t.datatype) + ",\"shape\":";
  append_shape(out, t.shape);
  if (binary) {
    out += ",\"parameters\":{\"binary_data_size\":" + std::to_string(binary_size(t)) + "}";
  } else {
    append_json_data(out, t);
  }
  out += '}';
}

json::array tensor_metadata(const std::vector<TensorData>& tensors) {
  json::array out;
  for (const TensorData& t : tensors) {
    json::array shape;
    for (int64_t d : t.shape) shape.push_back(d);
    out.push_back(json::object{{"name", t.name}, {"datatype", t.datatype}, {"shape", std::move(shape)}});
  }
  return out;
}

}  // namespace

http::Response render_infer_response(const InferResult& result) {
  auto is_binary = [&](size_t i) { return i < result.binary.size() && result.binary[i]; };
  std::string header = "{\"model_name\":" + json_quote(result.model_name);
  if (!result.model_version.empty()) header += ",\"model_version\":" + json_quote(result.model_version);
  if (!result.id.empty()) header += ",\"id\":" + json_quote(result.id);
  header += ",\"outputs\":[";
  bool any_binary = false;
  for (size_t i = 0; i < result.outputs.size(); ++i) {
    if (i) header += ',';
    append_output(header, result.outputs[i], is_binary(i));
    any_binary = any_binary || is_binary(i);
  }
  header += "]}";

  http::Response response;
  if (!any_binary) {
    response.body = std::move(header);
    return response;
  }
  response.content_type = "application/octet-stream";
  response.headers["Inference-Header-Content-Length"] = std::to_string(header.size());
  response.body = std::move(header);
  for (size_t i = 0; i < result.outputs.size(); ++i) {
    if (is_binary(i)) append_binary(response.body, result.outputs[i]);
  }
  return response;
}

std::string server_metadata_json(std::string_view version) {
  const json::object doc{{"name", "inferd"},
                         {"version", json::string_view(version.data(), version.size())},
                         {"extensions", json::array{"binary_tensor_data", "classification", "model_repository"}}};
  return json::serialize(doc);
}

std::string model_metadata_json(const ModelMetadata& metadata) {
  json::array versions;
  for (const std::string& v : metadata.versions) versions.push_back(json::string(v));
  const json::object doc{{"name", metadata.name},
                         {"versions", std::move(versions)},
                         {"platform", metadata.platform},
                         {"inputs", tensor_metadata(metadata.inputs)},
                         {"outputs", tensor_metadata(metadata.outputs)}};
  return json::serialize(doc);
}

std::string classification_string(float score, int index, const std::string& label) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%f:%d", static_cast<double>(score), index);
  return label.empty() ? std::string(buf) : std::string(buf) + ":" + label;
}

Result<TensorData> classification_output(const TensorData& scores, int k, const std::vector<std::string>& labels) {
  const std::string where = "output '" + scores.name + "'";
  if (scores.datatype != "FP32") return invalid_argument(where + ": classification needs an FP32 output, not " + scores.datatype);
  if (k <= 0) return invalid_argument(where + ": classification count must be positive, got " + std::to_string(k));
  int64_t elements = 1;
  for (int64_t d : scores.shape) elements *= d;
  const int64_t batch = scores.shape.size() >= 2 ? scores.shape[0] : 1;
  if (elements != static_cast<int64_t>(scores.fp32.size()) || batch <= 0 || elements == 0) {
    return invalid_argument(where + ": shape does not match its " + std::to_string(scores.fp32.size()) + " values");
  }
  const int64_t classes = elements / batch;
  const int top = static_cast<int>(std::min<int64_t>(k, classes));
  TensorData out;
  out.name = scores.name;
  out.datatype = "BYTES";
  out.shape = scores.shape.size() >= 2 ? std::vector<int64_t>{batch, top} : std::vector<int64_t>{top};
  for (int64_t b = 0; b < batch; ++b) {
    const std::span<const float> row(scores.fp32.data() + b * classes, static_cast<size_t>(classes));
    for (const Prediction& p : top_k(row, top, {})) {
      const std::string& label = p.index < static_cast<int>(labels.size()) ? labels[p.index] : std::string();
      out.bytes.push_back(classification_string(p.confidence, p.index, label));
    }
  }
  return out;
}

}  // namespace inferd::kserve
