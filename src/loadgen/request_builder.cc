#include "loadgen/request_builder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/json.h"
#include "core/version.h"

namespace inferd::loadgen {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool is_token_char(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// The "outputs" member with its leading comma, or nothing.
std::string outputs_json(const RequestOptions& o) {
  if (o.output_name.empty()) return "";
  std::string out = ",\"outputs\":[{\"name\":" + json_quote(o.output_name);
  if (o.classification > 0) out += ",\"parameters\":{\"classification\":" + std::to_string(o.classification) + "}";
  return out + "}]";
}

bool has_header(const std::vector<Header>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const Header& h) { return lower(h.first) == name; });
}

struct Body {
  std::string bytes, content_type;
  std::vector<Header> extra;  // headers the mode needs
};

Body make_body(const BodyFile& file, const RequestOptions& o) {
  switch (o.mode) {
    case BodyMode::kRaw:
      return {file.bytes, o.content_type, {}};
    case BodyMode::kClassify:
      return {file.bytes, image_content_type(file.path), {}};
    case BodyMode::kKserveBinary: {
      size_t json_size = 0;
      std::string bytes = kserve_binary_body(file.bytes, o, &json_size);
      return {std::move(bytes),
              "application/octet-stream",
              {{"Inference-Header-Content-Length", std::to_string(json_size)}}};
    }
    case BodyMode::kKserveJson:
      return {kserve_json_body(file.bytes, o), "application/json", {}};
  }
  return {};
}

std::string serialize(const Url& url, const RequestOptions& o, const Body* body) {
  const std::string method = !o.method.empty() ? o.method : body ? "POST" : "GET";
  std::string head = method + " " + url.target + " HTTP/1.1\r\n";
  if (!has_header(o.headers, "host")) head += "Host: " + url.host_header + "\r\n";
  if (!has_header(o.headers, "user-agent")) head += std::string("User-Agent: inferd-bench/") + kEngineVersion + "\r\n";
  if (body && !has_header(o.headers, "content-type")) head += "Content-Type: " + body->content_type + "\r\n";
  if (body || method == "POST" || method == "PUT" || method == "PATCH")
    head += "Content-Length: " + std::to_string(body ? body->bytes.size() : 0) + "\r\n";
  if (body)
    for (const auto& [name, value] : body->extra) head += name + ": " + value + "\r\n";
  for (const auto& [name, value] : o.headers) head += name + ": " + value + "\r\n";
  head += "\r\n";
  return body ? head + body->bytes : head;
}

}  // namespace

Result<BodyMode> parse_body_mode(std::string_view text) {
  for (BodyMode m : {BodyMode::kRaw, BodyMode::kClassify, BodyMode::kKserveBinary, BodyMode::kKserveJson})
    if (text == to_string(m)) return m;
  return invalid_argument("--mode '" + std::string(text) + "' is not one of raw, classify, kserve-binary, kserve-json");
}

const char* to_string(BodyMode mode) {
  switch (mode) {
    case BodyMode::kRaw:
      return "raw";
    case BodyMode::kClassify:
      return "classify";
    case BodyMode::kKserveBinary:
      return "kserve-binary";
    case BodyMode::kKserveJson:
      return "kserve-json";
  }
  return "raw";
}

Result<BodyFile> read_body_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found(path + ": cannot open the body file");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return data_loss(path + ": read error");
  return BodyFile{path, std::move(bytes).str()};
}

Result<std::vector<BodyFile>> read_image_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return not_found(dir + ": not a directory (--images needs a folder of images)");
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string ext = lower(entry.path().extension().string());
    if (entry.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png"))
      paths.push_back(entry.path().string());
  }
  if (ec) return not_found(dir + ": " + ec.message());
  if (paths.empty()) return not_found(dir + ": no *.jpg, *.jpeg or *.png file");
  std::sort(paths.begin(), paths.end());
  std::vector<BodyFile> files;
  for (const auto& p : paths) {
    ASSIGN_OR_RETURN(BodyFile f, read_body_file(p));
    files.push_back(std::move(f));
  }
  return files;
}

std::string image_content_type(const std::string& path) {
  const std::string ext = lower(std::filesystem::path(path).extension().string());
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".png") return "image/png";
  return "application/octet-stream";
}

Result<Header> parse_header(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return invalid_argument("header '" + std::string(text) + "' is not 'Name: value'");
  const std::string_view name = text.substr(0, colon);
  if (!std::all_of(name.begin(), name.end(), [](char c) { return is_token_char(static_cast<unsigned char>(c)); }))
    return invalid_argument("header name '" + std::string(name) + "' has a character HTTP does not allow in a name");
  std::string_view value = text.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.find_first_of("\r\n") != std::string_view::npos)
    return invalid_argument("header '" + std::string(name) + "' has a line break in its value");
  if (lower(name) == "content-length")
    return invalid_argument("header Content-Length is computed from the body; do not set it with -H");
  return Header{std::string(name), std::string(value)};
}

std::string base64_encode(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1]) << 8 |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (const size_t left = bytes.size() - i; left > 0) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (left == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string kserve_binary_body(std::string_view image, const RequestOptions& options, size_t* json_size) {
  const std::string json =
      "{\"inputs\":[{\"name\":" + json_quote(options.input_name) +
      ",\"datatype\":\"BYTES\",\"shape\":[1],\"parameters\":{\"binary_data_size\":" + std::to_string(image.size() + 4) +
      "}}]" + outputs_json(options) + "}";
  *json_size = json.size();
  const auto n = static_cast<uint32_t>(image.size());
  const char length[4] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
                          static_cast<char>((n >> 16) & 0xff), static_cast<char>(n >> 24)};
  return json + std::string(length, 4) + std::string(image);
}

std::string kserve_json_body(std::string_view image, const RequestOptions& options) {
  return "{\"inputs\":[{\"name\":" + json_quote(options.input_name) +
         ",\"datatype\":\"BYTES\",\"shape\":[1],\"parameters\":{\"content_type\":\"base64\"},\"data\":[\"" +
         base64_encode(image) + "\"]}]" + outputs_json(options) + "}";
}

Result<std::vector<std::string>> build_requests(const Url& url, const RequestOptions& options,
                                                const std::vector<BodyFile>& bodies) {
  if (bodies.empty()) {
    if (options.mode != BodyMode::kRaw)
      return invalid_argument(std::string("--mode ") + to_string(options.mode) +
                              " needs a body: -D FILE or --images DIR");
    return std::vector<std::string>{serialize(url, options, nullptr)};
  }
  if (options.classification > 0 && options.output_name.empty() &&
      (options.mode == BodyMode::kKserveBinary || options.mode == BodyMode::kKserveJson))
    return invalid_argument("--classification needs the model's output name (--output-name)");
  std::vector<std::string> requests;
  for (const BodyFile& file : bodies) {
    const Body body = make_body(file, options);
    requests.push_back(serialize(url, options, &body));
  }
  return requests;
}

}  // namespace inferd::loadgen
