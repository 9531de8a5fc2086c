"""One camera's objects: a tracker per inference group, a presence per tracking display.

Owned by the camera runner (never shared between cameras): its ``TrackIds`` come from the
runner's generation, so ids never repeat for the camera. A spec change keeps what it does not
touch: a group's tracker lives as long as the group (model and crop), a display's presence as
long as its zones, lines, debounce and the frame size; whatever ends is closed with leave
events, so every enter gets exactly one leave.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from cms.farm.desired import CameraSpec, DisplaySpec, InferenceGroup, inference_groups
from inference import DetectedObject
from inference.objects import (
    DisplayPresence,
    Line,
    OpenPresence,
    PresenceEvent,
    PresenceUpdate,
    TrackedObject,
    TrackIds,
    Zone,
    view_zone,
)
from inference.objects.tracker import CameraTracker, TrackerParams

log = logging.getLogger(__name__)

GroupKey = tuple[object, tuple[int, int, int, int] | None]
FrameSize = tuple[int, int]


def group_key(group: InferenceGroup) -> GroupKey:
    """What a group's tracker depends on: its model (and options) and its crop."""
    return (group.model, group.crop)


@dataclass(frozen=True)
class _PresenceConfig:
    """What a display's presence depends on; a change closes it and starts a new one."""

    zones: tuple[Zone, ...]
    lines: tuple[Line, ...]
    crop: tuple[int, int, int, int] | None
    min_seen_s: float
    max_lost_s: float
    frame_size: FrameSize

    @classmethod
    def of(cls, display: DisplaySpec, frame_size: FrameSize) -> _PresenceConfig:
        return cls(
            zones=tuple(Zone(z.name, z.polygon) for z in display.zones),
            lines=tuple(Line(ln.name, ln.points) for ln in display.lines),
            crop=display.crop,
            min_seen_s=display.min_seen_s,
            max_lost_s=display.max_lost_s,
            frame_size=frame_size,
        )

    def presence(self) -> DisplayPresence:
        return DisplayPresence(
            self.zones,
            self.lines,
            view_zone(self.crop, self.frame_size),
            min_seen_s=self.min_seen_s,
            max_lost_s=self.max_lost_s,
        )


class CameraObjects:
    """Tracks and presences of one camera; every method returns the events it made per display."""

    def __init__(self, generation: int) -> None:
        self.ids = TrackIds(generation)
        self._displays: dict[int, DisplaySpec] = {}
        self._trackers: dict[GroupKey, CameraTracker] = {}
        self._presences: dict[int, tuple[_PresenceConfig, DisplayPresence]] = {}
        self._frame_size: FrameSize | None = None

    def apply(self, spec: CameraSpec) -> dict[int, list[PresenceEvent]]:
        """Take a new spec: keep the trackers of unchanged groups; close what ended."""
        self._displays = {d.id: d for d in spec.displays if d.tracking}
        wanted: dict[GroupKey, float] = {}
        for group in inference_groups(spec):
            displays = [self._displays[i] for i in group.display_ids if i in self._displays]
            lost_s = [d.max_lost_s for d in displays]
            if lost_s:
                # One tracker serves the group's displays: it keeps a lost track for the
                # longest any of them waits before a leave.
                wanted[group_key(group)] = max(lost_s)
        for key in [k for k in self._trackers if k not in wanted]:
            del self._trackers[key]
        for key, max_lost_s in wanted.items():
            tracker = self._trackers.get(key)
            if tracker is None or tracker.params.max_lost_s != max_lost_s:
                # A new lost-track buffer means a new tracker; its tracks get new ids.
                self._trackers[key] = CameraTracker(
                    self.ids, params=TrackerParams(max_lost_s=max_lost_s)
                )
        return self._sync_presences()

    def tracks(self, group: InferenceGroup) -> bool:
        """Whether any of the group's displays tracks its objects."""
        return group_key(group) in self._trackers

    def tracking(self, display_id: int) -> bool:
        """Whether the display tracks objects (its results carry track ids and zones)."""
        return display_id in self._presences

    def track(
        self, group: InferenceGroup, objects: Sequence[DetectedObject], frame_time: float
    ) -> list[TrackedObject]:
        """The group's detections of one frame through the group's tracker."""
        return self._trackers[group_key(group)].update(objects, frame_time)

    def frame(self, frame_size: FrameSize) -> dict[int, list[PresenceEvent]]:
        """Take a frame's size before its objects: presences start once it is known, and a
        camera that changed resolution starts over (its open presences leave)."""
        if frame_size == self._frame_size:
            return {}
        self._frame_size = frame_size
        return self._sync_presences()

    def present(
        self, display_id: int, tracked: Sequence[TrackedObject], frame_time: float
    ) -> PresenceUpdate:
        """The display's zones and events for one frame of its group's tracked objects."""
        return self._presences[display_id][1].update(tracked, frame_time)

    def tick(self, now: float) -> dict[int, list[PresenceEvent]]:
        """No frame came: let time pass, so objects of a stalled stream leave after max_lost_s."""
        events = {}
        for display_id, (_, presence) in self._presences.items():
            if made := presence.update((), now).events:
                events[display_id] = made
        return events

    def close(self, at: float | None = None) -> dict[int, list[PresenceEvent]]:
        """End every presence (the runner stops): a leave for each open enter."""
        events = {i: made for i, (_, p) in self._presences.items() if (made := p.close(at))}
        self._presences.clear()
        self._trackers.clear()
        return events

    def open_presences(self) -> dict[int, list[OpenPresence]]:
        """Every open enter by display, for the checkpoint the farm closes them from."""
        presences = self._presences.items()
        return {i: opened for i, (_, p) in presences if (opened := p.open_presences())}

    def counts(self, display_id: int) -> dict[str, dict[str, int]] | None:
        """The display's objects per zone and class now; None when it does not track."""
        entry = self._presences.get(display_id)
        return entry[1].counts() if entry else None

    def _sync_presences(self) -> dict[int, list[PresenceEvent]]:
        """Close presences whose display or configuration went; start the missing ones."""
        events: dict[int, list[PresenceEvent]] = {}
        for display_id, (config, presence) in list(self._presences.items()):
            display = self._displays.get(display_id)
            if display is None or self._frame_size is None:
                wanted = None
            else:
                wanted = _PresenceConfig.of(display, self._frame_size)
            if wanted != config:
                if closed := presence.close():
                    events[display_id] = closed
                del self._presences[display_id]
        if self._frame_size is not None:
            for display_id, display in self._displays.items():
                if display_id not in self._presences:
                    try:
                        config = _PresenceConfig.of(display, self._frame_size)
                        self._presences[display_id] = (config, config.presence())
                    except ValueError as exc:  # rows changed behind the validators' back
                        log.warning("display %s: zones or lines unusable: %s", display_id, exc)
        return events
