"""zone_minutes.tally: a batch's additions per display, zone and minute (pure)."""

from __future__ import annotations

from cms.results.object_event_message import ObjectEventMessage
from cms.results.result_message import ResultMessage
from cms.results.zone_minutes import Tally, minute_of, tally

T0 = 1_700_000_040.0  # a minute's start


def result(at, *zone_lists, display=1):
    objects = [
        {"class_id": 2, "class_name": "car", "confidence": 0.9, "box": [0, 0, 1, 1], "zones": z}
        for z in zone_lists
    ]
    return ResultMessage(display, 1, 1, 1, 0, at, objects, f"k{at}")


def event(type, at, zone="lane", dwell=None, display=1):
    line, direction = ("door", "in") if type == "cross" else (None, None)
    return ObjectEventMessage(
        display, 1, 1, f"{type}{at}", type, 7, 2, "car", at, (0, 0, 1, 1),
        zone=None if type == "cross" else zone, dwell_s=dwell, line=line, direction=direction,
    )  # fmt: skip


def test_minutes_start_on_the_minute():
    assert minute_of(T0) == minute_of(T0 + 59.999) == int(T0)
    assert minute_of(T0 + 60) == int(T0) + 60


def test_max_count_is_the_most_in_any_result_of_the_minute_per_display():
    results = [
        result(T0 + 1, ["view", "lane"], ["view"]),
        result(T0 + 2, ["view", "lane"], ["view", "lane"], ["view", "lane", "lane"]),
        result(T0 + 61, ["view"]),
        result(T0 + 3, ["view"], display=2),
    ]

    assert tally(results, []) == {
        (1, "view", int(T0)): Tally(max_count=3),
        (1, "lane", int(T0)): Tally(max_count=3),  # a zone named twice counts once
        (1, "view", int(T0) + 60): Tally(max_count=1),
        (2, "view", int(T0)): Tally(max_count=1),
    }


def test_enters_and_leaves_count_in_their_minutes_and_crossings_not_at_all():
    events = [
        event("enter", T0 + 5),
        event("leave", T0 + 10, dwell=5.0),
        event("leave", T0 + 50, dwell=45.0),
        event("enter", T0 + 70),
        event("cross", T0 + 20),
    ]

    assert tally([], events) == {
        (1, "lane", int(T0)): Tally(entered=1, left=2, dwell_sum_s=50.0, dwell_max_s=45.0),
        (1, "lane", int(T0) + 60): Tally(entered=1),
    }
