"""Tasks on the `control` queue: reconcile and its watchers. Thin: they call services."""

from __future__ import annotations

import socket

from celery import shared_task

from tasks import redis_state
from tasks.reconcile import request_reconcile, run_reconcile


@shared_task(name="tasks.control.reconcile", ignore_result=True)
def reconcile() -> int:
    """Make what runs follow what the database wants (see tasks.reconcile)."""
    return run_reconcile()


@shared_task(name="tasks.control.watch_workers", ignore_result=True)
def watch_workers() -> None:
    """Reconcile as soon as an ingest worker appears or goes silent (run every 2 s by beat)."""
    r = redis_state.client()
    online = set(redis_state.read_workers(r))
    known = {name.decode() for name in r.smembers(redis_state.KNOWN_ONLINE)}
    if online == known:
        return
    pipe = r.pipeline()
    pipe.delete(redis_state.KNOWN_ONLINE)
    if online:
        pipe.sadd(redis_state.KNOWN_ONLINE, *online)
    pipe.execute()
    gone, joined = known - online, online - known
    request_reconcile(
        f"workers offline: {sorted(gone)}" if gone else f"workers joined: {sorted(joined)}"
    )


@shared_task(name="tasks.control.echo")
def echo(value: str) -> dict[str, str]:
    """Return the value with the answering host: a round trip through the real broker."""
    return {"value": value, "host": socket.gethostname()}


@shared_task(name="tasks.control.purge_detections", ignore_result=True)
def purge_detections() -> int:
    """Delete detection history older than SIGHTLINE_DETECTION_RETENTION_DAYS."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from cms.housekeeping import purge_detections as purge

    cutoff = timezone.now() - timedelta(days=settings.SIGHTLINE_DETECTION_RETENTION_DAYS)
    return purge(before=cutoff)
