"""Results out of an ingest task: one ResultMessage per display per frame on a Redis Stream,
and each display's object events (ObjectEventMessage) on the same stream, each with its
thumbnail when it has one (tasks.camera_thumbnails), in the same round trip."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import redis

from cms.results import results_stream
from cms.results.object_event_message import ObjectEventMessage, event_key
from cms.results.result_message import ResultMessage
from inference.objects import PresenceEvent, attributes_json
from streams import Frame

log = logging.getLogger(__name__)


def result_key(camera_id: int, generation: int, display_id: int, frame: Frame) -> str:
    """Deterministic, so a retried XADD of the same result is still stored once."""
    return f"{camera_id}-{generation}-{display_id}-{int(frame.captured_at * 1e6)}-{frame.seq}"


class ResultPublisher:
    def __init__(self, client: redis.Redis, *, camera_id: int, generation: int) -> None:
        self.client = client
        self.camera_id = camera_id
        self.generation = generation

    def publish(
        self,
        *,
        display_id: int,
        model_id: int,
        frame: Frame,
        objects: list[dict[str, Any]],
        thumbnail: bytes | None = None,
    ) -> bool:
        """``objects`` are DetectedObject.to_dict() each; ``thumbnail`` the result's JPEG.
        Returns False when Redis did not take the result (it is dropped)."""
        message = ResultMessage(
            display_id=display_id,
            camera_id=self.camera_id,
            model_id=model_id,
            generation=self.generation,
            frame_seq=frame.seq,
            frame_time=frame.captured_at,
            objects=objects,
            key=result_key(self.camera_id, self.generation, display_id, frame),
        )
        try:
            if not results_stream.append_result(self.client, message, thumbnail=thumbnail):
                log.warning("camera %s: a result's thumbnail refused by Redis", self.camera_id)
        except redis.RedisError as exc:
            # Live video moves on: a result Redis cannot take now is logged, not queued.
            log.warning(
                "camera %s: result not published: %s",
                self.camera_id,
                exc,
                extra={"camera_id": self.camera_id, "display_id": display_id},
            )
            return False
        return True

    def publish_events(
        self,
        events: dict[int, list[PresenceEvent]],
        thumbnails: Mapping[tuple[int, str], bytes] | None = None,
    ) -> bool:
        """Every display's object events in one round trip, each display's in order, with
        their thumbnails (by display id and the event's own key).

        Returns False when Redis did not take the events: unlike a result, an event is not
        replaced by the next frame's, so the caller keeps it and tries again. A thumbnail
        Redis refuses is only logged: an event never waits on its thumbnail.
        """
        messages = [self._message(d, event) for d, made in events.items() for event in made]
        by_key = {
            event_key(self.camera_id, display_id, presence_key): jpeg
            for (display_id, presence_key), jpeg in (thumbnails or {}).items()
        }
        try:
            refused = results_stream.append_object_events(self.client, messages, thumbnails=by_key)
        except redis.RedisError as exc:
            log.warning(
                "camera %s: object events not published: %s",
                self.camera_id,
                exc,
                extra={"camera_id": self.camera_id},
            )
            return False
        if refused:
            log.warning(
                "camera %s: %d event thumbnails refused by Redis",
                self.camera_id,
                refused,
                extra={"camera_id": self.camera_id},
            )
        return True

    def _message(self, display_id: int, event: PresenceEvent) -> ObjectEventMessage:
        return ObjectEventMessage(
            display_id=display_id,
            camera_id=self.camera_id,
            generation=self.generation,
            key=event_key(self.camera_id, display_id, event.key),
            type=event.type,
            track_id=event.track_id,
            class_id=event.class_id,
            class_name=event.class_name,
            time=event.time,
            box=_box(event.box),
            zone=event.zone,
            dwell_s=event.dwell_s,
            line=event.line,
            direction=event.direction,
            attributes=attributes_json(event.attributes) if event.attributes else None,
        )


def _box(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    return float(x1), float(y1), float(x2), float(y2)  # numpy scalars are not JSON
