// Fuzzes plan loading: deserialize_plan (what load_plan and load_or_build call on the
// file's bytes), then, for plans that load, what the server does next with them:
// Engine::create on the CPU backend (pack every node's weights, plan the activation
// memory), create_context (arenas up to 256 MiB) and, for small plans (arenas up to
// 4 MiB), one batch through the kernels.
//
// A plan carries a checksum over its payload, which random mutations would never get
// right: the harness rewrites the payload size and checksum of 7 inputs in 8 (those
// whose size is not a multiple of 8), so that the fuzzer reaches the graph reader; the
// 8th is read verbatim, so the header checks are fuzzed as well.
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "fuzz_common.h"
#include "fuzz_engine.h"
#include "plan/byte_io.h"
#include "plan/plan.h"

namespace {

// docs/plan-format.md: magic(8) version(4) endian(4) payload size(8) checksum(8)
// strings size(4), 4 strings (u32 length + bytes), max batch(4), then the payload.
constexpr size_t kPayloadSizeOffset = 16, kChecksumOffset = 24, kStringsOffset = 36;
constexpr uint32_t kMaxHeaderString = 256;  // the reader's limit

std::optional<size_t> payload_offset(const std::vector<uint8_t>& b) {
  size_t pos = kStringsOffset;
  for (int i = 0; i < 4; ++i) {
    uint32_t n = 0;
    if (b.size() < pos + 4) return std::nullopt;
    std::memcpy(&n, b.data() + pos, 4);
    pos += 4;
    if (n > kMaxHeaderString || n > b.size() - pos) return std::nullopt;
    pos += n;
  }
  pos += 4;  // max batch
  if (pos > b.size()) return std::nullopt;
  return pos;
}

void fix_checksum(std::vector<uint8_t>& b) {
  const auto offset = payload_offset(b);
  if (!offset) return;
  const uint64_t size = b.size() - *offset;
  const uint64_t checksum = inferd::plan_io::plan_checksum(std::span<const uint8_t>(b).subspan(*offset));
  std::memcpy(b.data() + kPayloadSizeOffset, &size, 8);
  std::memcpy(b.data() + kChecksumOffset, &checksum, 8);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  inferd::fuzz::quiet_logs();
  inferd::fuzz::cpu_backend();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  if (size % 8 != 0) fix_checksum(bytes);
  auto plan = inferd::deserialize_plan(bytes, "fuzz.plan");
  if (!plan.is_ok()) {
    FUZZ_CHECK(!plan.status().message().empty(), "empty error message");
    return 0;
  }
  if (plan->header.backend != "cpu") return 0;  // load_or_build refuses it before the engine
  auto engine = inferd::Engine::create(std::move(plan).value(), inferd::fuzz::cpu_backend());
  if (engine.is_ok()) inferd::fuzz::exercise(**engine);
  return 0;
}
