"""Plain data of the object layer: a tracked object, a presence event, an open presence.

Times are Unix seconds of the frame (the camera runner's frame time), boxes full-frame pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inference.entities import Box, DetectedObject

EVENT_TYPES = ("enter", "leave", "cross")
DIRECTIONS = ("in", "out")


@dataclass(frozen=True, slots=True)
class TrackedObject:
    """A detection with its camera-unique track id, when the track was first seen, and its zones.

    ``zones`` are the zones the object is present in now (debounced), filled per display by
    ``DisplayPresence.update``; the tracker leaves them empty.
    """

    detection: DetectedObject
    track_id: int
    first_seen: float
    zones: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The detection's JSON form plus ``track_id``, ``first_seen`` and ``zones`` (a list)."""
        return self.detection.to_dict() | {
            "track_id": self.track_id,
            "first_seen": self.first_seen,
            "zones": list(self.zones),
        }


def _ms(t: float) -> int:
    return round(t * 1000)


def enter_key(zone: str, track_id: int, entered_at: float) -> str:
    """The idempotency key of the enter of ``track_id`` into ``zone`` at ``entered_at``."""
    return f"enter:{zone}:{track_id}:{_ms(entered_at)}"


def leave_key_for(enter_key: str) -> str:
    """The key of the one leave that closes the enter keyed ``enter_key`` (same suffix)."""
    kind, sep, rest = enter_key.partition(":")
    if kind != "enter" or not sep:
        raise ValueError(f"not an enter event key: {enter_key!r}")
    return f"leave:{rest}"


def cross_key(line: str, track_id: int, time: float) -> str:
    """The idempotency key of ``track_id`` crossing ``line`` at ``time``."""
    return f"cross:{line}:{track_id}:{_ms(time)}"


@dataclass(frozen=True, slots=True)
class PresenceEvent:
    """An object event: ``enter`` / ``leave`` a zone, or ``cross`` a line.

    ``key`` is stable for the same event (see ``enter_key``, ``leave_key_for``, ``cross_key``), so
    a receiver stores it idempotently. ``enter``/``leave`` carry ``zone`` (a leave also ``dwell_s``
    = its time - the enter's time); ``cross`` carries ``line`` and ``direction`` ("in" | "out").
    """

    type: str
    key: str
    track_id: int
    class_id: int
    class_name: str
    time: float
    box: Box
    zone: str | None = None
    dwell_s: float | None = None
    line: str | None = None
    direction: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; the fields a type does not carry are left out."""
        data: dict[str, Any] = {
            "type": self.type,
            "key": self.key,
            "track_id": self.track_id,
            "class_id": self.class_id,
            "class_name": self.class_name,
            "time": self.time,
            "box": list(self.box),
        }
        for name in ("zone", "dwell_s", "line", "direction"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data


@dataclass(frozen=True, slots=True)
class OpenPresence:
    """An enter not yet closed by its leave: what a checkpoint needs to close it later.

    The camera runner stores these (``to_dict``) so that the farm can emit the leave
    (``leave_event``) after the worker died; ``last_seen`` is when the object was last seen in
    the zone, which is the leave's time.
    """

    key: str
    track_id: int
    zone: str
    entered_at: float
    last_seen: float
    class_id: int
    class_name: str
    box: Box

    def leave_event(self) -> PresenceEvent:
        """The leave that closes this presence, at ``last_seen``."""
        return PresenceEvent(
            type="leave",
            key=leave_key_for(self.key),
            track_id=self.track_id,
            class_id=self.class_id,
            class_name=self.class_name,
            time=self.last_seen,
            box=self.box,
            zone=self.zone,
            dwell_s=max(0.0, self.last_seen - self.entered_at),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict, read back by ``from_dict``."""
        return {
            "key": self.key,
            "track_id": self.track_id,
            "zone": self.zone,
            "entered_at": self.entered_at,
            "last_seen": self.last_seen,
            "class_id": self.class_id,
            "class_name": self.class_name,
            "box": list(self.box),
        }

    @classmethod
    def from_dict(cls, data: Any) -> OpenPresence:
        """Read ``to_dict``'s form back; ValueError names the first bad field."""
        if not isinstance(data, dict):
            raise ValueError("an open presence must be a JSON object")
        checks: dict[str, type | tuple[type, ...]] = {
            "key": str,
            "track_id": int,
            "zone": str,
            "entered_at": (int, float),
            "last_seen": (int, float),
            "class_id": int,
            "class_name": str,
        }
        for name, kind in checks.items():
            value = data.get(name)
            if isinstance(value, bool) or not isinstance(value, kind):
                raise ValueError(f"open presence {name!r} is missing or of the wrong type")
        box = data.get("box")
        if not (
            isinstance(box, list | tuple)
            and len(box) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
        ):
            raise ValueError("open presence 'box' must be a list of 4 numbers")
        leave_key_for(data["key"])  # raises unless it is an enter key
        return cls(
            key=data["key"],
            track_id=data["track_id"],
            zone=data["zone"],
            entered_at=float(data["entered_at"]),
            last_seen=float(data["last_seen"]),
            class_id=data["class_id"],
            class_name=data["class_name"],
            box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
        )
