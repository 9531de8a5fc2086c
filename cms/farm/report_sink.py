"""The control side of worker reports: drain the Redis list and record each report.

Called by the control worker's task that ingest workers send after a push, and by its
reconcile task (a report whose own task got lost waits at most one reconcile period).
"""

from __future__ import annotations

import logging

import redis

from cms.farm import farm_keys, worker_reports
from cms.farm.worker_reports import FrameSize, ModelRead
from cms.frame_size import record_frame_size
from cms.model_validation import record_worker_read

log = logging.getLogger(__name__)


def drain_worker_reports(r: redis.Redis) -> int:
    """Record every report waiting; returns how many were recorded. A malformed one is
    logged and dropped, never retried (it would not parse the next time either)."""
    recorded = 0
    while raws := farm_keys.pop_worker_reports(r):
        for raw in raws:
            try:
                report = worker_reports.from_bytes(raw)
                if isinstance(report, ModelRead):
                    record_worker_read(report.model_id, report.class_names, task=report.task)
                elif isinstance(report, FrameSize):
                    record_frame_size(report.camera_id, report.width, report.height)
            except ValueError as exc:
                log.warning("worker report dropped: %s", exc)
                continue
            recorded += 1
    return recorded
