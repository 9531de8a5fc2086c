"""One camera's event thumbnails: which of its frames get a picture, and the pictures.

Owned by the camera runner. A frame gets pictures only when it made object events, or when
a ``change``-policy display's result on it shows a change (cms.results.signature: the same
rule the results consumer delivers by), so the worker encodes a few JPEGs an event, never
one a frame. Whatever goes wrong here is logged and the picture dropped: an event or a
result never waits on, nor is lost for, its thumbnail.

A result's thumbnail is made at most once a DETECTION_INTERVAL_S per display: a detector
that flickers under the ``change`` policy changes on every frame, and each picture costs
Redis memory until the consumer takes it and disk for SIGHTLINE_THUMBNAIL_DAYS after.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from cms.farm.desired import CameraSpec
from cms.results.signature import Signature, signature
from inference.objects import PresenceEvent
from tasks.thumbnail_image import Drawn, FrameThumbnails

log = logging.getLogger(__name__)

CHANGE_POLICY = "change"  # cms.models.Display.Policy.CHANGE, without the models
DETECTION_INTERVAL_S = 1.0

EventThumbnails = dict[tuple[int, str], bytes]  # (display id, the event's key) -> JPEG


class CameraThumbnails:
    def __init__(self, camera_id: int, *, enabled: bool, max_width: int) -> None:
        self.camera_id = camera_id
        self.enabled = enabled
        self.max_width = max_width
        self._change_displays: frozenset[int] = frozenset()
        self._signatures: dict[int, Signature] = {}  # display -> its last published result's
        self._made_at: dict[int, float] = {}  # display -> frame time of its last picture
        self._frame: FrameThumbnails | None = None
        self.dropped = 0  # pictures that failed to be made

    def apply(self, spec: CameraSpec) -> None:
        """Learn which displays deliver on change; forget the others."""
        self._change_displays = frozenset(d.id for d in spec.displays if d.policy == CHANGE_POLICY)
        for seen in (self._signatures, self._made_at):
            for display_id in [d for d in seen if d not in self._change_displays]:
                del seen[display_id]

    def frame(self, image: np.ndarray) -> None:
        """The frame the next results and events are of (scaled only if one needs a picture)."""
        self._frame = FrameThumbnails(image, max_width=self.max_width) if self.enabled else None

    def for_result(
        self, display_id: int, objects: Sequence[dict[str, Any]], frame_time: float
    ) -> bytes | None:
        """The picture of a change-policy display's result that shows a change; else None."""
        if self._frame is None or display_id not in self._change_displays:
            return None
        shown = signature(objects)
        if self._signatures.get(display_id) == shown:
            return None
        self._signatures[display_id] = shown
        last = self._made_at.get(display_id)
        if last is not None and 0 <= frame_time - last < DETECTION_INTERVAL_S:
            return None
        self._made_at[display_id] = frame_time
        return self._picture(
            lambda: [
                Drawn(_box(o["box"]), str(o.get("class_name", "")), int(o.get("class_id", 0)))
                for o in objects
            ]
        )

    def for_events(self, events: dict[int, list[PresenceEvent]]) -> EventThumbnails:
        """A picture per event of this frame: its object's box, labelled with its class."""
        if self._frame is None:
            return {}
        pictures: EventThumbnails = {}
        same: dict[Drawn, bytes | None] = {}  # an object entering two zones: one encode
        for display_id, made in events.items():
            for event in made:
                drawn = Drawn(_box(event.box), event.class_name, event.class_id)
                if drawn not in same:
                    same[drawn] = self._picture(partial(list, (drawn,)))
                if (jpeg := same[drawn]) is not None:
                    pictures[(display_id, event.key)] = jpeg
        return pictures

    def _picture(self, drawn: Callable[[], list[Drawn]]) -> bytes | None:
        assert self._frame is not None
        try:
            return self._frame.jpeg(drawn())
        except Exception as exc:  # a thumbnail is never worth a camera loop
            self.dropped += 1
            log.warning("camera %s: thumbnail not made: %s", self.camera_id, exc)
            return None


def _box(box: Sequence[float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    return float(x1), float(y1), float(x2), float(y2)
