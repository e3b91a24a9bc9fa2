#include <map>
#include <sstream>

#include "plan/plan.h"

namespace inferd {

std::string describe_plan(const Plan& plan) {
  const auto& h = plan.header;
  const auto& g = plan.graph;
  std::ostringstream os;
  os << "plan: format " << h.format_version << ", built by inferd " << h.engine_version << "\n"
     << "backend: " << h.backend << " (" << h.target << "), precision: " << h.precision
     << ", max batch: " << h.max_batch << "\n";
  for (auto id : g.inputs)
    os << "input  " << g.value(id).name << " " << to_string(g.value(id).dtype) << to_string(g.value(id).shape) << "\n";
  for (auto id : g.outputs)
    os << "output " << g.value(id).name << " " << to_string(g.value(id).dtype) << to_string(g.value(id).shape) << "\n";
  size_t weight_bytes = 0, constants = 0;
  for (size_t i = 0; i < g.value_count(); ++i) {
    const auto& v = g.value(static_cast<ir::ValueId>(i));
    if (!v.is_constant()) continue;
    ++constants;
    weight_bytes += v.constant->byte_size();
  }
  os << "weights: " << constants << " tensors, " << weight_bytes << " bytes\n";
  std::map<std::string, int> ops;
  for (const auto& n : g.nodes()) ++ops[std::string(ir::to_string(n.op))];
  os << "nodes: " << g.nodes().size() << " (";
  bool first = true;
  for (const auto& [op, count] : ops) {
    os << (first ? "" : ", ") << op << " " << count;
    first = false;
  }
  os << ")\n";
  return os.str();
}

}  // namespace inferd
