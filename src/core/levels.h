// INT8 levels: a u8/s8 activation holding the level q of each value q x scale (the
// int8_storage pass stores values so between INT8 layers, on the grid their readers
// quantize onto; docs/quantization.md). Shape rules, the reference kernels and the CPU
// backend ask the same question of a value's type.
#pragma once

#include "core/tensor.h"

namespace inferd {

inline bool is_levels(DataType t) {
  return t == DataType::kUint8 || t == DataType::kInt8;
}

}  // namespace inferd
