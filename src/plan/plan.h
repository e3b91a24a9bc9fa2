// The plan: an optimized graph plus the facts needed to decide whether this
// engine can run it. Format: docs/plan-format.md.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace inferd {

// 2: per-node backend choices (the blobs Backend::tune() wrote) follow the graph.
inline constexpr uint32_t kPlanFormatVersion = 2;

struct PlanHeader {
  uint32_t format_version = kPlanFormatVersion;
  std::string engine_version;
  std::string backend = "cpu";
  std::string precision = "fp32";
  std::string target;  // the device's target (CPU: "x86_64"; CUDA: "sm_90 cuda 13.0 cudnn 9.19.0 cublasLt 13.1.0")
  uint32_t max_batch = 1;
};

struct Plan {
  PlanHeader header;
  ir::Graph graph;
  // One blob per node, in node order: what the backend chose at build time by timing
  // (an algorithm, a heuristic's pick); opaque here, empty when the backend chose nothing.
  std::vector<std::vector<uint8_t>> node_choices;
};

std::vector<uint8_t> serialize_plan(const Plan& plan);
// `source` names the bytes in error messages (a file path).
Result<Plan> deserialize_plan(std::span<const uint8_t> bytes, const std::string& source);

Status save_plan(const Plan& plan, const std::string& path);
Result<Plan> load_plan(const std::string& path);

// True when the bytes start with the plan magic (to tell a plan from an ONNX file).
bool looks_like_plan(std::span<const uint8_t> bytes);

// `inferd info`: the header, bindings, node and weight counts, as text.
std::string describe_plan(const Plan& plan);

}  // namespace inferd
