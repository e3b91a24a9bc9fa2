// Blocking steps before a run: resolve the host, check that it accepts a connection,
// and fetch one document (e.g. KServe model metadata). Each is bounded by a timeout.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>

#include "core/status.h"
#include "loadgen/url.h"

namespace inferd::loadgen {

// The first address of url.host ("cannot resolve host 'nosuch': Host not found ...").
Result<boost::asio::ip::tcp::endpoint> resolve(const Url& url);

// Opens and closes one connection: "cannot connect to 127.0.0.1:9: Connection refused",
// "cannot connect to 10.1.2.3:80: no answer within 5000 ms (--connect-timeout)".
Status check_connect(const Url& url, const boost::asio::ip::tcp::endpoint& endpoint, std::chrono::nanoseconds timeout);

struct FetchedDocument {
  int status = 0;
  std::string body;
};

// GET url (Connection: close) and read the whole response.
Result<FetchedDocument> fetch(const Url& url, std::chrono::nanoseconds timeout);

}  // namespace inferd::loadgen
