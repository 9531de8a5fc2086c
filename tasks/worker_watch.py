"""The control worker's watch on the ingest workers: a thread, not a beat task.

Every SIGHTLINE_WORKER_WATCH_S it compares the online ingest workers with the last look
and asks for a reconcile when one went offline, joined or restarted. More often, every
SIGHTLINE_WORKER_CONNECTION_WATCH_S, it looks at the workers' named Redis connections: a
worker whose connection closed while its heartbeat has not expired yet crashed, and is
deregistered with a reconcile at once (cms.farm.crash_detection). A look that finds
nothing changed logs nothing and sends no task event (a beat task every 2 s would put
three lines in the log and a task in Flower each time). The watch also asks for one
reconcile when the control worker starts, so a farm started again resumes its cameras
at once rather than at the next periodic reconcile.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from celery import bootsteps
from django.conf import settings

from cms.farm.crash_detection import Memory

log = logging.getLogger(__name__)


class WorkerWatch(bootsteps.StartStopStep):
    """Runs the watch in every worker that consumes the control queue."""

    requires = ("celery.worker.components:Pool",)

    def __init__(self, worker: Any, **options: Any) -> None:
        self.enabled = settings.CONTROL_QUEUE in worker.app.amqp.queues.consume_from
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._memory = Memory()  # of the connection looks, for the next one
        self._connections_every = 0.0

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
        from cms.farm.reconcile import request_reconcile

        every = settings.SIGHTLINE_WORKER_WATCH_S
        self._connections_every = settings.SIGHTLINE_WORKER_CONNECTION_WATCH_S
        log.info(
            "watching the ingest workers every %g s, their connections every %s",
            every,
            f"{self._connections_every:g} s" if self._connections_every else "(off)",
        )
        request_reconcile("control worker started")
        failing = ""
        next_watch = time.monotonic() + every
        while not self._stop.wait(min(every, self._connections_every or every)):
            try:
                change = self._look(due=time.monotonic() >= next_watch)
            except Exception as exc:  # Redis down: say so once, keep watching
                if str(exc) != failing:
                    log.warning("worker watch failed: %s", exc)
                failing = str(exc)
                continue
            if failing:
                log.info("worker watch works again")
                failing = ""
            if time.monotonic() >= next_watch:
                next_watch = time.monotonic() + every
            if change:
                log.info("%s: reconcile requested", change)

    def _look(self, *, due: bool) -> str | None:
        """The connections look, and the heartbeat look when ``due``; what changed."""
        from cms.farm.reconcile import reconcile_if_workers_changed, reconcile_if_workers_crashed

        crashed = None
        if self._connections_every:
            try:
                self._memory, crashed = reconcile_if_workers_crashed(self._memory)
            except redis.ResponseError as exc:  # CLIENT LIST not allowed (ACL, a managed Redis)
                log.warning(
                    "cannot list Redis connections (%s): crashed workers are noticed when "
                    "their heartbeat expires",
                    exc,
                )
                self._connections_every = 0.0
        changed = reconcile_if_workers_changed() if due else None
        return "; ".join(c for c in (crashed, changed) if c) or None
