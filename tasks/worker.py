"""What makes a Celery worker an ingest worker: ``celery -A tasks worker --ingest``.

Once it takes tasks (Celery's ``worker_ready``) it registers in Redis and heartbeats
(capacity, running cameras, CPU, memory, GPU, models, and when it became ready: a
camera assigned to it before then, and missing from its heartbeat, is not running
there). The heartbeat goes through a connection of its own, named after the worker
and open for the process' life: when the process dies, even by kill -9, Redis drops the
name at once and the control worker moves its cameras without waiting for the heartbeat
to expire (cms.farm.crash_detection). On SIGTERM Celery fires ``worker_shutting_down``
first: the worker tells its camera tasks to return, deregisters and asks for a
reconcile, so its cameras move at once while the warm shutdown completes.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import psutil
import redis
from celery import bootsteps
from celery.signals import celeryd_after_setup, worker_ready, worker_shutting_down
from click import Option
from django.conf import settings

from cms import redis_connection
from cms.farm import farm_keys, worker_connections
from cms.farm.heartbeats import ModelBackend, WorkerInfo
from cms.logs import set_process_context
from tasks.worker_runtime import WorkerRuntime, worker_runtime
from tasks.worker_watch import WorkerWatch

log = logging.getLogger(__name__)


def gpu_figures(device: str) -> tuple[float | None, float | None]:
    """(utilisation %, memory used %) of the worker's GPU, or (None, None) without one."""
    if not device.startswith("cuda"):
        return None, None
    try:
        import pynvml

        pynvml.nvmlInit()
        index = int(device.split(":", 1)[1]) if ":" in device else 0
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
        utilisation = pynvml.nvmlDeviceGetUtilizationRates(handle)
        return float(utilisation.gpu), 100.0 * memory.used / memory.total
    except Exception:  # NVML missing or failing must not stop the heartbeat
        return None, None


def worker_info(runtime: WorkerRuntime, *, started_at: float) -> WorkerInfo:
    gpu, gpu_memory = gpu_figures(runtime.device)
    return WorkerInfo(
        name=runtime.name,
        device=runtime.device,
        capacity=runtime.capacity,
        running=runtime.running(),
        cpu_percent=psutil.cpu_percent(interval=None),
        memory_percent=psutil.virtual_memory().percent,
        gpu_percent=gpu,
        gpu_memory_percent=gpu_memory,
        models=runtime.models(),
        last_seen=time.time(),
        started_at=started_at,
        backends=tuple(ModelBackend.from_dict(r) for r in runtime.backend_reports()),
        start_lists=True,
    )


class Heartbeat(threading.Thread):
    def __init__(self, runtime: WorkerRuntime, *, started_at: float) -> None:
        super().__init__(name="sightline-heartbeat", daemon=True)
        self.runtime = runtime
        self.started_at = started_at

    def run(self) -> None:
        psutil.cpu_percent(interval=None)  # the first reading is meaningless
        # Its own connection, never returned to a pool, so it is open whenever the
        # heartbeat is: Redis sees it close when the process dies (worker_connections).
        r: redis.Redis | None = None
        try:
            while not self.runtime.stopping.is_set():
                try:
                    r = r or self._client()
                    info = worker_info(self.runtime, started_at=self.started_at)
                    farm_keys.write_worker(r, info)
                except redis.RedisError as exc:
                    log.warning("worker heartbeat failed: %s", exc)
                self.runtime.stopping.wait(settings.SIGHTLINE_WORKER_HEARTBEAT_S)
        finally:
            if r is not None and r is not redis_connection.client():
                r.close()

    def _client(self) -> redis.Redis:
        """The named client; the shared pool where Redis refuses CLIENT SETNAME (an ACL):
        heartbeats still flow, and a crash is noticed when they expire."""
        try:
            return redis_connection.named_client(worker_connections.client_name(self.runtime.name))
        except redis.ResponseError as exc:
            log.warning("cannot name the heartbeat connection (%s): heartbeats only", exc)
            return redis_connection.client()


SHORT_TASK_THREADS = 1


class IngestWorker(bootsteps.StartStopStep):
    """Registers the worker, heartbeats, and hands its cameras over on shutdown."""

    requires = ("celery.worker.components:Pool",)

    def __init__(self, worker: Any, ingest: bool = False, **options: Any) -> None:
        self.enabled = bool(ingest)
        if self.enabled:
            # At start, not at the first camera: without it no camera source can be fetched.
            from cms.worker_secret import worker_secret

            worker_secret()  # ImproperlyConfigured, naming SIGHTLINE_WORKER_SECRET
            # The pool gets threads beside the capacity the worker reports (its concurrency):
            # camera tasks hold theirs for hours, so a full worker still runs short tasks
            # (the admin's try-out). Steps are all built before any is created, so the Pool
            # step, which this one requires, creates its pool with this.
            worker.min_concurrency = worker.concurrency + SHORT_TASK_THREADS

    def start(self, worker: Any) -> None:
        global _ingest_runtime
        runtime = _ingest_runtime = worker_runtime(worker.hostname, worker.concurrency)
        # Once per process, before any inference thread runs: building an ultralytics
        # predictor would otherwise change it process-wide (to cores - 1).
        import torch

        torch.set_num_threads(settings.SIGHTLINE_TORCH_THREADS or os.cpu_count() or 1)
        log.info(
            "ingest worker %s: device %s, capacity %d",
            runtime.name,
            runtime.device,
            runtime.capacity,
        )

    def stop(self, worker: Any) -> None:
        leave_farm("worker stopped")
        if _heartbeat is not None:
            _heartbeat.join(timeout=5)


_ingest_runtime: WorkerRuntime | None = None
_heartbeat: Heartbeat | None = None
_left = threading.Event()


@worker_ready.connect
def _join_farm(sender: Any, **kwargs: Any) -> None:
    """Heartbeat from the moment the worker takes tasks: its queue is being read."""
    global _heartbeat
    runtime = _ingest_runtime
    if runtime is None or _heartbeat is not None or runtime.stopping.is_set():
        return
    _heartbeat = Heartbeat(runtime, started_at=time.time())
    _heartbeat.start()


def leave_farm(reason: str) -> None:
    """Stop every camera task of this process, deregister, and ask for a reconcile (once)."""
    runtime = _ingest_runtime
    if runtime is None:
        return
    runtime.stopping.set()
    if _left.is_set():
        return
    _left.set()
    try:
        farm_keys.remove_worker(redis_connection.client(), runtime.name)
    except redis.RedisError as exc:
        log.warning("could not deregister %s: %s", runtime.name, exc)
    # Imported here: it imports cms.models, and this module loads with the Celery app,
    # before Django is set up.
    from cms.farm.reconcile import request_reconcile

    request_reconcile(f"{runtime.name}: {reason}", desired_changed=False)


@celeryd_after_setup.connect
def _name_logs(sender: str, **kwargs: Any) -> None:
    set_process_context(worker=sender)  # every record of this worker names it


@worker_shutting_down.connect
def _on_shutting_down(sig: str, how: str, exitcode: int, **kwargs: Any) -> None:
    leave_farm(f"shutting down ({sig})")


def install(app: Any) -> None:
    app.user_options["worker"].add(
        Option(
            ("--ingest",),
            is_flag=True,
            default=False,
            help="Run as a Sightline ingest worker (heartbeats, camera tasks).",
        )
    )
    app.steps["worker"].add(IngestWorker)
    app.steps["worker"].add(WorkerWatch)
