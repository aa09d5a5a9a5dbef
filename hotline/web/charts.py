"""Charts drawn on the server as SVG: no charting library, no build step, no script.

``bars`` draws labelled vertical bars scaled to the largest value; every label and value
is escaped, so report data cannot inject markup into the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bars"]


def bars(
    items: Sequence[tuple[str, float]],
    *,
    width: int = 480,
    height: int = 200,
    unit: str = "",
    title: str = "",
) -> str:
    """An SVG bar chart of ``(label, value)`` pairs."""
    top, bottom, side = 24, 28, 8
    inner = height - top - bottom
    largest = max((value for _, value in items), default=0.0) or 1.0
    slot = (width - 2 * side) / max(len(items), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<text x="{side}" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for index, (label, value) in enumerate(items):
        bar = inner * (value / largest)
        x = side + index * slot + slot * 0.15
        y = top + inner - bar
        shown = f"{value:g}{unit}"
        parts += [
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{bar:.1f}"><title>{escape(label)}: {escape(shown)}</title></rect>',
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" class="value" '
            f'text-anchor="middle">{escape(shown)}</text>',
            f'<text x="{x + slot * 0.35:.1f}" y="{height - 10}" class="label" '
            f'text-anchor="middle">{escape(label)}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)
