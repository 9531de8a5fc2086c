"""The object event message: one display's enter, leave or cross, from an ingest task to Django.

The second contract of the results path, next to cms.results.result_message and in the same
Redis Stream, so one consumer group carries both at least once. Imported by both ends
(tasks.publisher writes it, cms.results.processing reads it) and Django-free. The names hold
at every hop: on the stream, in ``object_event``'s ``message``, on the ObjectEvent row and
in the API (where ``time`` is an ISO time).

A stream entry is ``{ENTRY_FIELD: message.to_bytes()}``, that is ``{"e": <orjson>}``; a
result's is ``{"r": ...}``.

What each type carries (anything else is malformed):
- enter: ``zone``;                         dwell_s, line, direction are null
- leave: ``zone`` and ``dwell_s`` (>= 0);  line, direction are null
- cross: ``line`` and ``direction`` ("in" | "out"); zone, dwell_s are null

Any type may carry ``attributes``: the object's latest secondary-model results when the event
happened, ``{"<model name>": {"label", "confidence"}}`` (inference.entities.is_attributes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, TypeGuard

import orjson

from cms.results.result_message import EARLIEST, LATEST, MalformedResult
from inference.entities import is_attributes

ENTRY_FIELD = "e"

TYPES = ("enter", "leave", "cross")
DIRECTIONS = ("in", "out")
MAX_KEY = 255
MAX_NAME = 100  # a zone's, a line's or a class's name, as the ObjectEvent columns hold them

_INTEGERS = ("display_id", "camera_id", "generation", "track_id", "class_id")
# Which of the optional fields each type must have; the others must be null.
_CARRIES = {
    "enter": ("zone",),
    "leave": ("zone", "dwell_s"),
    "cross": ("line", "direction"),
}
_OPTIONAL = ("zone", "dwell_s", "line", "direction")


@dataclass(frozen=True, slots=True)
class ObjectEventMessage:
    """One object event of one display; ``key`` (unique per display) makes storing it idempotent."""

    display_id: int
    camera_id: int
    generation: int
    key: str
    type: str  # "enter" | "leave" | "cross"
    track_id: int
    class_id: int
    class_name: str
    time: float  # Unix seconds
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels of the full frame
    zone: str | None = None
    dwell_s: float | None = None
    line: str | None = None
    direction: str | None = None  # "in" | "out"
    attributes: dict[str, dict[str, Any]] | None = None

    def to_bytes(self) -> bytes:
        return orjson.dumps(self)

    @classmethod
    def from_bytes(cls, raw: bytes | str) -> ObjectEventMessage:
        """Parse and validate; raise MalformedResult with the reason."""
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise MalformedResult(f"not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise MalformedResult("the object event is not a JSON object")
        _check(data)
        values: dict[str, Any] = {name: data.get(name) for name in _FIELDS}
        values["box"] = tuple(data["box"])
        return cls(**values)

    @classmethod
    def from_entry(cls, entry: dict[bytes, bytes]) -> ObjectEventMessage:
        """The message of a stream entry; raise MalformedResult with the reason."""
        raw = entry.get(ENTRY_FIELD.encode())
        if raw is None:
            raise MalformedResult(f"not an object event entry: no {ENTRY_FIELD!r} field")
        return cls.from_bytes(raw)


def enter_key_of(leave_key: str) -> str | None:
    """The key of the enter a leave's key closes (see event_key and leave_key_for); None
    for a key of another shape."""
    parts = leave_key.split(":", 3)
    if len(parts) != 4 or parts[2] != "leave":
        return None
    camera, display, _, rest = parts
    return f"{camera}:{display}:enter:{rest}"


_FIELDS = tuple(f.name for f in fields(ObjectEventMessage))


def event_key(camera_id: int, display_id: int, presence_key: str) -> str:
    """A message's key: the tracker's event key made unique per display. The same for a
    retried XADD, and for the leave the farm sends when it closes an open presence at a
    generation change, so whichever arrives second is not stored again."""
    return f"{camera_id}:{display_id}:{presence_key}"


def _is_number(value: Any) -> TypeGuard[float]:
    return type(value) is float or type(value) is int


def _name(data: dict[str, Any], field: str) -> None:
    value = data.get(field)
    if type(value) is not str or not 0 < len(value) <= MAX_NAME:
        raise MalformedResult(f"{field!r} must be a string of 1 to {MAX_NAME} characters")


def _check(data: dict[str, Any]) -> None:
    for name in _INTEGERS:
        if type(data.get(name)) is not int:
            raise MalformedResult(f"{name!r} must be an integer")
    key = data.get("key")
    if type(key) is not str or not 0 < len(key) <= MAX_KEY:
        raise MalformedResult(f"'key' must be a string of 1 to {MAX_KEY} characters")
    kind = data.get("type")
    if kind not in TYPES:
        raise MalformedResult(f"'type' must be one of {', '.join(TYPES)}")
    _name(data, "class_name")
    moment = data.get("time")
    if not _is_number(moment):
        raise MalformedResult("'time' must be a number")
    if not EARLIEST <= moment <= LATEST:
        raise MalformedResult("'time' is out of range")
    box = data.get("box")
    if type(box) is not list or len(box) != 4 or not all(_is_number(v) for v in box):
        raise MalformedResult("'box' must be a list of 4 numbers")
    carries = _CARRIES[kind]
    for name in _OPTIONAL:
        if name not in carries and data.get(name) is not None:
            raise MalformedResult(f"{name!r} must be null for type {kind!r}")
    if "zone" in carries:
        _name(data, "zone")
    if "line" in carries:
        _name(data, "line")
    if "dwell_s" in carries:
        dwell = data.get("dwell_s")
        if not _is_number(dwell) or not (math.isfinite(dwell) and dwell >= 0):
            raise MalformedResult("'dwell_s' must be a number of seconds, 0 or more")
    if "direction" in carries and data.get("direction") not in DIRECTIONS:
        raise MalformedResult(f"'direction' must be one of {', '.join(DIRECTIONS)}")
    attributes = data.get("attributes")
    if attributes is not None and not is_attributes(attributes):
        raise MalformedResult(
            '\'attributes\' must be an object of model name -> {"label", "confidence"}'
        )
