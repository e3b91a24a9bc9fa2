#include "backends/api/tensor_view.h"

namespace inferd {

const char* to_string(MemoryKind kind) {
  switch (kind) {
    case MemoryKind::kHost:
      return "host";
    case MemoryKind::kPinnedHost:
      return "pinned host";
    case MemoryKind::kDevice:
      return "device";
  }
  return "unknown";
}

std::vector<int64_t> dense_strides(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

std::vector<int64_t> nhwc_strides(const Shape& shape) {
  if (shape.size() != 4) return dense_strides(shape);
  const int64_t c = shape[1], h = shape[2], w = shape[3];
  return {h * w * c, 1, w * c, c};
}

template <typename Ptr>
bool BasicTensorView<Ptr>::is_dense() const {
  return strides == dense_strides(shape);
}

template struct BasicTensorView<void*>;
template struct BasicTensorView<const void*>;

}  // namespace inferd
