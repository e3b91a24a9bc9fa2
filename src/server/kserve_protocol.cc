// Parsing KServe v2 inference requests: the JSON header (Boost.JSON, depth-limited,
// UTF-8 validated) and the binary tensor data that may follow it.
#include "server/kserve_protocol.h"

#include <bit>
#include <boost/json.hpp>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

namespace inferd::kserve {
namespace {

namespace json = boost::json;

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  s += ']';
  return s;
}

const char* kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "a value";
}

Result<json::value> parse_json(std::string_view text, json::storage_ptr storage) {
  if (text.empty()) return invalid_argument("the request has no JSON (empty body or Inference-Header-Content-Length 0)");
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  json::parser parser(std::move(storage), options);
  boost::system::error_code ec;
  const size_t consumed = parser.write(text.data(), text.size(), ec);
  if (ec == json::error::too_deep) {
    return invalid_argument("malformed JSON at byte " + std::to_string(consumed) + ": nested deeper than " +
                            std::to_string(kMaxJsonDepth) + " levels");
  }
  if (ec) {
    // Boost.JSON reports a bad UTF-8 byte as a plain "syntax error" where it stops: say what it is.
    const size_t valid = http::valid_utf8_prefix(text);
    if (valid < text.size() && valid <= consumed && consumed - valid < 4) {
      return invalid_argument("malformed JSON at byte " + std::to_string(valid) +
                              ": invalid UTF-8 (JSON text must be UTF-8; send binary data with the binary extension "
                              "or as base64)");
    }
    return invalid_argument("malformed JSON at byte " + std::to_string(consumed) + ": " + ec.message());
  }
  return parser.release();
}

// Standard base64 (RFC 4648 alphabet, '=' padding optional); nullopt when invalid.
std::optional<std::string> decode_base64(std::string_view text) {
  size_t padding = 0;
  while (!text.empty() && text.back() == '=' && padding < 2) {
    text.remove_suffix(1);
    ++padding;
  }
  if (text.size() % 4 == 1 || (padding && (text.size() + padding) % 4 != 0)) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

uint32_t load_le32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}

// An input whose header is parsed and whose elements are still to be read, from
// "data" or from the binary part of the body.
struct PendingInput {
  TensorData tensor;
  std::string where;                  // "input 'x'" for messages
  int64_t count = 0;                  // elements the shape holds
  const json::value* data = nullptr;  // "data", when given in JSON
  std::optional<int64_t> binary_size; // parameters.binary_data_size
  bool base64 = false;                // parameters.content_type == "base64"
};

Result<std::string> string_field(const json::object& o, std::string_view key, const std::string& where) {
  const json::value* v = o.if_contains(key);
  if (!v) return invalid_argument(where + " has no \"" + std::string(key) + "\"");
  if (!v->is_string()) return invalid_argument(where + ": \"" + std::string(key) + "\" must be a string, got " + kind_name(*v));
  return std::string(v->get_string());
}

Result<std::vector<int64_t>> parse_shape(const json::value& v, const std::string& where) {
  const json::array* dims = v.if_array();
  if (!dims) return invalid_argument(where + ": \"shape\" must be an array of integers, got " + kind_name(v));
  std::vector<int64_t> shape;
  for (size_t i = 0; i < dims->size(); ++i) {
    const json::value& d = (*dims)[i];
    const std::string dim = where + ": dimension " + std::to_string(i) + " of \"shape\"";
    if (d.is_uint64()) return invalid_argument(dim + " (" + std::to_string(d.get_uint64()) + ") is too large");
    if (!d.is_int64()) return invalid_argument(dim + " is " + kind_name(d) + ", expected an integer");
    if (d.get_int64() < 0) {
      return invalid_argument(dim + " is " + std::to_string(d.get_int64()) + "; dimensions must be >= 0");
    }
    shape.push_back(d.get_int64());
  }
  return shape;
}

Result<int64_t> element_count(const std::vector<int64_t>& shape, const std::string& where) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d != 0 && count > std::numeric_limits<int64_t>::max() / d) {
      return invalid_argument(where + ": shape " + shape_string(shape) + " has more than 2^63 elements");
    }
    count *= d;
  }
  return count;
}

Status parse_input_parameters(const json::object& input, PendingInput& pending) {
  const json::value* params = input.if_contains("parameters");
  if (!params) return Status::ok();
  if (!params->is_object()) return invalid_argument(pending.where + ": \"parameters\" must be an object, got " + kind_name(*params));
  if (const json::value* size = params->get_object().if_contains("binary_data_size")) {
    if (!size->is_int64() || size->get_int64() < 0) {
      return invalid_argument(pending.where + ": parameters.binary_data_size must be a non-negative integer");
    }
    pending.binary_size = size->get_int64();
  }
  if (const json::value* type = params->get_object().if_contains("content_type")) {
    pending.base64 = type->is_string() && type->get_string() == "base64";
  }
  return Status::ok();
}

Result<PendingInput> parse_input_header(const json::value& v, size_t index) {
  PendingInput pending;
  pending.where = "inputs[" + std::to_string(index) + "]";
  const json::object* input = v.if_object();
  if (!input) return invalid_argument(pending.where + " must be an object, got " + kind_name(v));
  ASSIGN_OR_RETURN(pending.tensor.name, string_field(*input, "name", pending.where));
  pending.where = "input '" + pending.tensor.name + "'";
  ASSIGN_OR_RETURN(pending.tensor.datatype, string_field(*input, "datatype", pending.where));
  if (pending.tensor.datatype != "FP32" && pending.tensor.datatype != "BYTES") {
    return invalid_argument(pending.where + ": datatype " + pending.tensor.datatype + " is not supported (use FP32 or BYTES)");
  }
  const json::value* shape = input->if_contains("shape");
  if (!shape) return invalid_argument(pending.where + " has no \"shape\"");
  ASSIGN_OR_RETURN(pending.tensor.shape, parse_shape(*shape, pending.where));
  ASSIGN_OR_RETURN(pending.count, element_count(pending.tensor.shape, pending.where));
  RETURN_IF_ERROR(parse_input_parameters(*input, pending));
  pending.data = input->if_contains("data");
  if (pending.data && pending.binary_size) {
    return invalid_argument(pending.where + " has both \"data\" and parameters.binary_data_size");
  }
  if (!pending.data && !pending.binary_size) {
    return invalid_argument(pending.where + " has neither \"data\" nor parameters.binary_data_size");
  }
  return pending;
}

// The leaves of a (possibly nested) "data" array in row-major order. Recursion is
// bounded by the parser's max_depth.
void collect_leaves(const json::value& v, std::vector<const json::value*>& leaves) {
  if (const json::array* a = v.if_array()) {
    for (const json::value& e : *a) collect_leaves(e, leaves);
  } else {
    leaves.push_back(&v);
  }
}

Status fp32_from_leaves(const std::vector<const json::value*>& leaves, PendingInput& p) {
  p.tensor.fp32.reserve(leaves.size());
  for (size_t i = 0; i < leaves.size(); ++i) {
    const json::value& v = *leaves[i];
    double d = 0;
    if (v.is_double()) d = v.get_double();
    else if (v.is_int64()) d = static_cast<double>(v.get_int64());
    else if (v.is_uint64()) d = static_cast<double>(v.get_uint64());
    else return invalid_argument(p.where + ": element " + std::to_string(i) + " of \"data\" is " + kind_name(v) + ", FP32 needs numbers");
    if (!std::isfinite(d) || std::fabs(d) > FLT_MAX) {
      return invalid_argument(p.where + ": element " + std::to_string(i) + " of \"data\" (" + json::serialize(v) +
                              ") is outside the FP32 range");
    }
    p.tensor.fp32.push_back(static_cast<float>(d));
  }
  return Status::ok();
}

Status bytes_from_leaves(const std::vector<const json::value*>& leaves, PendingInput& p) {
  p.tensor.bytes.reserve(leaves.size());
  for (size_t i = 0; i < leaves.size(); ++i) {
    const json::string* s = leaves[i]->if_string();
    const std::string element = p.where + ": element " + std::to_string(i) + " of \"data\"";
    if (!s) return invalid_argument(element + " is " + kind_name(*leaves[i]) + ", BYTES needs strings");
    if (!p.base64) {
      p.tensor.bytes.emplace_back(s->data(), s->size());
      continue;
    }
    std::optional<std::string> decoded = decode_base64(std::string_view(s->data(), s->size()));
    if (!decoded) return invalid_argument(element + " is not valid base64 (the input's content_type is \"base64\")");
    p.tensor.bytes.push_back(std::move(*decoded));
  }
  return Status::ok();
}

Status fill_from_json(PendingInput& p) {
  if (!p.data->is_array()) return invalid_argument(p.where + ": \"data\" must be an array, got " + kind_name(*p.data));
  std::vector<const json::value*> leaves;
  collect_leaves(*p.data, leaves);
  if (static_cast<int64_t>(leaves.size()) != p.count) {
    return invalid_argument(p.where + ": shape " + shape_string(p.tensor.shape) + " has " + std::to_string(p.count) +
                            " elements but " + std::to_string(leaves.size()) + " values were given");
  }
  return p.tensor.datatype == "FP32" ? fp32_from_leaves(leaves, p) : bytes_from_leaves(leaves, p);
}

Status fp32_from_binary(std::string_view bytes, PendingInput& p) {
  if (p.count > static_cast<int64_t>(bytes.size() / 4) || bytes.size() != static_cast<size_t>(p.count) * 4) {
    const std::string needed = p.count <= std::numeric_limits<int64_t>::max() / 4 ? std::to_string(p.count * 4) : "more than 2^63";
    return invalid_argument(p.where + ": shape " + shape_string(p.tensor.shape) + " has " + std::to_string(p.count) +
                            " FP32 elements (" + needed + " bytes) but binary_data_size is " + std::to_string(bytes.size()));
  }
  p.tensor.fp32.resize(static_cast<size_t>(p.count));
  for (size_t i = 0; i < p.tensor.fp32.size(); ++i) p.tensor.fp32[i] = std::bit_cast<float>(load_le32(bytes.data() + 4 * i));
  return Status::ok();
}

// BYTES as binary data: each element is a 4-byte little-endian length, then the bytes.
Status bytes_from_binary(std::string_view bytes, PendingInput& p) {
  size_t pos = 0;
  int64_t n = 0;
  while (pos < bytes.size()) {
    const std::string element = p.where + ": binary BYTES element " + std::to_string(n);
    const size_t left = bytes.size() - pos;
    if (n == p.count) {
      return invalid_argument(p.where + ": binary BYTES data holds more than the " + std::to_string(p.count) +
                              " elements of shape " + shape_string(p.tensor.shape) + " (" + std::to_string(left) +
                              " bytes left over)");
    }
    if (left < 4) return invalid_argument(element + " has a truncated length prefix (" + std::to_string(left) + " of 4 bytes)");
    const uint32_t length = load_le32(bytes.data() + pos);
    pos += 4;
    if (length > bytes.size() - pos) {
      return invalid_argument(element + " claims " + std::to_string(length) + " bytes but only " +
                              std::to_string(bytes.size() - pos) + " remain in its binary_data_size");
    }
    p.tensor.bytes.emplace_back(bytes.substr(pos, length));
    pos += length;
    ++n;
  }
  if (n != p.count) {
    return invalid_argument(p.where + ": shape " + shape_string(p.tensor.shape) + " has " + std::to_string(p.count) +
                            " elements but the binary BYTES data holds " + std::to_string(n));
  }
  return Status::ok();
}

// Hands each binary input its slice of what follows the JSON header, in input order.
Status fill_binary_inputs(std::vector<PendingInput>& inputs, std::string_view binary, bool has_header_length) {
  size_t offset = 0;
  for (PendingInput& p : inputs) {
    if (!p.binary_size) continue;
    if (!has_header_length) {
      return invalid_argument(p.where + " has parameters.binary_data_size but the request has no Inference-Header-Content-Length header");
    }
    const auto size = static_cast<uint64_t>(*p.binary_size);
    if (size > binary.size() - offset) {
      return invalid_argument(p.where + ": binary_data_size " + std::to_string(size) + " runs past the end of the body (" +
                              std::to_string(binary.size()) + " bytes follow the JSON header, " + std::to_string(offset) +
                              " taken by earlier inputs)");
    }
    const std::string_view slice = binary.substr(offset, size);
    offset += size;
    RETURN_IF_ERROR(p.tensor.datatype == "FP32" ? fp32_from_binary(slice, p) : bytes_from_binary(slice, p));
  }
  if (offset != binary.size()) {
    return invalid_argument(std::to_string(binary.size()) + " bytes follow the JSON header but the inputs' binary_data_size add up to " +
                            std::to_string(offset) + " (" + std::to_string(binary.size() - offset) + " bytes left over)");
  }
  return Status::ok();
}

Result<bool> bool_parameter(const json::value* params, std::string_view key, const std::string& where, bool fallback) {
  if (!params) return fallback;
  if (!params->is_object()) return invalid_argument(where + ": \"parameters\" must be an object, got " + kind_name(*params));
  const json::value* v = params->get_object().if_contains(key);
  if (!v) return fallback;
  if (!v->is_bool()) return invalid_argument(where + ": parameters." + std::string(key) + " must be true or false, got " + kind_name(*v));
  return v->get_bool();
}

Result<RequestedOutput> parse_requested_output(const json::value& v, size_t index, bool binary_default) {
  std::string where = "outputs[" + std::to_string(index) + "]";
  const json::object* o = v.if_object();
  if (!o) return invalid_argument(where + " must be an object, got " + kind_name(v));
  RequestedOutput out;
  ASSIGN_OR_RETURN(out.name, string_field(*o, "name", where));
  where = "output '" + out.name + "'";
  const json::value* params = o->if_contains("parameters");
  ASSIGN_OR_RETURN(out.binary_data, bool_parameter(params, "binary_data", where, binary_default));
  if (const json::value* k = params ? params->get_object().if_contains("classification") : nullptr) {
    if (!k->is_int64() || k->get_int64() <= 0 || k->get_int64() > std::numeric_limits<int>::max()) {
      return invalid_argument(where + ": parameters.classification must be a positive integer, got " + json::serialize(*k));
    }
    out.classification = static_cast<int>(k->get_int64());
  }
  return out;
}

Result<std::vector<RequestedOutput>> parse_requested_outputs(const json::object& root, bool binary_default) {
  std::vector<RequestedOutput> outputs;
  const json::value* v = root.if_contains("outputs");
  if (!v) return outputs;
  if (!v->is_array()) return invalid_argument(std::string("\"outputs\" must be an array, got ") + kind_name(*v));
  std::set<std::string> names;
  for (size_t i = 0; i < v->get_array().size(); ++i) {
    ASSIGN_OR_RETURN(RequestedOutput out, parse_requested_output(v->get_array()[i], i, binary_default));
    if (!names.insert(out.name).second) return invalid_argument("output '" + out.name + "' is requested twice");
    outputs.push_back(std::move(out));
  }
  return outputs;
}

Result<std::vector<PendingInput>> parse_input_headers(const json::object& root) {
  const json::value* v = root.if_contains("inputs");
  if (!v) return invalid_argument("the request has no \"inputs\"");
  if (!v->is_array()) return invalid_argument(std::string("\"inputs\" must be an array, got ") + kind_name(*v));
  if (v->get_array().empty()) return invalid_argument("\"inputs\" is empty");
  std::vector<PendingInput> inputs;
  std::set<std::string> names;
  for (size_t i = 0; i < v->get_array().size(); ++i) {
    ASSIGN_OR_RETURN(PendingInput p, parse_input_header(v->get_array()[i], i));
    if (!names.insert(p.tensor.name).second) return invalid_argument(p.where + " appears twice in \"inputs\"");
    inputs.push_back(std::move(p));
  }
  return inputs;
}

}  // namespace

Result<std::optional<size_t>> parse_header_length(std::string_view value) {
  if (value.empty()) return std::optional<size_t>{};
  size_t n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size()) {
    return invalid_argument("Inference-Header-Content-Length '" + std::string(value) + "' is not a byte count");
  }
  return std::optional<size_t>(n);
}

// The samples `p` asks for, against the model's max batch (see the header).
Status check_batch(const PendingInput& p, int64_t max_batch) {
  if (max_batch <= 0) return Status::ok();
  const bool images = p.tensor.datatype == "BYTES";
  const int64_t samples = images ? p.count : (p.tensor.shape.empty() ? 1 : p.tensor.shape[0]);
  if (samples <= max_batch) return Status::ok();
  return invalid_argument(p.where + " has " + std::to_string(samples) + (images ? " elements" : " rows") +
                          "; the model takes at most " + std::to_string(max_batch) + " per request (its max batch)");
}

Result<InferRequest> parse_infer_request(std::string_view body, std::optional<size_t> header_length,
                                         int64_t max_batch) {
  if (header_length && *header_length > body.size()) {
    return invalid_argument("Inference-Header-Content-Length is " + std::to_string(*header_length) + " but the body is only " +
                            std::to_string(body.size()) + " bytes");
  }
  const std::string_view json_text = header_length ? body.substr(0, *header_length) : body;
  // All JSON values live in one arena that dies with this call: no per-node frees.
  json::monotonic_resource arena;
  ASSIGN_OR_RETURN(json::value root_value, parse_json(json_text, &arena));
  const json::object* root = root_value.if_object();
  if (!root) return invalid_argument(std::string("the request must be a JSON object, got ") + kind_name(root_value));

  InferRequest request;
  if (const json::value* id = root->if_contains("id")) {
    if (!id->is_string()) return invalid_argument(std::string("\"id\" must be a string, got ") + kind_name(*id));
    request.id = std::string(id->get_string());
  }
  ASSIGN_OR_RETURN(request.binary_data_output,
                   bool_parameter(root->if_contains("parameters"), "binary_data_output", "the request", false));
  ASSIGN_OR_RETURN(request.outputs, parse_requested_outputs(*root, request.binary_data_output));
  ASSIGN_OR_RETURN(std::vector<PendingInput> inputs, parse_input_headers(*root));
  for (PendingInput& p : inputs) RETURN_IF_ERROR(check_batch(p, max_batch));
  for (PendingInput& p : inputs) {
    if (p.data) RETURN_IF_ERROR(fill_from_json(p));
  }
  const std::string_view binary = header_length ? body.substr(*header_length) : std::string_view();
  RETURN_IF_ERROR(fill_binary_inputs(inputs, binary, header_length.has_value()));
  for (PendingInput& p : inputs) request.inputs.push_back(std::move(p.tensor));
  return request;
}

}  // namespace inferd::kserve
