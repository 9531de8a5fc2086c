"""Plain data of the object layer: a tracked object, a presence event, an open presence.

Times are Unix seconds of the frame (the camera runner's frame time), boxes full-frame pixels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from inference.entities import Box, Classification, DetectedObject

EVENT_TYPES = ("enter", "leave", "cross")
DIRECTIONS = ("in", "out")

Attributes = Mapping[str, Classification]
"""An object's latest secondary-model results: model name -> its classification."""

NO_ATTRIBUTES: Attributes = MappingProxyType({})
"""The attributes of an object no secondary model has classified (shared, read-only)."""


def _no_attributes() -> Attributes:
    # A factory, not a default: dataclasses refuse an unhashable default.
    return NO_ATTRIBUTES


def attributes_json(attributes: Attributes) -> dict[str, dict[str, Any]]:
    """The JSON form objects and events carry: model name -> {"label", "confidence"}
    (``inference.entities.is_attributes``)."""
    return {name: result.to_dict() for name, result in attributes.items()}


@dataclass(frozen=True, slots=True)
class TrackedObject:
    """A detection with its camera-unique track id, when the track was first seen, its zones
    and its attributes.

    ``zones`` are the zones the object is present in now (debounced), filled per display by
    ``DisplayPresence.update``; the tracker leaves them empty. ``attributes`` are the latest
    results of the display's secondary models for this track (tasks.camera_attributes fills
    them before presence, which passes them on to the objects and events it makes).
    """

    detection: DetectedObject
    track_id: int
    first_seen: float
    zones: tuple[str, ...] = ()
    attributes: Attributes = field(default_factory=_no_attributes)

    def to_dict(self) -> dict[str, Any]:
        """The detection's JSON form plus ``track_id``, ``first_seen``, ``zones`` (a list) and,
        when it has any, ``attributes`` (``attributes_json``)."""
        data = self.detection.to_dict() | {
            "track_id": self.track_id,
            "first_seen": self.first_seen,
            "zones": list(self.zones),
        }
        if self.attributes:
            data["attributes"] = attributes_json(self.attributes)
        return data


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
    Any may carry ``attributes``: the object's latest ones when the event was made.
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
    attributes: Attributes = field(default_factory=_no_attributes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; the fields a type does not carry, and empty attributes, are
        left out."""
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
        if self.attributes:
            data["attributes"] = attributes_json(self.attributes)
        return data


@dataclass(frozen=True, slots=True)
class OpenPresence:
    """An enter not yet closed by its leave: what a checkpoint needs to close it later.

    The camera runner stores these (``to_dict``) so that the farm can emit the leave
    (``leave_event``) after the worker died; ``last_seen`` is when the object was last seen in
    the zone, which is the leave's time, and ``attributes`` the object's then.
    """

    key: str
    track_id: int
    zone: str
    entered_at: float
    last_seen: float
    class_id: int
    class_name: str
    box: Box
    attributes: Attributes = field(default_factory=_no_attributes)

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
            attributes=self.attributes,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict, read back by ``from_dict``; ``attributes`` (when it has any) keep
        each result's ``class_id`` too."""
        data: dict[str, Any] = {
            "key": self.key,
            "track_id": self.track_id,
            "zone": self.zone,
            "entered_at": self.entered_at,
            "last_seen": self.last_seen,
            "class_id": self.class_id,
            "class_name": self.class_name,
            "box": list(self.box),
        }
        if self.attributes:
            data["attributes"] = {
                name: {"class_id": c.class_id, "label": c.label, "confidence": c.confidence}
                for name, c in self.attributes.items()
            }
        return data

    @classmethod
    def from_dict(cls, data: Any) -> OpenPresence:
        """Read ``to_dict``'s form back (a checkpoint from before attributes has none);
        ValueError names the first bad field."""
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
            attributes=_checkpoint_attributes(data.get("attributes")),
        )


def _checkpoint_attributes(value: Any) -> Attributes:
    """``OpenPresence.to_dict``'s attributes back as classifications (None: none)."""
    if value is None:
        return NO_ATTRIBUTES
    if not isinstance(value, dict):
        raise ValueError("open presence 'attributes' must be a JSON object")
    attributes = {}
    for name, result in value.items():
        if not (
            isinstance(result, dict)
            and type(result.get("class_id")) is int
            and isinstance(result.get("label"), str)
            and type(result.get("confidence")) in (int, float)
        ):
            raise ValueError(f"open presence attribute {name!r} is not a classification")
        attributes[str(name)] = Classification(
            result["class_id"], result["label"], float(result["confidence"])
        )
    return MappingProxyType(attributes)
