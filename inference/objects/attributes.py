"""When to run a secondary classify model on a tracked object: once per track, then per interval.

One ``AttributeScheduler`` serves one (inference group, secondary config) of one camera: the
displays that share both share its classifications, one per track. Each frame the camera asks
it which tracks are ``due``; it marks them requested (in flight) and the caller submits their
crops; ``finished`` takes each answer back, possibly frames later. A track is due when

- its class is one of the config's ``classes`` (None: every class),
- its box's shorter side is at least ``min_size`` pixels,
- no request of it is in flight, and
- it was never requested (as soon as the track starts) or last requested ``every_s`` or more
  ago (frame time).

So over a run a track of ``d`` seconds is requested at most ``d / every_s + 1`` times, and
never on every frame while ``every_s`` exceeds the frame interval. A failed request only ends
the flight: the track waits for its next interval, so a broken model is not hammered.

Pure logic over plain data (DeepStream's ``secondary-reinfer-interval``, in seconds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from inference.entities import Classification
from inference.objects.entities import TrackedObject

FORGET_AFTER_S = 10.0
"""A track not seen for this long ended (trackers keep a lost one for a second or two)."""


@dataclass(frozen=True, slots=True)
class AttributeRule:
    """Which tracks a secondary model classifies, and how often (cms SecondarySpec's fields)."""

    classes: tuple[int, ...] | None = None
    min_size: int = 32
    every_s: float = 2.0

    def __post_init__(self) -> None:
        if self.min_size < 0:
            raise ValueError(f"min_size must not be negative, got {self.min_size}")
        if not self.every_s >= 0:
            raise ValueError(f"every_s must not be negative, got {self.every_s}")

    def applies(self, obj: TrackedObject) -> bool:
        """Whether the object is of the rule's classes and large enough."""
        detection = obj.detection
        if self.classes is not None and detection.class_id not in self.classes:
            return False
        x1, y1, x2, y2 = detection.box
        return min(x2 - x1, y2 - y1) >= self.min_size


@dataclass(slots=True)
class _Track:
    last_seen: float
    requested_at: float | None = None
    in_flight: bool = False
    latest: Classification | None = None


class AttributeScheduler:
    """The requests and latest results of one secondary config over one group's tracks."""

    def __init__(self, rule: AttributeRule, *, forget_after_s: float = FORGET_AFTER_S) -> None:
        self.rule = rule
        self.forget_after_s = forget_after_s
        self.requests = 0  # secondary passes asked for since the start
        self._tracks: dict[int, _Track] = {}

    def due(self, objects: Sequence[TrackedObject], frame_time: float) -> list[TrackedObject]:
        """The objects of this frame to classify now; each is marked in flight (call
        ``finished`` with its answer). Tracks not seen for ``forget_after_s`` are forgotten."""
        chosen: list[TrackedObject] = []
        for obj in objects:
            track = self._tracks.get(obj.track_id)
            if track is None:
                track = self._tracks[obj.track_id] = _Track(last_seen=frame_time)
            track.last_seen = max(track.last_seen, frame_time)
            if track.in_flight or not self.rule.applies(obj):
                continue
            last = track.requested_at
            # A clock that went back (frame time < last request) must not block a track.
            if last is None or not 0 <= frame_time - last < self.rule.every_s:
                track.requested_at = frame_time
                track.in_flight = True
                chosen.append(obj)
        self.requests += len(chosen)
        self._forget(frame_time)
        return chosen

    def finished(self, track_id: int, result: Classification | None) -> None:
        """A request of ``track_id`` is back: its result, or None when it failed (the track
        keeps its previous result). An answer for a forgotten track is dropped."""
        track = self._tracks.get(track_id)
        if track is None:
            return
        track.in_flight = False
        if result is not None:
            track.latest = result

    def latest(self, track_id: int) -> Classification | None:
        """The track's latest classification, None before its first."""
        track = self._tracks.get(track_id)
        return track.latest if track is not None else None

    def results(self) -> Mapping[int, Classification]:
        """Every known track's latest classification, by track id."""
        return {i: t.latest for i, t in self._tracks.items() if t.latest is not None}

    def in_flight(self) -> int:
        """How many requests wait for their answer."""
        return sum(t.in_flight for t in self._tracks.values())

    def _forget(self, now: float) -> None:
        gone = [i for i, t in self._tracks.items() if now - t.last_seen > self.forget_after_s]
        for track_id in gone:
            del self._tracks[track_id]
