"""Small SVG charts drawn on the server: no chart library, no script, nothing fetched."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

from markupsafe import Markup

COLORS = {
    "release": "#2e7d32",
    "exception": "#e65100",
    "reject": "#b71c1c",
    "cancel": "#6a1b9a",
    "return": "#00838f",
    # findings: errors hold a bundle in exception, warnings only inform
    "error": "#b71c1c",
    "warning": "#f9a825",
}
BAR = "#1565c0"


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def columns(points: Sequence[tuple[str, int]], title: str, every: int = 10) -> Markup:
    """Vertical bars over time; every ``every``-th label is written under its bar."""
    width, height, left, bottom, top = 640, 200, 36, 24, 10
    peak = max((v for _, v in points), default=0) or 1
    step = (width - left - 4) / max(len(points), 1)
    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
        'stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" class="axis">{peak}</text>',
        f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end" class="axis">0</text>',
    ]
    for i, (label, value) in enumerate(points):
        h = (height - bottom - top) * value / peak
        x = left + i * step
        body.append(
            f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{max(step - 1, 1):.1f}" '
            f'height="{h:.1f}" fill="{BAR}"><title>{escape(label)}: {value}</title></rect>'
        )
        if i % every == 0:
            body.append(
                f'<text x="{x:.1f}" y="{height - 8}" class="axis">{escape(label[-5:])}</text>'
            )
    return _svg(width, height, body, title)


def bars(rows: Sequence[tuple[str, int]], title: str) -> Markup:
    """Horizontal bars, one per labelled value."""
    width, row_h, label_w = 640, 24, 220
    height = max(row_h * len(rows), row_h) + 8
    peak = max((v for _, v in rows), default=0) or 1
    body = []
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_h
        w = (width - label_w - 60) * value / peak
        body.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{BAR}"/><text x="{label_w + w + 4:.1f}" y="{y + 16}">{value}</text>'
        )
    return _svg(width, height, body, title)


def stacked(
    rows: Sequence[tuple[str, Mapping[str, int]]],
    order: Sequence[str],
    title: str,
    names: Mapping[str, str] | None = None,
    label_width: int = 80,
) -> Markup:
    """One horizontal bar per row, split into ``order``'s parts, with a legend."""
    width, row_h, label_w = 640, 26, label_width
    height = max(row_h * len(rows), row_h) + 30
    peak = max((sum(parts.values()) for _, parts in rows), default=0) or 1
    body = []
    for i, (label, parts) in enumerate(rows):
        y = 4 + i * row_h
        x = float(label_w)
        body.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end">{escape(label)}</text>'
        )
        for part in order:
            n = parts.get(part, 0)
            w = (width - label_w - 60) * n / peak
            if n:
                body.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                    f'fill="{COLORS.get(part, BAR)}"><title>{escape(part)}: {n}</title></rect>'
                )
            x += w
        body.append(f'<text x="{x + 4:.1f}" y="{y + 17}">{sum(parts.values())}</text>')
    y = height - 10
    for j, part in enumerate(order):
        lx = 80 + j * 110
        body.append(
            f'<rect x="{lx}" y="{y - 10}" width="12" height="12" fill="{COLORS.get(part, BAR)}"/>'
            f'<text x="{lx + 16}" y="{y}">{escape((names or {}).get(part, part))}</text>'
        )
    return _svg(width, height, body, title)
