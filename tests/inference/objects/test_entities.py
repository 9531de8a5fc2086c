"""Object-layer data (inference/objects/entities.py) and track ids (ids.py)."""

from __future__ import annotations

import json

import pytest

from inference.entities import DetectedObject
from inference.objects.entities import (
    OpenPresence,
    PresenceEvent,
    TrackedObject,
    cross_key,
    enter_key,
    leave_key_for,
)
from inference.objects.ids import MAX_GENERATION, MAX_SAFE_ID, TrackIds, TrackIdsExhaustedError

CAR = DetectedObject(2, "car", 0.9, (10.0, 20.0, 110.0, 80.0))


def test_a_tracked_object_is_its_detection_plus_track_fields() -> None:
    obj = TrackedObject(CAR, 7000000001, 1700000000.25, ("view", "lane"))
    data = obj.to_dict()
    assert data == CAR.to_dict() | {
        "track_id": 7000000001,
        "first_seen": 1700000000.25,
        "zones": ["view", "lane"],
    }
    DetectedObject.check_dict(data)  # still a valid object for the results path
    json.dumps(data)


def test_a_leave_key_is_computed_from_its_enter_key() -> None:
    key = enter_key("lane", 42, 1700000000.1234)
    assert key == "enter:lane:42:1700000000123"
    assert leave_key_for(key) == "leave:lane:42:1700000000123"
    # A zone name with a colon keeps working: only the type prefix changes.
    assert leave_key_for(enter_key("a:b", 1, 2.0)) == "leave:a:b:1:2000"
    assert cross_key("door", 42, 3.5) == "cross:door:42:3500"
    with pytest.raises(ValueError, match="not an enter"):
        leave_key_for("cross:door:42:3500")


def test_an_event_dict_carries_only_its_type_s_fields() -> None:
    enter = PresenceEvent("enter", "enter:lane:1:0", 1, 2, "car", 0.0, CAR.box, zone="lane")
    assert enter.to_dict() == {
        "type": "enter",
        "key": "enter:lane:1:0",
        "track_id": 1,
        "class_id": 2,
        "class_name": "car",
        "time": 0.0,
        "box": list(CAR.box),
        "zone": "lane",
    }
    cross = PresenceEvent("cross", "k", 1, 2, "car", 1.0, CAR.box, line="door", direction="in")
    assert set(cross.to_dict()) - set(enter.to_dict()) == {"line", "direction"}
    assert "zone" not in cross.to_dict()


def test_an_open_presence_round_trips_and_closes_with_its_leave() -> None:
    key = enter_key("lane", 5, 100.0)
    open_ = OpenPresence(key, 5, "lane", 100.0, 104.5, 2, "car", CAR.box)
    again = OpenPresence.from_dict(json.loads(json.dumps(open_.to_dict())))
    assert again == open_
    leave = again.leave_event()
    assert (leave.type, leave.key, leave.time, leave.dwell_s, leave.zone) == (
        "leave",
        leave_key_for(key),
        104.5,
        4.5,
        "lane",
    )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"track_id": True}, "track_id"),
        ({"key": "leave:lane:5:100000"}, "not an enter"),
        ({"box": [1, 2, 3]}, "box"),
        ({"entered_at": "soon"}, "entered_at"),
    ],
)
def test_a_bad_checkpoint_entry_is_refused_naming_the_field(
    change: dict[str, object], error: str
) -> None:
    data = OpenPresence(enter_key("lane", 5, 100.0), 5, "lane", 100.0, 101.0, 2, "car", CAR.box)
    with pytest.raises(ValueError, match=error):
        OpenPresence.from_dict(data.to_dict() | change)


def test_track_ids_come_from_the_generation() -> None:
    ids = TrackIds(7)
    assert [ids.next(), ids.next(), ids.next()] == [7000000001, 7000000002, 7000000003]
    assert ids.issued == 3
    # A restart or failover gets a new generation: its ids never meet the old ones.
    assert TrackIds(8).next() > 7 * 10**9 + 10**9 - 1


def test_track_ids_stay_below_javascript_s_safe_integer() -> None:
    ids = TrackIds(MAX_GENERATION)
    ids._next = 10**9 - 1  # the last id of the highest generation
    assert ids.next() <= MAX_SAFE_ID
    with pytest.raises(TrackIdsExhaustedError):
        ids.next()
    with pytest.raises(ValueError, match="generation"):
        TrackIds(MAX_GENERATION + 1)
    with pytest.raises(ValueError, match="generation"):
        TrackIds(-1)
    with pytest.raises(TypeError):
        TrackIds(True)


def test_two_allocators_never_share_a_counter() -> None:
    a, b = TrackIds(1), TrackIds(1)
    assert a.next() == b.next() == 1000000001  # independent objects, nothing class-level
    a.next()
    assert b.next() == 1000000002


def test_a_tracked_object_carries_its_attributes_in_the_objects_json_form() -> None:
    from inference.entities import Classification, is_attributes

    obj = TrackedObject(CAR, 1, 2.0, ("view",), {"colour": Classification(3, "red", 0.75)})
    data = obj.to_dict()

    assert data["attributes"] == {"colour": {"label": "red", "confidence": 0.75}}
    assert is_attributes(data["attributes"])
    DetectedObject.check_dict(data)
    assert "attributes" not in TrackedObject(CAR, 1, 2.0).to_dict()  # none: left out


def test_an_open_presence_keeps_its_attributes_and_reads_old_checkpoints() -> None:
    from inference.entities import Classification

    shade = {"shade": Classification(1, "dark", 0.8)}
    opened = OpenPresence(enter_key("view", 4, 1.0), 4, "view", 1.0, 3.0, 2, "car", CAR.box, shade)
    data = json.loads(json.dumps(opened.to_dict()))

    assert OpenPresence.from_dict(data) == opened
    leave = opened.leave_event()
    assert leave.attributes == shade
    assert leave.to_dict()["attributes"] == {"shade": {"label": "dark", "confidence": 0.8}}
    del data["attributes"]  # a checkpoint written before attributes existed
    assert not OpenPresence.from_dict(data).attributes
    with pytest.raises(ValueError, match="attribute 'shade'"):
        OpenPresence.from_dict(data | {"attributes": {"shade": {"label": "dark"}}})
