// Connection's answering side (http_connection.h): answers are delivered into their slots,
// written in request order (several gathered into one write), and the connection is closed
// when an answer says so, lingering to read what the client still sends so that the kernel
// does not reset the connection under the last answer.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <string_view>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "core/log.h"
#include "server/http/http_connection.h"
#include "server/http/http_framing.h"
#include "server/http/http_wire.h"

namespace inferd::http {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

constexpr size_t kMaxWriteGather = 16;  // answers coalesced into one write
// A lingering close reads and drops what the client still sends for up to kLingerMs, so that
// a client still sending a refused body (a 413) reads the answer instead of a reset: closing
// with unread bytes makes the kernel reset the connection. The byte cap is well above the
// bodies clients send before they look at an early answer (a 2 MiB upload to a 1 MiB limit
// was reset under load with a 1 MiB cap); past it, or the time, the connection closes.
constexpr int kLingerMs = 1000;
constexpr size_t kLingerMaxBytes = size_t{16} << 20;

}  // namespace

void Connection::refuse_and_close(Response response) {
  no_more_requests_ = true;
  parser_.reset();
  refused_.reset();
  header_checked_ = false;
  request_started_ = false;
  read_deadline_.disarm();
  Slot& slot = push_slot();
  slot.ready = true;
  slot.close_after = true;  // the rest of the stream cannot be trusted to frame requests
  slot.head = wire::response_head(response, {.close = true});
  slot.body = std::move(response.body);
  write_ready();
}

void Connection::deliver(uint64_t seq, Response response) {
  ServerCore& core = *core_;
  try {
    std::lock_guard lock(core.post_mutex);
    if (core.posts_open) {
      asio::post(socket_.get_executor(),
                 [self = shared_from_this(), seq, r = std::move(response), at = std::chrono::steady_clock::now()]() mutable {
                   self->on_response(seq, std::move(r), at);
                 });
      return;
    }
  } catch (const std::exception& e) {
    log_error("http_respond_failed").kv("error", e.what());
  }
  core.in_flight.fetch_sub(1);  // the server stopped: the answer is dropped
}

void Connection::on_response(uint64_t seq, Response response, std::chrono::steady_clock::time_point answered) {
  // Unanswered slots are never popped, except those abandon() answered: such a slot may be
  // gone already, and the handler's late answer only settles the in_flight count it kept.
  const bool in_slots = !slots_.empty() && seq >= slots_.front().seq && seq - slots_.front().seq < slots_.size();
  if (closed_ || !in_slots || slots_[seq - slots_.front().seq].abandoned) {
    core_->in_flight.fetch_sub(1);
    return;
  }
  Slot& slot = slots_[seq - slots_.front().seq];
  // Draining: the last request read so far is this connection's last (pipelined ones after
  // it are still answered first, as they were read before the drain began).
  if (core_->draining.load() && seq == slots_.back().seq) {
    slot.close_after = true;
    no_more_requests_ = true;
  }
  const wire::ResponseFraming framing{
      .close = slot.close_after, .keep_alive_10 = slot.keep_alive_10, .head_only = slot.head_only};
  slot.head = wire::response_head(response, framing);
  slot.body = std::move(response.body);
  slot.answered = answered;
  slot.ready = true;
  write_ready();
}

void Connection::abandon(Response response) {
  // Counted before it is posted: the server waits for abandoned_unwritten() to reach 0 and
  // must not see 0 before this connection has even looked at its slots (it then closed the
  // connection with its 503s unwritten).
  core_->abandoned_unwritten.fetch_add(1);
  asio::post(socket_.get_executor(), [self = shared_from_this(), r = std::move(response)] {
    self->abandon_on_strand(r);
    self->core_->abandoned_unwritten.fetch_sub(1);  // the slots' own counts have replaced it
  });
}

void Connection::abandon_on_strand(const Response& response) {
  if (closed_) return;
  bool any = false;
  for (Slot& slot : slots_) {
    if (slot.ready || !slot.counts_in_flight) continue;
    // The in_flight count stays with the handler's answer, which still comes (a dropped
    // `respond` answers 500): the write below must not settle it too.
    slot.counts_in_flight = false;
    slot.abandoned = true;
    slot.abandon_unwritten = true;
    slot.ready = true;
    // Only the connection's last answer says close: every pipelined request before it gets
    // its own 503 (a close on the first one left the others unanswered).
    slot.close_after = &slot == &slots_.back();
    Response answer = response;  // response_head() completes the headers it is given
    slot.head = wire::response_head(answer, {.close = slot.close_after, .head_only = slot.head_only});
    slot.body = slot.head_only ? std::string() : std::move(answer.body);
    core_->abandoned_unwritten.fetch_add(1);
    any = true;
  }
  if (!any) return;
  no_more_requests_ = true;
  write_ready();
}

void Connection::write_ready() {
  if (writing_ || closed_ || slots_.empty() || !slots_.front().ready) return;
  // Answers already in order go out in one gathered write (pipelined requests: one syscall).
  std::vector<asio::const_buffer> buffers;
  size_t count = 0;
  for (const Slot& slot : slots_) {
    if (!slot.ready || count == kMaxWriteGather) break;
    buffers.push_back(asio::buffer(slot.head));
    if (!slot.body.empty()) buffers.push_back(asio::buffer(slot.body));
    ++count;
    if (slot.close_after) break;
  }
  slots_writing_ = count;
  writing_ = true;
  arm(write_deadline_, core_->options.body_timeout_ms, "write");
  asio::async_write(socket_, buffers, [self = shared_from_this()](error_code ec, size_t) { self->on_write(ec); });
}

void Connection::on_write(error_code ec) {
  writing_ = false;
  write_deadline_.disarm();
  if (closed_) return;
  if (ec) {
    close_now();
    return;
  }
  bool close = false;
  const auto written = std::chrono::steady_clock::now();
  for (size_t i = 0; i < slots_writing_; ++i) {
    const Slot& slot = slots_.front();
    if (slot.counts_in_flight && slot.answered != std::chrono::steady_clock::time_point{} &&
        core_->options.on_answer_written)
      core_->options.on_answer_written(std::chrono::duration<double>(written - slot.answered).count(),
                                       std::chrono::duration<double>(written - slot.received).count());
    if (slot.counts_in_flight) {
      core_->in_flight.fetch_sub(1);
      --requests_queued_;
    }
    if (slot.abandoned) --requests_queued_;
    if (slot.abandon_unwritten) core_->abandoned_unwritten.fetch_sub(1);
    close = close || slot.close_after;
    slots_.pop_front();
  }
  slots_writing_ = 0;
  if (close) {
    begin_lingering_close();
    return;
  }
  if (slots_.empty() && peer_eof_) {
    close_now();
    return;
  }
  write_ready();
  if (slots_.empty() && !request_started_ && !no_more_requests_) arm_read_timer(core_->options.idle_timeout_ms);
  read_more();  // the pipelining window may have reopened
}

void Connection::on_peer_eof() {
  // The client sent its last byte (it may still read): answer what was asked, then close.
  peer_eof_ = true;
  no_more_requests_ = true;
  parser_.reset();  // an unfinished request can never complete
  read_deadline_.disarm();
  if (slots_.empty()) close_now();
}

// Closing with unread request bytes in the socket makes the kernel send RST, which can
// destroy the answer before the client reads it; so shut down our side and read what the
// client still sends (bounded) until it closes.
void Connection::begin_lingering_close() {
  lingering_ = true;
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec || peer_eof_) {
    close_now();
    return;
  }
  arm_read_timer(kLingerMs);
  buffer_.consume(buffer_.size());
  if (!reading_) on_drain({}, 0);
}

void Connection::on_drain(error_code ec, size_t bytes) {
  drained_bytes_ += bytes;
  if (ec || drained_bytes_ > kLingerMaxBytes) {  // EOF: the client has read the answer and closed
    close_now();
    return;
  }
  reading_ = true;
  socket_.async_read_some(buffer_.prepare(kHeaderReadBytes),
                          [self = shared_from_this()](error_code e, size_t n) { self->on_read(e, n); });
}

}  // namespace inferd::http
