"""Small server-rendered SVG charts, so the model page needs no charting library."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe


def bar_chart(
    rows: Sequence[tuple[str, float]],
    *,
    width: int = 520,
    bar_height: int = 16,
    label_width: int = 240,
) -> SafeString:
    """Horizontal bars of values in [0, 1], one per labelled row."""
    if not rows:
        return mark_safe("")
    plot = width - label_width - 48
    height = len(rows) * (bar_height + 6) + 4
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'role="img" xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, (label, value) in enumerate(rows):
        y = 2 + index * (bar_height + 6)
        length = max(0.0, min(1.0, value)) * plot
        short = label if len(label) <= 38 else "…" + label[-37:]
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" class="label"><title>{}</title>{}</text>'
                '<rect x="{}" y="{}" width="{:.1f}" height="{}" class="bar"/>'
                '<text x="{:.1f}" y="{}" class="value">{:.2f}</text>',
                label_width - 6,
                y + bar_height - 4,
                label,
                short,
                label_width,
                y,
                length,
                bar_height,
                label_width + length + 4,
                y + bar_height - 4,
                value,
            )
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped by format_html


def line_chart(
    points: Sequence[tuple[str, float]], *, width: int = 520, height: int = 160
) -> SafeString:
    """A line of values in [0, 1] over labelled points (dates, say)."""
    if not points:
        return mark_safe("")
    left, bottom, top = 36, height - 22, 8
    step = (width - left - 12) / max(1, len(points) - 1)
    coords = [
        (left + i * step, bottom - max(0.0, min(1.0, value)) * (bottom - top))
        for i, (_, value) in enumerate(points)
    ]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'role="img" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{bottom}" x2="{width - 8}" y2="{bottom}" class="axis"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" class="label">1.0</text>',
        f'<text x="{left - 4}" y="{bottom}" text-anchor="end" class="label">0</text>',
        f'<path d="{path}" class="line"/>',
    ]
    for (label, value), (x, y) in zip(points, coords, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="dot"><title>{escape(label)}: '
            f"{value:.2f}</title></circle>"
        )
    parts.append(
        f'<text x="{left}" y="{height - 4}" class="label">{escape(points[0][0])}</text>'
        f'<text x="{width - 8}" y="{height - 4}" text-anchor="end" class="label">'
        f"{escape(points[-1][0])}</text></svg>"
    )
    return mark_safe("".join(parts))  # noqa: S308 - labels escaped, the rest are numbers
