"""A per-minute bar chart of counts as SVG, with labelled axes, a title and a legend.

Pure: counts in, markup out (the admin's "per minute" chart on a display's page). Colours
come from classes that cms/static/cms/farm.css maps to the admin's theme variables, so the
chart reads in the light and the dark admin theme alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 760, 230
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 34, 44  # margins: tick labels, title and legend live here
# Steps the time axis may tick at, in minutes: the smallest that gives at most MAX_X_TICKS.
X_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)
MAX_X_TICKS = 8
MAX_Y_TICKS = 5


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
    (``counts`` keyed by aware minute starts), time ticks labelled HH:MM in ``zone``.
    """
    end = end.replace(second=0, microsecond=0)
    first = end - timedelta(minutes=minutes - 1)
    values = [counts.get(first + timedelta(minutes=i), 0) for i in range(minutes)]
    peak, total = max(values, default=0), sum(values)
    step = nice_step(peak)
    top = max(step, step * math.ceil(peak / step))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bar_w = plot_w / minutes
    base = TOP + plot_h

    def y_of(value: float) -> float:
        return base - plot_h * value / top

    bars = format_html_join(
        "",
        '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}"><title>{}: {} {}</title>'
        "</rect>",
        (
            (
                f"{LEFT + i * bar_w:.1f}",
                f"{y_of(n):.1f}",
                f"{max(bar_w - 0.5, 0.5):.1f}",
                f"{base - y_of(n):.1f}",
                f"{(first + timedelta(minutes=i)).astimezone(zone):%H:%M}",
                n,
                unit,
            )
            for i, n in enumerate(values)
            if n
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
            (f"{LEFT + (i + 0.5) * bar_w:.1f}", base, base + 5, base + 17, label)
            for i, label in _time_ticks(first, minutes, zone)
        ),
    )
    return format_html(
        '<svg class="count-chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-label="{title}">'
        '<text class="chart-title" x="{left}" y="16">{title}</text>'
        '<rect class="chart-bar" x="{legend_x}" y="7" width="10" height="10"/>'
        '<text class="chart-legend" x="{legend_text_x}" y="16">{unit} (peak {peak}, total {total})'
        "</text>{y_ticks}{bars}"
        '<line class="chart-axis" x1="{left}" x2="{left}" y1="{top}" y2="{base}"/>'
        '<line class="chart-axis" x1="{left}" x2="{right}" y1="{base}" y2="{base}"/>'
        "{x_ticks}"
        '<text class="chart-label" x="{mid_x}" y="{x_label_y}" text-anchor="middle">'
        "time ({zone_name})</text>"
        '<text class="chart-label" transform="translate(12 {mid_y}) rotate(-90)" '
        'text-anchor="middle">{unit} per minute</text></svg>',
        w=WIDTH,
        h=HEIGHT,
        title=title,
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        base=base,
        legend_x=WIDTH - RIGHT - 230,
        legend_text_x=WIDTH - RIGHT - 215,
        unit=unit,
        peak=peak,
        total=total,
        y_ticks=y_ticks,
        bars=bars,
        x_ticks=x_ticks,
        mid_x=LEFT + plot_w // 2,
        x_label_y=HEIGHT - 6,
        mid_y=TOP + plot_h // 2,
        zone_name=str(zone),
    )


def _time_ticks(first: datetime, minutes: int, zone: tzinfo) -> list[tuple[int, str]]:
    """(bar index, "HH:MM") at each local minute that is a multiple of the chosen step."""
    step = next((s for s in X_STEPS if minutes / s <= MAX_X_TICKS), X_STEPS[-1])
    ticks = []
    for i in range(minutes):
        local = (first + timedelta(minutes=i)).astimezone(zone)
        if (local.hour * 60 + local.minute) % step == 0:
            ticks.append((i, f"{local:%H:%M}"))
    return ticks
