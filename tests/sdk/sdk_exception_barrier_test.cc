// The public API's exception barrier (sdk_internal.h): an exception thrown under an API
// call comes back as a Status naming the call, never through the caller. The helper
// itself for each kind of exception, and a real one: an allocation that fails inside
// decodeImage under a limited address space.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "inferd/inferd.h"
#include "sdk/sdk_internal.h"

namespace ifd = inferd::v1;

namespace inferd::test {
namespace {

TEST(SdkExceptionBarrier, PassesResultsThrough) {
  const ifd::Result<int> value = ifd::exception_barrier("f", []() -> ifd::Result<int> { return 7; });
  ASSERT_TRUE(value.isOk());
  EXPECT_EQ(value.value(), 7);
  const ifd::Status error =
      ifd::exception_barrier("f", [] { return ifd::Status(ifd::StatusCode::kNotFound, "no such file"); });
  EXPECT_EQ(error.toString(), "not found: no such file");
}

TEST(SdkExceptionBarrier, TurnsEveryExceptionIntoAStatusNamingTheCall) {
  const ifd::Status oom =
      ifd::exception_barrier("Builder::buildEngine", []() -> ifd::Status { throw std::bad_alloc(); });
  EXPECT_EQ(oom.code(), ifd::StatusCode::kResourceExhausted);
  EXPECT_EQ(oom.message(), "Builder::buildEngine: out of memory");
  const ifd::Result<ifd::Engine> logic = ifd::exception_barrier(
      "Runtime::deserialize", []() -> ifd::Result<ifd::Engine> { throw std::out_of_range("vector::at"); });
  ASSERT_FALSE(logic.isOk());
  EXPECT_EQ(logic.status().code(), ifd::StatusCode::kInternal);
  EXPECT_EQ(logic.status().message(), "Runtime::deserialize: internal error: exception: vector::at");
  const ifd::Status other = ifd::exception_barrier("ExecutionContext::enqueue", []() -> ifd::Status { throw 42; });
  EXPECT_EQ(other.code(), ifd::StatusCode::kInternal);
  EXPECT_EQ(other.message(), "ExecutionContext::enqueue: internal error: exception of unknown type");
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// This process's virtual address space in bytes (VmSize), 0 when unknown.
size_t address_space_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7)) * 1024;  // "VmSize:  1234 kB"
  return 0;
}

// decodeImage allocates its output (3 x 16384 x 16384 floats, 3 GiB) before it decodes: with
// the address space limited to 512 MiB more than in use, that allocation throws
// std::bad_alloc inside the library. In a child process (a death test), so that the limit
// stays there; without the barrier the exception would end the child.
TEST(SdkExceptionBarrier, AnAllocationFailureInsideTheLibraryIsAStatus) {
  if (kSanitized) GTEST_SKIP() << "the sanitizers' allocators need address space that the limit would take";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        const size_t in_use = address_space_bytes();
        rlimit limit{};
        limit.rlim_cur = limit.rlim_max = in_use + (size_t{512} << 20);
        if (in_use == 0 || setrlimit(RLIMIT_AS, &limit) != 0) std::_Exit(2);
        ifd::ImagePreprocessing huge;
        huge.width = huge.height = 16384;
        const unsigned char byte = 0xFF;
        const auto r = ifd::decodeImage(&byte, 1, huge);
        std::fprintf(stderr, "decodeImage: %s\n", r.isOk() ? "ok" : r.status().toString().c_str());
        std::_Exit(r.isOk() || r.status().toString() != "resource exhausted: decodeImage: out of memory" ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace inferd::test
