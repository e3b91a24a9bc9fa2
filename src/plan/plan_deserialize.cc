// Reads the plan format (docs/plan-format.md), trusting nothing in the bytes.
#include <cstring>

#include "core/version.h"
#include "ir/shape_inference.h"
#include "plan/byte_io.h"
#include "plan/plan.h"
#include "plan/plan_validate.h"

namespace inferd {
namespace {

using plan_io::ByteReader;

constexpr uint32_t kEndianMarker = 0x01020304;
constexpr uint32_t kMaxRank = 8;

Status read_ids(ByteReader& r, size_t value_count, std::vector<ir::ValueId>& ids) {
  uint32_t n = 0;
  RETURN_IF_ERROR(r.get_count(n, sizeof(int32_t)));
  ids.resize(n);
  for (auto& id : ids) {
    RETURN_IF_ERROR(r.get(id));
    if (id < ir::kNoValue || id >= static_cast<int64_t>(value_count))
      return data_loss("corrupt plan: value id " + std::to_string(id) + " out of range");
  }
  return Status::ok();
}

template <typename T>
Status read_list(ByteReader& r, std::vector<T>& out) {
  uint32_t n = 0;
  RETURN_IF_ERROR(r.get_count(n, sizeof(T)));
  out.resize(n);
  for (auto& x : out) RETURN_IF_ERROR(r.get(x));
  return Status::ok();
}

Status read_attribute(ByteReader& r, ir::Attribute& a) {
  uint8_t type = 0;
  RETURN_IF_ERROR(r.get(type));
  switch (type) {
    case 0: {
      int64_t v = 0;
      RETURN_IF_ERROR(r.get(v));
      a = v;
      return Status::ok();
    }
    case 1: {
      float v = 0;
      RETURN_IF_ERROR(r.get(v));
      a = v;
      return Status::ok();
    }
    case 2: {
      std::string v;
      RETURN_IF_ERROR(r.get_string(v));
      a = v;
      return Status::ok();
    }
    case 3: {
      std::vector<int64_t> v;
      RETURN_IF_ERROR(read_list(r, v));
      a = v;
      return Status::ok();
    }
    case 4: {
      std::vector<float> v;
      RETURN_IF_ERROR(read_list(r, v));
      a = v;
      return Status::ok();
    }
    default:
      return data_loss("corrupt plan: unknown attribute type " + std::to_string(type));
  }
}

Status read_constant(ByteReader& r, ir::Value& v) {
  uint64_t nbytes = 0;
  RETURN_IF_ERROR(r.get(nbytes));
  // Check the declared size against the shape and the bytes left BEFORE allocating.
  uint64_t expected = element_size(v.dtype);
  for (auto d : v.shape) {
    if (d < 0) return data_loss("corrupt plan: constant '" + v.name + "' has a dynamic dim");
    if (d != 0 && expected > (uint64_t{1} << 40) / static_cast<uint64_t>(d))
      return data_loss("corrupt plan: constant '" + v.name + "' is impossibly large");
    expected *= static_cast<uint64_t>(d);
  }
  if (expected != nbytes || nbytes > r.left())
    return data_loss("corrupt plan: constant '" + v.name + "' size mismatch");
  RETURN_IF_ERROR(r.skip_alignment(64));
  std::span<const uint8_t> bytes;
  RETURN_IF_ERROR(r.get_span(nbytes, bytes));
  Tensor t(v.dtype, v.shape, Tensor::Uninitialized{});
  if (nbytes) std::memcpy(t.raw(), bytes.data(), nbytes);
  v.constant = std::move(t);
  return Status::ok();
}

Status read_value(ByteReader& r, ir::Value& v) {
  uint8_t dtype = 0, layout = 0, has_constant = 0;
  uint32_t rank = 0;
  RETURN_IF_ERROR(r.get_string(v.name));
  RETURN_IF_ERROR(r.get(dtype));
  if (dtype < 1 || dtype > 7) return data_loss("corrupt plan: bad dtype for '" + v.name + "'");
  v.dtype = static_cast<DataType>(dtype);
  RETURN_IF_ERROR(r.get(rank));
  if (rank > kMaxRank) return data_loss("corrupt plan: rank " + std::to_string(rank) + " for '" + v.name + "'");
  v.shape.resize(rank);
  // The importer's shape rules (ir/shape_inference.h) as a bound on what a plan may hold:
  // only dim 0 may be the batch, and one sample of a value has at most 2^31 elements, so
  // sizes at any max batch fit in 64 bits and a hostile plan cannot ask for an
  // impossibly large activation arena.
  int64_t per_sample = 1;
  for (size_t i = 0; i < v.shape.size(); ++i) {
    int64_t& d = v.shape[i];
    RETURN_IF_ERROR(r.get(d));
    if (d < kDynamicDim || d > ir::kMaxTensorElements || (d == kDynamicDim && i != 0))
      return data_loss("corrupt plan: bad dim " + std::to_string(d) + " at " + std::to_string(i) + " in '" + v.name +
                       "'");
    if (d > 0 && per_sample > ir::kMaxTensorElements / d)
      return data_loss("corrupt plan: '" + v.name + "' has more than 2^31 elements per sample");
    if (d > 0) per_sample *= d;
  }
  RETURN_IF_ERROR(r.get(layout));
  if (layout > 1) return data_loss("corrupt plan: bad layout for '" + v.name + "'");
  v.layout = static_cast<ir::Layout>(layout);
  RETURN_IF_ERROR(r.get(v.alias_of));
  RETURN_IF_ERROR(r.get(v.alias_channel_offset));
  RETURN_IF_ERROR(r.get(has_constant));
  if (has_constant) return read_constant(r, v);
  return Status::ok();
}

Status read_node(ByteReader& r, size_t value_count, ir::Node& n) {
  std::string op;
  RETURN_IF_ERROR(r.get_string(n.name));
  RETURN_IF_ERROR(r.get_string(op));
  auto kind = ir::op_kind_from_string(op);
  if (!kind) return data_loss("corrupt plan: unknown op '" + op + "'");
  n.op = *kind;
  RETURN_IF_ERROR(read_ids(r, value_count, n.inputs));
  RETURN_IF_ERROR(read_ids(r, value_count, n.outputs));
  uint32_t attr_count = 0;
  RETURN_IF_ERROR(r.get_count(attr_count, 5));
  for (uint32_t i = 0; i < attr_count; ++i) {
    std::string key;
    ir::Attribute a;
    RETURN_IF_ERROR(r.get_string(key));
    RETURN_IF_ERROR(read_attribute(r, a));
    n.attrs.set(key, std::move(a));
  }
  return Status::ok();
}

Status read_graph(ByteReader& r, ir::Graph& g) {
  RETURN_IF_ERROR(r.get_string(g.name));
  uint32_t value_count = 0, node_count = 0;
  RETURN_IF_ERROR(r.get_count(value_count, 20));
  for (uint32_t i = 0; i < value_count; ++i) {
    ir::Value v;
    RETURN_IF_ERROR(read_value(r, v));
    g.add_value(std::move(v));
  }
  for (uint32_t i = 0; i < value_count; ++i) {
    const auto alias = g.value(static_cast<ir::ValueId>(i)).alias_of;
    if (alias < ir::kNoValue || alias >= static_cast<int64_t>(value_count))
      return data_loss("corrupt plan: alias out of range");
  }
  RETURN_IF_ERROR(r.get_count(node_count, 16));
  for (uint32_t i = 0; i < node_count; ++i) {
    ir::Node n;
    RETURN_IF_ERROR(read_node(r, value_count, n));
    g.add_node(std::move(n));
  }
  RETURN_IF_ERROR(read_ids(r, value_count, g.inputs));
  RETURN_IF_ERROR(read_ids(r, value_count, g.outputs));
  return Status::ok();
}

// The backend's per-node choices: one blob per node (possibly empty), nothing after them.
Status read_node_choices(ByteReader& r, size_t node_count, std::vector<std::vector<uint8_t>>& choices) {
  uint32_t count = 0;
  RETURN_IF_ERROR(r.get_count(count, 4));
  if (count != node_count)
    return data_loss("corrupt plan: " + std::to_string(count) + " backend choices for " + std::to_string(node_count) +
                     " nodes");
  choices.resize(count);
  for (auto& blob : choices) {
    uint32_t size = 0;
    std::span<const uint8_t> bytes;
    RETURN_IF_ERROR(r.get(size));
    RETURN_IF_ERROR(r.get_span(size, bytes));
    blob.assign(bytes.begin(), bytes.end());
  }
  if (r.left() != 0) return data_loss("corrupt plan: trailing bytes after the backend choices");
  return Status::ok();
}

Status read_header(ByteReader& r, PlanHeader& h, uint64_t& payload_size, uint64_t& checksum) {
  char magic[8];
  for (char& c : magic) RETURN_IF_ERROR(r.get(c));
  if (std::memcmp(magic, "INFDPLAN", 8) != 0) return invalid_argument("not an inferd plan (bad magic)");
  uint32_t endian = 0, strings_size = 0;
  RETURN_IF_ERROR(r.get(h.format_version));
  RETURN_IF_ERROR(r.get(endian));
  if (endian != kEndianMarker) return failed_precondition("plan was written on a big-endian machine");
  if (h.format_version != kPlanFormatVersion)
    return failed_precondition("plan format version " + std::to_string(h.format_version) +
                               ", this inferd reads version " + std::to_string(kPlanFormatVersion) +
                               ": rebuild it with `inferd build`");
  RETURN_IF_ERROR(r.get(payload_size));
  RETURN_IF_ERROR(r.get(checksum));
  RETURN_IF_ERROR(r.get(strings_size));
  for (auto* s : {&h.engine_version, &h.backend, &h.precision, &h.target}) RETURN_IF_ERROR(r.get_string(*s, 256));
  return r.get(h.max_batch);
}

}  // namespace

Result<Plan> deserialize_plan(std::span<const uint8_t> bytes, const std::string& source) {
  Plan plan;
  ByteReader header(bytes, 0);
  uint64_t payload_size = 0, checksum = 0;
  if (Status s = read_header(header, plan.header, payload_size, checksum); !s.is_ok()) return s.with_context(source);
  if (plan.header.engine_version != kEngineVersion)
    return failed_precondition(source + ": plan built by inferd " + plan.header.engine_version + "; this is " +
                               kEngineVersion + ": rebuild it with `inferd build`");
  if (plan.header.max_batch < 1 || plan.header.max_batch > 4096)
    return data_loss(source + ": corrupt plan: max batch " + std::to_string(plan.header.max_batch));
  if (header.left() != payload_size)
    return data_loss(source + ": truncated plan: payload is " + std::to_string(header.left()) + " bytes, header says " +
                     std::to_string(payload_size));
  const auto payload = bytes.subspan(header.position());
  if (plan_io::plan_checksum(payload) != checksum) return data_loss(source + ": corrupt plan: checksum mismatch");
  ByteReader r(payload, header.position());
  if (Status s = read_graph(r, plan.graph); !s.is_ok()) return s.with_context(source);
  if (Status s = read_node_choices(r, plan.graph.nodes().size(), plan.node_choices); !s.is_ok())
    return s.with_context(source);
  if (Status s = validate_plan_graph(plan.graph); !s.is_ok()) return s.with_context(source);
  return plan;
}

}  // namespace inferd
