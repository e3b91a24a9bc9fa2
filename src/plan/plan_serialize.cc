// Writes and reads the plan format of docs/plan-format.md.
#include <cstring>
#include <sstream>
#include <type_traits>

#include "core/file.h"
#include "core/version.h"
#include "plan/byte_io.h"
#include "plan/plan.h"

namespace inferd {
namespace {

using plan_io::ByteReader;
using plan_io::ByteWriter;

constexpr char kMagic[8] = {'I', 'N', 'F', 'D', 'P', 'L', 'A', 'N'};
constexpr uint32_t kEndianMarker = 0x01020304;
constexpr size_t kFixedHeaderBytes = 36;
constexpr size_t kWeightAlignment = 64;

void put_ids(ByteWriter& w, const std::vector<ir::ValueId>& ids) {
  w.put<uint32_t>(static_cast<uint32_t>(ids.size()));
  for (auto id : ids) w.put<int32_t>(id);
}

void put_attribute(ByteWriter& w, const ir::Attribute& a) {
  w.put<uint8_t>(static_cast<uint8_t>(a.index()));
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          w.put_string(v);
        } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, float>) {
          w.put(v);
        } else {
          w.put<uint32_t>(static_cast<uint32_t>(v.size()));
          for (auto x : v) w.put(x);
        }
      },
      a);
}

void put_value(ByteWriter& w, size_t base, const ir::Value& v) {
  w.put_string(v.name);
  w.put<uint8_t>(static_cast<uint8_t>(v.dtype));
  w.put<uint32_t>(static_cast<uint32_t>(v.shape.size()));
  for (auto d : v.shape) w.put<int64_t>(d);
  w.put<uint8_t>(static_cast<uint8_t>(v.layout));
  w.put<int32_t>(v.alias_of);
  w.put<int64_t>(v.alias_channel_offset);
  w.put<uint8_t>(v.is_constant() ? 1 : 0);
  if (!v.is_constant()) return;
  w.put<uint64_t>(v.constant->byte_size());
  w.align(base, kWeightAlignment);
  w.put_bytes(v.constant->raw(), v.constant->byte_size());
}

std::vector<uint8_t> serialize_payload(const ir::Graph& g, const std::vector<std::vector<uint8_t>>& choices,
                                       size_t payload_base) {
  ByteWriter w;
  w.put_string(g.name);
  w.put<uint32_t>(static_cast<uint32_t>(g.value_count()));
  for (size_t i = 0; i < g.value_count(); ++i) put_value(w, payload_base, g.value(static_cast<ir::ValueId>(i)));
  w.put<uint32_t>(static_cast<uint32_t>(g.nodes().size()));
  for (const auto& n : g.nodes()) {
    w.put_string(n.name);
    w.put_string(std::string(ir::to_string(n.op)));
    put_ids(w, n.inputs);
    put_ids(w, n.outputs);
    w.put<uint32_t>(static_cast<uint32_t>(n.attrs.all().size()));
    for (const auto& [key, value] : n.attrs.all()) {
      w.put_string(key);
      put_attribute(w, value);
    }
  }
  put_ids(w, g.inputs);
  put_ids(w, g.outputs);
  // A plan made without tuning has no choices: one empty blob per node.
  w.put<uint32_t>(static_cast<uint32_t>(g.nodes().size()));
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    static const std::vector<uint8_t> kNone;
    const auto& blob = i < choices.size() ? choices[i] : kNone;
    w.put<uint32_t>(static_cast<uint32_t>(blob.size()));
    w.put_bytes(blob.data(), blob.size());
  }
  return std::move(w.bytes());
}

std::vector<uint8_t> header_strings(const PlanHeader& h) {
  ByteWriter w;
  for (const auto* s : {&h.engine_version, &h.backend, &h.precision, &h.target}) w.put_string(*s);
  return std::move(w.bytes());
}

}  // namespace

std::vector<uint8_t> serialize_plan(const Plan& plan) {
  const auto strings = header_strings(plan.header);
  const size_t payload_base = kFixedHeaderBytes + strings.size() + sizeof(uint32_t);
  const auto payload = serialize_payload(plan.graph, plan.node_choices, payload_base);
  ByteWriter w;
  w.put_bytes(kMagic, sizeof(kMagic));
  w.put<uint32_t>(plan.header.format_version);
  w.put<uint32_t>(kEndianMarker);
  w.put<uint64_t>(payload.size());
  w.put<uint64_t>(plan_io::plan_checksum(payload));
  w.put<uint32_t>(static_cast<uint32_t>(strings.size()));
  w.put_bytes(strings.data(), strings.size());
  w.put<uint32_t>(plan.header.max_batch);
  w.put_bytes(payload.data(), payload.size());
  return std::move(w.bytes());
}

bool looks_like_plan(std::span<const uint8_t> bytes) {
  return bytes.size() >= sizeof(kMagic) && std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) == 0;
}

Status save_plan(const Plan& plan, const std::string& path) {
  const auto bytes = serialize_plan(plan);
  return write_file(path, bytes);
}

Result<Plan> load_plan(const std::string& path) {
  ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
  return deserialize_plan(file.bytes(), path);
}

namespace plan_io {
uint64_t plan_checksum(std::span<const uint8_t> bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    h = (h ^ word) * 0x100000001b3ULL;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
  return (h ^ tail) * 0x100000001b3ULL;
}
}  // namespace plan_io

}  // namespace inferd
