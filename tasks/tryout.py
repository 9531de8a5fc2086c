"""The worker's side of the admin's "Try on a camera" (cms.model_tryout).

Runs in an ingest worker: reads the camera's newest snapshot from Redis, loads the model
through the worker's ModelStore (a freshly signed URL the web server gives: the message
never carries one, and the worker has no database) and runs it once. The reply, pushed to
the key the web process waits on, holds the detections and the JPEG they were found in, or
an error without secrets.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

import cv2
import numpy as np
from django.conf import settings

from cms import redis_connection
from cms.farm import farm_keys
from cms.farm.desired import model_spec_from_dict
from cms.farm.worker_reports import ModelRead
from cms.model_tryout import push_reply, redact
from cms.models import DETECTION_TASK
from tasks import web_client
from tasks.camera_runner import predict_options, source_from
from tasks.reports import send_report
from tasks.worker_runtime import WorkerRuntime

log = logging.getLogger(__name__)


def run_tryout(
    runtime: WorkerRuntime, model_id: int, camera_id: int, reply_key: str, deadline: float
) -> str:
    """Answer one try-out; returns what happened (for the log)."""
    r = redis_connection.client()
    if time.time() >= deadline:
        return "expired"  # the web process gave up waiting: nobody reads a reply
    try:
        reply = _detect(runtime, model_id, camera_id, deadline)
    except Exception as exc:  # whatever failed, the operator gets a message, not a hang
        reply = {"error": redact(f"{type(exc).__name__}: {exc}")}
        # Redacted in the log too: a fetch error may quote the signed weights URL.
        log.warning("try-out of model %s on camera %s failed: %s", model_id, camera_id, reply)
    push_reply(r, reply_key, reply)
    return "error" if "error" in reply else "answered"


def _detect(
    runtime: WorkerRuntime, model_id: int, camera_id: int, deadline: float
) -> dict[str, Any]:
    # The frame first: without one there is no need to ask the web server for the model.
    jpeg = farm_keys.read_snapshot(redis_connection.client(), camera_id)
    if jpeg is None:
        return {"error": "the camera has no frame any more (it stopped running)"}
    image = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return {"error": "the camera's snapshot does not decode as a JPEG"}
    try:
        fields = web_client.model_source(model_id)
    except web_client.NotFound:
        return {"error": "the model was deleted"}
    spec = model_spec_from_dict({**fields, "id": model_id})
    source = source_from(fields, task=DETECTION_TASK)
    left = max(deadline - time.time(), 0.1)
    with runtime.store.acquire_batcher(
        source,
        max_batch=settings.SIGHTLINE_MAX_BATCH,
        max_wait_ms=settings.SIGHTLINE_MAX_WAIT_MS,
        timeout=left,
    ) as batcher:
        names = {str(k): str(v) for k, v in batcher.detector.info.class_names.items()}
        send_report(redis_connection.client(), ModelRead(model_id, names, DETECTION_TASK))
        left = max(deadline - time.time(), 0.1)
        objects = batcher.detect(image, predict_options(spec), timeout=left)
    return {
        "objects": [o.to_dict() for o in objects],
        "jpeg": base64.b64encode(jpeg).decode(),
        "frame_size": [int(image.shape[1]), int(image.shape[0])],
    }
