"""Moving a loaded model to the fastest backend, off the frame path, and reporting the choice.

A worker process has one `BackendSwitcher`: one background thread that takes one model at a
time. For a model that runs on torch (every model starts there), it exports the candidates
(`candidates_to_try`: each backend's static batch-1 export, its dynamic-batch export, and for
OpenVINO the static export at the CPU's default precision too, and the dynamic one on a CPU
with AMX) at the stream's real input shape (`letterbox_shape` of a real frame at the model's
imgsz), loads each, checks each against a fresh torch instance on that frame (`agreement`),
times every candidate over a few interleaved passes on it, at one frame per call and at
BATCHED_FRAMES per call, and lets `choose` decide at the size of the passes the model's
batcher has been running (`ModelStore.frames_per_pass`).
The winner replaces torch under the model's shared MicroBatcher between two batches
(`ModelStore.swap`), with a fresh split policy, so the camera never stops and no result is
lost. Anything that fails leaves torch running, with the reason in `report()`.

Uploaded exports (.onnx, .torchscript) are not re-exported: they run as uploaded.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference import backends, torch_thread
from inference.backend_choice import (
    BATCHED_FRAMES,
    TORCH,
    Candidate,
    Choice,
    Measurement,
    candidates_to_try,
    choose,
)
from inference.batcher import SplitPolicy
from inference.entities import DetectedObject, Detector, ModelSource, PredictOptions
from inference.fetch import fetch_weights
from inference.store import ModelStore

logger = logging.getLogger(__name__)

PASSES = 5
"""Timed passes per candidate (after one warm-up pass each), interleaved across candidates so a
neighbour's burst on a shared CPU costs them all alike; the median counts."""

MEASURING = "measuring the backends"
DYNAMIC_BATCH = 8
"""The largest batch a dynamic export is made for: the micro-batcher's default max_batch."""


@dataclass(frozen=True)
class SwitchRequest:
    """A model to put on its best backend: `key` is how the worker reports it ("model
    id:sha256"), `source` how the store knows it, `frame` a real frame of its stream and
    `options` a display's options (the imgsz it runs at)."""

    key: str
    source: ModelSource
    wanted: str
    frame: np.ndarray
    options: PredictOptions


@dataclass(frozen=True)
class BackendReport:
    """What a worker runs a model on (`backend`, and the candidate's label: `variant`) and
    why, with each candidate's ms per frame at one frame per call (`candidates`) and with
    BATCHED_FRAMES frames per call (`batched`), by label."""

    key: str
    backend: str
    reason: str
    candidates: dict[str, float] = field(default_factory=dict)
    variant: str = ""
    batched: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "backend": self.backend,
            "reason": self.reason,
            "candidates": dict(self.candidates),
            "variant": self.variant or self.backend,
            "batched": dict(self.batched),
        }


@dataclass(frozen=True)
class BackendTools:
    """What the switcher needs from the export side (inference.backends); tests use the real
    ones, with a forced failure where a backend cannot run here."""

    available: Callable[[str], Iterable[str]]
    export: Callable[..., Path]
    letterbox_shape: Callable[[tuple[int, int], int], tuple[int, int]]
    agreement: Callable[
        [Sequence[Sequence[DetectedObject]], Sequence[Sequence[DetectedObject]]], float
    ]
    backend_of_weights: Callable[[Path], str]
    device_precision: Callable[[str], str]
    has_amx: Callable[[str], bool]


def default_tools() -> BackendTools:
    """The export side's functions (inference.backends)."""
    return BackendTools(
        available=backends.available_backends,
        export=backends.export_model,
        letterbox_shape=backends.letterbox_shape,
        agreement=backends.agreement,
        backend_of_weights=backends.backend_of_weights,
        device_precision=backends.device_precision,
        has_amx=backends.has_amx,
    )


Loader = Callable[[Path, ModelSource, str, int, tuple[int, int], bool], Detector]
"""Loads weights or an export of `source` on a device, warmed up at an imgsz and the stream's
input shape; the last argument says whether an FP32 export runs at FP32 (else at the device's
default precision)."""


def load_detector(
    path: Path,
    source: ModelSource,
    device: str,
    imgsz: int,
    shape: tuple[int, int],
    exact_precision: bool = True,
) -> Detector:
    """The default loader: an UltralyticsDetector (torch for .pt, the export's runtime else)."""
    from inference.ultralytics_backend import UltralyticsDetector

    return UltralyticsDetector(
        path,
        name=source.name,
        version=source.version,
        sha256=source.sha256,
        device=device,
        imgsz=imgsz,
        warmup_shape=shape,
        exact_precision=exact_precision,
    )


class BackendSwitcher:
    """One background thread per worker process that puts its models on their best backend."""

    def __init__(
        self,
        store: ModelStore,
        *,
        cache_dir: str | Path,
        tools: Callable[[], BackendTools] = default_tools,
        loader: Loader = load_detector,
        passes: int = PASSES,
    ) -> None:
        self._store = store
        self._cache_dir = Path(cache_dir)
        self._tools = tools
        self._loader = loader
        self._passes = passes
        self._lock = threading.Lock()
        # model key -> (the store's load id, wanted backend) it was asked for; its report with
        # the store key and load id it is for
        self._asked: dict[str, tuple[int, str]] = {}
        self._reports: dict[str, tuple[str, int, BackendReport]] = {}
        # store key -> (load id, label of the candidate swapped in for that load)
        self._running: dict[str, tuple[int, str]] = {}
        self._jobs: queue.Queue[tuple[SwitchRequest, int] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = False

    def request(self, request: SwitchRequest) -> bool:
        """Queue the model for a choice unless this load of it already has one for the same
        wanted backend; returns whether it was queued. Cheap: call it with every frame."""
        load_id = self._store.load_id(request.source.key)
        if load_id is None:
            return False
        asked = (load_id, request.wanted)
        with self._lock:
            if self._closed or self._asked.get(request.key) == asked:
                return False
            self._asked[request.key] = asked
            measuring = BackendReport(request.key, TORCH, MEASURING)
            self._reports[request.key] = (request.source.key, load_id, measuring)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="sightline-backends", daemon=True
                )
                self._thread.start()
        # A copy: the stream's reader reuses its frame buffers.
        self._jobs.put((dataclasses.replace(request, frame=request.frame.copy()), load_id))
        return True

    def report(self) -> list[BackendReport]:
        """The choice of every model loaded now, by key (models since evicted are left out)."""
        with self._lock:
            reports = list(self._reports.values())
        current = [r for key, load_id, r in reports if self._store.load_id(key) == load_id]
        return sorted(current, key=lambda r: r.key)

    def close(self, timeout: float = 5.0) -> None:
        """Stop after the model being measured now (it may take an export's time)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._jobs.put(None)
        if thread is not None:
            thread.join(timeout)

    # --- the background thread ---------------------------------------------------------

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            request, load_id = job
            try:
                report = self._switch(request, load_id)
            except Exception as exc:  # never let one model's trouble stop the others' choice
                logger.exception("choosing a backend for %r failed", request.source.label)
                report = BackendReport(
                    request.key, TORCH, f"kept torch: {type(exc).__name__}: {exc}"
                )
            logger.info(
                "model %r: %s (%s) ms per frame alone %s, 4 per call %s",
                request.source.label,
                report.variant or report.backend,
                report.reason,
                report.candidates,
                report.batched,
            )
            with self._lock:
                if self._asked.get(request.key, (None,))[0] == load_id:
                    self._reports[request.key] = (request.source.key, load_id, report)

    def _switch(self, request: SwitchRequest, load_id: int) -> BackendReport:
        source = request.source
        weights = fetch_weights(source, self._store.cache_dir)  # cached: no download
        tools = self._tools()
        if weights.path.suffix != ".pt":
            backend = tools.backend_of_weights(weights.path)
            reason = f"uploaded {weights.path.suffix} weights run as uploaded (not re-exported)"
            return BackendReport(request.key, backend, reason)
        device = self._store.device
        candidates = candidates_to_try(
            request.wanted,
            tools.available(device),
            device_precision=tools.device_precision(device),
            amx=tools.has_amx(device),
        )
        imgsz = request.options.imgsz
        height, width = request.frame.shape[:2]
        shape = tools.letterbox_shape((height, width), imgsz)
        if candidates == [Candidate(TORCH)]:
            choice = Choice(TORCH, "forced by setting")
            models: dict[str, Detector] = {}
        else:
            models, errors = self._load_candidates(request, weights.path, candidates, shape, tools)
            measured = self._measure(request, models, errors, tools)
            # The passes the cameras gave the model while it ran on torch (the exports took
            # a while): a lone live camera runs single frames, several cameras or a file read
            # on demand run batches, and the fastest candidate differs between the two.
            passes = self._store.frames_per_pass(source.key)
            choice = choose(request.wanted, measured, frames_per_pass=passes)
        if self._store.current(source.key) is None:
            return BackendReport(request.key, TORCH, "the model was unloaded while measuring")
        running = self._running.get(source.key, (None, TORCH))
        running_label = running[1] if running[0] == load_id else TORCH
        if running_label != choice.variant:
            # A model moved to another candidate earlier (another wanted backend) goes back
            # to torch when torch is the choice now.
            chosen = models.get(choice.variant) or self._loader(
                weights.path, source, device, imgsz, shape, True
            )
            # A fresh split policy: it measures batched against single passes of the new
            # model per shape (ultralytics splits a batch-1 export's forward itself, and
            # batching the pre- and post-processing still pays).
            policy = SplitPolicy(always_batch=device != "cpu")
            if not self._store.swap(source.key, chosen, load_id=load_id, policy=policy):
                return BackendReport(request.key, TORCH, "the model was unloaded while measuring")
            self._running[source.key] = (load_id, choice.variant)
        if not choice.candidates:
            return BackendReport(request.key, choice.backend, choice.reason, variant=choice.variant)
        return _report(request.key, choice, shape)

    def _load_candidates(
        self,
        request: SwitchRequest,
        weights: Path,
        candidates: list[Candidate],
        shape: tuple[int, int],
        tools: BackendTools,
    ) -> tuple[dict[str, Detector], dict[str, str]]:
        """A fresh torch instance (the reference, timed like the others) and each export, by
        label; a variant at the device's precision loads its export again, compiled at that."""
        device, imgsz = self._store.device, request.options.imgsz
        models: dict[str, Detector] = {}
        errors: dict[str, str] = {}
        for candidate in candidates:
            label = candidate.label
            try:
                path = weights
                if candidate.backend != TORCH:
                    started = time.monotonic()
                    path = tools.export(
                        weights,
                        backend=candidate.backend,
                        shape=shape,
                        batch=DYNAMIC_BATCH if candidate.dynamic else 1,
                        dynamic=candidate.dynamic,
                        half=device.startswith("cuda"),
                        device=device,
                        cache_dir=self._cache_dir,
                        sha256=request.source.sha256,
                    )
                    logger.info(
                        "exported %r for %s in %.1f s (or found it cached)",
                        request.source.label,
                        label,
                        time.monotonic() - started,
                    )
                models[label] = self._loader(
                    path, request.source, device, imgsz, shape, candidate.exact_precision
                )
            except Exception as exc:  # an export or a load that fails rules out that candidate
                errors[label] = _describe(exc)
        return models, errors

    def _measure(
        self,
        request: SwitchRequest,
        models: dict[str, Detector],
        errors: dict[str, str],
        tools: BackendTools,
    ) -> list[Measurement]:
        single, options = [request.frame], request.options
        group = [request.frame] * BATCHED_FRAMES
        outputs: dict[str, tuple[list[list[DetectedObject]], list[list[DetectedObject]]]] = {}
        for name, model in list(models.items()):
            try:  # also their warm-up passes
                outputs[name] = (model.detect(single, options), model.detect(group, options))
            except Exception as exc:
                errors[name] = _describe(exc)
                del models[name]
        timings: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in models}
        for _ in range(self._passes):
            for name, model in list(models.items()):
                try:
                    # Timed on the torch thread itself: live frames queued there are not in it.
                    timings[name][0].append(torch_thread.timed(model.detect, single, options))
                    batched = torch_thread.timed(model.detect, group, options)
                    timings[name][1].append(batched / BATCHED_FRAMES)
                except Exception as exc:
                    errors[name] = _describe(exc)
                    del models[name]
        reference = outputs.get(TORCH)
        measurements = [Measurement(name, error=error) for name, error in errors.items()]
        for name in models:
            agrees = 1.0 if name == TORCH else None
            if reference is not None and name != TORCH:
                # Both ways must agree: one frame, and each frame of a batch.
                agrees = min(
                    tools.agreement(reference[0], outputs[name][0]),
                    tools.agreement(reference[0] * BATCHED_FRAMES, outputs[name][1]),
                )
            measurements.append(
                Measurement(
                    name,
                    ms_per_frame=statistics.median(timings[name][0]),
                    agreement=agrees,
                    ms_batched=statistics.median(timings[name][1]),
                )
            )
        return measurements


def _report(key: str, choice: Choice, shape: tuple[int, int]) -> BackendReport:
    reason = f"{choice.reason} (at {shape[0]}x{shape[1]})"
    return BackendReport(
        key,
        choice.backend,
        reason,
        dict(choice.candidates),
        variant=choice.variant,
        batched=dict(choice.batched),
    )


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
