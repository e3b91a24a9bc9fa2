#include "backends/api/backend.h"

namespace inferd {

bool Backend::may_overwrite_input(const ir::Graph&, const ir::Node&, size_t) const {
  return false;
}

bool Backend::prefers_padded_window_merge(const ir::Graph&, const ir::Node&) const {
  return false;
}

int Backend::layer_clock_batch(int max_batch) const { return max_batch < 8 ? max_batch : 8; }

Result<DataType> Backend::activation_dtype(std::string_view precision) const {
  if (precision == "fp32") return DataType::kFloat32;
  return unimplemented("the " + std::string(name()) + " backend runs fp32 only, not " + std::string(precision));
}

Result<std::vector<uint8_t>> Backend::tune(const ir::Graph&, const ir::Node&, const TuneOptions&) const {
  return std::vector<uint8_t>{};
}

}  // namespace inferd
