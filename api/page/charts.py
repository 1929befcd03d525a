"""SVG charts drawn on the server: plain functions from data to markup, so a chart costs no script,
no library and no request, prints, and reads in a screen reader (each has a <title> and <desc>; the
page adds a data table beside it). Colours come from page.css by class (`series-<key>`), so the
chart and the page's chips and legends agree.

Every piece of text is escaped here: the functions return Markup that templates insert as is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Columns per x-axis label: the first of these that keeps labels from overlapping (months read
# well by 1, 2, 3, 4, 6, 12; weeks by 4, 13, 26, 52).
_LABEL_STEPS = (1, 2, 3, 4, 6, 12, 13, 26, 52, 104, 208, 520)
_CHAR_PX = 6.2  # the width of one character of an 11px label, about: enough to keep labels apart


@dataclass(frozen=True)
class Series:
    key: str  # the CSS class series-<key> colours it
    name: str


@dataclass(frozen=True)
class Column:
    """One column of a stacked column chart: a week or a month."""

    label: str  # under the axis, short ("Apr 2023")
    title: str  # the tooltip's heading ("April 2023")
    values: dict[str, int]  # series key → value
    total: int | None = None  # said in the tooltip when given (a report in two series counts once here)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    href: str | None = None


@dataclass(frozen=True)
class Dot:
    name: str
    lat: float
    lon: float
    value: int
    href: str | None = None
    detail: str = ""  # said after the name in the tooltip ("Sichuan, China")


def nice_ticks(maximum: float, count: int = 5) -> list[int]:
    """Whole-number axis ticks from 0 past `maximum`, about `count` of them, steps of 1, 2 or 5 × 10^n."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    top = step * math.ceil(maximum / step)
    return list(range(0, top + 1, step))


def stacked_columns(columns: Sequence[Column], series: Sequence[Series], *, chart_id: str, title: str, description: str,
                    width: int = 900, height: int = 300, unit: str = "reports") -> Markup:
    """Columns of stacked series (bottom first in `series` order), a y-axis with gridlines, x-axis
    labels thinned so they never overlap, and a legend above the plot."""
    left, right, top, bottom = 44, 12, 34, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    maximum = max((sum(c.values.get(s.key, 0) for s in series) for c in columns), default=0)
    ticks = nice_ticks(maximum)
    scale = plot_h / ticks[-1]
    parts = [_legend(series, left, 14)]
    parts.append('<g class="axis y">')
    for tick in ticks:
        y = top + plot_h - tick * scale
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    parts.append("</g>")
    band = plot_w / max(1, len(columns))
    bar_w = max(1.0, band * 0.8) if band >= 3 else band
    parts.append('<g class="columns">')
    for i, column in enumerate(columns):
        x = left + i * band + (band - bar_w) / 2
        said = ", ".join(f"{s.name} {column.values[s.key]}" for s in series if column.values.get(s.key))
        total = f"{column.total} {unit}" if column.total is not None else f"{sum(column.values.values())} {unit}"
        parts.append(f'<g class="column" data-label="{escape(column.label)}">'
                     f"<title>{escape(column.title)}: {escape(total)}{escape(' (' + said + ')') if said else ''}</title>")
        # a transparent full-height target: a thin or empty column still shows its tooltip
        parts.append(f'<rect class="hit" x="{left + i * band:.1f}" y="{top}" width="{band:.1f}" height="{plot_h}"/>')
        y = top + plot_h
        for s in series:
            value = column.values.get(s.key, 0)
            if value <= 0:
                continue
            h = value * scale
            y -= h
            parts.append(f'<rect class="series-{escape(s.key)}" data-series="{escape(s.key)}" data-value="{value}" '
                         f'x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}"/>')
        parts.append("</g>")
    parts.append("</g>")
    parts.append(f'<line class="axis-line" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    parts.append('<g class="axis x">')
    step = _label_step(columns, band)
    for i in range(0, len(columns), step):
        x = left + (i + 0.5) * band
        parts.append(f'<line class="tick" x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}"/>'
                     f'<text x="{x:.1f}" y="{top + plot_h + 17}" text-anchor="middle">{escape(columns[i].label)}</text>')
    parts.append("</g>")
    return _svg(chart_id, title, description, width, height, parts, "chart columns-chart")


def _label_step(columns: Sequence[Column], band: float) -> int:
    widest = max((len(c.label) for c in columns), default=1) * _CHAR_PX + 10
    return next((s for s in _LABEL_STEPS if s * band >= widest), _LABEL_STEPS[-1])


def _legend(series: Sequence[Series], x: float, y: float) -> str:
    parts = ['<g class="legend">']
    for s in series:
        parts.append(f'<rect class="series-{escape(s.key)}" x="{x:.0f}" y="{y - 9:.0f}" width="11" height="11" rx="2"/>'
                     f'<text x="{x + 15:.0f}" y="{y}">{escape(s.name)}</text>')
        x += 15 + len(s.name) * _CHAR_PX + 18
    parts.append("</g>")
    return "".join(parts)


def bars(items: Sequence[Bar], *, chart_id: str, title: str, description: str, series: str, width: int = 440,
         unit: str = "reports", label_chars: int = 26) -> Markup:
    """Horizontal bars, longest first as given, each with its name left and its value right; a
    bar with a link is one (the whole row is the target)."""
    row, top, label_w, value_w = 24, 4, 170, 40
    height = top * 2 + row * max(1, len(items))
    maximum = max((b.value for b in items), default=0) or 1
    span = width - label_w - value_w
    parts = []
    for i, item in enumerate(items):
        y = top + i * row
        w = max(1.0, item.value / maximum * span)
        name = item.label if len(item.label) <= label_chars else item.label[: label_chars - 1].rstrip() + "…"
        row_svg = (f'<g class="bar" data-label="{escape(item.label)}" data-value="{item.value}">'
                   f"<title>{escape(item.label)}: {item.value} {escape(unit)}</title>"
                   f'<rect class="hit" x="0" y="{y}" width="{width}" height="{row}"/>'
                   f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(name)}</text>'
                   f'<rect class="series-{escape(series)}" x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" rx="2"/>'
                   f'<text class="value" x="{label_w + w + 6:.1f}" y="{y + 16}">{item.value}</text></g>')
        parts.append(f'<a href="{escape(item.href)}">{row_svg}</a>' if item.href else row_svg)
    return _svg(chart_id, title, description, width, height, parts, "chart bars-chart")


def dot_map(dots: Sequence[Dot], *, chart_id: str, title: str, description: str, width: int = 880,
            labelled: int = 12, land: Callable[[float], Collection[tuple[int, int]]] | None = None) -> Markup:
    """Places as dots on an equirectangular grid (x = longitude, y = latitude), area by value,
    framed on the dots (a world map when they are far apart) with graticule lines labelled in
    degrees; up to `labelled` of the biggest are named where their names do not collide, every one
    in its tooltip. `land(degrees)`: the settled cells of a grid that fine (kunlun_nlp.places.
    settled_cells), shaded under the dots so the map shows where it is."""
    west, east, south, north = _frame(dots)
    height = round(width * (north - south) / (east - west))

    def x_of(lon: float) -> float:
        return (lon - west) / (east - west) * width

    def y_of(lat: float) -> float:
        return (north - lat) / (north - south) * height

    parts = [f'<rect class="sea" x="0" y="0" width="{width}" height="{height}"/>']
    if land is not None:
        degrees = 2.0 if east - west >= 150 else 1.0 if east - west >= 50 else 0.5
        parts.append(_land(land(degrees), degrees, west, east, south, north, x_of, y_of))
    step = next(s for s in (1, 2, 5, 10, 15, 30, 45) if (east - west) / s <= 12)
    parts.append('<g class="graticule">')
    for lon in range(math.ceil(west / step) * step, math.floor(east) + 1, step):
        x = x_of(lon)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height}"/>'
                     f'<text x="{x + 3:.1f}" y="{height - 5}">{_degrees(lon, "E", "W")}</text>')
    for lat in range(math.ceil(south / step) * step, math.floor(north) + 1, step):
        y = y_of(lat)
        parts.append(f'<line x1="0" x2="{width}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text x="4" y="{y - 3:.1f}">{_degrees(lat, "N", "S")}</text>')
    parts.append("</g>")
    maximum = max((d.value for d in dots), default=1) or 1
    biggest = sorted(dots, key=lambda d: -d.value)  # drawn first, so small dots stay on top and clickable

    def radius(dot: Dot) -> float:
        return 4 + 12 * math.sqrt(dot.value / maximum)

    parts.append('<g class="dots">')
    for dot in biggest:
        where = f" ({dot.detail})" if dot.detail else ""
        circle = (f'<g class="dot" data-name="{escape(dot.name)}" data-value="{dot.value}">'
                  f"<title>{escape(dot.name + where)}: {dot.value} reports</title>"
                  f'<circle cx="{x_of(dot.lon):.1f}" cy="{y_of(dot.lat):.1f}" r="{radius(dot):.1f}"/></g>')
        parts.append(f'<a href="{escape(dot.href)}">{circle}</a>' if dot.href else circle)
    parts.append("</g>")
    parts.append('<g class="dot-labels" aria-hidden="true">')
    placed: list[tuple[float, float, float, float]] = []
    for dot in biggest[:labelled]:
        x, y, r = x_of(dot.lon), y_of(dot.lat), radius(dot)
        w = len(dot.name) * _CHAR_PX
        for x0, anchor, tx in ((x + r + 3, "start", x + r + 3), (x - r - 3 - w, "end", x - r - 3)):
            box = (x0, y - 8, x0 + w, y + 5)
            inside = box[0] >= 0 and box[2] <= width and box[1] >= 0 and box[3] <= height
            if inside and not any(_overlap(box, other) for other in placed):
                placed.append(box)
                parts.append(f'<text x="{tx:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}">{escape(dot.name)}</text>')
                break
    parts.append("</g>")
    return _svg(chart_id, title, description, width, height, parts, "chart map")


def _land(cells: Collection[tuple[int, int]], degrees: float, west: float, east: float, south: float, north: float,
          x_of: Callable[[float], float], y_of: Callable[[float], float]) -> str:
    """The settled cells inside the frame as one path: each row's runs of neighbouring cells merged
    into one rectangle, which keeps a world map to a few hundred of them."""
    first_col, last_col = math.floor((west + 180) / degrees), math.ceil((east + 180) / degrees)
    first_row, last_row = math.floor((south + 90) / degrees), math.ceil((north + 90) / degrees)
    rows: dict[int, list[int]] = {}
    for row, col in cells:
        if first_row <= row < last_row and first_col <= col < last_col:
            rows.setdefault(row, []).append(col)
    path = []
    for row, cols in rows.items():
        cols.sort()
        top, bottom = y_of(-90 + (row + 1) * degrees), y_of(-90 + row * degrees)
        start = previous = cols[0]
        for col in [*cols[1:], None]:
            if col is not None and col == previous + 1:
                previous = col
                continue
            left, right = x_of(-180 + start * degrees), x_of(-180 + (previous + 1) * degrees)
            path.append(f"M{left:.1f} {top:.1f}H{right:.1f}V{bottom + 0.3:.1f}H{left:.1f}z")
            if col is not None:
                start = previous = col
    return f'<path class="land" d="{"".join(path)}"/>'


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _frame(dots: Sequence[Dot]) -> tuple[float, float, float, float]:
    """(west, east, south, north): the dots with a margin, at least 24° wide, 2:1, inside the world."""
    if not dots:
        return -180.0, 180.0, -90.0, 90.0
    lons, lats = [d.lon for d in dots], [d.lat for d in dots]
    lon_span = max(24.0, (max(lons) - min(lons)) * 1.3)
    lat_span = max(12.0, (max(lats) - min(lats)) * 1.3)
    lon_span = min(360.0, max(lon_span, 2 * lat_span))
    lat_span = lon_span / 2
    if lat_span > 180:
        lon_span, lat_span = 360.0, 180.0
    centre_lon, centre_lat = (max(lons) + min(lons)) / 2, (max(lats) + min(lats)) / 2
    west = min(max(centre_lon - lon_span / 2, -180.0), 180.0 - lon_span)
    south = min(max(centre_lat - lat_span / 2, -90.0), 90.0 - lat_span)
    return west, west + lon_span, south, south + lat_span


def _degrees(value: int, positive: str, negative: str) -> str:
    if value == 0:
        return "0°"
    return f"{abs(value)}°{positive if value > 0 else negative}"


def _svg(chart_id: str, title: str, description: str, width: int, height: int, parts: list[str], css: str) -> Markup:
    cid = escape(chart_id)
    return Markup(
        f'<svg id="{cid}" class="{css}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{cid}-title">{escape(title)}</title><desc id="{cid}-desc">{escape(description)}</desc>'
        + "".join(parts) + "</svg>"
    )
