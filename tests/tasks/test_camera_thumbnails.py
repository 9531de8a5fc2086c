"""Which frames of a camera get a thumbnail: its object events, and the results of its
change-policy displays that show a change (at most one a second per display)."""

from __future__ import annotations

import cv2
import numpy as np

from cms.farm.desired import CameraSpec, DisplaySpec, ModelSpec
from inference.objects import PresenceEvent
from tasks.camera_thumbnails import CameraThumbnails

MODEL = ModelSpec(1, "m", "1", "0" * 64, 0.25, 0.7, 640, None)
FRAME = np.full((720, 1280, 3), 90, np.uint8)


def spec(*policies: str) -> CameraSpec:
    displays = tuple(DisplaySpec(n + 1, MODEL, None, p, 1000) for n, p in enumerate(policies))
    return CameraSpec(1, "source", displays)


def thumbs(*policies: str, enabled: bool = True) -> CameraThumbnails:
    made = CameraThumbnails(1, enabled=enabled, max_width=640)
    made.apply(spec(*policies))
    made.frame(FRAME)
    return made


def square(track_id: int | None = None, zones: tuple[str, ...] = ()) -> dict:
    obj = {"class_id": 0, "class_name": "square", "confidence": 0.9, "box": [10, 10, 90, 90]}
    if track_id is not None:
        obj |= {"track_id": track_id, "zones": list(zones)}
    return obj


def enter(track_id: int, zone: str) -> PresenceEvent:
    return PresenceEvent(
        "enter",
        f"enter:{zone}:{track_id}:1",
        track_id,
        0,
        "square",
        1.0,
        (100, 100, 300, 300),
        zone,
    )


def width_of(jpeg: bytes) -> int:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape[1]


def test_a_change_policy_display_gets_a_thumbnail_when_its_result_changes():
    camera = thumbs("change")

    first = camera.for_result(1, [square(1, ("view",))], 0.0)
    same = camera.for_result(1, [square(1, ("view",))], 2.0)  # a parked object: no change
    moved = camera.for_result(1, [square(1, ("view", "left"))], 4.0)

    assert first is not None and width_of(first) == 640
    assert same is None
    assert moved is not None


def test_other_policies_get_none():
    camera = thumbs("every", "interval")

    assert camera.for_result(1, [square()], 0.0) is None
    assert camera.for_result(2, [square()], 0.0) is None


def test_a_flickering_display_gets_at_most_one_a_second():
    camera = thumbs("change")
    made = [camera.for_result(1, [square()] * (n % 2 + 1), n * 0.1) for n in range(25)]

    assert [n for n, jpeg in enumerate(made) if jpeg] == [0, 10, 20]


def test_each_event_gets_its_objects_box_and_one_encode_serves_the_same_box():
    camera = thumbs("every", "every")

    pictures = camera.for_events({1: [enter(7, "view"), enter(7, "left")], 2: [enter(8, "view")]})

    assert set(pictures) == {(1, "enter:view:7:1"), (1, "enter:left:7:1"), (2, "enter:view:8:1")}
    assert pictures[(1, "enter:view:7:1")] is pictures[(1, "enter:left:7:1")]


def test_nothing_is_made_when_thumbnails_are_off():
    camera = thumbs("change", enabled=False)

    assert camera.for_result(1, [square()], 0.0) is None
    assert camera.for_events({1: [enter(7, "view")]}) == {}


def test_a_picture_that_fails_is_dropped_and_counted():
    camera = thumbs("change")
    camera.frame(np.zeros((0, 0, 3), np.uint8))  # nothing to encode

    assert camera.for_events({1: [enter(7, "view")]}) == {}
    assert camera.for_result(1, [{"class_name": "square"}], 0.0) is None  # no box
    assert camera.dropped == 2


def test_a_display_that_leaves_the_change_policy_is_forgotten():
    camera = thumbs("change")
    assert camera.for_result(1, [square()], 0.0) is not None
    camera.apply(spec("every"))
    camera.apply(spec("change"))

    # back under "change": its first result is a change again
    assert camera.for_result(1, [square()], 0.5) is not None
