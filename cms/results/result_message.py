"""The result message: one display's detections for one frame, from an ingest task to Django.

The one contract of the results path, imported by both ends (tasks.publisher writes it,
cms.results.processing reads it) and Django-free. The same names hold at every hop: on
the stream, in ``detection_received``'s ``result``, and (frame_seq, frame_time, objects)
in the API; only the Detection row stores ``objects`` as ``detected_objects``
(``Detection.objects`` is the manager). The frame time stays a float (Unix seconds)
until it is stored.

A stream entry is ``{ENTRY_FIELD: message.to_bytes()}``, that is ``{"r": <orjson>}``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import orjson

from inference.entities import DetectedObject

ENTRY_FIELD = "r"

_INTEGERS = ("display_id", "camera_id", "model_id", "generation", "frame_seq")
# What datetime (hence the Detection row, and an object's first_seen in the API) can hold.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC).timestamp()
LATEST = datetime(9999, 12, 30, tzinfo=UTC).timestamp()
# Entries written before the names were unified (still in the stream or in dead letters
# at an upgrade): read under their new names.
_OLD_NAMES = {
    "display": "display_id",
    "camera": "camera_id",
    "model": "model_id",
    "seq": "frame_seq",
    "time": "frame_time",
}


class MalformedResult(ValueError):
    """Not a well-formed result message (the reason says why); it goes to the dead letters."""


@dataclass(frozen=True, slots=True)
class ResultMessage:
    """One display's result for one frame; ``key`` makes storing it idempotent."""

    display_id: int
    camera_id: int
    model_id: int
    generation: int
    frame_seq: int
    frame_time: float  # Unix seconds
    objects: list[dict[str, Any]]  # DetectedObject.to_dict() each
    key: str

    def to_bytes(self) -> bytes:
        return orjson.dumps(self)

    @classmethod
    def from_bytes(cls, raw: bytes | str) -> ResultMessage:
        """Parse and validate; raise MalformedResult with the reason."""
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise MalformedResult(f"not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise MalformedResult("the result is not a JSON object")
        if "frame_seq" not in data and "seq" in data:
            data = {_OLD_NAMES.get(name, name): value for name, value in data.items()}
        _check(data)
        return cls(**{name: data[name] for name in _FIELDS})

    @classmethod
    def from_entry(cls, entry: dict[bytes, bytes]) -> ResultMessage:
        """The message of a stream entry; raise MalformedResult with the reason."""
        raw = entry.get(ENTRY_FIELD.encode())
        if raw is None:
            raise MalformedResult(f"not a result entry: no {ENTRY_FIELD!r} field")
        return cls.from_bytes(raw)


_FIELDS = tuple(f.name for f in fields(ResultMessage))


def _check(data: dict[str, Any]) -> None:
    for name in _INTEGERS:
        value = data.get(name)
        if type(value) is not int:
            raise MalformedResult(f"{name!r} must be an integer")
    frame_time = data.get("frame_time")
    if type(frame_time) is not float and type(frame_time) is not int:
        raise MalformedResult("'frame_time' must be a number")
    if not EARLIEST <= frame_time <= LATEST:
        raise MalformedResult("'frame_time' is out of range")
    key = data.get("key")
    if type(key) is not str or not 0 < len(key) <= 100:
        raise MalformedResult("'key' must be a string of 1 to 100 characters")
    objects = data.get("objects")
    if type(objects) is not list:
        raise MalformedResult("'objects' must be a list of detected objects")
    for index, obj in enumerate(objects):
        try:
            DetectedObject.check_dict(obj)
        except ValueError as exc:
            raise MalformedResult(f"objects[{index}]: {exc}") from None
        first_seen = obj.get("first_seen")
        if first_seen is not None and not EARLIEST <= first_seen <= LATEST:
            raise MalformedResult(f"objects[{index}]: 'first_seen' is out of range")
