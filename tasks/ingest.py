"""The long-lived ingest task: one per camera, on an ingest worker's direct queue.

Reconcile sends each worker one ``start_cameras`` message listing its cameras (and their
generations); the worker sends itself one ``ingest_camera`` task per camera, on its own
direct queue, expiring when the list would have. So a farm of 20,000 cameras starts with
500 messages from the control process, and each camera still runs as a task of its own.

Acknowledged on receipt (not acks_late): with the Redis broker an unacknowledged
message comes back after the visibility timeout, duplicating a task that runs for
hours. Recovery is reconcile's job, guarded by the generation (fencing).
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.utils import worker_direct
from kombu.exceptions import OperationalError

from cms.logs import log_context
from tasks.worker_runtime import worker_runtime

log = logging.getLogger(__name__)


@shared_task(name="tasks.ingest.ingest_camera", bind=True, ignore_result=True, acks_late=False)
def ingest_camera(self, camera_id: int, generation: int) -> str:
    """Run camera ``camera_id`` as ``generation`` until fenced, unwanted or stopped."""
    # Imported here: the control worker imports this module too (CELERY_IMPORTS) and never
    # needs the runner or the inference package. torch loads only with the first model.
    from tasks.camera_runner import CameraRunner

    runtime = worker_runtime(self.request.hostname or "")
    # Every record of this task's thread (runner, model store, fetch) carries these ids.
    with log_context(camera_id=camera_id, generation=generation, worker=runtime.name):
        try:
            ended = CameraRunner(camera_id, generation, runtime).run()
        except Exception:
            # One bad camera never takes the worker down; reconcile restarts it elsewhere.
            log.exception("camera %s generation %s crashed", camera_id, generation)
            return "crashed"
        log.info("camera %s generation %s ended: %s", camera_id, generation, ended)
    return ended


@shared_task(name="tasks.ingest.start_cameras", bind=True, ignore_result=True, acks_late=False)
def start_cameras(self, cameras: list[list[int]]) -> int:
    """Start each [camera id, generation] reconcile sent this worker: one ingest_camera task
    each on this worker's direct queue, expiring with this message. Returns how many."""
    queue = worker_direct(self.request.hostname or "")
    for sent, (camera_id, generation) in enumerate(cameras):
        try:
            ingest_camera.apply_async(
                (camera_id, generation), queue=queue, expires=self.request.expires
            )
        except OperationalError as exc:
            # The broker is down for the rest too (each send would retry first): stop here.
            # Reconcile starts the cameras again once their start grace has passed.
            left = [camera for camera, _ in cameras[sent:]]
            log.warning("could not start cameras %s: %s", left, exc)
            return sent
    return len(cameras)


@shared_task(name="tasks.ingest.try_model", bind=True, ignore_result=True, acks_late=False)
def try_model(self, model_id: int, camera_id: int, reply_key: str, deadline: float) -> str:
    """The admin's "Try on a camera": run the model once on the camera's newest frame and
    push the detections to ``reply_key`` (cms.model_tryout waits there until ``deadline``)."""
    from tasks.tryout import run_tryout

    runtime = worker_runtime(self.request.hostname or "")
    with log_context(camera_id=camera_id, worker=runtime.name):
        outcome = run_tryout(runtime, model_id, camera_id, reply_key, deadline)
    log.info("try-out of model %s on camera %s: %s", model_id, camera_id, outcome)
    return outcome
