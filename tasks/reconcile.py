"""Reconcile: desired (database) + actual (heartbeats) -> plan (pure) -> apply.

One run at a time (a Redis lock). A trigger that arrives while a run is in progress
marks the state dirty, which makes exactly one more run afterwards.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import redis
from celery import current_app
from celery.utils import worker_direct
from django.conf import settings
from django.db.models import F

from cms.models import Camera, Display, StreamAssignment
from tasks import redis_state
from tasks.planner import PlanSettings, plan
from tasks.specs import CameraRow, CameraSpec, DisplayRow, ModelSpec, desired_state
from tasks.state import Assignment, Command, Start, Stop, UpdateSpec

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 120


def plan_settings() -> PlanSettings:
    return PlanSettings(
        start_grace_s=settings.SIGHTLINE_START_GRACE_S,
        lost_after_s=settings.SIGHTLINE_WORKER_TIMEOUT_S,
        rebalance_threshold=settings.SIGHTLINE_REBALANCE_THRESHOLD,
    )


def model_spec(model: Any) -> ModelSpec:
    return ModelSpec(
        id=model.id,
        name=model.name,
        version=model.version,
        sha256=model.sha256,
        confidence=model.confidence,
        iou=model.iou,
        imgsz=model.imgsz,
        classes=tuple(model.classes) if model.classes else None,
    )


def camera_row(camera: Camera) -> CameraRow:
    return CameraRow(
        id=camera.id,
        url=camera.url,
        username=camera.username,
        password=camera.password,
        snapshot_url=camera.snapshot_url,
        snapshot_interval=camera.snapshot_interval,
        fps=camera.fps,
        enabled=camera.enabled,
    )


def display_row(display: Display) -> DisplayRow:
    return DisplayRow(
        id=display.id,
        camera_id=display.camera_id,
        enabled=display.enabled,
        model=model_spec(display.model),
        model_enabled=display.model.enabled,
        crop=display.crop,
        policy=display.policy,
        policy_interval_ms=display.policy_interval_ms,
    )


def load_desired(camera_ids: list[int] | None = None) -> dict[int, CameraSpec]:
    """Desired state read from the database (all cameras, or just the given ones)."""
    cameras = Camera.objects.filter(enabled=True)
    displays = Display.objects.filter(enabled=True, camera__enabled=True, model__enabled=True)
    if camera_ids is not None:
        cameras = cameras.filter(id__in=camera_ids)
        displays = displays.filter(camera_id__in=camera_ids)
    return desired_state(
        (camera_row(c) for c in cameras.iterator(chunk_size=2000)),
        (display_row(d) for d in displays.select_related("model").iterator(chunk_size=2000)),
        key=settings.SECRET_KEY.encode(),
    )


def load_assignments() -> dict[int, Assignment]:
    rows = StreamAssignment.objects.values_list(
        "camera_id", "worker", "generation", "spec_hash", "assigned_at"
    )
    return {
        camera_id: Assignment(
            camera_id, worker, generation, spec_hash, at.timestamp() if at else 0.0
        )
        for camera_id, worker, generation, spec_hash, at in rows.iterator(chunk_size=5000)
    }


def reconcile_once(r: redis.Redis | None = None) -> dict[str, Any]:
    """One full pass; returns the report it also stores in Redis."""
    r = r or redis_state.client()
    started = time.monotonic()
    now = time.time()
    desired = load_desired()
    assignments = load_assignments()
    workers = redis_state.read_workers(r)
    trusted = redis_state.heartbeats_trustworthy(r, workers, now)
    streams = redis_state.read_streams(r, sorted(assignments))
    result = plan(
        desired,
        assignments,
        streams,
        workers,
        now=now,
        missing_since=redis_state.read_missing_since(r),
        trust_worker_absence=trusted,
        settings=plan_settings(),
    )
    applied = Counter(type(c).__name__ for c in result.commands if apply(c, r, now))
    _record_pending(result.pending)
    # Republish every assignment: after a Redis restart this restores fencing keys.
    redis_state.publish_assignments(r, list(load_assignments().values()))
    redis_state.write_missing_since(r, result.missing_since)
    report = {
        "finished_at": datetime.now(UTC).isoformat(),
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
        "commands": dict(applied),
        "desired": len(desired),
        "workers": len(workers),
        "pending": {str(k): v for k, v in result.pending.items()},
        "heartbeats_trusted": trusted,
    }
    redis_state.write_report(r, report)
    if result.commands:
        log.info("reconcile: %s", report)
    return report


def apply(command: Command, r: redis.Redis, now: float) -> bool:
    """Carry out one command; False when another reconcile got there first."""
    if isinstance(command, UpdateSpec):
        StreamAssignment.objects.filter(
            camera_id=command.camera_id, generation=command.generation
        ).update(spec_hash=command.spec_hash)
        return True
    StreamAssignment.objects.get_or_create(camera_id=command.camera_id)
    new_generation = command.previous_generation + 1
    worker = command.worker if isinstance(command, Start) else ""
    spec_hash = command.spec_hash if isinstance(command, Start) else ""
    # Claim atomically: only the run that saw the current generation moves it on.
    claimed = StreamAssignment.objects.filter(
        camera_id=command.camera_id, generation=command.previous_generation
    ).update(
        generation=F("generation") + 1,
        worker=worker,
        spec_hash=spec_hash,
        assigned_at=datetime.fromtimestamp(now, UTC),
        pending_reason="",
    )
    if claimed != 1:
        log.info("reconcile: camera %s changed under us, skipping", command.camera_id)
        return False
    assignment = Assignment(command.camera_id, worker, new_generation, spec_hash, now)
    redis_state.publish_assignments(r, [assignment])
    if isinstance(command, Stop):
        log.info("stop camera %s (%s)", command.camera_id, command.reason)
        return True
    log.info(
        "start camera %s on %s generation %s (%s)",
        command.camera_id,
        worker,
        new_generation,
        command.reason,
    )
    # By name: the control worker never imports the ingest code (and torch).
    current_app.send_task(
        "tasks.ingest.ingest_camera",
        args=[command.camera_id, new_generation],
        queue=worker_direct(worker),
        # A start that waits longer than this is superseded by a later reconcile anyway.
        expires=settings.SIGHTLINE_START_GRACE_S,
    )
    return True


def _record_pending(pending: dict[int, str]) -> None:
    """Keep each camera's 'pending because ...' in the database for the admin and API."""
    StreamAssignment.objects.exclude(camera_id__in=list(pending)).exclude(pending_reason="").update(
        pending_reason=""
    )
    for camera_id, reason in pending.items():
        StreamAssignment.objects.get_or_create(camera_id=camera_id)
        StreamAssignment.objects.filter(camera_id=camera_id).exclude(pending_reason=reason).update(
            pending_reason=reason
        )


def run_reconcile() -> int:
    """Reconcile under the lock, once more for each batch of triggers that came meanwhile.

    Returns the number of passes run (0 when another process holds the lock).
    """
    r = redis_state.client()
    r.delete(redis_state.RECONCILE_SCHEDULED)
    passes = 0
    while True:
        lock = r.lock(redis_state.RECONCILE_LOCK, timeout=LOCK_TIMEOUT_S)
        if not lock.acquire(blocking=False):
            r.set(redis_state.RECONCILE_DIRTY, 1)  # the holder runs once more
            return passes
        try:
            while True:
                r.delete(redis_state.RECONCILE_DIRTY)
                reconcile_once(r)
                passes += 1
                if not r.exists(redis_state.RECONCILE_DIRTY):
                    break
        finally:
            lock.release()
        # A trigger between our last check and the release found the lock still held.
        if not r.exists(redis_state.RECONCILE_DIRTY):
            return passes


def request_reconcile(reason: str) -> None:
    """Ask for a reconcile soon; a burst of requests makes one run (debounced)."""
    from tasks.control import reconcile

    try:
        r = redis_state.client()
        r.set(redis_state.RECONCILE_DIRTY, 1)
        if r.set(redis_state.RECONCILE_SCHEDULED, reason, nx=True, ex=10):
            reconcile.apply_async(countdown=settings.SIGHTLINE_RECONCILE_DEBOUNCE_S, expires=30)
    except redis.RedisError as exc:
        # The change is committed; beat's periodic reconcile picks it up.
        log.warning("could not trigger reconcile (%s): %s", reason, exc)
