"""The ingest worker's side of worker reports (cms.farm.worker_reports): push, then ask
the control worker to record them soon (reconcile also drains them)."""

from __future__ import annotations

import logging

import redis

from cms.farm import farm_keys, worker_reports
from cms.farm.task_sender import RECORD_WORKER_REPORTS, sender

log = logging.getLogger(__name__)


def send_report(r: redis.Redis, report: worker_reports.Report) -> None:
    """Never raises: a report that cannot be sent now is learned again at the next load."""
    try:
        farm_keys.push_worker_report(r, worker_reports.to_bytes(report))
    except redis.RedisError as exc:
        log.warning("worker report not sent (%s): %s", exc, report)
        return
    try:
        sender.send_task(RECORD_WORKER_REPORTS, expires=60)
    except Exception as exc:  # the broker is down: the next reconcile records it
        log.warning("could not ask for the worker report to be recorded: %s", exc)
