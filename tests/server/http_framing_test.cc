// Request framing over real sockets (RFC 9112 6.1, 6.3, 7.1): which Transfer-Encoding and
// Content-Length combinations are accepted, and that every one that is not is answered
// (never a silent close) and closes the connection, so no byte after it can be read as
// another request (request smuggling). Then decide_framing and the refusals on their own.
#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "server/http/http_framing.h"
#include "server/http_server_test_util.h"

namespace inferd::test {
namespace {

// "POST /framed <version>" with Host, `fields` (each "Name: value") and the empty line.
std::string head(std::string_view version, std::initializer_list<std::string_view> fields) {
  std::string out = "POST /framed ";
  out.append(version).append("\r\nHost: a\r\n");
  for (std::string_view field : fields) out.append(field).append("\r\n");
  return out + "\r\n";
}

std::string head11(std::initializer_list<std::string_view> fields) { return head("HTTP/1.1", fields); }

// Echoes "METHOD target body" and the request's x-test header (as echo_handler does),
// recording each target it is called with.
class RecordingServer {
 public:
  explicit RecordingServer(HttpServerOptions options = test_server_options()) {
    server_ = start_test_server(options, [this](http::Request request, http::Respond respond) {
      {
        std::lock_guard lock(mutex_);
        targets_.push_back(request.target);
      }
      http::Response response = text_response(request.method + " " + request.target + " " + request.body);
      response.headers["X-Echo"] = request.header("x-test");
      respond(std::move(response));
    });
  }
  bool started() const { return server_ != nullptr; }
  int port() const { return server_->port(); }
  std::vector<std::string> targets() {
    std::lock_guard lock(mutex_);
    return targets_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> targets_;
  std::unique_ptr<HttpServer> server_;
};

// Sends `bytes` on a new connection and expects one refusal with `status` whose error
// names `reason`, then the server closing the connection (read until EOF).
void expect_refused(int port, const std::string& bytes, int status, const std::string& reason) {
  SCOPED_TRACE(bytes.substr(0, 200));
  HttpClient client(port);
  ASSERT_TRUE(client.send(bytes)) << client.error();
  const auto response = client.read_response();
  ASSERT_TRUE(response) << "no answer: " << client.error();
  EXPECT_EQ(response->status, status) << response->body;
  EXPECT_NE(response->body.find(reason), std::string::npos) << "wanted '" << reason << "' in " << response->body;
  EXPECT_EQ(response->body.rfind("{\"error\":\"", 0), 0u) << response->body;
  EXPECT_EQ(response->header("content-type"), "application/json");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(client.wait_closed(3000)) << "the server kept the connection open";
}

TEST(HttpFraming, ChunkedThatIsNotTheLastCodingIs400AndCloses) {
  RecordingServer server;
  ASSERT_TRUE(server.started());
  const std::string reason = "bad Transfer-Encoding: chunked must be the last coding";
  expect_refused(server.port(), head11({"Transfer-Encoding: chunked, identity"}), 400, reason);
  expect_refused(server.port(), head11({"Transfer-Encoding: chunked, gzip"}) + "0\r\n\r\n", 400, reason);
  expect_refused(server.port(), head11({"Transfer-Encoding: chunked, chunked"}) + "0\r\n\r\n", 400, reason);
  expect_refused(server.port(), head11({"Transfer-Encoding: chunked;x=1"}) + "0\r\n\r\n", 400, reason);
  EXPECT_TRUE(server.targets().empty());
}

TEST(HttpFraming, UnknownCodingsAre501AndClose) {
  RecordingServer server;
  ASSERT_TRUE(server.started());
  expect_refused(server.port(), head11({"Transfer-Encoding: xchunked"}), 501,
                 "Transfer-Encoding 'xchunked' is not implemented; only chunked is");
  expect_refused(server.port(), head11({"Transfer-Encoding: gzip"}), 501, "'gzip' is not implemented");
  expect_refused(server.port(), head11({"Transfer-Encoding: identity"}), 501, "'identity' is not implemented");
  expect_refused(server.port(), head11({"Transfer-Encoding: GZIP, chunked"}) + "0\r\n\r\n", 501,
                 "'GZIP' is not implemented");
  EXPECT_TRUE(server.targets().empty());
}

TEST(HttpFraming, TheBytesAfterAChunkedIdentityHeadAreNotASecondRequest) {
  RecordingServer server;
  ASSERT_TRUE(server.started());
  HttpClient client(server.port());
  // A front end that honours the chunked coding would see one request whose body holds
  // the GET; a server that ignores the coding sees two requests.
  ASSERT_TRUE(client.send(head11({"Transfer-Encoding: chunked, identity"}) +
                          "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"));
  const auto first = client.read_response();
  ASSERT_TRUE(first) << client.error();
  EXPECT_EQ(first->status, 400) << first->body;
  EXPECT_EQ(first->header("connection"), "close");
  const auto second = client.read_response();
  EXPECT_FALSE(second) << "answered " << second->status << " " << second->body;
  EXPECT_EQ(client.error(), "eof");
  EXPECT_TRUE(server.targets().empty());
}

TEST(HttpFraming, TransferEncodingWithContentLengthIs400AndCloses) {
  RecordingServer server;
  ASSERT_TRUE(server.started());
  const std::string both = "both Transfer-Encoding and Content-Length";
  // An unknown coding next to a length: the length must not be used.
  expect_refused(server.port(), head11({"Transfer-Encoding: gzip", "Content-Length: 5"}) + "hello", 400, both);
  expect_refused(server.port(), head11({"Content-Length: 5", "Transfer-Encoding: gzip"}) + "hello", 400, both);
  // chunked next to a length, in both orders (the parser stops at the second of the two).
  expect_refused(server.port(), head11({"Transfer-Encoding: chunked", "Content-Length: 5"}) + "0\r\n\r\n", 400, both);
  expect_refused(server.port(), head11({"Content-Length: 5", "Transfer-Encoding: chunked"}) + "0\r\n\r\n", 400, both);
  EXPECT_TRUE(server.targets().empty());
}

TEST(HttpFraming, TransferEncodingOnHttp10Is400AndCloses) {
  RecordingServer server;
  ASSERT_TRUE(server.started());
  expect_refused(server.port(),
                 head("HTTP/1.0", {"Connection: keep-alive", "Transfer-Encoding: chunked"}) + "5\r\nhello\r\n0\r\n\r\n",
                 400, "bad Transfer-Encoding: HTTP/1.0");
  expect_refused(server.port(), head("HTTP/1.0", {"Connection: keep-alive", "Transfer-Encoding: gzip"}), 400,
                 "bad Transfer-Encoding: HTTP/1.0");
  EXPECT_TRUE(server.targets().empty());
}

TEST(HttpFraming, TransferEncodingLinesAreOneList) {
  RecordingServer server;
  ASSERT_TRUE(server.started());
  // "gzip, chunked": the parser alone would frame it as chunked and drop the gzip.
  expect_refused(server.port(), head11({"Transfer-Encoding: gzip", "Transfer-Encoding: chunked"}) + "0\r\n\r\n", 501,
                 "'gzip' is not implemented");
  expect_refused(server.port(), head11({"Transfer-Encoding: chunked", "Transfer-Encoding: gzip"}) + "0\r\n\r\n", 400,
                 "bad Transfer-Encoding");
  expect_refused(server.port(), head11({"Transfer-Encoding: chunked", "Transfer-Encoding: chunked"}) + "0\r\n\r\n",
                 400, "bad Transfer-Encoding");
  EXPECT_TRUE(server.targets().empty());
}

TEST(HttpFraming, MalformedCodingListsAre400AndClose) {
  RecordingServer server;
  ASSERT_TRUE(server.started());
  const std::string empty = "bad Transfer-Encoding: empty element";
  expect_refused(server.port(), head11({"Transfer-Encoding: chunked,"}) + "0\r\n\r\n", 400, empty);
  expect_refused(server.port(), head11({"Transfer-Encoding: , chunked"}) + "0\r\n\r\n", 400, empty);
  expect_refused(server.port(), head11({"Transfer-Encoding: chunked,,chunked"}) + "0\r\n\r\n", 400, empty);
  expect_refused(server.port(), head11({"Transfer-Encoding:"}), 400, empty);
  expect_refused(server.port(), head11({"Transfer-Encoding: chunked chunked"}) + "0\r\n\r\n", 400,
                 "'chunked chunked' is not a transfer coding");
  expect_refused(server.port(), head11({"Transfer-Encoding: \"chunked\""}) + "0\r\n\r\n", 400,
                 "is not a transfer coding");
  EXPECT_TRUE(server.targets().empty());
}

TEST(HttpFraming, BadContentLengthIs400AndCloses) {
  RecordingServer server;
  ASSERT_TRUE(server.started());
  const std::string bad = "malformed HTTP request: bad Content-Length";
  expect_refused(server.port(), head11({"Content-Length: 5", "Content-Length: 6"}) + "hello!", 400,
                 "malformed HTTP request: multiple Content-Length");
  expect_refused(server.port(), head11({"Content-Length: 5, 6"}) + "hello!", 400,
                 "malformed HTTP request: multiple Content-Length");
  expect_refused(server.port(), head11({"Content-Length: five"}), 400, bad);
  expect_refused(server.port(), head11({"Content-Length: -5"}), 400, bad);
  expect_refused(server.port(), head11({"Content-Length: +5"}) + "hello", 400, bad);
  expect_refused(server.port(), head11({"Content-Length: 0x5"}) + "hello", 400, bad);
  expect_refused(server.port(), head11({"Content-Length: 18446744073709551616"}), 400, bad);
  expect_refused(server.port(), head11({"Content-Length:"}), 400, bad);
  EXPECT_TRUE(server.targets().empty());

  // Repeated equal values are one length (RFC 9110 8.6).
  HttpClient client(server.port());
  ASSERT_TRUE(client.send(head11({"Content-Length: 5", "Content-Length: 5"}) + "hello"));
  const auto response = client.read_response();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /framed hello");
}

// A chunked request of one 5-byte chunk whose last-chunk line is followed by `trailer`
// (header fields, each ending in CRLF) and the final empty line.
std::string chunked_with_trailer(const std::string& trailer) {
  return head11({"Transfer-Encoding: chunked"}) + "5\r\nhello\r\n0\r\n" + trailer + "\r\n";
}

TEST(HttpFraming, ATrailerOver64KiBIsAnswered431) {
  RecordingServer server;
  ASSERT_TRUE(server.started());
  expect_refused(server.port(), chunked_with_trailer("X-Big: " + std::string(70000, 't') + "\r\n"), 431,
                 "chunk trailer is over the limit of 16384 bytes");
  EXPECT_TRUE(server.targets().empty());
}

TEST(HttpFraming, ATrailerOverTheHeaderLimitIs431) {
  HttpServerOptions options = test_server_options();
  options.max_header_bytes = 1024;
  RecordingServer server(options);
  ASSERT_TRUE(server.started());
  // Whole in one write or dribbled, the answer is the same.
  expect_refused(server.port(), chunked_with_trailer("X-Big: " + std::string(2000, 't') + "\r\n"), 431,
                 "chunk trailer is over the limit of 1024 bytes");
  HttpClient client(server.port());
  ASSERT_TRUE(client.send(head11({"Transfer-Encoding: chunked"}) + "5\r\nhello\r\n0\r\nX-Big: "));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(client.send(std::string(200, 't')));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto response = client.read_response();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(client.wait_closed(3000));
  EXPECT_TRUE(server.targets().empty());
}

TEST(HttpFraming, AChunkSizeLineOverTheHeaderLimitIs400) {
  HttpServerOptions options = test_server_options();
  options.max_header_bytes = 1024;
  RecordingServer server(options);
  ASSERT_TRUE(server.started());
  const std::string line_reason = "chunk-size line is over the limit of 1024 bytes";
  // Never ended: the server may not wait for the rest of it.
  expect_refused(server.port(), head11({"Transfer-Encoding: chunked"}) + "5;ext=" + std::string(2000, 'e'), 400,
                 line_reason);
  // Ended, after a first chunk.
  expect_refused(server.port(),
                 head11({"Transfer-Encoding: chunked"}) + "5\r\nhello\r\n5;ext=" + std::string(2000, 'e') + "\r\nhello\r\n0\r\n\r\n",
                 400, line_reason);
  EXPECT_TRUE(server.targets().empty());
}

TEST(HttpFraming, ARequestLineOverTheHeaderLimitIs414) {
  HttpServerOptions options = test_server_options();
  options.max_header_bytes = 1024;
  RecordingServer server(options);
  ASSERT_TRUE(server.started());
  expect_refused(server.port(), "GET /" + std::string(2000, 'u') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414,
                 "request line is over the limit of 1024 bytes");
  expect_refused(server.port(), "GET /" + std::string(2000, 'u'), 414, "request line is over the limit");
  // A short request line with long headers is still 431.
  expect_refused(server.port(), head11({"X-Big: " + std::string(2000, 'h')}), 431,
                 "request headers are over the limit of 1024 bytes");
  EXPECT_TRUE(server.targets().empty());
}

TEST(HttpFraming, AFieldOver64KiBIs431EvenUnderALargerHeaderLimit) {
  // The parser stores a field in at most 65535 bytes and throws past that.
  HttpServerOptions options = test_server_options();
  options.max_header_bytes = 1 << 20;
  RecordingServer server(options);
  ASSERT_TRUE(server.started());
  expect_refused(server.port(), head11({"X-Big: " + std::string(70000, 'h')}), 431, "over 65535 bytes");
  expect_refused(server.port(), chunked_with_trailer("X-Big: " + std::string(70000, 't') + "\r\n"), 431,
                 "over 65535 bytes");
  EXPECT_TRUE(server.targets().empty());
}

TEST(HttpFraming, ChunkedBodiesStillWorkAndKeepTheConnection) {
  RecordingServer server;
  ASSERT_TRUE(server.started());
  HttpClient client(server.port());
  const std::vector<std::string> requests = {
      chunked_with_trailer(""),
      chunked_with_trailer("X-Checksum: abc\r\nX-Other: 1\r\n"),
      head11({"Transfer-Encoding:  CHUNKED \t"}) + "5;name=value\r\nhello\r\n0\r\n\r\n",
      head11({"Transfer-Encoding: Chunked"}) + "2\r\nhe\r\n3\r\nllo\r\n000\r\n\r\n",
  };
  for (const std::string& request : requests) {
    SCOPED_TRACE(request);
    ASSERT_TRUE(client.send(request)) << client.error();
    const auto response = client.read_response();
    ASSERT_TRUE(response) << client.error();
    EXPECT_EQ(response->status, 200) << response->body;
    EXPECT_EQ(response->body, "POST /framed hello");
    EXPECT_EQ(response->header("connection"), "");
  }
  // Still open: one more request on the same connection is answered.
  const auto last = client.request("GET", "/after");
  ASSERT_TRUE(last) << client.error();
  EXPECT_EQ(last->status, 200);
  EXPECT_EQ(server.targets().size(), requests.size() + 1);
}

TEST(HttpFraming, LargeDribbledAndPipelinedChunkedBodiesArriveWhole) {
  HttpServerOptions options = test_server_options();
  options.max_header_bytes = 1024;  // the parser sees at most this much of a chunked body at a time
  RecordingServer server(options);
  ASSERT_TRUE(server.started());
  HttpClient client(server.port(), 20000);
  // Chunks of every size class, so that chunk-size lines straddle the parser's window.
  std::string body, chunks;
  for (size_t size : {1, 1000, 1021, 1022, 1023, 1024, 1025, 3000, 70000, 5, 500000, 2}) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "%zx;n=%zu\r\n", size, size);
    const std::string data(size, static_cast<char>('a' + size % 26));
    chunks += hex + data + "\r\n";
    body += data;
  }
  const std::string request = head11({"Transfer-Encoding: chunked"}) + chunks + "0\r\nX-T: 1\r\n\r\n";
  ASSERT_TRUE(client.send(request + request));  // pipelined
  for (int i = 0; i < 2; ++i) {
    const auto response = client.read_response();
    ASSERT_TRUE(response) << client.error();
    ASSERT_EQ(response->status, 200) << response->body.substr(0, 200);
    EXPECT_TRUE(response->body == "POST /framed " + body) << "body of " << response->body.size() << " bytes";
  }
  // A few bytes at a time: every chunk-size line and the trailer arrive in pieces.
  const std::string small = head11({"Transfer-Encoding: chunked"}) + "3;a=b\r\nhel\r\n2\r\nlo\r\n0\r\nX-T: 1\r\n\r\n";
  for (size_t at = 0; at < small.size(); at += 3) {
    ASSERT_TRUE(client.send(small.substr(at, 3)));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto response = client.read_response();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /framed hello");
}

TEST(HttpFraming, TrailerFieldsDoNotReachTheHandler) {
  RecordingServer server;
  ASSERT_TRUE(server.started());
  HttpClient client(server.port());
  // RFC 9110 6.5.1: trailer fields are not merged into the header section.
  ASSERT_TRUE(client.send(head11({"Transfer-Encoding: chunked", "X-Test: from-header"}) +
                          "5\r\nhello\r\n0\r\nX-Test: from-trailer\r\nConnection: close\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("x-echo"), "from-header");
  EXPECT_EQ(response->header("connection"), "");  // a trailer cannot close the connection either
  response = client.request("GET", "/after");
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 200);
}

// --- decide_framing and the refusals, without sockets -------------------------------------

using http::BodyFraming;

Result<BodyFraming> framing_of(std::initializer_list<std::pair<const std::string, std::string>> headers,
                               unsigned version = 11) {
  http::Request head;
  head.headers = headers;
  return http::decide_framing(head, version);
}

TEST(DecideFraming, AcceptsTheThreeFramings) {
  EXPECT_EQ(framing_of({}).value(), BodyFraming{});
  EXPECT_EQ(framing_of({{"content-length", "0"}}).value(), (BodyFraming{BodyFraming::Kind::kContentLength, 0}));
  EXPECT_EQ(framing_of({{"content-length", " 42\t"}}).value(), (BodyFraming{BodyFraming::Kind::kContentLength, 42}));
  EXPECT_EQ(framing_of({{"content-length", "42, 42"}}).value(), (BodyFraming{BodyFraming::Kind::kContentLength, 42}));
  EXPECT_EQ(framing_of({{"content-length", "18446744073709551615"}}).value().length, 18446744073709551615ULL);
  EXPECT_EQ(framing_of({{"content-length", "5"}}, 10).value().kind, BodyFraming::Kind::kContentLength);
  for (const char* chunked : {"chunked", "CHUNKED", "Chunked", " \tchunked \t"}) {
    EXPECT_EQ(framing_of({{"transfer-encoding", chunked}}).value(), (BodyFraming{BodyFraming::Kind::kChunked, 0}))
        << chunked;
  }
}

TEST(DecideFraming, RefusesEveryOtherTransferEncoding) {
  struct Case {
    const char* value;
    StatusCode code;
    const char* message;
  };
  const std::string last = "malformed HTTP request: bad Transfer-Encoding: chunked must be the last coding, once, without parameters";
  const std::string empty = "malformed HTTP request: bad Transfer-Encoding: empty element in the list of codings";
  const Case cases[] = {
      {"gzip", StatusCode::kUnimplemented, "Transfer-Encoding 'gzip' is not implemented; only chunked is"},
      {"xchunked", StatusCode::kUnimplemented, "Transfer-Encoding 'xchunked' is not implemented; only chunked is"},
      {"identity", StatusCode::kUnimplemented, "Transfer-Encoding 'identity' is not implemented; only chunked is"},
      {"gzip, chunked", StatusCode::kUnimplemented, "Transfer-Encoding 'gzip' is not implemented; only chunked is"},
      {"gzip;level=1, chunked", StatusCode::kUnimplemented, "Transfer-Encoding 'gzip' is not implemented; only chunked is"},
      {"chunked, identity", StatusCode::kInvalidArgument, last.c_str()},
      {"chunked, gzip", StatusCode::kInvalidArgument, last.c_str()},
      {"gzip, chunked, gzip", StatusCode::kInvalidArgument, last.c_str()},
      {"chunked, chunked", StatusCode::kInvalidArgument, last.c_str()},
      {"chunked;q=1", StatusCode::kInvalidArgument, last.c_str()},
      {"", StatusCode::kInvalidArgument, empty.c_str()},
      {"  ", StatusCode::kInvalidArgument, empty.c_str()},
      {"chunked,", StatusCode::kInvalidArgument, empty.c_str()},
      {", chunked", StatusCode::kInvalidArgument, empty.c_str()},
      {"gzip,,chunked", StatusCode::kInvalidArgument, empty.c_str()},
      {"chunked chunked", StatusCode::kInvalidArgument,
       "malformed HTTP request: bad Transfer-Encoding: 'chunked chunked' is not a transfer coding"},
      {"\"chunked\"", StatusCode::kInvalidArgument, "is not a transfer coding"},
      {"chunked\x01", StatusCode::kInvalidArgument, "is not a transfer coding"},
  };
  for (const Case& c : cases) {
    const auto framing = framing_of({{"transfer-encoding", c.value}});
    ASSERT_FALSE(framing.is_ok()) << c.value;
    EXPECT_EQ(framing.status().code(), c.code) << c.value;
    EXPECT_NE(framing.status().message().find(c.message), std::string::npos)
        << c.value << ": " << framing.status().message();
  }
  // A coding echoed back is cut short.
  const auto long_name = framing_of({{"transfer-encoding", std::string(1000, 'z')}});
  EXPECT_EQ(long_name.status().message(),
            "Transfer-Encoding '" + std::string(64, 'z') + "...' is not implemented; only chunked is");
}

TEST(DecideFraming, RefusesTransferEncodingWithContentLengthOrOnHttp10) {
  for (const char* coding : {"chunked", "gzip"}) {
    auto framing = framing_of({{"transfer-encoding", coding}, {"content-length", "5"}});
    EXPECT_EQ(framing.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(framing.status().message(), http::both_framings_error().message());
    framing = framing_of({{"transfer-encoding", coding}}, 10);
    EXPECT_EQ(framing.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(framing.status().message(), "malformed HTTP request: bad Transfer-Encoding: HTTP/1.0 requests cannot use it");
  }
}

TEST(DecideFraming, RefusesBadContentLengths) {
  for (const char* value : {"", "five", "-5", "+5", "0x5", "5 5", "5,", ",5", "5,,5", "18446744073709551616", "1e3"}) {
    const auto framing = framing_of({{"content-length", value}});
    ASSERT_FALSE(framing.is_ok()) << value;
    EXPECT_EQ(framing.status().code(), StatusCode::kInvalidArgument) << value;
    EXPECT_EQ(framing.status().message().rfind("malformed HTTP request: bad Content-Length: '", 0), 0u)
        << framing.status().message();
  }
  const auto differ = framing_of({{"content-length", "5, 6"}});
  EXPECT_EQ(differ.status().message(), "malformed HTTP request: multiple Content-Length values that differ");
}

TEST(DecideFraming, NamesWhatOutgrewTheLimitInAChunkedBody) {
  const auto trailer = http::long_chunk_framing_refusal("\r\n0\r\nX-Big: " + std::string(100, 't'), 64);
  EXPECT_EQ(trailer.status, 431);
  EXPECT_EQ(trailer.message, "chunk trailer is over the limit of 64 bytes");
  EXPECT_EQ(http::long_chunk_framing_refusal("0;e=1\r\n" + std::string(100, 't'), 64).status, 431);
  const auto line = http::long_chunk_framing_refusal("\r\n5;ext=" + std::string(100, 'e'), 64);
  EXPECT_EQ(line.status, 400);
  EXPECT_EQ(line.message, "chunk-size line is over the limit of 64 bytes");
  // A line end past the limit does not count.
  EXPECT_EQ(http::long_chunk_framing_refusal("5;ext=" + std::string(100, 'e') + "\r\n", 64).status, 400);
}

}  // namespace
}  // namespace inferd::test
