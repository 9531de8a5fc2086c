"""One inference thread per (process, model) serving frames from many stream threads.

One implementation for both kinds of model: a detector's batcher takes frames (`submit`,
`detect`) and gives each its detections; a classifier's takes objects' crops (`submit_crop`,
`classify`) and gives each its `Classification`. What follows says "frames" for both.

Streams submit frames; the thread takes what is queued, waits at most `max_wait_ms`
for more, up to `max_batch`, and runs it. It stops waiting early once it has as many
frames as recent batches had (the streams that are running). A stream that stops
submitting is simply not in the next batch: the others wait for it at most
`max_wait_ms`, and only for the few batches it takes to notice it is gone.

Frames are grouped by (options, frame shape) before a forward pass (a classifier has no
options, and its crops share a shape when made by `classification_crop` at its imgsz):
- ultralytics applies one confidence, IoU, size and class filter to a whole batch, so
  frames with different options cannot share a pass without changing their results;
- frames of different shapes in one batch are letterboxed to a square instead of
  their own minimal rectangle, which both changes their results and, for 16:9
  cameras, costs ~1.7x the compute. Displays of one camera share a shape, and a
  worker's cameras mostly share a few resolutions, so groups stay large.

On CUDA a group always runs as one pass. On CPU one pass over n frames is not reliably
cheaper than n passes (measured with yolov8n on 2 cores: about 30 % cheaper per frame
at 320 px, about 6 % dearer at 640 px; docs/benchmarks.md), so `SplitPolicy` measures
both per input shape and keeps using the cheaper, re-checking the other now and then.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from inference.crops import Crop
from inference.entities import Classification, Classifier, DetectedObject, Detector, PredictOptions
from inference.errors import BatcherClosedError, InferenceTimeoutError
from inference.ultralytics_backend import check_frame

logger = logging.getLogger(__name__)

ShapeKey = tuple[int, int, int]
"""(imgsz, frame height, frame width): what decides the cost of a forward pass."""

ModelT = TypeVar("ModelT", bound="Detector | Classifier", covariant=True)
"""The model a batcher serves: a Detector or a Classifier."""

Forward = Callable[[list[np.ndarray], "PredictOptions | None"], list[Any]]
"""One forward pass: frames and their options (None for a classifier) -> one result each."""


@dataclass(eq=False)
class _Request:
    frame: np.ndarray
    options: PredictOptions | None  # None: a classifier's crop
    crop: Crop | None
    future: Future[Any]

    @property
    def group(self) -> tuple[PredictOptions | None, tuple[int, ...]]:
        return self.options, self.frame.shape


@dataclass(frozen=True, slots=True)
class BatcherStats:
    """Counters since the batcher started (a classifier's crops count as frames)."""

    frames: int = 0
    gathers: int = 0
    gather_timeouts: int = 0  # gathers that waited max_wait for frames that did not come
    forward_passes: int = 0
    failed_frames: int = 0
    cancelled: int = 0


class SplitPolicy:
    """Chooses, per input shape, one forward pass for a group or one pass per frame.

    Keeps the last `window` per-frame costs of each way and compares their medians (a
    neighbour's burst on a shared CPU must not flip the choice), tries each way a few
    times first and the worse one again every `explore_every` decisions, so a change
    in load or input size is noticed. With `always_batch` (CUDA) it never splits.
    """

    def __init__(
        self,
        *,
        always_batch: bool,
        explore_every: int = 100,
        min_samples: int = 3,
        window: int = 9,
    ) -> None:
        self.always_batch = always_batch
        self._explore_every = explore_every
        self._min_samples = min_samples
        self._window = window
        self._costs: dict[tuple[ShapeKey, bool], deque[float]] = {}
        self._decisions: dict[ShapeKey, int] = {}

    def batched(self, key: ShapeKey, n: int) -> bool:
        """Whether to run the n frames of this shape as one forward pass."""
        if n < 2 or self.always_batch:
            return n >= 2
        count = self._decisions[key] = self._decisions.get(key, 0) + 1
        batch_samples = len(self._costs.get((key, True), ()))
        single_samples = len(self._costs.get((key, False), ()))
        if min(batch_samples, single_samples) < self._min_samples:
            return batch_samples <= single_samples
        costs = self.cost(key)
        cheaper = (costs["batched"] or 0.0) <= (costs["single"] or 0.0)
        return not cheaper if count % self._explore_every == 0 else cheaper

    def record(self, key: ShapeKey, batched: bool, frames: int, seconds: float) -> None:
        """Record what running `frames` frames one way took."""
        if frames < 2 or self.always_batch:
            return  # a lone frame says nothing about splitting a group
        samples = self._costs.setdefault((key, batched), deque(maxlen=self._window))
        samples.append(seconds / frames)

    def cost(self, key: ShapeKey) -> dict[str, float | None]:
        """The current per-frame estimates in seconds (None: not measured yet)."""
        return {
            "batched": _median(self._costs.get((key, True))),
            "single": _median(self._costs.get((key, False))),
        }


class MicroBatcher(Generic[ModelT]):
    """Batch frames (or crops) from many threads into forward passes of one model."""

    def __init__(
        self,
        model: ModelT,
        *,
        max_batch: int = 8,
        max_wait_ms: float = 5.0,
        policy: SplitPolicy | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if max_wait_ms < 0:
            raise ValueError("max_wait_ms must not be negative")
        self._model = model
        self._forward, self.kind = _forward_of(model)
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.policy = policy or SplitPolicy(always_batch=model.info.device != "cpu")
        self._queue: deque[_Request] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._swap: tuple[Any, SplitPolicy | None] | None = None  # taken between batches
        self._recent_sizes: deque[int] = deque(maxlen=8)
        self._stats = BatcherStats()
        self._thread = threading.Thread(
            target=self._run, name=f"batcher-{model.info.name}", daemon=True
        )
        self._thread.start()

    @property
    def model(self) -> ModelT:
        """The detector or classifier this batcher feeds (after `swap_model`, the new one:
        every frame not yet in a running batch goes to it)."""
        with self._cond:
            swap = self._swap
        return swap[0] if swap is not None else self._model

    @property
    def detector(self) -> ModelT:
        """The model (the name from when batchers only fed detectors)."""
        return self._model

    def submit(
        self: MicroBatcher[Detector],
        frame: np.ndarray,
        options: PredictOptions,
        *,
        crop: Sequence[float] | None = None,
    ) -> Future[list[DetectedObject]]:
        """Queue a frame; the future gives its detections in full-frame pixels.

        A bad frame or crop raises ValueError here, in the caller, and never reaches a
        batch. The frame is read later, on the batcher's thread: do not write to it
        until the future is done.
        """
        self._require("detect", "submit")
        check_frame(frame)
        region = Crop.from_box(crop, frame.shape) if crop is not None else None
        request = _Request(region.apply(frame) if region else frame, options, region, Future())
        self._enqueue(request)
        return request.future

    def detect(
        self: MicroBatcher[Detector],
        frame: np.ndarray,
        options: PredictOptions,
        timeout: float | None = None,
        *,
        crop: Sequence[float] | None = None,
    ) -> list[DetectedObject]:
        """Detect in one frame (optionally a crop of it), blocking up to `timeout` seconds.

        Raises InferenceTimeoutError when the result is late (the frame is dropped if it
        had not started), or whatever the forward pass raised for this frame.
        """
        result: list[DetectedObject] = self._wait(self.submit(frame, options, crop=crop), timeout)
        return result

    def submit_crop(self: MicroBatcher[Classifier], image: np.ndarray) -> Future[Classification]:
        """Queue an object's crop (`classification_crop`); the future gives its top-1 class.

        A bad image raises ValueError here, in the caller. The image is read later, on the
        batcher's thread: do not write to it until the future is done.
        """
        self._require("classify", "submit_crop")
        check_frame(image)
        request = _Request(image, None, None, Future())
        self._enqueue(request)
        return request.future

    def classify(
        self: MicroBatcher[Classifier], image: np.ndarray, timeout: float | None = None
    ) -> Classification:
        """Classify one crop, blocking up to `timeout` seconds (InferenceTimeoutError after)."""
        result: Classification = self._wait(self.submit_crop(image), timeout)
        return result

    def _require(self, kind: str, method: str) -> None:
        if self.kind != kind:
            raise TypeError(
                f"the batcher of {self._model.info.name!r} feeds a {self.kind!r} model: "
                f"{method}() needs a {kind!r} one"
            )

    def _enqueue(self, request: _Request) -> None:
        with self._cond:
            if self._closed:
                raise BatcherClosedError(f"the batcher of {self._model.info.name!r} is closed")
            self._queue.append(request)
            self._cond.notify()

    def _wait(self, future: Future[Any], timeout: float | None) -> Any:
        try:
            return future.result(timeout)
        except TimeoutError as exc:
            future.cancel()  # dropped, and counted, when the batcher reaches it
            raise InferenceTimeoutError(
                f"no result from {self._model.info.name!r} within {timeout:g} s"
            ) from exc

    def swap_model(
        self, model: Detector | Classifier, *, policy: SplitPolicy | None = None
    ) -> None:
        """Serve every later batch with `model` (another backend of the same model).

        Takes effect between batches, on the batcher's thread: the batch running now
        finishes on the old model, queued and later frames run on the new one, so no frame
        and no result is lost. `policy` replaces the split policy (the old one's costs were
        the old model's; None: a fresh one). Raises TypeError for a model of another kind.
        """
        _, kind = _forward_of(model)
        if kind != self.kind:
            raise TypeError(f"cannot swap a {self.kind!r} model for a {kind!r} one")
        with self._cond:
            if self._closed:
                raise BatcherClosedError(f"the batcher of {self._model.info.name!r} is closed")
            self._swap = (model, policy)

    def stats(self) -> BatcherStats:
        with self._cond:
            return self._stats

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread; frames still queued fail with BatcherClosedError."""
        with self._cond:
            self._closed = True
            pending = list(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        for request in pending:
            if request.future.set_running_or_notify_cancel():
                request.future.set_exception(
                    BatcherClosedError(f"the batcher of {self._model.info.name!r} closed")
                )
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def __enter__(self) -> MicroBatcher[ModelT]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while (batch := self._gather()) is not None:
            self._take_swap()
            groups: dict[tuple[PredictOptions | None, tuple[int, ...]], list[_Request]] = {}
            for request in batch:
                groups.setdefault(request.group, []).append(request)
            for group in groups.values():
                try:
                    self._infer(group)
                except Exception as exc:  # a bug here must not kill the thread all streams use
                    logger.exception("batcher of %r failed a group", self._model.info.name)
                    _fail(group, exc)

    def _take_swap(self) -> None:
        """Switch to a model given to swap_model, before the batch about to run."""
        with self._cond:
            swap, self._swap = self._swap, None
        if swap is None:
            return
        model, policy = swap
        self._model = model
        self._forward, _ = _forward_of(model)
        self.policy = policy or SplitPolicy(always_batch=model.info.device != "cpu")
        logger.info("batcher of %r swapped its model", model.info.name)

    def _gather(self) -> list[_Request] | None:
        """Wait for a frame, then for more until the expected count arrives or max_wait passes."""
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            # Expect as many frames as recent batches had: the streams that are running.
            # A stalled one drops out of this estimate after a few batches and, until
            # then, costs the others at most max_wait.
            expected = min(self.max_batch, max(self._recent_sizes, default=self.max_batch))
            # The wait counts from now, not from the oldest frame's arrival: frames that
            # queued during the last pass would otherwise leave at once, without the
            # streams whose results that pass just delivered, and the batch would stay
            # split in two phases for good.
            deadline = time.monotonic() + self.max_wait
            timed_out = False
            while len(self._queue) < expected and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                self._cond.wait(remaining)
            taken = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
            self._recent_sizes.append(len(taken))
        running = [r for r in taken if r.future.set_running_or_notify_cancel()]
        self._count(gathers=1, gather_timeouts=int(timed_out), cancelled=len(taken) - len(running))
        return running

    def _infer(self, group: list[_Request]) -> None:
        first = group[0]
        imgsz = first.options.imgsz if first.options else self._model.info.imgsz
        key: ShapeKey = (imgsz, *first.frame.shape[:2])
        if self.policy.batched(key, len(group)):
            started = time.perf_counter()
            try:
                results = self._forward([r.frame for r in group], first.options)
            except Exception:
                # Find the frame that broke the batch: each frame alone, so only its caller fails.
                self._one_by_one(group, key, record=False)
                return
            self.policy.record(key, True, len(group), time.perf_counter() - started)
            self._count(frames=len(group), forward_passes=1)
            for request, objects in zip(group, results, strict=True):
                _deliver(request, objects)
        else:
            self._one_by_one(group, key, record=True)

    def _one_by_one(self, group: list[_Request], key: ShapeKey, *, record: bool) -> None:
        started = time.perf_counter()
        failed = 0
        for request in group:
            try:
                result = self._forward([request.frame], request.options)[0]
            except Exception as exc:
                failed += 1
                request.future.set_exception(exc)
                continue
            _deliver(request, result)
        if record and not failed:
            self.policy.record(key, False, len(group), time.perf_counter() - started)
        self._count(frames=len(group), forward_passes=len(group), failed_frames=failed)

    def _count(self, **increments: int) -> None:
        with self._cond:
            values = {k: getattr(self._stats, k) + v for k, v in increments.items()}
            self._stats = BatcherStats(**{**_asdict(self._stats), **values})


def _forward_of(model: Detector | Classifier) -> tuple[Forward, str]:
    """How to run a batch through `model`, and which kind of model it is."""
    if isinstance(model, Classifier):
        classifier = model

        def classify(images: list[np.ndarray], _: PredictOptions | None) -> list[Any]:
            return list(classifier.classify(images))

        return classify, "classify"
    detector = model

    def detect(frames: list[np.ndarray], options: PredictOptions | None) -> list[Any]:
        if options is None:  # submit() always gives them; a bug if not
            raise ValueError("a detector's frames need PredictOptions")
        return list(detector.detect(frames, options))

    return detect, "detect"


def _deliver(request: _Request, result: Any) -> None:
    # A display's crop maps boxes back to the frame; a classification passes through.
    request.future.set_result(request.crop.to_frame(result) if request.crop else result)


def _fail(group: list[_Request], exc: BaseException) -> None:
    for request in group:
        if not request.future.done():
            request.future.set_exception(exc)


def _median(samples: deque[float] | None) -> float | None:
    return statistics.median(samples) if samples else None


def _asdict(stats: BatcherStats) -> dict[str, int]:
    return {name: getattr(stats, name) for name in BatcherStats.__slots__}
