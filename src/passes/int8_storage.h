// Stores a value as its INT8 levels where every reader quantizes it anyway:
//   Conv{input_scale...}(...) -> v -> Conv{input_scale s, qmin, qmax}(v, ...) [every reader]
//     => Conv{..., output_scale s, output_zero_point 0, output_qmin, output_qmax,
//             output_levels 1} -> v : u8|s8
// The producer rounds v onto the readers' grid (its output attributes, as
// output_quantization_fusion sets them) and v holds the level q of each value q x s: uint8
// for a grid of 0..255, int8 for -128..127. The function is the same: the readers would have
// rounded v onto that grid themselves, and rounding is idempotent. What it buys: the producer
// writes a quarter of the bytes and each reader skips its quantization pass over an fp32
// input (the CPU backend's INT8 convolutions read and write u8/s8 levels natively).
//
// Max pools and channel Concats pass levels on unchanged (the max of levels is the level
// of the max; a Concat copies them, or moves nothing where concat elimination placed its
// inputs in its output): the values joined through them form one group, stored alike.
//
// It applies to a group where
//   - every member is a 4-D fp32 activation, no graph input or output;
//   - every other writer of a member is a Conv with INT8 input attributes and no residual
//     input (a residual sum would read the integer destination) that rounds nothing yet,
//     or rounds onto exactly the readers' grid with zero point 0;
//   - every other reader is a Conv with INT8 input attributes reading a member as input 0
//     only, all on one symmetric int8 or uint8 grid (scale, qmin, qmax);
//   - the backend supports every writer, reader, max pool and Concat of the group with the
//     members stored that way (the CPU backend does; the CUDA backend's INT8 convolutions
//     read and write float activations only, and it says no).
// Runs last, after layout assignment and concat elimination: the dtypes it sets are final.
#pragma once

#include "passes/pass.h"

namespace inferd::passes {

class Int8Storage final : public Pass {
 public:
  std::string_view name() const override { return "int8_storage"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
