"""Models loaded once per worker process, shared by its streams, kept in a bounded LRU.

A source's `task` decides what its weights are loaded as: a Detector ("detect", primary
models) or a Classifier ("classify", secondary models); both get a MicroBatcher.

A stream holds a lease on a model while it uses it (`with store.acquire(source) as
detector:`); a leased model is never evicted, so the LRU may briefly hold more than
`max_models` when all of them are in use. The first caller of a model loads it; callers
that arrive meanwhile wait for that load instead of starting their own.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.batcher import MicroBatcher, SplitPolicy
from inference.entities import Classifier, Detector, ModelInfo, ModelSource
from inference.errors import InferenceTimeoutError
from inference.fetch import LocalWeights, fetch_weights
from inference.ultralytics_backend import CLASSIFY_TASK, UltralyticsDetector
from inference.ultralytics_classifier import UltralyticsClassifier

logger = logging.getLogger(__name__)

Model = Detector | Classifier
"""What the store holds: a detector (task "detect") or a classifier (task "classify")."""

Loader = Callable[[ModelSource, LocalWeights, str], Model]
"""Turns fetched weights into a model of the source's task on a device (ultralytics by default)."""


def load_ultralytics(source: ModelSource, weights: LocalWeights, device: str) -> Model:
    """The default loader: an UltralyticsClassifier for task "classify", else an
    UltralyticsDetector, on `device`; ModelLoadError when the weights are of another task."""
    if source.task == CLASSIFY_TASK:
        return UltralyticsClassifier(
            weights.path,
            name=source.name,
            version=source.version,
            sha256=weights.sha256,
            device=device,
        )
    return UltralyticsDetector(
        weights.path,
        name=source.name,
        version=source.version,
        sha256=weights.sha256,
        device=device,
    )


_load_ids = itertools.count(1)


@dataclass
class _Entry:
    loaded: Future[Model] = field(default_factory=Future)
    leases: int = 0
    batcher: MicroBatcher[Any] | None = None
    # Tells this load from a later one of the same key (after an eviction): a backend
    # chosen for one load is never swapped into the next.
    load_id: int = field(default_factory=lambda: next(_load_ids))
    policy: SplitPolicy | None = None  # for a batcher created after a swap


class ModelStore:
    """The models of one worker process."""

    def __init__(
        self,
        cache_dir: str | Path,
        *,
        device: str = "cpu",
        max_models: int = 4,
        fetch_timeout: float = 300.0,
        loader: Loader = load_ultralytics,
    ) -> None:
        if max_models < 1:
            raise ValueError("max_models must be at least 1")
        self.cache_dir = Path(cache_dir)
        self.device = device
        self.max_models = max_models
        self._fetch_timeout = fetch_timeout
        self._loader = loader
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first

    @contextmanager
    def acquire(self, source: ModelSource, *, timeout: float | None = None) -> Iterator[Model]:
        """Lease the model for `source`, loading it on first use; raises what loading raised.

        It is a Detector or a Classifier, as `source.task` says.

        `timeout` bounds the wait for a load another caller started.
        """
        with self._leased(source, timeout) as entry:
            yield entry.loaded.result()

    @contextmanager
    def acquire_batcher(
        self,
        source: ModelSource,
        *,
        max_batch: int = 8,
        max_wait_ms: float = 5.0,
        timeout: float | None = None,
    ) -> Iterator[MicroBatcher[Any]]:
        """Lease the model and its one shared MicroBatcher (created on first use).

        A detector's batcher for task "detect" (`detect`, `submit`), a classifier's for
        "classify" (`classify`, `submit_crop`).

        The batcher belongs to the model: it is closed when the model is evicted, and
        the first caller's max_batch / max_wait_ms configure it.
        """
        with self._leased(source, timeout) as entry:
            model = entry.loaded.result()
            with self._lock:
                if entry.batcher is None:
                    entry.batcher = MicroBatcher(
                        model, max_batch=max_batch, max_wait_ms=max_wait_ms, policy=entry.policy
                    )
                batcher = entry.batcher
            yield batcher

    def load_id(self, key: str) -> int | None:
        """Which load of the model `key` (a ModelSource.key) is in the store now, if it is
        loaded: a later load (after an eviction) has another id."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or not entry.loaded.done() or entry.loaded.exception() is not None:
                return None
            return entry.load_id

    def current(self, key: str) -> Model | None:
        """The model `key` (a ModelSource.key) runs as now, if it is loaded."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or not entry.loaded.done() or entry.loaded.exception() is not None:
            return None
        return entry.loaded.result()

    def frames_per_pass(self, key: str) -> float | None:
        """How many frames the batcher of the model `key` has gathered per pass, on average
        since it started: the pass size its cameras give it. None before its first pass."""
        with self._lock:
            entry = self._entries.get(key)
            batcher = entry.batcher if entry is not None else None
        stats = batcher.stats() if batcher is not None else None
        if stats is None or not stats.gathers:
            return None
        return stats.frames / stats.gathers

    def swap(
        self, key: str, model: Model, *, load_id: int, policy: SplitPolicy | None = None
    ) -> bool:
        """Serve the model `key` with `model` from now on (the same weights on another
        backend): its batcher switches between batches (MicroBatcher.swap_model), and
        later leases get `model`. False, and nothing changes, when that load of the model
        (`load_id`) is no longer in the store."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.load_id != load_id or not entry.loaded.done():
                return False
            swapped: Future[Model] = Future()
            swapped.set_result(model)
            entry.loaded, entry.policy = swapped, policy
            if entry.batcher is not None:
                entry.batcher.swap_model(model, policy=policy)
        logger.info("model %r now runs on %s", model.info.name, model.info.backend)
        return True

    def loaded(self) -> list[ModelInfo]:
        """The models loaded now, least recently used first."""
        with self._lock:
            entries = list(self._entries.values())
        return [
            e.loaded.result().info
            for e in entries
            if e.loaded.done() and not e.loaded.cancelled() and e.loaded.exception() is None
        ]

    def close(self) -> None:
        """Drop every model that is not in use and stop its batcher."""
        with self._lock:
            idle = [k for k, e in self._entries.items() if e.leases == 0 and e.loaded.done()]
            dropped = [self._entries.pop(k) for k in idle]
        for entry in dropped:
            _dispose(entry)

    @contextmanager
    def _leased(self, source: ModelSource, timeout: float | None) -> Iterator[_Entry]:
        with self._lock:
            entry = self._entries.get(source.key)
            first = entry is None
            if entry is None:
                entry = self._entries[source.key] = _Entry()
            self._entries.move_to_end(source.key)
            entry.leases += 1
        try:
            if first:
                self._load(source, entry)
            try:
                entry.loaded.exception(timeout=timeout)
            except TimeoutError as exc:
                raise InferenceTimeoutError(
                    f"model {source.label!r} did not finish loading within {timeout:g} s"
                ) from exc
            yield entry
        finally:
            with self._lock:
                entry.leases -= 1
            self._evict()

    def _load(self, source: ModelSource, entry: _Entry) -> None:
        """Load outside the store lock, so other models stay usable during a slow load."""
        try:
            weights = fetch_weights(source, self.cache_dir, timeout=self._fetch_timeout)
            model = self._loader(source, weights, self.device)
        except BaseException as exc:
            with self._lock:
                # Forget the failure: the next assignment retries (fresh signed URL, fixed file).
                if self._entries.get(source.key) is entry:
                    del self._entries[source.key]
            entry.loaded.set_exception(exc)
            return
        logger.info("loaded model %r on %s", source.label, self.device)
        entry.loaded.set_result(model)
        self._evict()

    def _evict(self) -> None:
        """Drop least recently used idle models while the store holds more than max_models."""
        with self._lock:
            dropped: list[_Entry] = []
            excess = len(self._entries) - self.max_models
            for key, entry in list(self._entries.items()):
                if excess <= 0:
                    break
                if entry.leases == 0 and entry.loaded.done():
                    dropped.append(self._entries.pop(key))
                    excess -= 1
        for entry in dropped:
            _dispose(entry)


def _dispose(entry: _Entry) -> None:
    if entry.batcher is not None:
        entry.batcher.close()
    if entry.loaded.exception() is None:
        info = entry.loaded.result().info
        logger.info("evicted model %r from %s", info.name, info.device)
        entry.batcher, entry.loaded = None, Future()  # drop the model's last references
        if info.device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()
