// Shape rules of the tensor-manipulation ops (ONNX semantics: Concat, Flatten,
// Reshape, Transpose, Squeeze/Unsqueeze, Pad, Shape, Gather) and of the IR-only
// Slice/Reorder/Identity.
#include <algorithm>
#include <cstdlib>

#include "ir/shape_inference.h"
#include "ir/shape_rules.h"

namespace inferd::ir::shape_rules {
namespace {

// Product of dims, skipping a dynamic dim 0; saturates just above the element cap so
// that hostile target shapes cannot overflow.
int64_t static_count(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d == kDynamicDim) continue;
    if (d > 0 && n > kMaxTensorElements / d) return kMaxTensorElements + 1;
    n *= d;
  }
  return n;
}

bool is_dynamic_batch(const Shape& shape) { return !shape.empty() && shape[0] == kDynamicDim; }

// Normalizes a list of axes against `rank`, rejecting out-of-range and repeated ones.
Result<std::vector<int64_t>> normalize_axes(const NodeShapes& s, std::vector<int64_t> axes, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  for (int64_t& a : axes) {
    if (a < -r || a >= r) return s.fail("axis " + std::to_string(a) + " is out of range for rank " + std::to_string(r));
    if (a < 0) a += r;
  }
  std::vector<int64_t> sorted = axes;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return s.fail("axes repeat an axis");
  return sorted;
}

// Resolves 0 (copy) and -1 (infer) entries of a Reshape target; nullopt entries stand
// for the dynamic batch.
Result<Shape> resolve_reshape(const NodeShapes& s, const Shape& in, const IntValues& target, bool allowzero) {
  Shape out(target.values.size());
  std::optional<size_t> infer_at;
  for (size_t i = 0; i < out.size(); ++i) {
    const auto& v = target.values[i];
    if (!v.has_value()) {
      if (i != 0 || !is_dynamic_batch(in)) return s.unsupported("the target shape moves the batch to dim " + std::to_string(i));
      out[i] = kDynamicDim;
    } else if (*v == 0 && !allowzero) {
      if (i >= in.size()) return s.fail("target dim " + std::to_string(i) + " is 0 (copy) but the input has rank " + std::to_string(in.size()));
      out[i] = in[i];
    } else if (*v == -1) {
      if (infer_at) return s.fail("the target shape has more than one -1");
      infer_at = i;
    } else if (*v < -1 || *v > kMaxTensorElements) {
      return s.fail("target dim " + std::to_string(i) + " is " + std::to_string(*v));
    } else {
      out[i] = *v;
    }
  }
  const bool batch_kept = !out.empty() && out[0] == kDynamicDim;
  if (is_dynamic_batch(in) && !batch_kept && infer_at != size_t{0})
    return s.unsupported("Reshape from " + to_string(in) + " to a fixed shape needs the concrete batch size");
  if (infer_at) out[*infer_at] = 1;
  const int64_t in_count = static_count(in), known = static_count(out);
  if (infer_at) {
    if (known == 0 || in_count % known != 0)
      return s.fail("cannot reshape " + to_string(in) + " to " + to_string(out) + " with -1 at dim " + std::to_string(*infer_at));
    // -1 in place of a dynamic batch stays the batch when the other dims match.
    out[*infer_at] = (*infer_at == 0 && is_dynamic_batch(in) && !batch_kept) ? kDynamicDim : in_count / known;
    if (*infer_at == 0 && is_dynamic_batch(in) && !batch_kept && in_count != known)
      return s.unsupported("Reshape from " + to_string(in) + " moves part of the batch into other dims");
  } else if (in_count != known) {
    return s.fail("cannot reshape " + to_string(in) + " (" + std::to_string(in_count) + " elements) to " + to_string(out));
  }
  return out;
}

}  // namespace

Status same_shape(NodeShapes& s) { return s.set_output(s.input(0).dtype, s.in_shape(0)); }

// A Reorder changes the layout and, with attr "to" (a DataType value, set by precision
// assignment), the element type between fp32, fp16 and bf16.
Status reorder(NodeShapes& s) {
  if (!s.node().attrs.has("to")) return same_shape(s);
  const int64_t to = s.node().attrs.get_int("to", 0);
  const auto dtype = static_cast<DataType>(to);
  if (dtype != DataType::kFloat32 && dtype != DataType::kFloat16 && dtype != DataType::kBFloat16)
    return s.fail("Reorder converts to float32, float16 or bfloat16, not dtype " + std::to_string(to));
  RETURN_IF_ERROR(s.require_float(0));
  return s.set_output(dtype, s.in_shape(0));
}

Status concat(NodeShapes& s) {
  if (!s.attrs().has("axis")) return s.fail("attribute 'axis' is missing");
  RETURN_IF_ERROR(s.require_min_rank(0, 1));
  const Shape& first = s.in_shape(0);
  ASSIGN_OR_RETURN(int64_t axis, s.axis("axis", 0, first.size()));
  Shape out = first;
  out[static_cast<size_t>(axis)] = 0;
  for (size_t i = 0; i < s.input_count(); ++i) {
    if (!s.has_input(i)) return s.fail("input #" + std::to_string(i) + " is missing");
    RETURN_IF_ERROR(s.require_dtype(i, s.input(0).dtype));
    const Shape& in = s.in_shape(i);
    bool match = in.size() == first.size();
    for (size_t d = 0; match && d < in.size(); ++d) match = d == static_cast<size_t>(axis) || in[d] == first[d];
    if (!match)
      return s.fail(s.describe_input(i) + " does not match " + s.describe_input(0) + " outside axis " +
                    std::to_string(axis));
    if (in[static_cast<size_t>(axis)] == kDynamicDim)
      return s.unsupported("Concat along the batch axis needs its concrete value");
    out[static_cast<size_t>(axis)] += in[static_cast<size_t>(axis)];
  }
  return s.set_output(s.input(0).dtype, std::move(out));
}

Status flatten(NodeShapes& s) {
  const Shape& in = s.in_shape(0);
  ASSIGN_OR_RETURN(int64_t axis, s.axis("axis", 1, in.size(), true));
  const Shape outer_dims(in.begin(), in.begin() + axis), inner_dims(in.begin() + axis, in.end());
  int64_t outer = static_count(outer_dims);
  if (is_dynamic_batch(in)) {
    if (axis == 0 || outer != 1)
      return s.unsupported("Flatten with axis " + std::to_string(axis) + " of " + s.describe_input(0) +
                           " merges the batch with other dims");
    outer = kDynamicDim;
  }
  return s.set_output(s.input(0).dtype, {outer, static_count(inner_dims)});
}

Status reshape(NodeShapes& s) {
  RETURN_IF_ERROR(s.require_dtype(1, DataType::kInt64));
  RETURN_IF_ERROR(s.require_rank(1, 1));
  const std::optional<IntValues> target = evaluate_int_values(s.graph(), s.node().inputs[1]);
  if (!target)
    return s.unsupported("the target shape '" + s.input(1).name +
                         "' is not a constant and cannot be computed from static shapes");
  ASSIGN_OR_RETURN(Shape out, resolve_reshape(s, s.in_shape(0), *target, s.attrs().get_int("allowzero", 0) != 0));
  return s.set_output(s.input(0).dtype, std::move(out));
}

Status transpose(NodeShapes& s) {
  const Shape& in = s.in_shape(0);
  std::vector<int64_t> perm = s.attrs().get_ints("perm");
  if (!s.attrs().has("perm"))
    for (size_t i = in.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
  if (perm.size() != in.size()) return s.fail("perm has " + std::to_string(perm.size()) + " entries for " + s.describe_input(0));
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i)
    if (sorted[i] != static_cast<int64_t>(i)) return s.fail("perm is not a permutation of the input dims");
  Shape out(in.size());
  for (size_t i = 0; i < in.size(); ++i) out[i] = in[static_cast<size_t>(perm[i])];
  return s.set_output(s.input(0).dtype, std::move(out));
}

Status squeeze(NodeShapes& s) {
  const Shape& in = s.in_shape(0);
  std::vector<int64_t> axes = s.attrs().get_ints("axes");
  if (axes.empty()) {
    RETURN_IF_ERROR(s.require_static_batch(0, "Squeeze without axes"));
    for (size_t d = 0; d < in.size(); ++d)
      if (in[d] == 1) axes.push_back(static_cast<int64_t>(d));
  }
  ASSIGN_OR_RETURN(axes, normalize_axes(s, axes, in.size()));
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(d))) {
      out.push_back(in[d]);
    } else if (in[d] == kDynamicDim) {
      return s.unsupported("Squeeze of the batch dim needs its concrete value");
    } else if (in[d] != 1) {
      return s.fail("cannot squeeze dim " + std::to_string(d) + " of size " + std::to_string(in[d]));
    }
  }
  return s.set_output(s.input(0).dtype, std::move(out));
}

Status unsqueeze(NodeShapes& s) {
  const Shape& in = s.in_shape(0);
  const std::vector<int64_t> given = s.attrs().get_ints("axes");
  if (given.empty()) return s.fail("attribute 'axes' is missing or empty");
  ASSIGN_OR_RETURN(auto axes, normalize_axes(s, given, in.size() + given.size()));
  Shape out;
  size_t next = 0;
  for (size_t d = 0; d < in.size() + axes.size(); ++d)
    out.push_back(std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(d)) ? 1 : in[next++]);
  return s.set_output(s.input(0).dtype, std::move(out));
}

Status pad(NodeShapes& s) {
  const Shape& in = s.in_shape(0);
  const std::vector<int64_t> pads = s.attrs().get_ints("pads");
  if (pads.size() != 2 * in.size())
    return s.fail("pads has " + std::to_string(pads.size()) + " values, expected " + std::to_string(2 * in.size()));
  if (s.attrs().get_string("mode", "constant") != "constant")
    return s.unsupported("mode '" + s.attrs().get_string("mode", "") + "' (only constant)");
  Shape out = in;
  for (size_t d = 0; d < in.size(); ++d) {
    const int64_t before = pads[d], after = pads[d + in.size()];
    // Compared as a range, not through std::abs: abs(INT64_MIN) overflows (a plan's pads
    // are whatever its bytes say).
    const auto in_range = [](int64_t p) { return p >= -kMaxTensorElements && p <= kMaxTensorElements; };
    if (!in_range(before) || !in_range(after)) return s.fail("pads out of range");
    if (in[d] == kDynamicDim) {
      if (before != 0 || after != 0) return s.unsupported("padding the batch dim needs its concrete value");
      continue;
    }
    out[d] = in[d] + before + after;
    if (out[d] < 0) return s.fail("pads make dim " + std::to_string(d) + " negative");
  }
  return s.set_output(s.input(0).dtype, std::move(out));
}

Status shape_of(NodeShapes& s) {
  return s.set_output(DataType::kInt64, {static_cast<int64_t>(s.in_shape(0).size())});
}

Status gather(NodeShapes& s) {
  RETURN_IF_ERROR(s.require_min_rank(0, 1));
  RETURN_IF_ERROR(s.require_dtype(1, DataType::kInt64));
  const Shape& data = s.in_shape(0);
  ASSIGN_OR_RETURN(int64_t axis, s.axis("axis", 0, data.size()));
  const int64_t dim = data[static_cast<size_t>(axis)];
  if (dim == kDynamicDim) return s.unsupported("Gather along the batch axis needs its concrete size");
  if (s.input(1).is_constant()) {
    for (int64_t index : s.input(1).constant->int64s())
      if (index < -dim || index >= dim)
        return s.fail("index " + std::to_string(index) + " is out of range for axis " + std::to_string(axis) +
                      " of size " + std::to_string(dim));
  }
  Shape out(data.begin(), data.begin() + axis);
  out.insert(out.end(), s.in_shape(1).begin(), s.in_shape(1).end());
  out.insert(out.end(), data.begin() + axis + 1, data.end());
  return s.set_output(s.input(0).dtype, std::move(out));
}

Status slice(NodeShapes& s) {
  const Shape& in = s.in_shape(0);
  RETURN_IF_ERROR(s.require_min_rank(0, 1));
  ASSIGN_OR_RETURN(int64_t axis, s.axis("axis", 1, in.size()));
  const int64_t dim = in[static_cast<size_t>(axis)];
  if (dim == kDynamicDim) return s.unsupported("Slice along the batch axis needs its concrete size");
  const int64_t start = s.attrs().get_int("start", 0), end = s.attrs().get_int("end", dim);
  if (start < 0 || start >= end || end > dim)
    return s.fail("range [" + std::to_string(start) + ", " + std::to_string(end) + ") is not inside axis " +
                  std::to_string(axis) + " of size " + std::to_string(dim));
  Shape out = in;
  out[static_cast<size_t>(axis)] = end - start;
  return s.set_output(s.input(0).dtype, std::move(out));
}

}  // namespace inferd::ir::shape_rules
