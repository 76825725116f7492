"""Charts drawn on the server as SVG: no script, no third-party code, readable by screen readers
(each chart has a title and a description, and every point a <title> with its numbers)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


def nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def tick_count(top: float) -> int:
    """Grid steps of whole numbers from 0 to `top` (a nice_max): 1 to 5 up to 5, then 5 steps of
    1, 5 or 10 times a power of ten (10 -> 2s, 50 -> 10s) or 4 of 2 times one (20 -> 5s)."""
    if top <= 5:
        return int(top)
    lead = round(top / 10 ** math.floor(math.log10(top)))
    return 4 if lead == 2 else 5


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:,.1f}"


def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float]]) -> str:
    """An area for the first series and a line for each other one, over shared labels."""
    n = len(labels)
    top = nice_max(max((v for values in series.values() for v in values), default=0))
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)

    def y(v: float) -> float:
        return TOP + inner_h * (1 - v / top)

    names = list(series)
    totals = ", ".join(f"{name}: {_number(sum(series[name]))} in all" for name in names)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title><desc id="chart-desc">{escape(totals)}</desc>',
    ]
    ticks = tick_count(top)
    for k in range(ticks + 1):  # grid lines and their values
        v = top * k / ticks
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
            f'<text class="axis y-axis" x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{_number(v)}</text>'
        )
    every = max(1, math.ceil(n / 8))
    for i, label in enumerate(labels):
        if (i % every == 0 and n - 1 - i >= every / 2) or i == n - 1:  # the last label never overlaps
            anchor = "end" if i == n - 1 and n > 1 else "start" if i == 0 and n > 1 else "middle"  # inside the box
            # a phone shows every other label (and none too close to the last): they are twice as wide there
            minor = i != n - 1 and ((i // every) % 2 == 1 or n - 1 - i < 1.5 * every)
            parts.append(
                f'<text class="axis x-axis{" minor" if minor else ""}" x="{x(i):.1f}" y="{HEIGHT - 8}" '
                f'text-anchor="{anchor}">{escape(label)}</text>'
            )
    for s, name in enumerate(names):
        values = series[name]
        if not values:
            continue
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        if s == 0:
            base = f"{x(0):.1f},{y(0):.1f} {points} {x(len(values) - 1):.1f},{y(0):.1f}"
            parts.append(f'<polygon class="area" points="{base}"/>')
        parts.append(f'<polyline class="line line-{s}" points="{points}"/>')
        for i, v in enumerate(values):
            parts.append(
                f'<circle class="dot dot-{s}" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3">'
                f"<title>{escape(labels[i])}: {_number(v)} {escape(name)}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)
