// DataType, Shape and Tensor: plain values shared by every module.
// A Tensor owns its bytes; kernels receive non-owning TensorViews (runtime).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace inferd {

enum class DataType : uint8_t {
  kFloat32 = 1,
  kFloat16 = 2,
  kInt64 = 3,
  kInt32 = 4,
  kInt8 = 5,
  kUint8 = 6,
  kBool = 7,
  kBFloat16 = 8,
  // FP8 E4M3 codes (core/fp8.h), as ONNX's FLOAT8E4M3FN: the zero points and weights of an
  // FP8 Q/DQ model, which the passes fold into float values before anything computes.
  kFloat8E4m3 = 9
};

size_t element_size(DataType t);
const char* to_string(DataType t);

// Dimension value meaning "the batch size, chosen at run time" (only ever dim 0).
inline constexpr int64_t kDynamicDim = -1;

using Shape = std::vector<int64_t>;

// Product of dims; a dynamic dim counts as `dynamic_as`.
int64_t element_count(const Shape& s, int64_t dynamic_as = 1);
std::string to_string(const Shape& s);  // "[N,3,224,224]"

// Leaves new elements uninitialised: tensors are always written right after they
// are made, and zero-filling 100 MB of weights only to overwrite them costs time.
template <typename T>
struct UninitializedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(DataType dtype, Shape shape);  // zero-filled
  struct Uninitialized {};
  Tensor(DataType dtype, Shape shape, Uninitialized);  // contents undefined: write them all

  static Tensor from_floats(Shape shape, std::span<const float> values);
  static Tensor from_int64s(Shape shape, std::span<const int64_t> values);

  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t size() const { return element_count(shape_); }
  size_t byte_size() const { return bytes_.size(); }

  std::byte* raw() { return bytes_.data(); }
  const std::byte* raw() const { return bytes_.data(); }
  template <typename T>
  T* data() {
    return reinterpret_cast<T*>(bytes_.data());
  }
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(bytes_.data());
  }
  std::span<const float> floats() const { return {data<float>(), static_cast<size_t>(size())}; }
  std::span<float> floats() { return {data<float>(), static_cast<size_t>(size())}; }
  std::span<const int64_t> int64s() const { return {data<int64_t>(), static_cast<size_t>(size())}; }

  // Same bytes, new shape with the same element count: a copy, or (on an rvalue) the
  // bytes moved, for weights too large to copy for a shape change.
  Tensor reshaped(Shape shape) const&;
  Tensor reshaped(Shape shape) &&;

 private:
  DataType dtype_ = DataType::kFloat32;
  Shape shape_;
  std::vector<std::byte, UninitializedAllocator<std::byte>> bytes_;
};

// IEEE half <-> float (used when importing FP16 models).
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);

}  // namespace inferd
