"""Process-wide state of an ingest worker: its name, device, model store and running cameras.

Created lazily inside the worker process, so CUDA is initialised only after the
worker started (never in the parent that forked or imported it).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from inference import ModelStore
    from inference.backend_switch import BackendSwitcher


@dataclass
class WorkerRuntime:
    name: str
    capacity: int
    stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _running: dict[int, int] = field(default_factory=dict)  # camera id -> generation
    _models: Counter[str] = field(default_factory=Counter)  # "model id:sha256" -> leases

    # Choosing the device imports torch: only ingest workers pay for it, on first use.
    @cached_property
    def device(self) -> str:
        from inference import select_device

        return select_device(settings.SIGHTLINE_DEVICE or None)

    @cached_property
    def store(self) -> ModelStore:
        from inference import ModelStore

        return ModelStore(
            settings.SIGHTLINE_MODEL_CACHE_DIR,
            device=self.device,
            max_models=settings.SIGHTLINE_MAX_MODELS,
        )

    @cached_property
    def backends(self) -> BackendSwitcher:
        """Puts each loaded model on its fastest backend, off the frame path."""
        from inference.backend_switch import BackendSwitcher

        return BackendSwitcher(
            self.store, cache_dir=Path(settings.SIGHTLINE_MODEL_CACHE_DIR) / "exports"
        )

    def backend_reports(self) -> tuple[dict[str, Any], ...]:
        """The heartbeat's view of the backends: nothing until a model asked for one."""
        if "backends" not in self.__dict__:  # never create the switcher just to report
            return ()
        return tuple(r.to_dict() for r in self.backends.report())

    def started(self, camera_id: int, generation: int) -> None:
        with self._lock:
            self._running[camera_id] = generation

    def finished(self, camera_id: int, generation: int) -> None:
        with self._lock:
            if self._running.get(camera_id) == generation:
                del self._running[camera_id]

    def running(self) -> tuple[int, ...]:
        with self._lock:
            return tuple(sorted(self._running))

    def hold_model(self, key: str) -> None:
        with self._lock:
            self._models[key] += 1

    def release_model(self, key: str) -> None:
        with self._lock:
            self._models[key] -= 1
            if self._models[key] <= 0:
                del self._models[key]

    def models(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._models))


_runtime: WorkerRuntime | None = None
_runtime_lock = threading.Lock()


def worker_runtime(name: str = "", capacity: int = 0) -> WorkerRuntime:
    """This process's runtime, created on first use (the worker bootstep names it)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = WorkerRuntime(
                name=name or "local", capacity=capacity or settings.SIGHTLINE_INGEST_CAPACITY
            )
        return _runtime
