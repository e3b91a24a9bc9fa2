#include "server/http/http_connection.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string_view>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include "core/log.h"
#include "server/http/http_framing.h"
#include "server/http/http_wire.h"

namespace inferd::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

constexpr size_t kMaxPipelined = 16;             // requests read ahead of their answers
constexpr size_t kMaxBodyReadBytes = 1 << 20;    // one read of a large image body
constexpr size_t kKeptBufferBytes = 64 << 10;    // idle connections give back larger buffers

// The longest a connection's deadline timer sleeps before looking at its deadline again:
// the shortest timeout it arms per request, so that no such arm has to re-arm the timer.
std::chrono::milliseconds shortest_timeout(const HttpServerOptions& o) {
  return std::chrono::milliseconds(std::max(1, std::min({o.header_timeout_ms, o.body_timeout_ms, o.idle_timeout_ms})));
}

// Shared by every copy of one request's `respond`: answers once, and answers 500 when
// the last copy is dropped unanswered, so a handler bug cannot hang the client.
class PendingResponse {
 public:
  PendingResponse(std::shared_ptr<Connection> connection, uint64_t seq)
      : connection_(std::move(connection)), seq_(seq) {}
  PendingResponse(const PendingResponse&) = delete;
  PendingResponse& operator=(const PendingResponse&) = delete;

  ~PendingResponse() {
    if (answered_.exchange(true)) return;
    // A drain out of time drops the work not started (its requests were answered 503
    // already): expected then, a handler bug otherwise.
    if (connection_->draining())
      log_info("http_request_dropped_by_drain");
    else
      log_error("http_handler_dropped_request");
    connection_->deliver(seq_, error_response(500, "internal error: the request handler did not answer"));
  }

  void answer(Response response) {
    if (answered_.exchange(true)) {
      log_warn("http_respond_called_twice");
      return;
    }
    connection_->deliver(seq_, std::move(response));
  }

  // After the handler threw: answers 500 unless it answered before throwing.
  void answer_if_unanswered(const std::string& message) {
    if (answered_.exchange(true)) return;
    connection_->deliver(seq_, error_response(500, message));
  }

 private:
  std::shared_ptr<Connection> connection_;
  uint64_t seq_;
  std::atomic<bool> answered_{false};
};

}  // namespace

Connection::Connection(std::shared_ptr<ServerCore> core, asio::ip::tcp::socket socket, bool reserve_only)
    : core_(std::move(core)),
      socket_(std::move(socket)),
      read_deadline_(socket_.get_executor(), shortest_timeout(core_->options)),
      write_deadline_(socket_.get_executor(), shortest_timeout(core_->options)),
      reserve_only_(reserve_only) {}

void Connection::start() {
  // Registered here, on the accepting thread, so that max_connections sees it at once.
  registered_ = core_->add_connection(shared_from_this(), &id_);
  if (!registered_) {
    error_code ignored;
    socket_.close(ignored);
    return;
  }
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->start_on_strand(); });
}

void Connection::start_on_strand() {
  error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  // A connection that never sends a request is held to the header deadline (slowloris).
  arm_read_timer(core_->options.header_timeout_ms);
  read_more();
}

void Connection::close_from_server() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close_now(); });
}

void Connection::read_more() {
  if (reading_ || closed_ || lingering_ || no_more_requests_ || requests_queued_ >= kMaxPipelined) return;
  size_t want = kHeaderReadBytes;
  if (parser_ && header_checked_) {
    const auto remaining = parser_->content_length_remaining();
    want = remaining ? static_cast<size_t>(std::clamp<uint64_t>(*remaining, kHeaderReadBytes, kMaxBodyReadBytes))
                     : 4 * kHeaderReadBytes;
  }
  reading_ = true;
  socket_.async_read_some(buffer_.prepare(want),
                          [self = shared_from_this()](error_code ec, size_t n) { self->on_read(ec, n); });
}

void Connection::on_read(error_code ec, size_t bytes) {
  reading_ = false;
  if (closed_) return;
  if (lingering_) {
    on_drain(ec, bytes);
    return;
  }
  if (ec) {
    if (ec == asio::error::eof) {
      on_peer_eof();
    } else {
      close_now();
    }
    return;
  }
  buffer_.commit(bytes);
  parse_buffered();
  read_more();
}

void Connection::parse_buffered() {
  while (!closed_ && !no_more_requests_ && buffer_.size() > 0) {
    if (!parser_) {
      parser_.emplace();
      parser_->header_limit(static_cast<uint32_t>(
          std::min<size_t>(core_->options.max_header_bytes, std::numeric_limits<uint32_t>::max())));
      parser_->body_limit(boost::none);  // judged in on_header_done, with a message that names the size
    }
    if (!request_started_) {
      request_started_ = true;
      // The first request's deadline runs from accept (start_on_strand), later ones'
      // from their first byte: bytes dribbled in slowly never buy more time.
      if (!first_request_) arm_read_timer(core_->options.header_timeout_ms);
    }
    error_code ec;
    size_t used = 0;
    try {
      used = put_buffered(ec);
    } catch (const std::length_error&) {
      // Beast stores a field's name and value in at most 65535 bytes each and throws past
      // that (reachable with max_header_bytes above 64 KiB).
      answer_with_error(431, "a header or trailer field is over 65535 bytes");
      break;
    }
    if (ec == bhttp::error::need_more) {
      if (!in_chunked_body()) break;
      if (used > 0) continue;  // chunk data went through: parse again from the line after it
      if (buffer_.size() >= core_->options.max_header_bytes) {
        const std::string_view pending(static_cast<const char*>(buffer_.data().data()), buffer_.size());
        answer_with(long_chunk_framing_refusal(pending, core_->options.max_header_bytes));
      }
      break;
    }
    if (ec) {
      answer_with(parse_error_refusal(ec, *parser_, core_->options));
      break;
    }
    if (!header_checked_ && parser_->is_header_done() && !on_header_done()) break;
    if (parser_->is_done()) {
      dispatch_request();
    } else if (used == 0) {
      break;
    }
  }
}

// A chunked body keeps unconsumed in the buffer only a chunk-size line or a trailer section
// that is not whole yet (chunk data is consumed as it arrives). The parser is shown at most
// max_header_bytes of the buffer, so a line or trailer longer than that is refused however
// it arrives, instead of being buffered without bound.
size_t Connection::put_buffered(error_code& ec) {
  auto data = buffer_.data();
  if (in_chunked_body()) data = asio::buffer(data, core_->options.max_header_bytes);
  const size_t used = parser_->put(data, ec);
  buffer_.consume(used);
  return used;
}

bool Connection::in_chunked_body() const { return parser_ && header_checked_ && parser_->chunked(); }

bool Connection::on_header_done() {
  header_checked_ = true;
  head_received_ = std::chrono::steady_clock::now();
  const Request head = wire::to_request_head(parser_->get());
  if (auto refusal = framing_refusal(head, *parser_)) {
    answer_with(*refusal);
    return false;
  }
  header_fields_ = static_cast<size_t>(std::distance(parser_->get().begin(), parser_->get().end()));
  if (reserve_only_) {
    const auto& paths = core_->options.reserve_paths;
    if (std::find(paths.begin(), paths.end(), head.path()) == paths.end()) {
      Response busy = error_response(503, "server has " + std::to_string(core_->options.max_connections) +
                                              " connections open, the limit; retry later");
      busy.headers["Retry-After"] = "1";
      refuse_and_close(std::move(busy));
      return false;
    }
    no_more_requests_ = true;  // the reserve serves one probe per connection (closed after it)
  }
  if (core_->head_check) {
    if (auto refusal = core_->head_check(head)) {
      if (!parser_->is_done()) {
        refuse_and_close(std::move(*refusal));
        return false;
      }
      refused_ = std::move(refusal);  // answered in its turn by dispatch_request
    }
  }
  const size_t limit = core_->options.max_body_bytes;
  if (const auto length = parser_->content_length(); length && *length > limit) {
    // Answered before the body is read: the client learns at once, no bandwidth is wasted.
    answer_with_error(413, "body is " + std::to_string(*length) + " bytes, limit is " + std::to_string(limit));
    return false;
  }
  parser_->body_limit(limit);
  parser_->eager(true);
  if (parser_->is_done()) return true;
  arm_read_timer(core_->options.body_timeout_ms);
  const auto& header = parser_->get();
  if (header.version() >= 11 && boost::beast::iequals(header[bhttp::field::expect], "100-continue")) {
    Slot& slot = push_slot();  // after the answers owed to earlier requests, as RFC 9110 15.2.1 asks
    slot.ready = true;
    slot.head = wire::continue_head();
    write_ready();
  }
  return true;
}

void Connection::dispatch_request() {
  wire::BeastRequest message = parser_->release();
  parser_.reset();
  wire::drop_trailer_fields(message, header_fields_);  // before keep_alive(): a trailer cannot close
  header_checked_ = false;
  request_started_ = false;
  first_request_ = false;
  const bool keep_alive = message.keep_alive();
  Slot& slot = push_slot();
  slot.counts_in_flight = true;
  slot.close_after = !keep_alive || reserve_only_ || core_->draining.load();
  slot.head_only = message.method() == bhttp::verb::head;
  slot.keep_alive_10 = keep_alive && message.version() < 11;
  slot.received = head_received_;
  const uint64_t seq = slot.seq;
  ++requests_queued_;
  core_->in_flight.fetch_add(1);
  if (slot.close_after) no_more_requests_ = true;
  if (buffer_.size() == 0) {
    read_deadline_.disarm();  // no deadline while the handler works on it
    if (buffer_.capacity() > kKeptBufferBytes) buffer_.shrink_to_fit();
  }
  if (refused_) {
    Response refusal = std::move(*refused_);
    refused_.reset();
    on_response(seq, std::move(refusal));
    return;
  }
  Request request = wire::to_request(std::move(message));
  request.received = head_received_;
  call_handler(std::move(request), seq);
}

void Connection::call_handler(Request request, uint64_t seq) {
  auto pending = std::make_shared<PendingResponse>(shared_from_this(), seq);
  try {
    core_->handler(std::move(request), [pending](Response response) { pending->answer(std::move(response)); });
  } catch (const std::exception& e) {
    log_error("http_handler_threw").kv("error", e.what());
    pending->answer_if_unanswered(std::string("internal error: ") + e.what());
  } catch (...) {
    log_error("http_handler_threw").kv("error", "unknown exception");
    pending->answer_if_unanswered("internal error: the request handler threw");
  }
}

void Connection::answer_with_error(int status, const std::string& message) {
  log_debug("http_request_refused").kv("status", status).kv("error", message);
  refuse_and_close(error_response(status, message));
}

void Connection::answer_with(const Refusal& refusal) { answer_with_error(refusal.status, refusal.message); }

void Connection::arm(LazyDeadline& deadline, int ms, const char* what) {
  if (deadline.arm(ms)) wait_for(deadline, what);
}

void Connection::wait_for(LazyDeadline& deadline, const char* what) {
  deadline.timer().async_wait(
      [self = shared_from_this(), &deadline, what, generation = deadline.begin_wait()](error_code ec) {
        if (self->closed_) return;
        switch (deadline.wake(ec, generation)) {
          case LazyDeadline::Wake::kNothing:
            return;
          case LazyDeadline::Wake::kWaitAgain:
            self->wait_for(deadline, what);
            return;
          case LazyDeadline::Wake::kPassed:
            log_debug("http_timeout").kv("connection", self->id_).kv("waiting_for", what);
            self->close_now();
            return;
        }
      });
}

void Connection::close_now() {
  if (closed_) return;
  closed_ = true;
  read_deadline_.cancel();
  write_deadline_.cancel();
  error_code ignored;
  socket_.close(ignored);
  if (registered_) core_->remove_connection(id_);
  // Answers ready but unwritten are dropped now; unanswered ones when they arrive.
  // The slots stay alive: a write that is being aborted may still point into them.
  for (Slot& slot : slots_) {
    if (slot.ready && slot.counts_in_flight) {
      slot.counts_in_flight = false;
      core_->in_flight.fetch_sub(1);
    }
    if (slot.ready && slot.abandon_unwritten) {
      slot.abandon_unwritten = false;  // counted once: the slot stays until its write is aborted
      core_->abandoned_unwritten.fetch_sub(1);
    }
  }
  parser_.reset();
}

Connection::Slot& Connection::push_slot() {
  Slot& slot = slots_.emplace_back();
  slot.seq = next_seq_++;
  return slot;
}

}  // namespace inferd::http
