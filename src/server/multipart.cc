#include "server/multipart.h"

namespace inferd {
namespace {

Result<std::string> boundary_of(std::string_view content_type) {
  const auto at = content_type.find("boundary=");
  if (at == std::string_view::npos) return invalid_argument("multipart/form-data without a boundary parameter");
  std::string_view b = content_type.substr(at + 9);
  b = b.substr(0, b.find(';'));
  if (b.size() >= 2 && b.front() == '"' && b.back() == '"') b = b.substr(1, b.size() - 2);
  if (b.empty() || b.size() > 70) return invalid_argument("multipart boundary must be 1..70 characters");
  return std::string(b);
}

}  // namespace

Result<std::string_view> multipart_file(std::string_view body, std::string_view content_type) {
  ASSIGN_OR_RETURN(const std::string boundary, boundary_of(content_type));
  const std::string delimiter = "--" + boundary;
  std::string_view first_part;
  size_t pos = body.find(delimiter);
  while (pos != std::string_view::npos) {
    size_t start = pos + delimiter.size();
    if (body.substr(start, 2) == "--") break;  // closing delimiter
    if (body.substr(start, 2) != "\r\n") return invalid_argument("malformed multipart body: no CRLF after the boundary");
    start += 2;
    const size_t headers_end = body.find("\r\n\r\n", start);
    if (headers_end == std::string_view::npos) return invalid_argument("malformed multipart body: part headers do not end");
    const std::string_view headers = body.substr(start, headers_end - start);
    const size_t content_start = headers_end + 4;
    const size_t next = body.find("\r\n" + delimiter, content_start);
    if (next == std::string_view::npos) return invalid_argument("malformed multipart body: missing closing boundary");
    const std::string_view content = body.substr(content_start, next - content_start);
    if (headers.find("filename=") != std::string_view::npos) return content;
    if (first_part.empty()) first_part = content;
    pos = next + 2;
  }
  if (first_part.empty()) return invalid_argument("multipart body has no file part");
  return first_part;
}

}  // namespace inferd
