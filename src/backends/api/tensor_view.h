// Non-owning views of tensors as kernels see them: where the bytes live (host, pinned
// host, device), their element type, logical shape and physical strides.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/tensor.h"

namespace inferd {

// Where a buffer lives. Pinned host memory is host memory a GPU can copy from
// asynchronously (cudaHostAlloc); kDevice is the memory of the backend's device.
enum class MemoryKind : uint8_t { kHost = 0, kPinnedHost = 1, kDevice = 2 };
const char* to_string(MemoryKind kind);
inline bool is_host(MemoryKind kind) {
  return kind != MemoryKind::kDevice;
}

// `shape` is the logical shape (NCHW order for 4-D); `strides` (in elements, one per
// dim) give the physical layout, so NHWC tensors and channel slices of a concat buffer
// are views like any other. `Ptr` is void* for a view a kernel writes (TensorView) and
// const void* for one it only reads (ConstTensorView: inputs, engine constants).
template <typename Ptr>
struct BasicTensorView {
  Ptr data = nullptr;
  DataType dtype = DataType::kFloat32;
  MemoryKind memory = MemoryKind::kHost;
  Shape shape;
  std::vector<int64_t> strides;

  BasicTensorView() = default;
  BasicTensorView(Ptr d, Shape s, std::vector<int64_t> st, DataType t = DataType::kFloat32,
                  MemoryKind m = MemoryKind::kHost)
      : data(d), dtype(t), memory(m), shape(std::move(s)), strides(std::move(st)) {}
  // A writable view converts to a read-only one, never the other way.
  template <typename Other, typename = std::enable_if_t<std::is_convertible_v<Other, Ptr>>>
  BasicTensorView(const BasicTensorView<Other>& o)  // NOLINT(google-explicit-constructor)
      : data(o.data), dtype(o.dtype), memory(o.memory), shape(o.shape), strides(o.strides) {}

  int64_t size() const { return element_count(shape); }
  bool is_dense() const;  // strides are the row-major strides of shape
  // The data as T (const T for a read-only view). Callers check dtype first.
  template <typename T>
  auto as() const {
    using Out = std::conditional_t<std::is_const_v<std::remove_pointer_t<Ptr>>, const T*, T*>;
    return static_cast<Out>(data);
  }
  auto f32() const { return as<float>(); }
};

using TensorView = BasicTensorView<void*>;
using ConstTensorView = BasicTensorView<const void*>;

std::vector<int64_t> dense_strides(const Shape& shape);
std::vector<int64_t> nhwc_strides(const Shape& shape);  // shape is logical NCHW

}  // namespace inferd
