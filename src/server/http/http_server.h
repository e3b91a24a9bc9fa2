// The HTTP/1.1 transport of `inferd serve` (Boost.Beast parser over Boost.Asio sockets).
// It only moves bytes: every request is handed to one http::Handler, a pure function
// that answers through `respond`, now or later, from any thread.
//
// Threading contract:
// - start() binds, listens and starts `io_threads` I/O threads sharing one io_context.
//   Each connection lives on its own strand: its reads, writes and timers never race.
// - The handler is called on an I/O thread, on the connection's strand, once per request,
//   in request order; requests of different connections call it concurrently, from
//   several I/O threads, so it must be thread-safe. It must return quickly (hand heavy
//   work to other threads): while it runs, its connection makes no progress and one I/O
//   thread is busy. A connection reads up to 16 pipelined requests ahead of its answers.
// - `respond` may be called from any thread, at most once (later calls are logged and
//   ignored); it never blocks on the network: the response is posted to the connection's
//   strand and written there, in request order (pipelined requests are answered in the
//   order they arrived, whatever order the handler answers them in). A `respond` dropped
//   without being called answers 500. A `respond` called after the connection closed or
//   after stop() is a harmless no-op.
// - port(), open_connections() and in_flight() may be called from any thread.
// - stop_accepting() and stop() may be called from any thread except an I/O thread
//   (i.e. not from inside the handler): stop() waits for the I/O threads.
// - Exceptions never leave the handler boundary or an I/O thread: a throwing handler
//   answers 500 and the exception is logged.
//
// Graceful shutdown (SIGTERM): stop_accepting(); wait until in_flight() == 0 or the drain
// time is up; then abandon_unanswered(503, ...) and wait for abandoned_unwritten() == 0
// (bounded too); stop().
// in_flight() counts a request until its response has been written to the socket (or
// dropped because its connection closed), so nothing answered is lost by stop().
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "server/http/http_types.h"

namespace inferd {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                     // 0 = pick a free port (tests); see port()
  int io_threads = 2;
  size_t max_body_bytes = 16 << 20;    // larger -> 413, judged from Content-Length before reading the body
  // Request line + headers (larger: 414 for the line, 431 for the headers); also bounds a
  // chunked body's chunk-size lines (400) and its trailer section (431).
  size_t max_header_bytes = 16 << 10;
  int header_timeout_ms = 10000;       // from the first byte of a request (or from accept) to the end of its headers
  int body_timeout_ms = 30000;         // from the end of the headers to the end of the body; also bounds one write
  int idle_timeout_ms = 60000;         // keep-alive connection with nothing to answer and no request started
  int max_connections = 1024;          // one more is answered 503 and closed...
  // ...except that `reserve_connections` more are kept for requests to `reserve_paths`
  // (the health probes): an orchestrator probing a busy server gets its answer instead of
  // a 503 that would make it restart the pod. On the reserve, other requests are answered
  // 503 + Retry-After, and each connection closes after one answer.
  int reserve_connections = 8;
  std::vector<std::string> reserve_paths;
  // Called on an I/O thread once a handler's answer is written to the socket (metrics; must
  // be quick; may be empty), with the seconds
  //   answer:   since `respond` was called: the hop to the connection's I/O thread, any wait
  //             for earlier pipelined answers, and the write;
  //   exchange: since the request's head was parsed: the server's whole side of the
  //             exchange (body read, handler, answer, write) without the client and the
  //             network, which a client's latency includes.
  std::function<void(double answer, double exchange)> on_answer_written;
};

class HttpServer {
 public:
  // Binds host:port, listens and starts the I/O threads. Fails with
  // "cannot listen on 127.0.0.1:8000: Address already in use" and the like.
  // `head_check` (optional) vets each request before its body is read (http::HeadCheck).
  static Result<std::unique_ptr<HttpServer>> start(const HttpServerOptions& options, http::Handler handler,
                                                   http::HeadCheck head_check = {});
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;  // the bound port (the chosen one when options.port was 0)

  // Graceful drain, step 1: closes the listening socket; open connections keep working.
  void stop_accepting();

  size_t open_connections() const;
  // Requests handed to the handler whose response has not been written out yet (an
  // abandoned one counts until its handler answers, though its 503 is written).
  size_t in_flight() const;

  // Graceful drain, when its time is up: every request the handler has not answered yet
  // is answered `status` + `message` at once and its connection closed after the write;
  // the handler's later answers are dropped. Any thread but an I/O thread.
  void abandon_unanswered(int status, const std::string& message);
  // Answers abandon_unanswered() gave that are not written yet: 0 once they are all out.
  size_t abandoned_unwritten() const;

  // Closes the listener and every connection (answers not yet written are dropped) and
  // joins the I/O threads. Idempotent.
  void stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inferd
