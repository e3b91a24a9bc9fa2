// One accepted HTTP/1.1 connection and the state it shares with its server. Internal
// to server/http: HttpServer (http_server.h) is the public face and documents the
// threading contract.
//
// Lifetimes: ServerCore owns the io_context. The server and every Connection hold it
// through a shared_ptr, and a Connection is held by its pending I/O operations and by
// each `respond` its handler has not called yet; so a handler may answer after the
// HttpServer object is gone without touching freed memory (the answer is dropped).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/http/http_framing.h"
#include "server/http/http_server.h"
#include "server/http/http_types.h"
#include "server/http/http_wire.h"
#include "server/http/lazy_deadline.h"

namespace inferd::http {

class Connection;

struct ServerCore {
  ServerCore(const HttpServerOptions& o, Handler h, HeadCheck c)
      : options(o), handler(std::move(h)), head_check(std::move(c)), io(o.io_threads) {}

  const HttpServerOptions options;
  const Handler handler;
  const HeadCheck head_check;  // may be empty
  boost::asio::io_context io;

  std::atomic<size_t> open_connections{0};
  std::atomic<size_t> in_flight{0};
  // Set by stop_accepting() (a graceful drain): every answer from then on says
  // "Connection: close" and its connection closes after it, so keep-alive clients move to
  // another replica instead of holding this one busy until the drain runs out of time.
  std::atomic<bool> draining{false};

  // `respond` posts onto a connection's strand only while posts_open: once stop() has
  // closed it, the I/O threads may be gone and an answer is dropped instead.
  std::mutex post_mutex;
  bool posts_open = true;

  // Registers a live connection; false once stopping (the caller drops the socket).
  bool add_connection(const std::shared_ptr<Connection>& connection, uint64_t* id);
  void remove_connection(uint64_t id);
  // Marks the core stopping and returns the connections still open.
  std::vector<std::shared_ptr<Connection>> begin_stopping();
  // The connections open now.
  std::vector<std::shared_ptr<Connection>> open_now();
  // Answers abandon() gave that are not yet written (or dropped with their connection),
  // plus one per abandon() whose handler has not run yet.
  std::atomic<size_t> abandoned_unwritten{0};

 private:
  std::mutex registry_mutex_;
  bool stopping_ = false;
  uint64_t next_id_ = 0;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections_;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `socket` must have been accepted on its own strand (its executor).
  // `reserve_only`: accepted over max_connections, on the reserve for the health paths.
  Connection(std::shared_ptr<ServerCore> core, boost::asio::ip::tcp::socket socket, bool reserve_only = false);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers with the core and starts reading; any thread, once.
  void start();
  // Closes the socket at once (stop()); any thread.
  void close_from_server();
  // The handler's answer to request `seq`; any thread. Consumes one in_flight count.
  void deliver(uint64_t seq, Response response);
  // Answers every request the handler has not answered yet with `response`, then closes
  // (a drain that ran out of time); any thread. The handler's later answers are dropped.
  void abandon(Response response);
  // The server is draining (its handlers' unanswered requests may be dropped on purpose).
  bool draining() const { return core_->draining.load(); }

 private:
  static constexpr size_t kHeaderReadBytes = 16 << 10;  // one read while a request's header is awaited

  // One answer in the order the connection owes them: a request's response (counts in
  // in_flight), an error the transport answered itself, or a `100 Continue`.
  struct Slot {
    uint64_t seq = 0;
    bool ready = false;
    bool counts_in_flight = false;
    bool close_after = false;
    bool head_only = false;
    bool keep_alive_10 = false;
    bool abandoned = false;  // answered by abandon(): the handler's answer is still to come
    bool abandon_unwritten = false;  // counted in abandoned_unwritten until written or dropped
    std::chrono::steady_clock::time_point received{};  // when the request's head was parsed (requests only)
    std::chrono::steady_clock::time_point answered{};  // when the handler called respond (its answers only)
    std::string head;
    std::string body;
  };
  using Parser = wire::BeastRequestParser;

  void start_on_strand();
  void read_more();
  void on_read(boost::system::error_code ec, size_t bytes);
  void parse_buffered();
  size_t put_buffered(boost::system::error_code& ec);
  bool in_chunked_body() const;
  bool on_header_done();
  void dispatch_request();
  void call_handler(Request request, uint64_t seq);
  void answer_with_error(int status, const std::string& message);
  void answer_with(const Refusal& refusal);
  void refuse_and_close(Response response);
  // `answered`: when the handler called respond ({} for the connection's own refusals).
  void on_response(uint64_t seq, Response response, std::chrono::steady_clock::time_point answered = {});
  void abandon_on_strand(const Response& response);
  void write_ready();
  void on_write(boost::system::error_code ec);
  void on_peer_eof();
  void begin_lingering_close();
  void on_drain(boost::system::error_code ec, size_t bytes);
  void arm_read_timer(int ms) { arm(read_deadline_, ms, "read"); }
  void arm(LazyDeadline& deadline, int ms, const char* what);
  void wait_for(LazyDeadline& deadline, const char* what);
  void close_now();
  Slot& push_slot();

  // Declared first so that it is destroyed last: it owns the io_context the socket uses.
  std::shared_ptr<ServerCore> core_;
  boost::asio::ip::tcp::socket socket_;
  LazyDeadline read_deadline_;   // header / body / idle / linger deadline
  LazyDeadline write_deadline_;  // one write may not take longer than body_timeout_ms
  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  std::optional<Response> refused_;  // head_check's answer to the bodiless request being parsed
  std::deque<Slot> slots_;
  uint64_t next_seq_ = 0;
  uint64_t id_ = 0;
  size_t requests_queued_ = 0;  // request slots not yet written (the pipelining window)
  size_t slots_writing_ = 0;    // slots at the front of slots_ in the current write
  size_t drained_bytes_ = 0;
  size_t header_fields_ = 0;    // the header section's fields (any after them are a trailer)
  bool registered_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool closed_ = false;
  bool no_more_requests_ = false;  // Connection: close, an error answer, or the peer's EOF
  bool peer_eof_ = false;
  bool lingering_ = false;
  bool request_started_ = false;   // bytes of the next request have arrived
  bool first_request_ = true;
  bool reserve_only_ = false;  // one request to HttpServerOptions::reserve_paths, then close
  bool header_checked_ = false;
  std::chrono::steady_clock::time_point head_received_{};  // of the request being read
};

}  // namespace inferd::http
