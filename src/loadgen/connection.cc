// One keep-alive connection: connect (when not connected) -> write the request -> read
// and parse the response -> hand the result to the worker. One operation is pending at
// a time, so a timed-out socket is simply closed and its pending handler sees timed_out_.
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>

#include "loadgen/worker.h"

namespace inferd::loadgen {
namespace {

using boost::system::error_code;

// The read buffer starts small (many connections) and grows for a header that does not
// fit, up to twice ResponseParser's header limit, so a legal header always fits.
constexpr size_t kInitialReadBytes = 8 << 10;
constexpr size_t kMaxReadBytes = 64 << 10;
// After a failed connect the connection rests this long, so a dead server is not
// hammered in a tight loop (and a run against it does not record millions of errors).
constexpr auto kConnectBackoff = std::chrono::milliseconds(50);

std::string ms_text(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

Connection::Connection(Worker& worker)
    : worker_(worker), socket_(worker.io()), backoff_(worker.io()), buffer_(kInitialReadBytes) {}

void Connection::start(const Job& job, const std::string& request) {
  job_ = job;
  request_ = &request;
  timed_out_ = false;
  busy_ = true;
  const Clock::time_point now = Clock::now();
  worker_.on_started(job, now);
  deadline_ = now + worker_.shared().spec.timeout;
  if (socket_.is_open()) return write();
  connect();
}

void Connection::connect() {
  const SharedRun& shared = worker_.shared();
  begin_ = end_ = 0;
  error_code ec;
  socket_.open(shared.endpoint.protocol(), ec);
  if (ec) return fail(ErrorKind::kConnect, "cannot open a socket: " + ec.message());
  connecting_ = true;
  deadline_ = std::min(deadline_, Clock::now() + shared.spec.connect_timeout);
  socket_.async_connect(shared.endpoint, [this](const error_code& e) { on_connect(e); });
}

void Connection::on_connect(const error_code& ec) {
  connecting_ = false;
  const std::string where = worker_.shared().spec.url.authority();
  if (timed_out_) {
    const LoadSpec& spec = worker_.shared().spec;
    return fail(ErrorKind::kConnect, "cannot connect to " + where + ": no answer within " +
                                         ms_text(std::min(spec.connect_timeout, spec.timeout)) +
                                         " (--connect-timeout)");
  }
  if (ec) return fail(ErrorKind::kConnect, "cannot connect to " + where + ": " + ec.message());
  error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (connected_before_) worker_.on_reconnect(job_);
  connected_before_ = true;
  write();
}

void Connection::write() {
  asio::async_write(socket_, asio::buffer(*request_), [this](const error_code& ec, size_t n) {
    worker_.on_bytes(job_, n, 0);
    if (ec) return fail(ec, "sending the request");
    read();
  });
}

void Connection::read() {
  parser_.emplace();
  if (request_->starts_with("HEAD ")) parser_->skip(true);  // a HEAD answer has no body, whatever its length says
  if (begin_ < end_) return parse_buffered();               // bytes the server sent ahead (unusual)
  socket_.async_read_some(asio::buffer(buffer_.data() + end_, buffer_.size() - end_),
                          [this](const error_code& ec, size_t n) { on_read(ec, n); });
}

void Connection::on_read(const error_code& ec, size_t n) {
  if (ec == asio::error::eof && !timed_out_) return on_eof();
  if (ec) return fail(ec, "reading the response");
  worker_.on_bytes(job_, 0, n);
  end_ += n;
  parse_buffered();
}

void Connection::parse_buffered() {
  while (begin_ < end_) {
    error_code ec;
    const size_t used = parser_->put(asio::buffer(buffer_.data() + begin_, end_ - begin_), ec);
    begin_ += used;
    if (ec == boost::beast::http::error::need_more) break;
    if (ec)
      return fail(ErrorKind::kParse,
                  "bad response from " + worker_.shared().spec.url.authority() + ": " + ec.message());
    if (parser_->is_done()) return finish();
    if (used == 0) break;
  }
  if (begin_ == end_) begin_ = end_ = 0;
  if (end_ == buffer_.size()) {  // an incomplete header at the end of the buffer: move it to the front
    std::copy(buffer_.begin() + static_cast<ptrdiff_t>(begin_), buffer_.begin() + static_cast<ptrdiff_t>(end_),
              buffer_.begin());
    end_ -= begin_;
    begin_ = 0;
    if (end_ == buffer_.size() && buffer_.size() < kMaxReadBytes) buffer_.resize(buffer_.size() * 2);
  }
  socket_.async_read_some(asio::buffer(buffer_.data() + end_, buffer_.size() - end_),
                          [this](const error_code& e, size_t n) { on_read(e, n); });
}

// A response without Content-Length ends with the connection; anything else cut short
// by the server closing is a reset.
void Connection::on_eof() {
  if (parser_->got_some() && parser_->need_eof()) {
    error_code ec;
    parser_->put_eof(ec);
    if (!ec && parser_->is_done()) return finish();
  }
  const std::string where = worker_.shared().spec.url.authority();
  fail(ErrorKind::kReset, parser_->got_some() ? where + " closed the connection in the middle of a response"
                                              : where + " closed the connection without answering");
}

void Connection::finish() {
  busy_ = false;
  const Clock::time_point now = Clock::now();
  worker_.on_response(job_, parser_->status_code(), now);
  if (!parser_->keep_alive()) close();
  worker_.on_free(*this);
}

void Connection::fail(const error_code& ec, const char* during) {
  const SharedRun& shared = worker_.shared();
  if (timed_out_) {
    return fail(ErrorKind::kTimeout, "no complete response from " + shared.spec.url.authority() + " within " +
                                         ms_text(shared.spec.timeout) + " (--timeout)");
  }
  const bool reset = ec == asio::error::connection_reset || ec == asio::error::broken_pipe || ec == asio::error::eof;
  fail(reset ? ErrorKind::kReset : ErrorKind::kOther, std::string(during) + ": " + ec.message());
}

// The connection is closed and given back later, never from inside this call, so a
// run of synchronous failures cannot recurse.
void Connection::fail(ErrorKind kind, const std::string& message) {
  busy_ = false;
  worker_.on_error(job_, kind, message);
  close();
  if (kind == ErrorKind::kConnect) {
    backoff_.expires_after(kConnectBackoff);
    backoff_.async_wait([this](const error_code&) { worker_.on_free(*this); });
    return;
  }
  asio::post(worker_.io(), [this] { worker_.on_free(*this); });
}

void Connection::check_deadline(Clock::time_point now) {
  if (!busy_ || timed_out_ || now < deadline_ || !socket_.is_open()) return;
  timed_out_ = true;
  error_code ignored;
  socket_.close(ignored);  // the pending connect/write/read completes with operation_aborted
}

void Connection::close() {
  error_code ignored;
  socket_.close(ignored);
  begin_ = end_ = 0;
}

}  // namespace inferd::loadgen
