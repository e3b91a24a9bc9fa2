// Out of file descriptors, the server backs off and keeps its listener: once descriptors
// free up it accepts the clients that waited in the backlog and answers them. (Under the
// common `ulimit -n 1024`, accept used to fail in a tight loop that flooded the log.)
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "http_client.h"
#include "http_server_test_util.h"

namespace inferd::test {
namespace {

// Lowers the soft descriptor limit for one test, and opens /dev/null until the process
// has no descriptor left; release() gives them back.
class DescriptorExhaustion {
 public:
  DescriptorExhaustion() {
    getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit lowered = saved_;
    lowered.rlim_cur = std::min<rlim_t>(saved_.rlim_cur, 512);  // few to fill, whatever the hard limit
    setrlimit(RLIMIT_NOFILE, &lowered);
    for (;;) {
      const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        exhausted_ = errno == EMFILE;
        break;
      }
      held_.push_back(fd);
    }
  }
  ~DescriptorExhaustion() {
    release();
    setrlimit(RLIMIT_NOFILE, &saved_);
  }
  bool exhausted() const { return exhausted_; }
  void release(size_t keep = 0) {
    while (held_.size() > keep) {
      ::close(held_.back());
      held_.pop_back();
    }
  }
  void free_one() { release(held_.size() - 1); }

 private:
  rlimit saved_{};
  std::vector<int> held_;
  bool exhausted_ = false;
};

TEST(DescriptorLimit, AcceptFailuresBackOffAndTheServerRecoversWhenDescriptorsFreeUp) {
  auto server = start_test_server(test_server_options(), echo_handler());
  ASSERT_NE(server, nullptr);
  {
    HttpClient warm(server->port());
    ASSERT_TRUE(warm.request("GET", "/warm"));
  }
  // The server closes its end of the warm connection on its own thread: wait for it, or
  // that descriptor frees up while the test below counts on having none left.
  ASSERT_TRUE(wait_until([&] { return server->open_connections() == 0; }));
  DescriptorExhaustion fds;
  ASSERT_TRUE(fds.exhausted()) << "could not exhaust the descriptors";
  fds.free_one();  // for the client's socket: the server's accept has none left
  HttpClient client(server->port(), /*timeout_ms=*/5000);
  ASSERT_TRUE(client.connected()) << client.error();  // the kernel's backlog completes the handshake
  ASSERT_TRUE(client.send(format_request("GET", "/waited")));
  // No descriptor to accept with: no answer while the accept loop fails (every 50 ms).
  EXPECT_FALSE(client.wait_for_text("HTTP/1.1", 300)) << "answered without a descriptor to accept with";
  fds.release();
  // The client that waited through the failures is served, and so is a new one.
  const auto waited = client.read_response();
  ASSERT_TRUE(waited) << client.error();
  EXPECT_EQ(waited->status, 200);
  EXPECT_NE(waited->body.find("/waited"), std::string::npos) << waited->body;
  HttpClient next(server->port());
  const auto later = next.request("GET", "/after");
  ASSERT_TRUE(later) << next.error();
  EXPECT_EQ(later->status, 200);
}

}  // namespace
}  // namespace inferd::test
