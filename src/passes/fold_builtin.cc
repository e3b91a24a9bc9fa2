#include "passes/fold_builtin.h"

#include <algorithm>
#include <cstring>

namespace inferd::passes {
namespace {

using Tensors = std::vector<Tensor>;
using Folded = Result<std::optional<Tensors>>;

Folded one(Tensor t) { return std::optional<Tensors>(Tensors{std::move(t)}); }

// Normalizes a possibly negative axis into [0, rank); false when out of range.
bool normalize_axis(int64_t& axis, int64_t rank) {
  if (axis < 0) axis += rank;
  return axis >= 0 && axis < rank;
}

Status bad(const ir::Graph& g, const ir::Node& n, const std::string& what) {
  return invalid_argument(ir::describe(g, n) + ": " + what);
}

// Splits `shape` around `axis` into outer (dims before), size at axis, and inner (after).
struct AxisSplit {
  int64_t outer = 1, dim = 1, inner = 1;
};
AxisSplit split_at(const Shape& shape, int64_t axis) {
  AxisSplit s;
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    if (i < axis) s.outer *= shape[static_cast<size_t>(i)];
    else if (i == axis) s.dim = shape[static_cast<size_t>(i)];
    else s.inner *= shape[static_cast<size_t>(i)];
  }
  return s;
}

Folded fold_reshape(const ir::Graph& g, const ir::Node& n, const Tensor& data, const Tensor* target) {
  if (!target || target->dtype() != DataType::kInt64) return bad(g, n, "shape input must be a constant int64 tensor");
  const bool allow_zero = n.attrs.get_int("allowzero", 0) != 0;
  Shape out(target->int64s().begin(), target->int64s().end());
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0 && !allow_zero) {
      if (i >= data.shape().size()) return bad(g, n, "shape entry 0 copies a dimension the input lacks");
      out[i] = data.shape()[i];
    }
    if (out[i] == -1) {
      if (infer_at >= 0) return bad(g, n, "shape has more than one -1");
      infer_at = static_cast<int64_t>(i);
    } else {
      known *= out[i];
    }
  }
  if (infer_at >= 0 && known > 0) out[static_cast<size_t>(infer_at)] = data.size() / known;
  if (element_count(out) != data.size())
    return bad(g, n, "cannot reshape " + to_string(data.shape()) + " to " + to_string(out));
  return one(data.reshaped(out));
}

// Canonical Squeeze/Unsqueeze carry "axes" as an attribute; opset-13 graphs that
// reach the pass unconverted carry them as a constant second input.
std::vector<int64_t> axes_of(const ir::Node& n, const Tensor* second) {
  if (n.attrs.has("axes") || !second || second->dtype() != DataType::kInt64) return n.attrs.get_ints("axes");
  return {second->int64s().begin(), second->int64s().end()};
}

Folded fold_unsqueeze(const ir::Graph& g, const ir::Node& n, const Tensor& data, const Tensor* second) {
  auto axes = axes_of(n, second);
  const int64_t rank = static_cast<int64_t>(data.shape().size() + axes.size());
  for (auto& a : axes)
    if (!normalize_axis(a, rank)) return bad(g, n, "axis out of range");
  std::sort(axes.begin(), axes.end());
  Shape out;
  size_t next_in = 0;
  for (int64_t i = 0; i < rank; ++i) {
    if (std::binary_search(axes.begin(), axes.end(), i)) out.push_back(1);
    else if (next_in < data.shape().size()) out.push_back(data.shape()[next_in++]);
  }
  if (static_cast<int64_t>(out.size()) != rank) return bad(g, n, "repeated axes");
  return one(data.reshaped(out));
}

Folded fold_squeeze(const ir::Graph& g, const ir::Node& n, const Tensor& data, const Tensor* second) {
  auto axes = axes_of(n, second);
  const int64_t rank = static_cast<int64_t>(data.shape().size());
  for (auto& a : axes)
    if (!normalize_axis(a, rank) || data.shape()[static_cast<size_t>(a)] != 1)
      return bad(g, n, "squeezed axis is out of range or not of size 1");
  Shape out;
  for (int64_t i = 0; i < rank; ++i) {
    const int64_t d = data.shape()[static_cast<size_t>(i)];
    const bool drop = axes.empty() ? d == 1 : std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!drop) out.push_back(d);
  }
  return one(data.reshaped(out));
}

Folded fold_flatten(const ir::Graph& g, const ir::Node& n, const Tensor& data) {
  int64_t axis = n.attrs.get_int("axis", 1);
  const int64_t rank = static_cast<int64_t>(data.shape().size());
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank) return bad(g, n, "axis out of range");
  const AxisSplit s = split_at(data.shape(), axis);
  return one(data.reshaped({s.outer, s.dim * s.inner}));
}

Folded fold_concat(const ir::Graph& g, const ir::Node& n, const std::vector<const Tensor*>& in) {
  if (in.empty() || !in[0]) return bad(g, n, "needs at least one input");
  const Shape& first = in[0]->shape();
  int64_t axis = n.attrs.get_int("axis", 0);
  if (!normalize_axis(axis, static_cast<int64_t>(first.size()))) return bad(g, n, "axis out of range");
  Shape out = first;
  out[static_cast<size_t>(axis)] = 0;
  for (const Tensor* t : in) {
    Shape probe = t ? t->shape() : Shape{};
    if (!t || t->dtype() != in[0]->dtype() || probe.size() != first.size())
      return bad(g, n, "inputs differ in dtype or rank");
    out[static_cast<size_t>(axis)] += probe[static_cast<size_t>(axis)];
    probe[static_cast<size_t>(axis)] = first[static_cast<size_t>(axis)];
    if (probe != first) return bad(g, n, "inputs differ outside the concat axis");
  }
  Tensor result(in[0]->dtype(), out);
  const size_t elem = element_size(in[0]->dtype());
  const AxisSplit os = split_at(out, axis);
  std::byte* dst = result.raw();
  for (int64_t o = 0; o < os.outer; ++o)
    for (const Tensor* t : in) {
      const AxisSplit s = split_at(t->shape(), axis);
      const size_t block = static_cast<size_t>(s.dim * s.inner) * elem;
      std::memcpy(dst, t->raw() + static_cast<size_t>(o) * block, block);
      dst += block;
    }
  return one(std::move(result));
}

Result<std::vector<int64_t>> read_indices(const Tensor& t) {
  std::vector<int64_t> out(static_cast<size_t>(t.size()));
  if (t.dtype() == DataType::kInt64) std::copy(t.int64s().begin(), t.int64s().end(), out.begin());
  else if (t.dtype() == DataType::kInt32) std::copy(t.data<int32_t>(), t.data<int32_t>() + t.size(), out.begin());
  else return invalid_argument("indices must be int64 or int32");
  return out;
}

Folded fold_gather(const ir::Graph& g, const ir::Node& n, const Tensor& data, const Tensor* indices_t) {
  if (!indices_t) return bad(g, n, "missing indices");
  auto indices = read_indices(*indices_t);
  if (!indices.is_ok()) return bad(g, n, indices.status().message());
  int64_t axis = n.attrs.get_int("axis", 0);
  if (!normalize_axis(axis, static_cast<int64_t>(data.shape().size()))) return bad(g, n, "axis out of range");
  const AxisSplit s = split_at(data.shape(), axis);
  Shape out(data.shape().begin(), data.shape().begin() + axis);
  out.insert(out.end(), indices_t->shape().begin(), indices_t->shape().end());
  out.insert(out.end(), data.shape().begin() + axis + 1, data.shape().end());
  Tensor result(data.dtype(), out);
  const size_t block = static_cast<size_t>(s.inner) * element_size(data.dtype());
  std::byte* dst = result.raw();
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t idx : *indices) {
      if (idx < 0) idx += s.dim;
      if (idx < 0 || idx >= s.dim) return bad(g, n, "index " + std::to_string(idx) + " out of range");
      std::memcpy(dst, data.raw() + static_cast<size_t>(o * s.dim + idx) * block, block);
      dst += block;
    }
  return one(std::move(result));
}

Folded fold_slice(const ir::Graph& g, const ir::Node& n, const Tensor& data) {
  int64_t axis = n.attrs.get_int("axis", 1);
  if (!normalize_axis(axis, static_cast<int64_t>(data.shape().size()))) return bad(g, n, "axis out of range");
  const AxisSplit s = split_at(data.shape(), axis);
  const int64_t start = std::clamp<int64_t>(n.attrs.get_int("start", 0), 0, s.dim);
  const int64_t end = std::clamp<int64_t>(n.attrs.get_int("end", s.dim), start, s.dim);
  Shape out = data.shape();
  out[static_cast<size_t>(axis)] = end - start;
  Tensor result(data.dtype(), out);
  const size_t elem = element_size(data.dtype());
  const size_t block = static_cast<size_t>((end - start) * s.inner) * elem;
  for (int64_t o = 0; o < s.outer; ++o)
    std::memcpy(result.raw() + static_cast<size_t>(o) * block,
                data.raw() + static_cast<size_t>((o * s.dim + start) * s.inner) * elem, block);
  return one(std::move(result));
}

// int64 Add/Mul with equal shapes or one single-element side (what shape arithmetic uses).
Folded fold_int64_binary(const ir::Graph& g, const ir::Node& n, const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() && a.size() != 1 && b.size() != 1)
    return std::optional<Tensors>();  // general broadcasting: leave to the backend
  const Tensor& big = a.size() >= b.size() ? a : b;
  Tensor result(DataType::kInt64, a.shape() == b.shape() ? a.shape() : big.shape());
  int64_t* out = result.data<int64_t>();
  for (int64_t i = 0; i < result.size(); ++i) {
    const int64_t x = a.int64s()[static_cast<size_t>(a.size() == 1 ? 0 : i)];
    const int64_t y = b.int64s()[static_cast<size_t>(b.size() == 1 ? 0 : i)];
    out[i] = n.op == ir::OpKind::kAdd ? x + y : x * y;
  }
  (void)g;
  return one(std::move(result));
}

}  // namespace

Tensor shape_tensor(const Shape& shape, int64_t start, int64_t end) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> dims(shape.begin() + start, shape.begin() + end);
  return Tensor::from_int64s({static_cast<int64_t>(dims.size())}, dims);
}

Result<std::optional<std::vector<Tensor>>> fold_builtin(const ir::Graph& g, const ir::Node& n,
                                                        const std::vector<const Tensor*>& in) {
  using K = ir::OpKind;
  if (in.empty() || !in[0]) return std::optional<Tensors>();
  const Tensor& x = *in[0];
  const Tensor* second = in.size() > 1 ? in[1] : nullptr;
  switch (n.op) {
    case K::kIdentity: return one(x);
    case K::kShape:
      return one(shape_tensor(x.shape(), n.attrs.get_int("start", 0),
                              n.attrs.get_int("end", static_cast<int64_t>(x.shape().size()))));
    case K::kReshape: return fold_reshape(g, n, x, second);
    case K::kUnsqueeze: return fold_unsqueeze(g, n, x, second);
    case K::kSqueeze: return fold_squeeze(g, n, x, second);
    case K::kFlatten: return fold_flatten(g, n, x);
    case K::kConcat: return fold_concat(g, n, in);
    case K::kGather: return fold_gather(g, n, x, second);
    case K::kSlice: return fold_slice(g, n, x);
    case K::kAdd:
    case K::kMul:
      if (x.dtype() == DataType::kInt64 && second && second->dtype() == DataType::kInt64)
        return fold_int64_binary(g, n, x, *second);
      return std::optional<Tensors>();
    default: return std::optional<Tensors>();
  }
}

}  // namespace inferd::passes
