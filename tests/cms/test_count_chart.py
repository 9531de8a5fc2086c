"""The per-minute charts: labelled axes, a title, a legend; bars as tall as the counts for one
series, a line per series for several."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cms.count_chart import (
    BOTTOM,
    HEIGHT,
    LEGEND_ROW,
    PALETTE_SIZE,
    RIGHT,
    TOP,
    WIDTH,
    Series,
    minute_bar_chart,
    minute_chart,
    nice_step,
)

NS = {"svg": "http://www.w3.org/2000/svg"}
END = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC)


def parse(markup: str) -> ET.Element:
    # The markup is HTML-embedded SVG (no namespace): give it one to parse it as XML.
    return ET.fromstring(markup.replace("<svg ", f'<svg xmlns="{NS["svg"]}" ', 1))


def texts(root: ET.Element, cls: str) -> list[str]:
    return [t.text or "" for t in root.iterfind(".//svg:text", NS) if cls in t.get("class", "")]


def chart(counts, minutes=180, zone=UTC):
    return parse(
        minute_bar_chart(
            counts, end=END, minutes=minutes, title="Detections per minute", unit="detections",
            zone=zone,
        )
    )  # fmt: skip


@pytest.mark.parametrize(
    ("peak", "step"), [(0, 1), (3, 1), (5, 1), (6, 2), (10, 2), (11, 5), (23, 5), (140, 50)]
)
def test_the_count_axis_ticks_at_1_2_or_5_times_a_power_of_ten(peak, step):
    assert nice_step(peak) == step


def test_bars_are_as_tall_as_their_counts_against_the_labelled_count_axis():
    minute = END.replace(second=0) - timedelta(minutes=10)
    root = chart({minute: 8, minute + timedelta(minutes=1): 2})

    bars = [r for r in root.iterfind(".//svg:rect", NS) if r.find("svg:title", NS) is not None]
    assert [r.find("svg:title", NS).text for r in bars] == [
        "11:50: 8 detections",
        "11:51: 2 detections",
    ]
    heights = [float(r.get("height")) for r in bars]
    assert heights[0] == pytest.approx(4 * heights[1], abs=0.2)
    # 0..8 in steps of 2: the top tick, 8, is the tallest bar's top
    assert texts(root, "chart-y-tick") == ["0", "2", "4", "6", "8"]
    top_tick = next(t for t in root.iterfind(".//svg:text", NS) if t.text == "8")
    assert float(bars[0].get("y")) == pytest.approx(float(top_tick.get("y")), abs=0.2)
    assert float(bars[0].get("y")) + heights[0] == pytest.approx(HEIGHT - BOTTOM, abs=0.2)
    assert float(bars[0].get("y")) == pytest.approx(TOP, abs=0.2)


def test_time_axis_has_ticks_every_half_hour_in_the_site_time_zone():
    root = chart({}, zone=ZoneInfo("Europe/Berlin"))  # 09:01..12:00 UTC is 10:01..13:00 there

    assert texts(root, "chart-x-tick") == ["10:30", "11:00", "11:30", "12:00", "12:30", "13:00"]
    assert "time (Europe/Berlin)" in texts(root, "chart-label")


def test_a_short_window_ticks_more_often():
    assert texts(chart({}, minutes=30), "chart-x-tick") == [
        "11:35", "11:40", "11:45", "11:50", "11:55", "12:00",
    ]  # fmt: skip


def test_title_legend_and_axis_labels_are_there_also_without_data():
    root = chart({})

    assert texts(root, "chart-title") == ["Detections per minute"]
    assert texts(root, "chart-legend") == ["detections (peak 0, total 0)"]
    assert "detections per minute" in texts(root, "chart-label")
    assert texts(root, "chart-y-tick") == ["0", "1"]
    assert root.get("aria-label") == "Detections per minute"
    axes = [line for line in root.iterfind(".//svg:line", NS) if line.get("class") == "chart-axis"]
    assert len(axes) >= 2  # the y axis and the x axis, then the time ticks


def test_legend_counts_the_total_and_the_title_is_escaped():
    minute = END.replace(second=0)
    markup = minute_bar_chart(
        {minute: 3, minute - timedelta(minutes=1): 4},
        end=END, minutes=60, title="<b>lane</b>", unit="cars", zone=UTC,
    )  # fmt: skip

    assert "<b>" not in markup and "&lt;b&gt;lane&lt;/b&gt;" in markup
    assert re.search(r"cars \(peak 4, total 7\)", markup)


# --- several series: one line per series ------------------------------------------------------


def lines_chart(series, minutes=180, zone=UTC, totals=False):
    return parse(
        minute_chart(
            series, end=END, minutes=minutes, title="Objects per zone", unit="objects",
            zone=zone, totals=totals,
        )
    )  # fmt: skip


def dots(root: ET.Element) -> list[ET.Element]:
    return list(root.iterfind(".//svg:circle", NS))


def test_each_series_is_a_line_with_a_dot_per_minute_that_has_a_count():
    minute = END.replace(second=0) - timedelta(minutes=2)
    view = Series("view", {minute: 6, minute + timedelta(minutes=1): 3})
    lane = Series("lane", {minute + timedelta(minutes=1): 3})

    root = lines_chart([view, lane], minutes=10)

    groups = list(root.iterfind(".//svg:g", NS))
    assert [g.get("data-series") for g in groups] == ["view", "lane"]
    lines = [g.find("svg:polyline", NS) for g in groups]
    assert [line.get("class") for line in lines] == [
        "chart-line chart-series-0",
        "chart-line chart-series-1",
    ]
    # a point for every minute of the window, a missing minute on the zero line
    points = [
        [tuple(map(float, p.split(","))) for p in line.get("points").split()] for line in lines
    ]
    assert [len(p) for p in points] == [10, 10]
    base = HEIGHT - BOTTOM
    assert [y for _, y in points[1]] == pytest.approx([base] * 8 + [points[0][8][1], base])
    assert [d.find("svg:title", NS).text for d in dots(root)] == [
        "11:58 view: 6 objects",
        "11:59 view: 3 objects",
        "11:59 lane: 3 objects",
    ]
    # 0..6 in steps of 2: the 6 sits on the top tick, the 3s halfway up
    assert texts(root, "chart-y-tick") == ["0", "2", "4", "6"]
    six = next(t for t in root.iterfind(".//svg:text", NS) if t.text == "6")
    assert float(dots(root)[0].get("cy")) == pytest.approx(float(six.get("y")), abs=0.2)
    assert float(dots(root)[1].get("cy")) == pytest.approx((TOP + base) / 2, abs=0.2)
    # the dots line up under the time ticks: 12:00 is the last minute's middle
    tick = next(t for t in root.iterfind(".//svg:text", NS) if t.text == "12:00")
    assert points[0][-1][0] == pytest.approx(float(tick.get("x")), abs=0.2)


def test_the_legend_names_each_series_in_its_colour_with_its_peak():
    minute = END.replace(second=0)
    root = lines_chart(
        [Series("view", {minute: 4}), Series("lane", {minute: 1}), Series("door", {})]
    )

    assert texts(root, "chart-legend") == ["view (peak 4)", "lane (peak 1)", "door (peak 0)"]
    swatches = [r.get("class") for r in root.iterfind(".//svg:rect", NS)]
    assert swatches == [f"chart-swatch chart-series-{k}" for k in range(3)]
    assert "objects per minute" in texts(root, "chart-label")
    assert (
        texts(lines_chart([Series("view", {minute: 4})] * 2, totals=True), "chart-legend")
        == ["view (peak 4, total 4)"] * 2
    )


def test_many_series_wrap_the_legend_into_rows_and_reuse_the_colours():
    series = [Series(f"zone number {k}", {}) for k in range(PALETTE_SIZE + 2)]

    root = lines_chart(series)

    legend = [t for t in root.iterfind(".//svg:text", NS) if t.get("class") == "chart-legend"]
    rows = sorted({float(t.get("y")) for t in legend})
    assert len(rows) >= 2
    assert float(root.get("height")) == HEIGHT + len(rows) * LEGEND_ROW
    assert max(float(t.get("y")) for t in legend) < float(root.get("height"))
    assert all(float(t.get("y")) > HEIGHT - BOTTOM for t in legend)  # under the time axis
    classes = [g.find("svg:polyline", NS).get("class") for g in root.iterfind(".//svg:g", NS)]
    assert classes[PALETTE_SIZE] == classes[0] and classes[PALETTE_SIZE + 1] == classes[1]


def test_series_without_data_lie_flat_on_labelled_axes():
    root = lines_chart([Series("view", {}), Series("lane", {})], zone=ZoneInfo("Europe/Berlin"))

    assert dots(root) == []
    for line in root.iterfind(".//svg:polyline", NS):
        ys = {float(p.split(",")[1]) for p in line.get("points").split()}
        assert ys == {HEIGHT - BOTTOM}
    assert texts(root, "chart-y-tick") == ["0", "1"]
    assert texts(root, "chart-x-tick") == ["10:30", "11:00", "11:30", "12:00", "12:30", "13:00"]
    assert texts(root, "chart-title") == ["Objects per zone"]


def test_no_series_still_draws_the_axes_and_no_legend():
    root = lines_chart([])

    assert texts(root, "chart-legend") == []
    assert float(root.get("height")) == HEIGHT
    assert texts(root, "chart-y-tick") == ["0", "1"]
    assert "time (UTC)" in texts(root, "chart-label")


def test_series_names_are_escaped():
    markup = minute_chart(
        [Series("<b>a</b>", {END.replace(second=0): 1}), Series("b", {})],
        end=END, minutes=5, title="t", unit="objects", zone=UTC,
    )  # fmt: skip

    assert "<b>" not in markup and "&lt;b&gt;a&lt;/b&gt;" in markup
    parse(markup)  # still well formed


def test_several_series_as_bars_share_each_minute_side_by_side():
    minute = END.replace(second=0)
    markup = minute_chart(
        [Series("view", {minute: 4}), Series("lane", {minute: 2})],
        end=END, minutes=10, title="t", unit="objects", zone=UTC, kind="bars", totals=False,
    )  # fmt: skip
    root = parse(markup)

    bars = [r for r in root.iterfind(".//svg:rect", NS) if r.find("svg:title", NS) is not None]
    assert [(r.get("class"), r.find("svg:title", NS).text) for r in bars] == [
        ("chart-bar chart-series-0", "12:00 view: 4 objects"),
        ("chart-bar chart-series-1", "12:00 lane: 2 objects"),
    ]
    view, lane = bars
    assert float(lane.get("x")) == pytest.approx(
        float(view.get("x")) + float(view.get("width")) + 0.5, abs=0.2
    )
    assert float(view.get("height")) == pytest.approx(2 * float(lane.get("height")), abs=0.2)
    assert float(lane.get("x")) + float(lane.get("width")) <= WIDTH - RIGHT
    assert texts(root, "chart-legend") == ["view (peak 4)", "lane (peak 2)"]


def test_the_count_axis_can_be_named():
    root = parse(
        minute_chart(
            [Series("view", {})], end=END, minutes=5, title="t", unit="objects", zone=UTC,
            count_label="objects at once",
        )
    )  # fmt: skip

    assert texts(root, "chart-label") == ["time (UTC)", "objects at once"]
