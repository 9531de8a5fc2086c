"""A display's zones and lines: the rules (cms.display_geometry), Display.clean(), frame size."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cms.display_geometry import MAX_ERRORS, MAX_ZONES, validate_lines, validate_zones
from cms.frame_size import record_frame_size
from cms.models import Camera
from tests.factories import make_camera, make_display

SQUARE = [[0, 0], [100, 0], [100, 100], [0, 100]]
LANE = {"name": "lane", "polygon": SQUARE}
DOOR = {"name": "door", "points": [[10, 10], [10, 90]]}


def nested(depth: int) -> object:
    value: object = []
    for _ in range(depth):
        value = [value]
    return value


# --- the pure rules ---------------------------------------------------------------------------


def test_valid_zones_and_lines_have_no_problems():
    zones = [LANE, {"name": "Drive-through 2", "polygon": [[0.5, 1], [3, 4.25], [9, 0]]}]
    assert validate_zones(zones) == []
    assert validate_zones([]) == []
    assert validate_lines([DOOR]) == []
    # Inside the frame includes its edge: a zone can cover the whole frame.
    assert validate_zones([{"name": "all", "polygon": [[0, 0], [64, 0], [64, 48]]}], (64, 48)) == []


@pytest.mark.parametrize(
    "zones, message",
    [
        (
            [LANE, {"name": "b", "polygon": [[0, 0], [1, 1]]}],
            "zones[1].polygon: needs 3 to 64 points, got 2",
        ),
        ([{"name": "b", "polygon": [[i, i] for i in range(65)]}], "needs 3 to 64 points, got 65"),
        ([LANE, {**LANE}], "zones[1].name: 'lane' is already the name of zones[0]"),
        ([{"name": "view", "polygon": SQUARE}], "zones[0].name: 'view' is reserved"),
        ([{"name": "", "polygon": SQUARE}], "zones[0].name: must be 1 to 50 characters, got 0"),
        ([{"name": "x" * 51, "polygon": SQUARE}], "must be 1 to 50 characters, got 51"),
        ([{"name": "lane\n", "polygon": SQUARE}], "zones[0].name: may hold ASCII letters"),
        ([{"name": " lane", "polygon": SQUARE}], "zones[0].name: may hold ASCII letters"),
        ([{"name": 7, "polygon": SQUARE}], "zones[0].name: must be a string, got a number"),
        ([{"polygon": SQUARE}], "zones[0].name: required"),
        ([{"name": "a"}], "zones[0].polygon: required"),
        ([{**LANE, "color": "red"}], "zones[0]: unknown key(s) 'color'"),
        ([["lane", SQUARE]], "zones[0]: must be an object with name and polygon, got a list"),
        ({"lane": SQUARE}, "zones: must be a list, got an object"),
        ("lane", "zones: must be a list, got a string"),
        (None, "zones: must be a list, got null"),
        ([{"name": "a", "polygon": "0,0 1,1 2,2"}], "zones[0].polygon: must be a list of [x, y]"),
        ([{"name": "a", "polygon": [[0, 0], [1, 1], [2]]}], "zones[0].polygon[2]: must be [x, y]"),
        ([{"name": "a", "polygon": [[0, 0], [1, 1], [True, 2]]}], "got a boolean"),
        ([{"name": "a", "polygon": [[0, 0], [1, 1], ["2", 2]]}], "numbers, got a string"),
        ([{"name": "a", "polygon": [[0, 0], [1, 1], [None, 2]]}], "numbers, got null"),
        ([{"name": "a", "polygon": [[0, 0], [1, 1], [-1, 2]]}], "x and y must be >= 0"),
        ([{"name": "a", "polygon": [[0, 0], [1, 1], [float("nan"), 2]]}], "not NaN"),
        ([{"name": "a", "polygon": [[0, 0], [1, 1], [float("inf"), 2]]}], "at most 100000"),
        ([{"name": "a", "polygon": [[0, 0], [1, 1], [10**400, 2]]}], "must be at most 100000"),
        ([{"name": "a", "polygon": nested(50)}], "zones[0].polygon: needs 3 to 64 points, got 1"),
        ([{"name": "a", "polygon": [nested(50)] * 3}], "zones[0].polygon[0]: must be [x, y]"),
        ([LANE] * (MAX_ZONES + 1), f"zones: at most {MAX_ZONES} zones, got {MAX_ZONES + 1}"),
    ],
)
def test_bad_zones_are_named_by_item_and_field(zones, message):
    problems = validate_zones(zones)
    assert any(message in p for p in problems), problems


def test_points_outside_a_known_frame_are_refused():
    zone = {"name": "a", "polygon": [[0, 0], [1920, 0], [1921, 1080]]}
    assert validate_zones([zone]) == []  # frame size not known: only >= 0

    [problem] = validate_zones([zone], (1920, 1080))

    assert problem == "zones[0].polygon[2]: [1921, 1080] is outside the camera's 1920x1080 frame"
    line = {"name": "door", "points": [[0, 0], [5, 1081]]}
    assert validate_lines([line], (1920, 1080)) == [
        "lines[0].points[1]: [5, 1081] is outside the camera's 1920x1080 frame"
    ]


@pytest.mark.parametrize(
    "lines, message",
    [
        (
            [{"name": "door", "points": [[1, 1], [1, 1]]}],
            "lines[0].points: the two points must differ",
        ),
        ([{"name": "door", "points": [[1, 1], [1.0, 1.0]]}], "the two points must differ"),
        ([{"name": "door", "points": [[1, 1]]}], "lines[0].points: needs exactly 2 points, got 1"),
        ([{"name": "d", "points": [[1, 1], [2, 2], [3, 3]]}], "needs exactly 2 points, got 3"),
        ([DOOR, DOOR], "lines[1].name: 'door' is already the name of lines[0]"),
        ([{**DOOR, "direction": "in"}], "lines[0]: unknown key(s) 'direction'"),
        ([{"name": "door", "polygon": SQUARE}], "lines[0].points: required"),
        ([{"name": "door", "points": [[1, False], [2, 2]]}], "got a boolean"),
        ([{"name": "door", "points": {"a": 1}}], "lines[0].points: must be a list of two"),
        (7, "lines: must be a list, got a number"),
    ],
)
def test_bad_lines_are_named_by_item_and_field(lines, message):
    problems = validate_lines(lines)
    assert any(message in p for p in problems), problems


def test_a_line_may_be_named_view_and_like_a_zone():
    assert validate_lines([{"name": "view", "points": [[0, 0], [1, 1]]}]) == []
    assert validate_lines([{"name": "lane", "points": [[0, 0], [1, 1]]}]) == []


def test_many_problems_are_capped_and_never_echo_the_input():
    junk = [{"name": "x" * 10_000, "polygon": [["y" * 10_000, 1]] * 3}] * 40

    problems = validate_zones(junk)

    assert len(problems) == MAX_ERRORS + 1
    assert problems[-1].startswith("... and more problems")
    assert all(len(p) < 200 for p in problems)


# --- the model ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_clean_puts_each_problem_on_its_field():
    display = make_display()
    display.zones = [LANE, {"name": "b", "polygon": [[0, 0], [1, 1]]}]
    display.lines = [{"name": "door", "points": [[1, 1], [1, 1]]}]

    with pytest.raises(ValidationError) as caught:
        display.full_clean()

    assert caught.value.message_dict == {
        "zones": ["zones[1].polygon: needs 3 to 64 points, got 2"],
        "lines": ["lines[0].points: the two points must differ"],
    }


@pytest.mark.django_db
def test_clean_reports_zones_with_other_problems_at_once():
    display = make_display()
    display.crop_x1, display.crop_y1, display.crop_x2, display.crop_y2 = 50, 0, 10, 10
    display.zones = "lane"

    with pytest.raises(ValidationError) as caught:
        display.full_clean()

    assert set(caught.value.message_dict) == {"crop_x2", "zones"}


@pytest.mark.django_db
def test_clean_checks_points_against_the_cameras_frame_once_known():
    display = make_display()
    display.zones = [{"name": "lane", "polygon": [[0, 0], [1000, 0], [1000, 700]]}]
    display.full_clean()  # frame size not known yet

    record_frame_size(display.camera_id, 640, 480)
    display.camera.refresh_from_db()

    with pytest.raises(ValidationError) as caught:
        display.full_clean()
    assert caught.value.message_dict["zones"] == [
        "zones[0].polygon[1]: [1000, 0] is outside the camera's 640x480 frame",
        "zones[0].polygon[2]: [1000, 700] is outside the camera's 640x480 frame",
    ]


@pytest.mark.django_db
def test_a_crop_does_not_restrict_zones():
    display = make_display(crop_x1=0, crop_y1=0, crop_x2=100, crop_y2=100)
    display.zones = [{"name": "lane", "polygon": [[200, 200], [300, 200], [300, 300]]}]
    display.full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value",
    [("min_seen_s", 0), ("min_seen_s", 60.5), ("max_lost_s", -1), ("max_lost_s", 601)],
)
def test_debounce_seconds_are_in_range(field, value):
    display = make_display()
    setattr(display, field, value)
    with pytest.raises(ValidationError) as caught:
        display.full_clean()
    assert list(caught.value.message_dict) == [field]


@pytest.mark.django_db
def test_defaults():
    display = make_display()
    assert (display.tracking, display.zones, display.lines) == (True, [], [])
    assert (display.min_seen_s, display.max_lost_s) == (0.5, 2.0)


# --- the frame size -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_record_frame_size_writes_only_changes_and_does_not_touch_updated():
    camera = make_camera()
    updated = camera.updated

    assert record_frame_size(camera.pk, 1280, 720) is True
    assert record_frame_size(camera.pk, 1280, 720) is False
    assert record_frame_size(camera.pk, 1920, 1080) is True

    camera.refresh_from_db()
    assert camera.frame_size == (1920, 1080)
    assert camera.updated == updated
    assert record_frame_size(camera.pk + 1000, 1, 1) is False  # no such camera: nothing


@pytest.mark.django_db
def test_record_frame_size_sends_no_reconcile(django_capture_on_commit_callbacks):
    camera = make_camera()
    with django_capture_on_commit_callbacks() as callbacks:
        record_frame_size(camera.pk, 640, 480)
    assert callbacks == []
    assert Camera.objects.get(pk=camera.pk).frame_size == (640, 480)


@pytest.mark.parametrize("width, height", [(0, 10), (10, -1), (True, 10), (1.5, 10), (10**6, 10)])
def test_record_frame_size_refuses_what_is_not_a_size(width, height):
    with pytest.raises(ValueError, match="A frame size is two integers"):
        record_frame_size(1, width, height)
