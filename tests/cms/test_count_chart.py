"""The per-minute bar chart: labelled axes, a title, a legend, and bars as tall as the counts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cms.count_chart import BOTTOM, HEIGHT, TOP, minute_bar_chart, nice_step

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
