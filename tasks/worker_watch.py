"""The control worker's watch on the ingest workers: a thread, not a beat task.

Every SIGHTLINE_WORKER_WATCH_S it compares the online ingest workers with the last look
and asks for a reconcile when one went offline, joined or restarted. A look that finds
nothing changed logs nothing and sends no task event (a beat task every 2 s would put
three lines in the log and a task in Flower each time). The watch also asks for one
reconcile when the control worker starts, so a farm started again resumes its cameras
at once rather than at the next periodic reconcile.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import bootsteps
from django.conf import settings

log = logging.getLogger(__name__)


class WorkerWatch(bootsteps.StartStopStep):
    """Runs the watch in every worker that consumes the control queue."""

    requires = ("celery.worker.components:Pool",)

    def __init__(self, worker: Any, **options: Any) -> None:
        self.enabled = settings.CONTROL_QUEUE in worker.app.amqp.queues.consume_from
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, worker: Any) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name="sightline-worker-watch", daemon=True
        )
        self._thread.start()

    def stop(self, worker: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        # Imported here: the step is installed before Django's apps are ready.
        from cms.farm.reconcile import reconcile_if_workers_changed, request_reconcile

        interval = settings.SIGHTLINE_WORKER_WATCH_S
        log.info("watching the ingest workers every %g s", interval)
        request_reconcile("control worker started")
        failing = ""
        while not self._stop.wait(interval):
            try:
                change = reconcile_if_workers_changed()
            except Exception as exc:  # Redis down: say so once, keep watching
                if str(exc) != failing:
                    log.warning("worker watch failed: %s", exc)
                failing = str(exc)
                continue
            if failing:
                log.info("worker watch works again")
                failing = ""
            if change:
                log.info("%s: reconcile requested", change)
