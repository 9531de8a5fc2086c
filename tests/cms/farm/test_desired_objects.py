"""A display's tracking settings in desired state: in the spec hash, not in the group key."""

from __future__ import annotations

import dataclasses

import pytest

from cms.farm.desired import (
    CameraRow,
    CameraSpec,
    DisplayRow,
    LineSpec,
    ModelSpec,
    ZoneSpec,
    desired_state,
    inference_groups,
    line_specs,
    zone_specs,
)

MODEL = ModelSpec(1, "yolo", "1", "abc", 0.25, 0.7, 640, None)
CAMERA = CameraRow(1, "rtsp://h/1", "", "", "", 1.0, 5.0)
LANE = ZoneSpec("lane", ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0)))
DOOR = LineSpec("door", ((5.0, 0.0), (5.0, 10.0)))


def spec(*rows: DisplayRow) -> CameraSpec:
    return desired_state([CAMERA], rows, key=b"k")[1]


BASE = DisplayRow(10, 1, MODEL, None, "every", 1000)
OTHER = DisplayRow(11, 1, MODEL, None, "every", 1000)


@pytest.mark.parametrize(
    "change",
    [
        {"zones": (LANE,)},
        {"zones": (dataclasses.replace(LANE, name="kerb"),)},
        {"lines": (DOOR,)},
        {"tracking": False},
        {"min_seen_s": 1.0},
        {"max_lost_s": 10.0},
    ],
)
def test_tracking_settings_change_the_spec_hash_but_not_the_inference_group(change):
    before = spec(BASE, OTHER)
    after = spec(dataclasses.replace(BASE, **change), OTHER)

    assert after.spec_hash != before.spec_hash  # the worker applies it in place
    assert after.source_hash == before.source_hash  # the stream is not reopened
    assert inference_groups(after) == inference_groups(before)  # the group and its tracker stay
    [group] = inference_groups(after)
    assert group.display_ids == (10, 11)


def test_a_display_spec_carries_its_tracking_settings_hashable():
    row = dataclasses.replace(BASE, zones=(LANE,), lines=(DOOR,), min_seen_s=1.0, tracking=False)

    [display] = spec(row).displays

    assert (display.zones, display.lines) == ((LANE,), (DOOR,))
    assert (display.tracking, display.min_seen_s, display.max_lost_s) == (False, 1.0, 2.0)
    assert hash(display) == hash(dataclasses.replace(display))
    with pytest.raises(dataclasses.FrozenInstanceError):
        display.zones = ()  # type: ignore[misc]


def test_same_settings_same_hash():
    row = dataclasses.replace(BASE, zones=(LANE,), lines=(DOOR,))
    assert spec(row).spec_hash == spec(dataclasses.replace(row)).spec_hash


def test_stored_json_becomes_specs():
    zones = zone_specs([{"name": "lane", "polygon": [[0, 0], [10, 0], [10, 10.5]]}])
    lines = line_specs([{"name": "door", "points": [[5, 0], [5, 10]]}])

    assert zones == (ZoneSpec("lane", ((0.0, 0.0), (10.0, 0.0), (10.0, 10.5))),)
    assert lines == (DOOR,)
    assert zone_specs([]) == () and line_specs([]) == ()


@pytest.mark.parametrize(
    "value", [None, "lane", [1], [{"name": "a"}], [{"name": "a", "polygon": [1]}]]
)
def test_stored_json_that_is_not_zones_is_a_value_error(value):
    with pytest.raises(ValueError):
        zone_specs(value)


@pytest.mark.parametrize(
    "value", [{}, [{"points": [[0, 0], [1, 1]]}], [{"name": "d", "points": [[0, 0]]}]]
)
def test_stored_json_that_is_not_lines_is_a_value_error(value):
    with pytest.raises(ValueError):
        line_specs(value)
