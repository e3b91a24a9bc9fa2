"""Plain NumPy forward ops with ONNX semantics, used only to calibrate random weights.

The generator runs each layer once on a calibration input while it builds the graph, so it
can scale every layer's weights to a chosen output spread (LSUV: Mishkin & Matas, "All you
need is a good init", ICLR 2016). These ops are not a test oracle: ONNX Runtime is.
All arrays are float32 NCHW.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pool_out_size(size, kernel, stride, pad, ceil_mode):
    """Output length per ONNX / Caffe: with ceil_mode, a last window that would start inside
    the trailing padding is dropped (so every window sees at least one real element)."""
    span = size + 2 * pad - kernel
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _windows(x, kernel, stride, pads, fill):
    """Return [N, C, Ho, Wo, kh, kw] windows of x padded by pads=(top, left, bottom, right)."""
    top, left, bottom, right = pads
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=fill)
    win = sliding_window_view(xp, kernel, axis=(2, 3))
    return win[:, :, ::stride[0], ::stride[1]]


def conv(x, w, stride=1, pad=0, group=1):
    """ONNX Conv without bias; square stride/pad; w is [O, C/group, kh, kw]."""
    n, c = x.shape[:2]
    o, cg, kh, kw = w.shape
    if group == c and cg == 1:
        return _depthwise(x, w, stride, pad)
    win = _windows(x, (kh, kw), (stride, stride), (pad,) * 4, 0.0)
    ho, wo = win.shape[2:4]
    og = o // group
    outs = []
    for g in range(group):
        part = win[:, g * cg:(g + 1) * cg]  # [N, cg, Ho, Wo, kh, kw]
        cols = part.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, cg * kh * kw)
        wmat = w[g * og:(g + 1) * og].reshape(og, cg * kh * kw)
        outs.append((cols @ wmat.T).reshape(n, ho, wo, og).transpose(0, 3, 1, 2))
    return np.ascontiguousarray(np.concatenate(outs, axis=1))


def _depthwise(x, w, stride, pad):
    kh, kw = w.shape[2:]
    win = _windows(x, (kh, kw), (stride, stride), (pad,) * 4, 0.0)
    return np.einsum("nchwij,cij->nchw", win, w[:, 0], optimize=True).astype(np.float32)


def batch_norm(x, gamma, beta, mean, var, eps):
    inv = gamma / np.sqrt(var + eps)
    return x * inv[None, :, None, None] + (beta - mean * inv)[None, :, None, None]


def max_pool(x, kernel, stride, pad, ceil_mode):
    h, w = x.shape[2:]
    ho = _pool_out_size(h, kernel, stride, pad, ceil_mode)
    wo = _pool_out_size(w, kernel, stride, pad, ceil_mode)
    # Extra bottom/right padding makes room for the partial windows ceil_mode adds.
    extra_h = max(0, (ho - 1) * stride + kernel - h - 2 * pad)
    extra_w = max(0, (wo - 1) * stride + kernel - w - 2 * pad)
    win = _windows(x, (kernel, kernel), (stride, stride),
                   (pad, pad, pad + extra_h, pad + extra_w), -np.inf)
    return win[:, :, :ho, :wo].max(axis=(4, 5))


def average_pool(x, kernel, stride):
    """AveragePool without padding (the only form the generated models use)."""
    win = _windows(x, (kernel, kernel), (stride, stride), (0,) * 4, 0.0)
    return win.mean(axis=(4, 5), dtype=np.float32)


def lrn(x, size, alpha, beta, bias):
    """ONNX LRN: sum of squares over channels [c - floor((size-1)/2), c + ceil((size-1)/2)]."""
    sq = np.square(x)
    lo, hi = (size - 1) // 2, -(-(size - 1) // 2)
    padded = np.pad(sq, ((0, 0), (lo, hi), (0, 0), (0, 0)))
    c = x.shape[1]
    square_sum = sum(padded[:, i:i + c] for i in range(size))
    return x / np.power(bias + (alpha / size) * square_sum, beta)


def softmax(x, axis=1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
