"""Results out of an ingest task: one compact JSON entry per display per frame on a Redis Stream."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import redis
from django.conf import settings

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
        self.dropped = 0

    def publish(
        self, *, display_id: int, model_id: int, frame: Frame, objects: list[dict[str, Any]]
    ) -> None:
        message = {
            "display": display_id,
            "camera": self.camera_id,
            "model": model_id,
            "generation": self.generation,
            "seq": frame.seq,
            "time": frame.captured_at,
            "objects": objects,
            "key": result_key(self.camera_id, self.generation, display_id, frame),
        }
        try:
            self.client.xadd(
                settings.SIGHTLINE_RESULTS_STREAM,
                {"r": orjson.dumps(message)},
                maxlen=settings.SIGHTLINE_RESULTS_MAXLEN,
                approximate=True,
            )
        except redis.RedisError as exc:
            # Live video moves on; a result Redis cannot take now is counted, not queued.
            self.dropped += 1
            log.warning(
                "camera %s: result not published: %s",
                self.camera_id,
                exc,
                extra={"camera_id": self.camera_id, "display_id": display_id},
            )
