"""Tasks on the `control` queue: reconcile, housekeeping (history, display sessions, event
thumbnails), model checks. Thin: they call services.

The watch on the ingest workers is a thread of the control worker (tasks.worker_watch).
"""

from __future__ import annotations

import socket

from celery import shared_task

from cms.farm.reconcile import run_reconcile


@shared_task(name="tasks.control.reconcile", ignore_result=True)
def reconcile() -> int:
    """Make what runs follow what the database wants (see cms.farm.reconcile)."""
    from cms import redis_connection
    from cms.farm.report_sink import drain_worker_reports

    # Worker reports whose own task got lost wait at most one reconcile period.
    drain_worker_reports(redis_connection.client())
    return run_reconcile()


@shared_task(name="tasks.control.record_worker_reports", ignore_result=True)
def record_worker_reports() -> int:
    """Record what ingest workers learned (class names, frame sizes: cms.farm.report_sink)."""
    from cms import redis_connection
    from cms.farm.report_sink import drain_worker_reports

    return drain_worker_reports(redis_connection.client())


@shared_task(name="tasks.control.echo")
def echo(value: str) -> dict[str, str]:
    """Return the value with the answering host: a round trip through the real broker."""
    return {"value": value, "host": socket.gethostname()}


@shared_task(name="tasks.control.purge_detections", ignore_result=True)
def purge_detections() -> int:
    """Delete detection history, object events, zone minutes, plays and ended display
    sessions older than SIGHTLINE_DETECTION_RETENTION_DAYS."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from cms.housekeeping import purge_detections as purge
    from cms.housekeeping import (
        purge_display_sessions,
        purge_object_events,
        purge_plays,
        purge_zone_minutes,
    )

    cutoff = timezone.now() - timedelta(days=settings.SIGHTLINE_DETECTION_RETENTION_DAYS)
    return (
        purge(before=cutoff)
        + purge_object_events(before=cutoff)
        + purge_zone_minutes(before=cutoff)
        + purge_plays(before=cutoff)
        + purge_display_sessions(before=cutoff)
    )


@shared_task(name="tasks.control.prune_thumbnails", ignore_result=True)
def prune_thumbnails() -> int:
    """Delete the event thumbnails' day folders older than SIGHTLINE_THUMBNAIL_DAYS."""
    from cms import thumbnails

    return thumbnails.prune()


@shared_task(name="tasks.control.close_plays", ignore_result=True)
def close_plays() -> int:
    """End the plays of displays whose client went offline, at its last heartbeat."""
    from cms.audience.services import close_offline_plays

    return close_offline_plays()


@shared_task(name="tasks.control.validate_model", ignore_result=True)
def validate_model(model_id: int) -> str:
    """Load an uploaded model in a child process and record what it is (or why it is invalid)."""
    from cms.model_validation import validate_model as validate

    return validate(model_id)


@shared_task(name="tasks.control.expire_sessions", ignore_result=True)
def expire_sessions() -> int:
    """End the display sessions open longer than SIGHTLINE_SESSION_MAX_S (reason expired)."""
    from cms.display_sessions.services import expire_sessions as expire

    return expire()


@shared_task(name="tasks.control.sample_farm_health", ignore_result=True)
def sample_farm_health() -> int:
    """Append the farm's figures to the health series the admin charts (cms.farm_health)."""
    from cms import redis_connection
    from cms.farm_health.service import sample_farm

    return sample_farm(redis_connection.client())
