"""Housekeeping services run by beat."""

from __future__ import annotations

from datetime import datetime

from cms.models import Detection


def purge_detections(*, before: datetime, batch_size: int = 5000) -> int:
    """Delete Detection rows created before ``before``, in batches so no lock is held long."""
    deleted = 0
    while True:
        ids = list(
            Detection.objects.filter(created__lt=before)
            .order_by("id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        deleted += Detection.objects.filter(id__in=ids).delete()[0]
