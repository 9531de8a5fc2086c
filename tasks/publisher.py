"""Results out of an ingest task: one ResultMessage per display per frame on a Redis Stream."""

from __future__ import annotations

import logging
from typing import Any

import redis
from django.conf import settings

from cms.results import results_stream
from cms.results.result_message import ENTRY_FIELD, ResultMessage
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
        self, *, display_id: int, model_id: int, frame: Frame, objects: list[dict[str, Any]]
    ) -> None:
        """``objects`` are DetectedObject.to_dict() each."""
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
            self.client.xadd(
                results_stream.results_stream(),
                {ENTRY_FIELD: message.to_bytes()},
                maxlen=settings.SIGHTLINE_RESULTS_MAXLEN,
                approximate=True,
            )
        except redis.RedisError as exc:
            # Live video moves on: a result Redis cannot take now is logged, not queued.
            log.warning(
                "camera %s: result not published: %s",
                self.camera_id,
                exc,
                extra={"camera_id": self.camera_id, "display_id": display_id},
            )
