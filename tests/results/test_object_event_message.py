"""The object event message's contract: one encoding, strict validation per event type."""

from __future__ import annotations

import orjson
import pytest

from cms.results import result_message
from cms.results.object_event_message import ENTRY_FIELD, ObjectEventMessage
from cms.results.processing import parse_entry
from cms.results.result_message import MalformedResult, ResultMessage

COMMON = {
    "display_id": 1,
    "camera_id": 2,
    "generation": 3,
    "track_id": 30000000017,
    "class_id": 2,
    "class_name": "car",
    "time": 1_700_000_000.5,
    "box": [1.0, 2.0, 3.0, 4.5],
}
ENTER = {**COMMON, "key": "2:1:enter:lane:17:1700000000500", "type": "enter", "zone": "lane"}
LEAVE = {**ENTER, "key": "2:1:leave:lane:17:1700000000500", "type": "leave", "dwell_s": 2.5}
CROSS = {
    **COMMON,
    "key": "2:1:cross:door:17:1700000000500",
    "type": "cross",
    "line": "door",
    "direction": "out",
}


def wire(data):
    return orjson.dumps(data)


@pytest.mark.parametrize("data", [ENTER, LEAVE, CROSS])
def test_each_type_round_trips_through_bytes_and_a_stream_entry(data):
    message = ObjectEventMessage.from_bytes(wire(data))

    assert message.box == (1.0, 2.0, 3.0, 4.5)
    assert ObjectEventMessage.from_bytes(message.to_bytes()) == message
    assert ObjectEventMessage.from_entry({ENTRY_FIELD.encode(): message.to_bytes()}) == message
    full = {"zone": None, "dwell_s": None, "line": None, "direction": None, "attributes": None}
    full |= data
    assert orjson.loads(message.to_bytes()) == full


@pytest.mark.parametrize(
    "data, reason",
    [
        ({**ENTER, "type": "park"}, "'type' must be one of enter, leave, cross"),
        ({**ENTER, "type": None}, "'type'"),
        ({**ENTER, "zone": None}, "'zone' must be a string"),
        ({**ENTER, "zone": ""}, "'zone' must be a string"),
        ({**ENTER, "zone": "z" * 101}, "'zone' must be a string"),
        ({**ENTER, "dwell_s": 1.0}, "'dwell_s' must be null for type 'enter'"),
        ({**ENTER, "line": "door"}, "'line' must be null for type 'enter'"),
        ({**LEAVE, "dwell_s": None}, "'dwell_s' must be a number"),
        ({**LEAVE, "dwell_s": -1}, "'dwell_s' must be a number"),
        ({**LEAVE, "dwell_s": "2"}, "'dwell_s' must be a number"),
        ({**LEAVE, "direction": "in"}, "'direction' must be null for type 'leave'"),
        ({**CROSS, "line": None}, "'line' must be a string"),
        ({**CROSS, "direction": None}, "'direction' must be one of in, out"),
        ({**CROSS, "direction": "up"}, "'direction' must be one of in, out"),
        ({**CROSS, "zone": "lane"}, "'zone' must be null for type 'cross'"),
        ({**CROSS, "dwell_s": 0}, "'dwell_s' must be null for type 'cross'"),
        ({**ENTER, "track_id": "17"}, "'track_id' must be an integer"),
        ({**ENTER, "track_id": True}, "'track_id' must be an integer"),
        ({**ENTER, "generation": 1.0}, "'generation' must be an integer"),
        ({**ENTER, "display_id": None}, "'display_id' must be an integer"),
        ({**ENTER, "key": ""}, "'key' must be a string"),
        ({**ENTER, "key": "k" * 256}, "'key' must be a string"),
        ({**ENTER, "class_name": 3}, "'class_name' must be a string"),
        ({**ENTER, "time": "now"}, "'time' must be a number"),
        ({**ENTER, "time": 1e300}, "'time' is out of range"),
        ({**ENTER, "box": [1, 2, 3]}, "'box' must be a list of 4 numbers"),
        ({**ENTER, "box": [1, 2, 3, "4"]}, "'box' must be a list of 4 numbers"),
        ([ENTER], "not a JSON object"),
    ],
)
def test_malformed_events_say_why(data, reason):
    with pytest.raises(MalformedResult, match=reason):
        ObjectEventMessage.from_bytes(wire(data))


def test_not_json_and_a_missing_field_are_malformed():
    with pytest.raises(MalformedResult, match="not JSON"):
        ObjectEventMessage.from_bytes(b"{")
    with pytest.raises(MalformedResult, match="no 'e' field"):
        ObjectEventMessage.from_entry({b"r": wire(ENTER)})


def test_a_stream_entry_is_a_result_or_an_object_event():
    event = ObjectEventMessage.from_bytes(wire(ENTER))
    result = ResultMessage(
        display_id=1, camera_id=2, model_id=3, generation=3, frame_seq=1,
        frame_time=1_700_000_000.0, objects=[], key="k",
    )  # fmt: skip

    assert parse_entry({b"e": event.to_bytes()}) == event
    assert parse_entry({result_message.ENTRY_FIELD.encode(): result.to_bytes()}) == result
    with pytest.raises(MalformedResult):
        parse_entry({b"x": b"{}"})
