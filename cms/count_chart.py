"""Per-minute charts of counts as SVG, with labelled axes, a title and a legend.

Pure: counts in, markup out (the admin's charts on a display's page). Series draw as bars
(side by side in a minute) or as lines, one per series, with a dot per minute that has a
count. Colours
come from classes that cms/static/cms/farm.css maps to the admin's theme variables (or to
colours that read on both backgrounds), so a chart reads in the light and the dark admin
theme alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 760, 230  # the plot's box; the legend rows go below it
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 34, 44  # margins: tick labels, title and axis labels
LEGEND_ROW = 18  # pixels per legend row
LEGEND_CHAR_W = 6.5  # a legend letter's estimated width at 11px, to wrap the rows
LEGEND_GAP = 18  # between two legend entries
PALETTE_SIZE = 8  # farm.css defines .chart-series-0 .. -7; further series reuse them
# Steps the time axis may tick at, in minutes: the smallest that gives at most MAX_X_TICKS.
X_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)
MAX_X_TICKS = 8
MAX_Y_TICKS = 5


@dataclass(frozen=True)
class Series:
    """One line (or the bars) of a chart: its legend name and its counts by aware minute start."""

    name: str
    counts: Mapping[datetime, int]


def nice_step(peak: int, max_ticks: int = MAX_Y_TICKS) -> int:
    """The count axis' tick step: 1, 2 or 5 times a power of ten, so that 0..peak needs at most
    ``max_ticks`` steps."""
    if peak <= max_ticks:
        return 1
    raw = peak / max_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return int(factor * magnitude)
    return int(10 * magnitude)  # pragma: no cover  (factor 10 always reaches raw)


def minute_bar_chart(
    counts: Mapping[datetime, int],
    *,
    end: datetime,
    minutes: int,
    title: str,
    unit: str,
    zone: tzinfo,
) -> SafeString:
    """Bars for the ``minutes`` minutes up to and including ``end``'s minute, one per minute
    (``counts`` keyed by aware minute starts), time ticks labelled HH:MM in ``zone``; the
    legend gives the peak and the total.
    """
    return minute_chart(
        [Series(unit, counts)],
        end=end,
        minutes=minutes,
        title=title,
        unit=unit,
        zone=zone,
        kind="bars",
    )


def minute_chart(
    series: Sequence[Series],
    *,
    end: datetime,
    minutes: int,
    title: str,
    unit: str,
    zone: tzinfo,
    kind: Literal["bars", "lines"] = "lines",
    totals: bool = True,
    count_label: str = "",
) -> SafeString:
    """A chart of the ``minutes`` minutes up to and including ``end``'s minute, on one count
    axis: a line per series, or bars (side by side in each minute for several series). A
    minute missing from a series' counts is 0. The legend names each series with its peak
    (and its total with ``totals``: leave it off where a sum over minutes means nothing, e.g.
    for "most at once"). ``count_label`` names the count axis (default "<unit> per minute").
    """
    end = end.replace(second=0, microsecond=0)
    first = end - timedelta(minutes=minutes - 1)
    values = [
        [s.counts.get(first + timedelta(minutes=i), 0) for i in range(minutes)] for s in series
    ]
    peak = max((max(v, default=0) for v in values), default=0)
    step = nice_step(peak)
    top = max(step, step * math.ceil(peak / step))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot_w = plot_w / minutes
    base = TOP + plot_h
    as_bars = kind == "bars"

    def y_of(value: float) -> float:
        return base - plot_h * value / top

    def label(i: int) -> str:
        return f"{(first + timedelta(minutes=i)).astimezone(zone):%H:%M}"

    if as_bars:
        marks = _bars(series, values, slot_w, y_of, label, unit)
    else:
        marks = format_html_join(
            "",
            "{}",
            (
                (_line(s.name, v, f"chart-series-{k % PALETTE_SIZE}", slot_w, y_of, label, unit),)
                for k, (s, v) in enumerate(zip(series, values, strict=True))
            ),
        )
    y_ticks = format_html_join(
        "",
        '<line class="chart-grid" x1="{0}" x2="{1}" y1="{2}" y2="{2}"/>'
        '<text class="chart-tick chart-y-tick" x="{3}" y="{2}" text-anchor="end" '
        'dominant-baseline="middle">{4}</text>',
        ((LEFT, WIDTH - RIGHT, f"{y_of(v):.1f}", LEFT - 6, v) for v in range(0, top + 1, step)),
    )
    x_ticks = format_html_join(
        "",
        '<line class="chart-axis" x1="{0}" x2="{0}" y1="{1}" y2="{2}"/>'
        '<text class="chart-tick chart-x-tick" x="{0}" y="{3}" text-anchor="middle">{4}</text>',
        (
            (f"{LEFT + (i + 0.5) * slot_w:.1f}", base, base + 5, base + 17, text)
            for i, text in _time_ticks(first, minutes, zone)
        ),
    )
    entries = [
        f"{s.name} (peak {max(v, default=0)}" + (f", total {sum(v)})" if totals else ")")
        for s, v in zip(series, values, strict=True)
    ]
    legend, rows = _legend(entries, swatch="chart-bar" if as_bars and len(series) == 1 else None)
    height = HEIGHT + rows * LEGEND_ROW
    return format_html(
        '<svg class="count-chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-label="{title}">'
        '<text class="chart-title" x="{left}" y="16">{title}</text>'
        "{y_ticks}{marks}"
        '<line class="chart-axis" x1="{left}" x2="{left}" y1="{top}" y2="{base}"/>'
        '<line class="chart-axis" x1="{left}" x2="{right}" y1="{base}" y2="{base}"/>'
        "{x_ticks}"
        '<text class="chart-label" x="{mid_x}" y="{x_label_y}" text-anchor="middle">'
        "time ({zone_name})</text>"
        '<text class="chart-label" transform="translate(12 {mid_y}) rotate(-90)" '
        'text-anchor="middle">{count_label}</text>{legend}</svg>',
        w=WIDTH,
        h=height,
        title=title,
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        base=base,
        count_label=count_label or f"{unit} per minute",
        y_ticks=y_ticks,
        marks=marks,
        x_ticks=x_ticks,
        mid_x=LEFT + plot_w // 2,
        x_label_y=HEIGHT - 6,
        mid_y=TOP + plot_h // 2,
        zone_name=str(zone),
        legend=legend,
    )


def _bars(
    series: Sequence[Series],
    values: list[list[int]],
    slot_w: float,
    y_of: Callable[[float], float],
    label: Callable[[int], str],
    unit: str,
) -> SafeString:
    """A bar per minute with a count; several series share each minute's slot side by side,
    each in its colour (one series keeps the theme's bar colour)."""
    width = slot_w / max(len(values), 1)
    base = y_of(0)

    single = len(values) == 1

    def cls(k: int) -> str:
        return "chart-bar" if single else f"chart-bar chart-series-{k % PALETTE_SIZE}"

    return format_html_join(
        "",
        '<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{}{}: {} {}</title></rect>',
        (
            (
                cls(k),
                f"{LEFT + i * slot_w + k * width:.1f}",
                f"{y_of(n):.1f}",
                f"{max(width - 0.5, 0.5):.1f}",
                f"{base - y_of(n):.1f}",
                label(i),
                "" if single else f" {series[k].name}",
                n,
                unit,
            )
            for k, series_values in enumerate(values)
            for i, n in enumerate(series_values)
            if n
        ),
    )


def _line(
    name: str,
    values: list[int],
    cls: str,
    slot_w: float,
    y_of: Callable[[float], float],
    label: Callable[[int], str],
    unit: str,
) -> SafeString:
    """One series as a polyline through every minute's middle, and a dot (with a tooltip) on
    each minute that has a count."""
    points = " ".join(
        f"{LEFT + (i + 0.5) * slot_w:.1f},{y_of(n):.1f}" for i, n in enumerate(values)
    )
    dots = format_html_join(
        "",
        '<circle class="chart-point {}" cx="{}" cy="{}" r="2.5"><title>{} {}: {} {}</title>'
        "</circle>",
        (
            (cls, f"{LEFT + (i + 0.5) * slot_w:.1f}", f"{y_of(n):.1f}", label(i), name, n, unit)
            for i, n in enumerate(values)
            if n
        ),
    )
    return format_html(
        '<g class="chart-series" data-series="{name}"><polyline class="chart-line {cls}" '
        'points="{points}"><title>{name}</title></polyline>{dots}</g>',
        name=name,
        cls=cls,
        points=points,
        dots=dots,
    )


def _legend(entries: list[str], *, swatch: str | None) -> tuple[SafeString, int]:
    """The legend's markup, in rows under the time axis' label, and how many rows it takes.

    ``swatch`` is the class of every entry's square (the bars'), or None for each series'
    own colour.
    """
    items, x, row = [], float(LEFT), 0
    for k, text in enumerate(entries):
        width = 14 + LEGEND_CHAR_W * len(text)
        if x > LEFT and x + width > WIDTH - RIGHT:
            x, row = float(LEFT), row + 1
        y = HEIGHT + row * LEGEND_ROW
        cls = swatch or f"chart-swatch chart-series-{k % PALETTE_SIZE}"
        items.append((cls, f"{x:.1f}", y + 3, f"{x + 14:.1f}", y + 12, text))
        x += width + LEGEND_GAP
    markup = format_html_join(
        "",
        '<rect class="{}" x="{}" y="{}" width="10" height="10"/>'
        '<text class="chart-legend" x="{}" y="{}">{}</text>',
        items,
    )
    return markup, (row + 1 if entries else 0)


def _time_ticks(first: datetime, minutes: int, zone: tzinfo) -> list[tuple[int, str]]:
    """(minute index, "HH:MM") at each local minute that is a multiple of the chosen step."""
    step = next((s for s in X_STEPS if minutes / s <= MAX_X_TICKS), X_STEPS[-1])
    ticks = []
    for i in range(minutes):
        local = (first + timedelta(minutes=i)).astimezone(zone)
        if (local.hour * 60 + local.minute) % step == 0:
            ticks.append((i, f"{local:%H:%M}"))
    return ticks
