"""The result message's contract: one encoding, one validation, the same names at both ends."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from cms.results.result_message import ENTRY_FIELD, MalformedResult, ResultMessage
from tests.results.conftest import person
from tests.support.workers import REPO

VALID = {
    "display_id": 1,
    "camera_id": 2,
    "model_id": 3,
    "generation": 4,
    "frame_seq": 5,
    "frame_time": 1_700_000_000.25,
    "objects": [person()],
    "key": "2-4-1-1700000000250000-5",
}


def message(**changes):
    return ResultMessage(**{**VALID, **changes})


def test_a_message_round_trips_through_bytes_and_a_stream_entry():
    sent = message()

    assert ResultMessage.from_bytes(sent.to_bytes()) == sent
    assert ResultMessage.from_entry({ENTRY_FIELD.encode(): sent.to_bytes()}) == sent


def test_the_wire_carries_the_names_of_the_dataclass():
    assert orjson.loads(message().to_bytes()) == VALID


def test_the_frame_time_stays_a_float():
    assert ResultMessage.from_bytes(message().to_bytes()).frame_time == 1_700_000_000.25


def test_extra_fields_from_a_newer_worker_are_ignored():
    raw = orjson.dumps({**VALID, "added_later": True})

    assert ResultMessage.from_bytes(raw) == message()


def test_the_former_field_names_are_read():
    old = {
        "display": 1, "camera": 2, "model": 3, "generation": 4, "seq": 5,
        "time": 1_700_000_000.25, "objects": [person()], "key": VALID["key"],
    }  # fmt: skip

    assert ResultMessage.from_bytes(orjson.dumps(old)) == message()


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"display_id": "1"}, "'display_id' must be an integer"),
        ({"camera_id": None}, "'camera_id' must be an integer"),
        ({"model_id": 1.0}, "'model_id' must be an integer"),
        ({"generation": True}, "'generation' must be an integer"),
        ({"frame_seq": "5"}, "'frame_seq' must be an integer"),
        ({"frame_time": "2025-01-01"}, "'frame_time' must be a number"),
        ({"frame_time": 1e300}, "'frame_time' is out of range"),
        ({"frame_time": -1e12}, "'frame_time' is out of range"),
        ({"key": ""}, "'key' must be a string of 1 to 100 characters"),
        ({"key": "k" * 101}, "'key' must be a string of 1 to 100 characters"),
        ({"key": 7}, "'key' must be a string of 1 to 100 characters"),
        ({"objects": {}}, "'objects' must be a list of detected objects"),
        ({"objects": [person(), "car"]}, r"objects\[1\]: a detected object must be a JSON object"),
        ({"objects": [{**person(), "class_id": "0"}]}, r"objects\[0\]: 'class_id' must be"),
        ({"objects": [{**person(), "box": [1, 2, 3]}]}, r"objects\[0\]: 'box' must be a list"),
    ],
)
def test_each_malformed_field_is_refused_with_its_reason(changes, reason):
    raw = orjson.dumps({**VALID, **changes})

    with pytest.raises(MalformedResult, match=reason):
        ResultMessage.from_bytes(raw)


def test_a_missing_field_is_refused():
    raw = orjson.dumps({k: v for k, v in VALID.items() if k != "generation"})

    with pytest.raises(MalformedResult, match="'generation' must be an integer"):
        ResultMessage.from_bytes(raw)


@pytest.mark.parametrize(
    "raw, reason", [(b"not json", "not JSON"), (b"[1, 2]", "not a JSON object")]
)
def test_what_is_not_a_json_object_is_refused(raw, reason):
    with pytest.raises(MalformedResult, match=reason):
        ResultMessage.from_bytes(raw)


def test_an_entry_without_the_result_field_is_refused():
    with pytest.raises(MalformedResult, match=f"no '{ENTRY_FIELD}' field"):
        ResultMessage.from_entry({b"x": b"{}"})


def test_the_contract_imports_without_django():
    code = (
        "import sys; import cms.results.result_message; "
        "assert not [m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework')]"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_a_tracked_objects_first_seen_must_be_a_time_the_api_can_show():
    tracked = {**person(), "track_id": 7, "first_seen": 1_700_000_000.0, "zones": ["lane"]}
    assert ResultMessage.from_bytes(message(objects=[tracked]).to_bytes()).objects == [tracked]

    with pytest.raises(MalformedResult, match=r"objects\[0\]: 'first_seen' is out of range"):
        ResultMessage.from_bytes(message(objects=[{**tracked, "first_seen": 1e300}]).to_bytes())
    with pytest.raises(MalformedResult, match=r"objects\[0\]: 'zones' must be a list"):
        ResultMessage.from_bytes(message(objects=[{**tracked, "zones": "lane"}]).to_bytes())
