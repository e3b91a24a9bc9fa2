// An HTTP/1.1 response parser that keeps only what the load generator needs (status
// code, keep-alive, body size) and discards the body as it streams by, so reading a
// response allocates nothing. Built on Beast's basic_parser (chunked bodies, limits,
// Connection semantics); a new one is made for every response.
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <cstdint>

namespace inferd::loadgen {

class ResponseParser final : public boost::beast::http::basic_parser<false> {
 public:
  ResponseParser();
  int status_code() const { return status_; }
  uint64_t body_bytes() const { return body_bytes_; }

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;
  void on_request_impl(boost::beast::http::verb, string_view, string_view, int, error_code&) override {}
  void on_response_impl(int code, string_view, int, error_code&) override { status_ = code; }
  void on_field_impl(boost::beast::http::field, string_view, string_view, error_code&) override {}
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  size_t on_body_impl(string_view body, error_code&) override {
    body_bytes_ += body.size();
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    body_bytes_ += body.size();
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  int status_ = 0;
  uint64_t body_bytes_ = 0;
};

}  // namespace inferd::loadgen
