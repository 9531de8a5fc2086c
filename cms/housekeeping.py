"""Housekeeping services run by beat."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Model

from cms.models import Detection, DisplaySession, ObjectEvent, Play, ZoneMinute


def purge_detections(*, before: datetime, batch_size: int = 5000) -> int:
    """Delete Detection rows created before ``before``, in batches so no lock is held long."""
    return _purge(Detection, before=before, batch_size=batch_size)


def purge_object_events(*, before: datetime, batch_size: int = 5000) -> int:
    """Delete ObjectEvent rows created before ``before``, like purge_detections."""
    return _purge(ObjectEvent, before=before, batch_size=batch_size)


def purge_zone_minutes(*, before: datetime, batch_size: int = 5000) -> int:
    """Delete ZoneMinute rows of minutes before ``before``, like purge_detections."""
    return _purge(ZoneMinute, before=before, batch_size=batch_size, field="minute")


def purge_plays(*, before: datetime, batch_size: int = 5000) -> int:
    """Delete plays that ended before ``before``, like purge_detections: their audience
    figures come from object events, which are kept as long (an open play is kept)."""
    return _purge(Play, before=before, batch_size=batch_size, field="ended")


def purge_display_sessions(*, before: datetime, batch_size: int = 5000) -> int:
    """Delete the display sessions that ended before ``before`` (an open one is kept)."""
    return _purge(DisplaySession, before=before, batch_size=batch_size, field="ended")


def _purge(model: type[Model], *, before: datetime, batch_size: int, field: str = "created") -> int:
    deleted = 0
    while True:
        ids = list(
            model._default_manager.filter(**{f"{field}__lt": before})
            .order_by("id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        deleted += model._default_manager.filter(id__in=ids).delete()[0]
