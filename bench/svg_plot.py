#!/usr/bin/env python3
"""Line and bar charts as standalone SVG files, with nothing beyond the standard library
(no matplotlib on a fresh Debian 12, no network). Used by bench/write_run_all.py."""
import math
from xml.sax.saxutils import escape

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf", "#bcbd22"]
W, H, LEFT, RIGHT, TOP, BOTTOM = 760, 440, 70, 190, 40, 50


def _ticks(lo, hi, log):
    """Tick values covering [lo, hi]: powers of 2 (log axes) or 5-ish round steps."""
    if log:
        return [2 ** e for e in range(int(math.floor(math.log2(lo))), int(math.ceil(math.log2(hi))) + 1)]
    raw = (hi - lo) / 5 or 1
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 5, 10) if m * step >= raw)
    first = math.floor(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 2)]


def _fmt(v):
    return f"{v:.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.2g}"


class _Axes:
    def __init__(self, xs, ys, xlog, ylog):
        self.xlog, self.ylog = xlog, ylog
        self.xt, self.yt = _ticks(min(xs), max(xs), xlog), _ticks(0 if not ylog else min(ys), max(ys), ylog)
        self.x0, self.x1, self.y0, self.y1 = self.xt[0], self.xt[-1], self.yt[0], self.yt[-1]

    def _unit(self, v, lo, hi, log):
        if log:
            return (math.log2(v) - math.log2(lo)) / ((math.log2(hi) - math.log2(lo)) or 1)
        return (v - lo) / ((hi - lo) or 1)

    def px(self, x):
        return LEFT + self._unit(x, self.x0, self.x1, self.xlog) * (W - LEFT - RIGHT)

    def py(self, y):
        return H - BOTTOM - self._unit(y, self.y0, self.y1, self.ylog) * (H - TOP - BOTTOM)


def _frame(title, xlabel, ylabel, axes):
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>']
    for t in axes.xt:
        x = axes.px(t)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{H - BOTTOM}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{_fmt(t)}</text>')
    for t in axes.yt:
        y = axes.py(t)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{W - LEFT - RIGHT}" height="{H - TOP - BOTTOM}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 12}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<text transform="translate(16,{(TOP + H - BOTTOM) / 2}) rotate(-90)" text-anchor="middle">'
               f'{escape(ylabel)}</text>')
    return out


def line_chart(path, title, xlabel, ylabel, series, xlog=False, ylog=False):
    """series: list of (name, [(x, y), ...], dashed[, color index]); without an index each
    series takes the next color. Points with y None are skipped."""
    pts = [(x, y) for _, s, *_ in series for x, y in s if y is not None]
    if not pts:
        raise ValueError(f"{path}: no data to plot")
    axes = _Axes([p[0] for p in pts], [p[1] for p in pts], xlog, ylog)
    out = _frame(title, xlabel, ylabel, axes)
    for i, (name, s, dashed, *color_index) in enumerate(series):
        color = COLORS[(color_index[0] if color_index else i) % len(COLORS)]
        coords = " ".join(f"{axes.px(x):.1f},{axes.py(y):.1f}" for x, y in s if y is not None)
        dash = ' stroke-dasharray="6,4"' if dashed else ""
        out.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        for x, y in s:
            if y is not None:
                out.append(f'<circle cx="{axes.px(x):.1f}" cy="{axes.py(y):.1f}" r="3" fill="{color}"/>')
        ly = TOP + 14 + 18 * i
        out.append(f'<line x1="{W - RIGHT + 12}" y1="{ly - 4}" x2="{W - RIGHT + 36}" y2="{ly - 4}" stroke="{color}" '
                   f'stroke-width="2"{dash}/>')
        out.append(f'<text x="{W - RIGHT + 42}" y="{ly}">{escape(name)}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def bar_chart(path, title, xlabel, bars):
    """Horizontal bars: bars = [(label, value)], largest first as given."""
    if not bars:
        raise ValueError(f"{path}: no data to plot")
    height = TOP + BOTTOM + 20 * len(bars)
    left, right = 280, 60
    top_value = max(v for _, v in bars) or 1
    scale = (W - left - right) / top_value
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" font-family="sans-serif" '
           f'font-size="12">', f'<rect width="{W}" height="{height}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>']
    for i, (label, v) in enumerate(bars):
        y = TOP + 20 * i
        out.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<rect x="{left}" y="{y + 2}" width="{v * scale:.1f}" height="15" fill="{COLORS[0]}"/>')
        out.append(f'<text x="{left + v * scale + 4:.1f}" y="{y + 13}">{v:.3f}</text>')
    out.append(f'<text x="{(left + W - right) / 2}" y="{height - 14}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
