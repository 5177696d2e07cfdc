"""Line charts as inline SVG text: axes, grid, series, labelled points, a legend.

Written here rather than with a plotting library: the report's few charts need no run-time
dependency, and SVG text keeps the page one small self-contained file that any browser shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# Margins around the plotting area, in pixels: room for tick labels, axis titles, a legend.
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 18, 34, 46


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]
    colour: str
    dashed: bool = False
    markers: bool = False
    notes: Sequence[str] = ()  # a tooltip per point, shown on its marker


@dataclass(frozen=True)
class Mark:
    """A point with a short text beside it."""

    x: float
    y: float
    text: str
    colour: str
    below: bool = False  # the text below the point rather than above


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _tick(value: float) -> str:
    return f"{value:g}"


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    x_ticks: Sequence[float],
    y_ticks: Sequence[float] = (0, 0.2, 0.4, 0.6, 0.8, 1),
    marks: Sequence[Mark] = (),
    diagonal: bool = False,
    width: int = 400,
    height: int = 310,
) -> str:
    """An SVG element: the series as lines over the ranges of the ticks."""
    x0, x1 = min(x_ticks), max(x_ticks)
    y0, y1 = min(y_ticks), max(y_ticks)
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM

    def px(x: float) -> str:
        return _number(_LEFT + (x - x0) / (x1 - x0) * plot_w)

    def py(y: float) -> str:
        return _number(_TOP + plot_h - (y - y0) / (y1 - y0) * plot_h)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<rect class="plot" x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}"/>',
    ]
    for x in x_ticks:
        parts.append(f'<line class="grid" x1="{px(x)}" x2="{px(x)}" y1="{_TOP}" y2="{py(y0)}"/>')
        parts.append(
            f'<text class="tick" x="{px(x)}" y="{_TOP + plot_h + 16}" text-anchor="middle">'
            f"{_tick(x)}</text>"
        )
    for y in y_ticks:
        parts.append(f'<line class="grid" x1="{_LEFT}" x2="{px(x1)}" y1="{py(y)}" y2="{py(y)}"/>')
        parts.append(
            f'<text class="tick" x="{_LEFT - 6}" y="{py(y)}" dy="0.32em" text-anchor="end">'
            f"{_tick(y)}</text>"
        )
    parts.append(
        f'<text class="axis" x="{_LEFT + plot_w / 2}" y="{height - 8}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
    )
    parts.append(
        f'<text class="axis" transform="translate(14 {_TOP + plot_h / 2}) rotate(-90)"'
        f' text-anchor="middle">{escape(y_label)}</text>'
    )
    if diagonal:
        parts.append(
            f'<line class="diagonal" x1="{px(x0)}" y1="{py(y0)}" x2="{px(x1)}" y2="{py(y1)}"/>'
        )
    for s in series:
        if not s.points:
            continue
        coordinates = [f"{px(x)},{py(y)}" for x, y in s.points]
        # A curve on a fine threshold grid repeats points: one of each run is enough.
        kept = [c for i, c in enumerate(coordinates) if i == 0 or c != coordinates[i - 1]]
        path = " ".join(kept)
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        parts.append(
            f'<polyline class="series" points="{path}" stroke="{s.colour}"{dash}>'
            f"<title>{escape(s.name)}</title></polyline>"
        )
        if s.markers:
            notes = list(s.notes) or [""] * len(s.points)
            for (x, y), note in zip(s.points, notes, strict=True):
                parts.append(
                    f'<circle class="marker" cx="{px(x)}" cy="{py(y)}" r="4" fill="{s.colour}">'
                    f"<title>{escape(note or s.name)}</title></circle>"
                )
    for m in marks:
        parts.append(
            f'<circle class="mark" cx="{px(m.x)}" cy="{py(m.y)}" r="5" stroke="{m.colour}"/>'
            f'<text class="mark-text" x="{px(m.x)}" y="{py(m.y)}" dx="8"'
            f' dy="{16 if m.below else -7}">'
            f"{escape(m.text)}</text>"
        )
    parts.append(_legend(series, _LEFT, 14))
    parts.append("</svg>")
    return "".join(parts)


def _legend(series: Sequence[Series], left: int, top: int) -> str:
    parts, x = [], left
    for s in series:
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        parts.append(
            f'<line class="series" x1="{x}" x2="{x + 22}" y1="{top}" y2="{top}"'
            f' stroke="{s.colour}"{dash}/>'
            f'<text class="legend" x="{x + 28}" y="{top}" dy="0.32em">{escape(s.name)}</text>'
        )
        x += 40 + 8 * len(s.name)  # about the width of the name at the legend's font size
    return "".join(parts)
