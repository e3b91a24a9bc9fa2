// Little-endian byte writer and a bounds-checked reader for the plan format.
// The reader never trusts a length: every read is checked against what is left.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace inferd::plan_io {

class ByteWriter {
 public:
  template <typename T> void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint32_t>(static_cast<uint32_t>(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void put_bytes(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + n);
  }
  // Zero-pads so that (base + size()) is a multiple of `alignment`.
  void align(size_t base, size_t alignment) {
    while ((base + bytes_.size()) % alignment) bytes_.push_back(0);
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> bytes, size_t base) : bytes_(bytes), base_(base) {}

  template <typename T> Status get(T& v) {
    if (left() < sizeof(T)) return truncated();
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::ok();
  }
  Status get_string(std::string& s, size_t max_len = 1 << 20) {
    uint32_t n = 0;
    RETURN_IF_ERROR(get(n));
    if (n > max_len || n > left()) return truncated();
    s.assign(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return Status::ok();
  }
  Status get_span(size_t n, std::span<const uint8_t>& out) {
    if (n > left()) return truncated();
    out = bytes_.subspan(pos_, n);
    pos_ += n;
    return Status::ok();
  }
  Status skip_alignment(size_t alignment) {
    while ((base_ + pos_) % alignment) {
      if (!left()) return truncated();
      ++pos_;
    }
    return Status::ok();
  }
  // Reads a count and checks that `count * min_item_bytes` bytes could still follow.
  Status get_count(uint32_t& n, size_t min_item_bytes) {
    RETURN_IF_ERROR(get(n));
    if (static_cast<uint64_t>(n) * min_item_bytes > left()) return truncated();
    return Status::ok();
  }
  size_t left() const { return bytes_.size() - pos_; }
  size_t position() const { return pos_; }

 private:
  static Status truncated() { return data_loss("truncated plan (a length points past the end)"); }
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  size_t base_;
};

// FNV-1a over little-endian 64-bit words (tail zero-padded): fast enough to check
// a 100 MB plan in well under 100 ms.
uint64_t plan_checksum(std::span<const uint8_t> bytes);

}  // namespace inferd::plan_io
