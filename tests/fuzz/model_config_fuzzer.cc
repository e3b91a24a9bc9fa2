// Fuzzes config.toml: parse_model_config, what load_model_folder calls on the file's text,
// over the whole TOML parser (core/toml.h). A config that parses must hold only values
// the rest of the server can use; an error must name the file.
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "runtime/model_config.h"

namespace {

constexpr const char* kFile = "config.toml";

void check_config(const inferd::ModelConfig& c) {
  FUZZ_CHECK(c.max_batch >= 1 && c.max_batch <= 4096, std::to_string(c.max_batch));
  for (unsigned char ch : c.name) FUZZ_CHECK(ch > 0x20 && ch != '/' && ch != '\\' && ch != '"', c.name);
  FUZZ_CHECK(c.input.width >= 0 && c.input.height >= 0 && c.input.resize >= 0, "negative input size");
  FUZZ_CHECK(c.input.scale != 0.0f && std::isfinite(c.input.scale), std::to_string(c.input.scale));
  for (float s : c.input.std) FUZZ_CHECK(s != 0.0f && std::isfinite(s), std::to_string(s));
  for (float m : c.input.mean) FUZZ_CHECK(std::isfinite(m), std::to_string(m));
  FUZZ_CHECK(c.output.top_k >= 1, std::to_string(c.output.top_k));
  for (int b : c.batching.preferred_batch) FUZZ_CHECK(b >= 1 && b <= c.max_batch, std::to_string(b));
  FUZZ_CHECK(c.batching.max_queue_delay_us >= 0 && c.batching.max_queue >= 1, "batching out of range");
  FUZZ_CHECK(c.instances.count >= 1, std::to_string(c.instances.count));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  inferd::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = inferd::parse_model_config(text, kFile);
  if (config.is_ok()) {
    check_config(*config);
  } else {
    const std::string& message = config.status().message();
    FUZZ_CHECK(message.rfind(kFile, 0) == 0, message);
  }
  return 0;
}
