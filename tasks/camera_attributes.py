"""One camera's secondary models: classify tracked objects' crops, attach the latest results.

Owned by the camera runner, like tasks.camera_objects.CameraObjects (nothing shared between
cameras but the worker's models). Per frame and inference group the runner hands over the
group's tracked objects (``update``): the tracks due (inference.objects.attributes) have their
crop of the full frame submitted to the secondary model's micro-batcher, which batches the
crops of every camera of the worker. Nothing waits on the frame path: each answer is picked up
on a later frame (``harvest``) and from then on ``attach`` puts it on the object of every
display that runs that model.

One scheduler per (group, SecondarySpec): displays of one camera with the same primary
inference and the same secondary config share one classification per track; a display's
attributes hold only its own secondary models. A spec change keeps the schedulers (and results)
of unchanged keys.

A secondary model that fails to load, or to classify, never stops primary results: the error
goes to the displays concerned (``errors``, the stream heartbeat's display_errors) and to the
runner's ``report``; the next spec change tries to load it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from cms.farm.desired import CameraSpec, InferenceGroup, ModelSpec, SecondarySpec, inference_groups
from cms.farm.heartbeats import secondary_error
from inference import (
    Classification,
    Classifier,
    InferenceError,
    MicroBatcher,
    ModelInfo,
    ModelSource,
    classification_crop,
)
from inference.objects import TrackedObject
from inference.objects.attributes import AttributeRule, AttributeScheduler
from tasks.camera_objects import GroupKey, group_key
from tasks.worker_runtime import WorkerRuntime

log = logging.getLogger(__name__)

SecondaryKey = tuple[GroupKey, SecondarySpec]
"""What one scheduler serves: a group's tracks through one secondary config."""

CROP_PADDING = 0.1


def secondary_key(group: InferenceGroup, secondary: SecondarySpec) -> SecondaryKey:
    return (group_key(group), secondary)


@dataclass
class _Classifier:
    """A leased secondary model: its shared micro-batcher and the crop size it takes."""

    batcher: MicroBatcher[Classifier]
    size: int


@dataclass
class _Request:
    key: SecondaryKey
    track_id: int
    future: Future[Classification]


class CameraAttributes:
    """Secondary classifications of one camera's tracks (see the module doc)."""

    def __init__(
        self,
        runtime: WorkerRuntime,
        *,
        source_of: Callable[[ModelSpec], ModelSource],
        report: Callable[[str], None] = lambda message: None,
        loaded: Callable[[ModelSpec, ModelInfo], None] = lambda model, info: None,
    ) -> None:
        """``source_of`` says where a secondary model's weights are (task "classify");
        ``report`` hears every error (the runner keeps the last one for the heartbeat);
        ``loaded`` hears what a model turned out to be once loaded."""
        self.runtime = runtime
        self._source_of = source_of
        self._loaded = loaded
        self._report = report
        self._leases: dict[ModelSpec, ExitStack] = {}
        self._classifiers: dict[ModelSpec, _Classifier] = {}
        self._load_errors: dict[ModelSpec, str] = {}
        self._infer_errors: dict[SecondaryKey, str] = {}
        self._schedulers: dict[SecondaryKey, AttributeScheduler] = {}
        self._by_group: dict[GroupKey, list[SecondaryKey]] = {}
        self._by_display: dict[int, list[SecondaryKey]] = {}
        self._pending: list[_Request] = []
        self.classified = 0  # answers received since the start

    # --- spec ------------------------------------------------------------------------------

    def apply(self, spec: CameraSpec) -> None:
        """Take a new spec: keep the schedulers of unchanged keys, lease the models it needs
        (retrying those that failed), release the others."""
        displays = {d.id: d for d in spec.displays if d.tracking and d.secondary}
        by_group: dict[GroupKey, list[SecondaryKey]] = {}
        by_display: dict[int, list[SecondaryKey]] = {}
        for group in inference_groups(spec):
            for display_id in group.display_ids:
                display = displays.get(display_id)
                for secondary in display.secondary if display else ():
                    key = secondary_key(group, secondary)
                    by_display.setdefault(display_id, []).append(key)
                    if key not in by_group.setdefault(key[0], []):
                        by_group[key[0]].append(key)
        wanted = {key for keys in by_group.values() for key in keys}
        self._schedulers = {key: self._schedulers.get(key) or _scheduler(key[1]) for key in wanted}
        self._infer_errors = {k: e for k, e in self._infer_errors.items() if k in wanted}
        self._pending = [r for r in self._pending if r.key in wanted]
        self._by_group, self._by_display = by_group, by_display
        self._lease({key[1].model for key in wanted})

    def _lease(self, models: set[ModelSpec]) -> None:
        for model in [m for m in self._leases if m not in models]:
            self._leases.pop(model).close()
            del self._classifiers[model]
        self._load_errors = {}
        for model in models - set(self._leases):
            try:
                self._load(model)
            except Exception as exc:  # whatever it is, primary results go on
                message = secondary_error(_label(model), str(exc))
                self._load_errors[model] = message
                log.warning("%s", message)
                self._report(message)

    def _load(self, model: ModelSpec) -> None:
        with ExitStack() as stack:
            batcher = stack.enter_context(
                self.runtime.store.acquire_batcher(
                    self._source_of(model),
                    max_batch=settings.SIGHTLINE_MAX_BATCH,
                    max_wait_ms=settings.SIGHTLINE_MAX_WAIT_MS,
                    timeout=settings.SIGHTLINE_START_GRACE_S,
                )
            )
            if batcher.kind != "classify":  # a store key never mixes tasks; a bug otherwise
                raise InferenceError("it is not a classification model")
            self._loaded(model, batcher.model.info)
            key = model.key
            self.runtime.hold_model(key)
            stack.callback(self.runtime.release_model, key)
            self._classifiers[model] = _Classifier(batcher, int(batcher.model.info.imgsz))
            self._leases[model] = stack.pop_all()

    # --- frames ----------------------------------------------------------------------------

    def runs(self, group: InferenceGroup) -> bool:
        """Whether any display of the group runs a secondary model."""
        return group_key(group) in self._by_group

    def update(
        self,
        group: InferenceGroup,
        frame: np.ndarray,
        tracked: Sequence[TrackedObject],
        frame_time: float,
    ) -> None:
        """Take answers that came back, then submit the crops of the group's tracks that are
        due (``frame`` is the full frame the tracked boxes are in). Never waits."""
        self.harvest()
        for key in self._by_group.get(group_key(group), ()):
            classifier = self._classifiers.get(key[1].model)
            if classifier is None:
                continue  # its model did not load: the error is in the heartbeat
            scheduler = self._schedulers[key]
            for obj in scheduler.due(tracked, frame_time):
                try:
                    crop = classification_crop(
                        frame, obj.detection.box, size=classifier.size, padding=CROP_PADDING
                    )
                    future = classifier.batcher.submit_crop(crop)
                except (InferenceError, ValueError) as exc:  # a closed batcher, an odd box
                    scheduler.finished(obj.track_id, None)
                    self._failed(key, exc)
                    continue
                self._pending.append(_Request(key, obj.track_id, future))

    def harvest(self) -> None:
        """Hand every answer that is back to its track's scheduler."""
        waiting = []
        for request in self._pending:
            if not request.future.done():
                waiting.append(request)
                continue
            scheduler = self._schedulers.get(request.key)
            if scheduler is None:  # its config went meanwhile
                continue
            try:
                result = request.future.result()
            except Exception as exc:  # the model's failure, reported per display
                scheduler.finished(request.track_id, None)
                self._failed(request.key, exc)
                continue
            scheduler.finished(request.track_id, result)
            self._infer_errors.pop(request.key, None)
            self.classified += 1
        self._pending = waiting

    def attach(self, display_id: int, tracked: Sequence[TrackedObject]) -> Sequence[TrackedObject]:
        """The group's tracked objects with the display's latest attributes (only its own
        secondary models'); as given when it runs none."""
        keys = self._by_display.get(display_id)
        if not keys:
            return tracked
        out = []
        for obj in tracked:
            attributes = {
                key[1].model.name: result
                for key in keys
                if (result := self._schedulers[key].latest(obj.track_id)) is not None
            }
            if attributes:
                obj = TrackedObject(
                    obj.detection, obj.track_id, obj.first_seen, obj.zones, attributes
                )
            out.append(obj)
        return out

    # --- status ----------------------------------------------------------------------------

    def errors(self) -> list[tuple[int, str]]:
        """(display id, error) for each of a display's secondary models that gives no results
        now (it failed to load, or its last answer was a failure); the display still gets its
        primary results."""
        errors = []
        for display_id, keys in self._by_display.items():
            for key in keys:
                message = self._load_errors.get(key[1].model) or self._infer_errors.get(key)
                if message:
                    errors.append((display_id, message))
        return errors

    def requests(self) -> int:
        """Secondary passes asked for by the current schedulers (crops submitted)."""
        return sum(s.requests for s in self._schedulers.values())

    def close(self) -> None:
        """Release every model; answers still out are dropped."""
        self._pending = []
        for stack in self._leases.values():
            stack.close()
        self._leases.clear()
        self._classifiers.clear()

    def _failed(self, key: SecondaryKey, exc: BaseException) -> None:
        model = key[1].model
        message = secondary_error(_label(model), f"{type(exc).__name__}: {exc}")
        if self._infer_errors.get(key) != message:  # logged once, not per crop
            log.warning("%s", message)
        self._infer_errors[key] = message
        self._report(message)


def _label(model: ModelSpec) -> str:
    return f"{model.name} {model.version}".strip()


def _scheduler(secondary: SecondarySpec) -> AttributeScheduler:
    rule = AttributeRule(secondary.classes, secondary.min_size, secondary.every_s)
    return AttributeScheduler(rule)
