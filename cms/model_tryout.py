"""'Try on a camera': run a detection model once on a camera's newest frame, from the admin.

The web process never loads a model. It picks an ingest worker (one that holds the model
first, then one with a free slot), sends ``tasks.ingest.try_model`` to that worker's direct
queue with the model id, the camera id and a reply key, and waits on the reply key in Redis
until a deadline (SIGHTLINE_TRYOUT_TIMEOUT_S). The worker reads the camera's snapshot from
Redis itself (the message carries ids only: no camera URL, no password, no signed weights
URL), loads the model through its ModelStore as a camera task would, and pushes the
detections with the frame it ran on. Every way it can fail is a ``TryoutError`` with a
message for the operator and an HTTP status.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, cast

import redis
from celery.utils import worker_direct
from django.conf import settings

from cms import redis_connection
from cms.api.drawing import draw_detections
from cms.farm import farm_keys
from cms.farm.heartbeats import WorkerInfo
from cms.farm.task_sender import TRY_MODEL, sender
from cms.models import DETECTION_TASK, Camera, DetectionModel

REPLY_PREFIX = f"{redis_connection.PREFIX}:tryout"
REPLY_TTL_S = 60
# One BLPOP at most this long: below the Redis client's 5 s socket timeout.
POLL_S = 2


class TryoutError(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Tryout:
    worker: str
    objects: list[dict[str, Any]]
    jpeg: bytes  # the frame it ran on, with the boxes drawn
    frame_size: tuple[int, int] | None
    elapsed_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "worker": self.worker,
            "objects": self.objects,
            "frame_size": list(self.frame_size) if self.frame_size else None,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "image": "data:image/jpeg;base64," + base64.b64encode(self.jpeg).decode(),
        }


def reply_key() -> str:
    return f"{REPLY_PREFIX}:{uuid.uuid4().hex}"


def choose_worker(workers: dict[str, WorkerInfo], model: DetectionModel) -> str | None:
    """The ingest worker to ask: one that holds the model (nothing to load), then the least
    loaded. A full worker answers too: its pool has a thread beside its camera tasks'
    (tasks.worker.SHORT_TASK_THREADS). None without a live worker."""
    if not workers:
        return None
    key = f"{model.pk}:{model.sha256}"

    def rank(info: WorkerInfo) -> tuple[bool, float, str]:
        load = len(info.running) / info.capacity if info.capacity else 1.0
        return (key not in info.models, load, info.name)

    return min(workers.values(), key=rank).name


def check_can_try(model: DetectionModel, camera: Camera) -> None:
    if model.validation_state == DetectionModel.Validation.INVALID:
        raise TryoutError(f"The model's weights do not load: {model.invalid_reason}", 409)
    if model.task and model.task != DETECTION_TASK:
        raise TryoutError(f"This is a {model.task!r} model, not a detection model.", 409)
    if not camera.enabled:
        raise TryoutError(f"Camera {camera.name} is disabled: it has no newest frame.", 409)


def try_model(model: DetectionModel, camera: Camera, *, timeout: float | None = None) -> Tryout:
    """Run ``model`` once on ``camera``'s newest frame on an ingest worker."""
    check_can_try(model, camera)
    timeout = settings.SIGHTLINE_TRYOUT_TIMEOUT_S if timeout is None else timeout
    started = time.monotonic()
    r = redis_connection.client()
    try:
        if farm_keys.read_snapshot(r, camera.pk) is None:
            raise TryoutError(
                f"Camera {camera.name} has no frame yet: it is not running, or has not "
                "delivered a frame (snapshots are kept while a camera runs).",
                409,
            )
        worker = choose_worker(farm_keys.read_workers(r), model)
        if worker is None:
            raise TryoutError("No ingest worker is online to run the model.", 503)
        key = reply_key()
        sender.send_task(
            TRY_MODEL,
            args=[model.pk, camera.pk, key, time.time() + timeout],
            queue=worker_direct(worker),  # type: ignore[arg-type]  # celery-types: a kombu Queue is accepted too
            expires=timeout,
        )
        reply = _wait(r, key, started + timeout)
    except redis.RedisError as exc:
        raise TryoutError(f"Redis is not answering: {type(exc).__name__}.", 503) from None
    if reply is None:
        raise TryoutError(
            f"Ingest worker {worker} did not answer within {timeout:g} s (all its slots busy "
            "with cameras, or the model is still loading). Try again.",
            504,
        )
    if reply.get("error"):
        raise TryoutError(f"On {worker}: {redact(str(reply['error']))}", 502)
    objects = list(reply.get("objects") or [])
    frame = base64.b64decode(reply.get("jpeg") or b"")
    size = reply.get("frame_size")
    return Tryout(
        worker=worker,
        objects=objects,
        jpeg=draw_detections(frame, [_percent_label(o) for o in objects]),
        frame_size=(int(size[0]), int(size[1])) if size else None,
        elapsed_ms=(time.monotonic() - started) * 1000,
    )


def _percent_label(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as draw_detections labels it "class 87%" (it writes a bare name as is)."""
    confidence = obj.get("confidence")
    if not isinstance(confidence, float | int):
        return obj
    percent = "<1%" if confidence < 0.01 else f"{round(confidence * 100)}%"
    name = obj.get("class_name", obj.get("class_id", ""))
    return {**obj, "class_name": f"{name} {percent}", "confidence": None}


def _wait(r: redis.Redis, key: str, deadline: float) -> dict[str, Any] | None:
    while (left := deadline - time.monotonic()) > 0:
        wait = max(1, min(POLL_S, int(left)))
        popped = cast("tuple[bytes, bytes] | None", r.blpop([key], timeout=wait))
        if popped is not None:
            return cast("dict[str, Any]", json.loads(popped[1]))
    r.delete(key)
    return None


def push_reply(r: redis.Redis, key: str, reply: dict[str, Any]) -> None:
    """The worker's side: the reply the web process waits for (kept a minute at most)."""
    pipe = r.pipeline(transaction=False)
    pipe.rpush(key, json.dumps(reply))
    pipe.expire(key, REPLY_TTL_S)
    pipe.execute()


_SECRET_QUERY = re.compile(r"(token|signature|password|sig)=[^\s&'\"]+", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(\w+://)[^/\s:@]+:[^/\s@]+@")


def redact(message: str) -> str:
    """An error as the operator may see it: no signed-URL token, no URL credentials."""
    message = _SECRET_QUERY.sub(r"\1=<redacted>", message)
    return _URL_CREDENTIALS.sub(r"\1<redacted>@", message)[:500]
