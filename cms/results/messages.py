"""A result as it travels on the Redis Stream, parsed and validated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson


class MalformedResult(ValueError):
    """A stream entry that is not a well-formed result; it goes to the dead letters."""


@dataclass(frozen=True)
class DeliveredResult:
    """One display's result for one frame, as sent with ``detection_received``."""

    message_id: str
    display_id: int
    camera_id: int
    model_id: int
    generation: int
    frame_seq: int
    frame_time: datetime
    objects: list[dict[str, Any]]
    key: str

    @property
    def signature(self) -> tuple[tuple[str, int], ...]:
        """The classes and their counts: what "changed" means for the on-change policy."""
        counts: dict[str, int] = {}
        for obj in self.objects:
            counts[obj["class_name"]] = counts.get(obj["class_name"], 0) + 1
        return tuple(sorted(counts.items()))


_INT_FIELDS = ("display", "camera", "model", "generation", "seq")


def parse_result(message_id: str, fields: dict[bytes, bytes]) -> DeliveredResult:
    """Parse a stream entry written by tasks.publisher; raise MalformedResult with the reason."""
    try:
        data = orjson.loads(fields[b"r"])
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise MalformedResult(f"not a result entry: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedResult("the result is not a JSON object")
    for name in _INT_FIELDS:
        if not isinstance(data.get(name), int) or isinstance(data.get(name), bool):
            raise MalformedResult(f"{name!r} must be an integer")
    if not isinstance(data.get("time"), int | float):
        raise MalformedResult("'time' must be a number")
    key = data.get("key")
    if not isinstance(key, str) or not 0 < len(key) <= 100:
        raise MalformedResult("'key' must be a string of 1 to 100 characters")
    objects = data.get("objects")
    if not isinstance(objects, list) or not all(_valid_object(o) for o in objects):
        raise MalformedResult("'objects' must be a list of detected objects")
    try:
        frame_time = datetime.fromtimestamp(data["time"], UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedResult("'time' is out of range") from None
    return DeliveredResult(
        message_id=message_id,
        display_id=data["display"],
        camera_id=data["camera"],
        model_id=data["model"],
        generation=data["generation"],
        frame_seq=data["seq"],
        frame_time=frame_time,
        objects=objects,
        key=key,
    )


def _valid_object(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("class_id"), int)
        and isinstance(obj.get("class_name"), str)
        and isinstance(obj.get("confidence"), int | float)
        and isinstance(obj.get("box"), list)
        and len(obj["box"]) == 4
        and all(isinstance(v, int | float) for v in obj["box"])
    )
