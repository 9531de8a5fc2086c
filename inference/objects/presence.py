"""A display's debounced view of its camera's tracks: who is in which zone, who crossed which line.

Two small state machines per track, both driven by the track's anchor (``geometry.anchor``):

Zone presence, per (track, zone)::

    OUTSIDE --anchor in zone--> PENDING --in zone for min_seen_s--> PRESENT   (emits enter)
    PENDING --anchor seen outside, or track gone > max_lost_s--> OUTSIDE      (nothing)
    PRESENT --anchor outside, or track not seen--> LEAVING
    LEAVING --anchor in zone again--> PRESENT                                  (nothing)
    LEAVING --not in zone for max_lost_s--> OUTSIDE                            (emits leave)

The enter's time is when the anchor was first in the zone (the PENDING start); the leave's time
is when it was last seen in the zone, and ``dwell_s`` the difference. An object counts as in the
zone (``TrackedObject.zones``, ``counts``) while PRESENT or LEAVING, so a box jittering on the
edge of a zone changes neither. Every enter gets exactly one leave: from the machine, or from
``close`` (or, after a crash, from the farm reading ``open_presences``' checkpoint).

Line crossing, per (track, line)::

    SETTLED(side) --anchor moves across the segment--> CROSSING(new side, moment)
    CROSSING --anchor back on the old side--> SETTLED(old side)                (nothing)
    CROSSING --on the new side min_seen_s after the moment--> SETTLED(new)     (emits cross)
    SETTLED(side) --anchor reaches the other side around the segment's end--> SETTLED(other)

The cross's time is the moment the anchor's movement met the line (interpolated between the two
observations). Observations exactly on the line are skipped. A track that ends while CROSSING
makes no cross (it could be jitter); see docs/objects.md.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from inference.entities import Box, DetectedObject
from inference.objects.entities import (
    NO_ATTRIBUTES,
    Attributes,
    OpenPresence,
    PresenceEvent,
    TrackedObject,
    cross_key,
    enter_key,
    leave_key_for,
)
from inference.objects.geometry import Line, Point, Zone, anchor, crossing_fraction, direction_of


class ZoneState(enum.Enum):
    OUTSIDE = "outside"
    PENDING = "pending"
    PRESENT = "present"
    LEAVING = "leaving"


ZONE_TRANSITIONS: dict[ZoneState, frozenset[ZoneState]] = {
    ZoneState.OUTSIDE: frozenset({ZoneState.PENDING}),
    ZoneState.PENDING: frozenset({ZoneState.OUTSIDE, ZoneState.PRESENT}),
    ZoneState.PRESENT: frozenset({ZoneState.LEAVING}),
    ZoneState.LEAVING: frozenset({ZoneState.PRESENT, ZoneState.OUTSIDE}),
}
"""The allowed transitions of ``ZonePresence`` (see the module doc); anything else is a bug."""

IN_ZONE = frozenset({ZoneState.PRESENT, ZoneState.LEAVING})
"""States in which an object counts as in the zone."""


class ZonePresence:
    """The presence state machine of one track in one zone (see the module doc)."""

    __slots__ = (
        "attributes",
        "box",
        "class_id",
        "class_name",
        "entered_at",
        "key",
        "last_seen",
        "max_lost_s",
        "min_seen_s",
        "since",
        "state",
        "track_id",
        "zone",
    )

    def __init__(self, zone: str, track_id: int, *, min_seen_s: float, max_lost_s: float) -> None:
        self.zone = zone
        self.track_id = track_id
        self.min_seen_s = min_seen_s
        self.max_lost_s = max_lost_s
        self.state = ZoneState.OUTSIDE
        self.since = 0.0  # when the anchor was first in the zone (PENDING start)
        self.entered_at = 0.0
        self.last_seen = 0.0  # the last time the anchor was seen in the zone
        self.key = ""
        self.class_id = 0
        self.class_name = ""
        self.box: Box = (0.0, 0.0, 0.0, 0.0)
        self.attributes: Attributes = NO_ATTRIBUTES  # the object's when last seen in the zone

    def _go(self, state: ZoneState) -> None:
        if state not in ZONE_TRANSITIONS[self.state]:
            raise RuntimeError(f"zone presence: {self.state.value} -> {state.value} is not allowed")
        self.state = state

    def observe(
        self,
        inside: bool,
        t: float,
        detection: DetectedObject,
        attributes: Attributes = NO_ATTRIBUTES,
    ) -> PresenceEvent | None:
        """The track was seen at ``t``, its anchor inside the zone or not, with its latest
        ``attributes``; maybe an event (carrying them)."""
        if not inside:
            return self.absent(t, seen_outside=True)
        self.last_seen = t
        self.box = detection.box
        self.attributes = attributes
        if self.state is ZoneState.OUTSIDE:
            self._go(ZoneState.PENDING)
            self.since = t
        if self.state is ZoneState.LEAVING:
            self._go(ZoneState.PRESENT)
        elif self.state is ZoneState.PENDING and t - self.since >= self.min_seen_s:
            self._go(ZoneState.PRESENT)
            self.entered_at = self.since
            self.key = enter_key(self.zone, self.track_id, self.entered_at)
            self.class_id, self.class_name = detection.class_id, detection.class_name
            return self._event("enter", self.entered_at, self.key)
        return None

    def absent(self, t: float, *, seen_outside: bool = False) -> PresenceEvent | None:
        """At ``t`` the anchor was seen outside the zone, or the track was not seen at all."""
        gone = seen_outside or t - self.last_seen > self.max_lost_s
        if self.state is ZoneState.PENDING and gone:
            self._go(ZoneState.OUTSIDE)
        elif self.state is ZoneState.PRESENT:
            self._go(ZoneState.LEAVING)
        if self.state is ZoneState.LEAVING and t - self.last_seen >= self.max_lost_s:
            return self.close(None)
        return None

    def close(self, at: float | None) -> PresenceEvent | None:
        """End it now: the leave of an open enter, at its last sighting but not after ``at``."""
        if self.state not in IN_ZONE:
            if self.state is ZoneState.PENDING:
                self._go(ZoneState.OUTSIDE)
            return None
        if self.state is ZoneState.PRESENT:
            self._go(ZoneState.LEAVING)
        self._go(ZoneState.OUTSIDE)
        left_at = self.last_seen if at is None else max(self.entered_at, min(self.last_seen, at))
        return self._event(
            "leave", left_at, leave_key_for(self.key), dwell_s=left_at - self.entered_at
        )

    def _event(
        self, kind: str, t: float, key: str, *, dwell_s: float | None = None
    ) -> PresenceEvent:
        return PresenceEvent(
            type=kind,
            key=key,
            track_id=self.track_id,
            class_id=self.class_id,
            class_name=self.class_name,
            time=t,
            box=self.box,
            zone=self.zone,
            dwell_s=dwell_s,
            attributes=self.attributes,
        )

    def snapshot(self) -> OpenPresence:
        """This open presence as a checkpoint entry (only while in the zone)."""
        return OpenPresence(
            key=self.key,
            track_id=self.track_id,
            zone=self.zone,
            entered_at=self.entered_at,
            last_seen=self.last_seen,
            class_id=self.class_id,
            class_name=self.class_name,
            box=self.box,
            attributes=self.attributes,
        )


@dataclass(slots=True)
class _PendingCross:
    side: int
    time: float  # the moment the movement met the line
    detection: DetectedObject


class LineCrossing:
    """The crossing state machine of one track and one line (see the module doc)."""

    __slots__ = ("_last", "_last_t", "line", "min_seen_s", "pending", "settled", "track_id")

    def __init__(self, line: Line, track_id: int, *, min_seen_s: float) -> None:
        self.line = line
        self.track_id = track_id
        self.min_seen_s = min_seen_s
        self.settled = 0  # the side the track is confirmed on; 0 before its first observation
        self.pending: _PendingCross | None = None
        self._last: Point = (0.0, 0.0)  # the last observation off the line
        self._last_t = 0.0

    def observe(
        self,
        point: Point,
        t: float,
        detection: DetectedObject,
        attributes: Attributes = NO_ATTRIBUTES,
    ) -> PresenceEvent | None:
        """The track's anchor at ``t``; a cross event once a crossing is confirmed (carrying
        the object's ``attributes`` at the confirmation)."""
        side = self.line.side(point)
        if side == 0:
            return None
        event = None
        if self.settled == 0:
            self.settled = side
        elif self.pending is None:
            if side != self.settled:
                if self.line.crossed_by(self._last, point):
                    moment = self._last_t + crossing_fraction(
                        self._last, point, *self.line.points
                    ) * (t - self._last_t)
                    self.pending = _PendingCross(side, moment, detection)
                else:  # it went around the end of the segment
                    self.settled = side
        elif side != self.pending.side:
            self.pending = None  # back where it came from: jitter on the line
        if self.pending is not None and t - self.pending.time >= self.min_seen_s:
            event = self._event(self.pending, attributes)
            self.settled, self.pending = self.pending.side, None
        self._last, self._last_t = point, t
        return event

    def _event(self, pending: _PendingCross, attributes: Attributes) -> PresenceEvent:
        d = pending.detection
        return PresenceEvent(
            type="cross",
            key=cross_key(self.line.name, self.track_id, pending.time),
            track_id=self.track_id,
            class_id=d.class_id,
            class_name=d.class_name,
            time=pending.time,
            box=d.box,
            line=self.line.name,
            direction=direction_of(self.settled),
            attributes=attributes,
        )


@dataclass(slots=True)
class _TrackState:
    last_seen: float
    zones: dict[str, ZonePresence] = field(default_factory=dict)  # only zones not OUTSIDE
    lines: dict[str, LineCrossing] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PresenceUpdate:
    """One frame's result: the objects with their (debounced) zones, and the events it made."""

    objects: list[TrackedObject]
    events: list[PresenceEvent]


class DisplayPresence:
    """One display's zones and lines over its camera's tracks; owned by the camera runner.

    ``view`` is the display's implicit zone (``geometry.view_zone``), listed first in
    ``TrackedObject.zones`` and ``counts``. Durations in seconds of frame time. Time moves only
    with ``update``: while a stream is down, ``update([], now)`` lets presences run out and
    leave (or ``close`` ends them at once).
    """

    def __init__(
        self,
        zones: Sequence[Zone],
        lines: Sequence[Line],
        view: Zone,
        *,
        min_seen_s: float = 0.5,
        max_lost_s: float = 2.0,
    ) -> None:
        if min_seen_s < 0 or max_lost_s < 0:
            raise ValueError("min_seen_s and max_lost_s must not be negative")
        self.zones: tuple[Zone, ...] = (view, *zones)
        names = [z.name for z in self.zones]
        if len(set(names)) != len(names):
            raise ValueError(f"zone names must be unique, got {names}")
        self.lines = tuple(lines)
        self.min_seen_s = min_seen_s
        self.max_lost_s = max_lost_s
        self._tracks: dict[int, _TrackState] = {}

    def update(self, objects: Sequence[TrackedObject], frame_time: float) -> PresenceUpdate:
        """Take one frame's tracked objects; return them with their zones, and the new events."""
        t = frame_time
        events: list[PresenceEvent] = []
        out: list[TrackedObject] = []
        seen: set[int] = set()
        for obj in objects:
            if obj.track_id in seen:
                continue
            seen.add(obj.track_id)
            state = self._tracks.get(obj.track_id)
            if state is None:
                state = self._tracks[obj.track_id] = _TrackState(last_seen=t)
            state.last_seen = t
            point = anchor(obj.detection.box)
            attributes = obj.attributes
            in_zones: list[str] = []
            for zone in self.zones:
                inside = zone.contains(point)
                presence = state.zones.get(zone.name)
                if presence is None:
                    if not inside:
                        continue
                    presence = state.zones[zone.name] = ZonePresence(
                        zone.name,
                        obj.track_id,
                        min_seen_s=self.min_seen_s,
                        max_lost_s=self.max_lost_s,
                    )
                if (event := presence.observe(inside, t, obj.detection, attributes)) is not None:
                    events.append(event)
                zone_state = presence.state
                if zone_state is ZoneState.OUTSIDE:
                    del state.zones[zone.name]
                elif zone_state is ZoneState.PRESENT or zone_state is ZoneState.LEAVING:  # IN_ZONE
                    in_zones.append(zone.name)
            for line in self.lines:
                crossing = state.lines.get(line.name)
                if crossing is None:
                    crossing = state.lines[line.name] = LineCrossing(
                        line, obj.track_id, min_seen_s=self.min_seen_s
                    )
                if (event := crossing.observe(point, t, obj.detection, attributes)) is not None:
                    events.append(event)
            # TrackedObject's fields, built directly: dataclasses.replace costs 3x as much.
            out.append(
                TrackedObject(
                    obj.detection, obj.track_id, obj.first_seen, tuple(in_zones), attributes
                )
            )
        for track_id in [tid for tid in self._tracks if tid not in seen]:
            state = self._tracks[track_id]
            for name in list(state.zones):
                presence = state.zones[name]
                if (event := presence.absent(t)) is not None:
                    events.append(event)
                if presence.state is ZoneState.OUTSIDE:
                    del state.zones[name]
            if not state.zones and t - state.last_seen > self.max_lost_s:
                del self._tracks[track_id]
        events.sort(key=lambda e: e.time)
        return PresenceUpdate(out, events)

    def close(self, at: float | None = None) -> list[PresenceEvent]:
        """End every presence: a leave for each open enter (at its last sighting, not after ``at``).

        Forgets every track; objects seen afterwards enter again (with new keys).
        """
        events = [
            event
            for state in self._tracks.values()
            for presence in state.zones.values()
            if (event := presence.close(at)) is not None
        ]
        self._tracks.clear()
        events.sort(key=lambda e: e.time)
        return events

    def counts(self) -> dict[str, dict[str, int]]:
        """Objects in each zone now, by class name; every zone is listed, ``view`` first."""
        counts: dict[str, Counter[str]] = {zone.name: Counter() for zone in self.zones}
        for state in self._tracks.values():
            for name, presence in state.zones.items():
                if presence.state in IN_ZONE:
                    counts[name][presence.class_name] += 1
        return {name: dict(by_class) for name, by_class in counts.items()}

    def open_presences(self) -> list[OpenPresence]:
        """Every enter not yet left, for the camera runner's checkpoint."""
        return [
            presence.snapshot()
            for state in self._tracks.values()
            for presence in state.zones.values()
            if presence.state in IN_ZONE
        ]
