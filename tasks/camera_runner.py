"""One camera's ingest loop: decode once, infer per display group, track, publish, heartbeat.

The runner checks its assignment about once a second. A newer generation stops it
(fencing); a new spec hash is applied in place, reopening the stream only when the
source itself (URL, credentials, fps, snapshot) changed. It stops on its own when it
cannot confirm its generation for longer than the worker timeout.

No database: the spec comes from Redis (written by reconcile), the source with its
credentials and the models' weights URLs from the web server (tasks.web_client), and what
the runner learns (class names, frame size) goes back as worker reports through Redis.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import cv2
import redis
from django.conf import settings

from cms import redis_connection
from cms.farm import farm_keys
from cms.farm.desired import CameraSpec, InferenceGroup, ModelSpec, inference_groups
from cms.farm.heartbeats import StreamInfo, error_since
from cms.farm.worker_reports import FrameSize, ModelRead
from cms.models import CLASSIFY_TASK, DETECTION_TASK
from inference import (
    Crop,
    DetectedObject,
    InferenceError,
    MicroBatcher,
    ModelSource,
    PredictOptions,
)
from inference.backend_choice import wanted_backend
from inference.backend_switch import SwitchRequest
from inference.objects import PresenceEvent
from streams import Frame, LatestFrameReader, SourceSpec, StreamState
from tasks import web_client
from tasks.camera_attributes import CameraAttributes
from tasks.camera_objects import CameraObjects, GroupKey, group_key
from tasks.camera_thumbnails import CameraThumbnails, EventThumbnails
from tasks.publisher import ResultPublisher
from tasks.reports import send_report
from tasks.worker_runtime import WorkerRuntime

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 1.0
UNCONFIRMED = "could not confirm the assignment"
WEB_FALLBACK_INTERVAL_S = 5.0
INFERENCE_TIMEOUT_S = 30.0
# Without a frame for this long, presences see time pass (a stalled stream's objects leave).
NO_FRAME_TICK_S = 1.0
# A camera reading a file on demand (not realtime): how many of its frames wait for the next
# forward pass (one pass of several frames is cheaper per frame than one pass each), and how
# long it waits for its next frame to be decoded.
ON_DEMAND_QUEUED_FRAMES = 4
NEXT_DECODE_WAIT_S = 0.05
# Object events Redis could not take are retried with the next ones, up to this many.
MAX_UNSENT_EVENTS = 10_000


@dataclass
class _Group:
    group: InferenceGroup
    batcher: MicroBatcher
    options: PredictOptions
    source: ModelSource
    backend_asked: bool = False  # whether its model was handed to the backend switcher


@dataclass
class _InFlight:
    """A frame handed to its groups' batchers, and their futures."""

    frame: Frame
    submitted: float  # monotonic
    pending: list[tuple[_Group, Future[list[DetectedObject]]]] = field(default_factory=list)

    @property
    def queued(self) -> bool:
        """Whether a batcher has yet to take it into a forward pass."""
        return any(not f.running() and not f.done() for _, f in self.pending)


class CameraRunner:
    def __init__(self, camera_id: int, generation: int, runtime: WorkerRuntime) -> None:
        self.camera_id = camera_id
        self.generation = generation
        self.runtime = runtime
        self.redis = redis_connection.client()
        self.publisher = ResultPublisher(self.redis, camera_id=camera_id, generation=generation)
        self.spec: CameraSpec | None = None
        self.reader: LatestFrameReader | None = None
        self.groups: list[_Group] = []
        self._models = ExitStack()
        self._confirmed_at = time.monotonic()
        self._unconfirmed = False  # the last check could not confirm the generation
        # The last check, or a write since, found Redis unreachable (down, or this host cut
        # off): until the next check the frame path writes nothing there, so a partition costs
        # one blocked call a check instead of one per write, and the task stops on time.
        self._redis_unreachable = False
        self._web_checked_at = 0.0
        self._published_spec = ""
        self._spec_missing_logged = False
        self._frames_out = 0
        self._rate_since = time.monotonic()
        self._fps_out = 0.0
        self._latency_ms: float | None = None
        self._last_error = ""
        self._error_since: tuple[str, float] = ("", 0.0)  # the error shown, first reported at
        self._display_errors: dict[int, str] = {}  # display id -> its model's load error
        self._group_keys: list[GroupKey] = []  # the groups of the spec the models are for
        self._failed_groups: dict[GroupKey, str] = {}  # group -> why its model did not load
        self._snapshot_due = 0.0
        self.objects = CameraObjects(generation)
        self.thumbnails = CameraThumbnails(
            camera_id,
            enabled=settings.SIGHTLINE_THUMBNAIL_DAYS > 0,
            max_width=settings.SIGHTLINE_THUMBNAIL_WIDTH,
        )
        self.attributes = CameraAttributes(
            runtime,
            source_of=classifier_source,
            report=self._secondary_failed,
            loaded=lambda model, info: self._model_read(model, info.class_names, CLASSIFY_TASK),
        )
        self._unsent: list[tuple[int, PresenceEvent]] = []
        self._frame_size: tuple[int, int] | None = None
        self._last_frame_at = time.monotonic()

    # --- lifecycle ----------------------------------------------------------------

    def run(self) -> str:
        """Run until fenced, stopped or unwanted; returns why it ended."""
        spec, ended = self._first_spec()
        if spec is None:
            return ended
        self.runtime.started(self.camera_id, self.generation)
        try:
            try:
                self._apply_spec(spec)
            except web_client.NotAssigned:
                return "stale generation"
            except web_client.WebError as exc:
                return f"no camera source from the web server ({exc})"
            return self._loop()
        finally:
            self._close()
            self.runtime.finished(self.camera_id, self.generation)

    def _loop(self) -> str:
        last_seq: int | None = None
        next_check = 0.0
        in_flight: deque[_InFlight] = deque()  # submitted frames, oldest first
        while not self.runtime.stopping.is_set():
            now = time.monotonic()
            if self._unconfirmed and self._unconfirmed_too_long(now):
                # After a check that could not confirm, calls that time out (a partition) run
                # past the next check: the task stops before anything else once it is over.
                return UNCONFIRMED
            if now >= next_check:
                while in_flight:  # a spec change applies between frames
                    self._finish(in_flight.popleft())
                next_check = now + CHECK_INTERVAL_S
                ended = self._check_assignment()
                if ended:
                    return ended
                self._heartbeat()
            if not in_flight:
                frame = self.reader.wait_newer(last_seq, timeout=0.5) if self.reader else None
                if frame is None:
                    if time.monotonic() - self._last_frame_at > NO_FRAME_TICK_S:
                        self._publish_events(self.objects.tick(time.time()))
                    continue
                last_seq = frame.seq
                in_flight.append(self._submit(frame))
            # Frames already waiting go in before the oldest one's results are handled: a
            # worker that is behind keeps its models busy instead of idle while it tracks and
            # publishes. A camera the worker keeps up with has none waiting, and its frames go
            # one at a time (no added latency).
            while self._may_submit(in_flight) and (waiting := self._waiting_frame(last_seq)):
                last_seq = waiting.seq
                in_flight.append(self._submit(waiting))
            self._finish(in_flight.popleft())
        while in_flight:
            self._finish(in_flight.popleft())
        return "worker shutting down"

    def _may_submit(self, in_flight: deque[_InFlight]) -> bool:
        """Whether another frame may go in before the oldest is finished: for a live camera,
        its newest frame beside the one in inference; for a file read on demand, which is
        always behind, until a pass's worth waits behind the pass that runs, so the model
        goes from one pass to the next while the camera tracks and publishes."""
        if self.reader is None or not self.reader.on_demand:
            return len(in_flight) < 2
        queued = sum(1 for entry in in_flight if entry.queued)
        return queued < ON_DEMAND_QUEUED_FRAMES and len(in_flight) < 3 * ON_DEMAND_QUEUED_FRAMES

    def _waiting_frame(self, last_seq: int | None) -> Frame | None:
        """A frame newer than `last_seq` if one is there; a file read on demand decodes its
        next frame once this one is taken, so for it, wait that long."""
        if self.reader is None:
            return None
        return self.reader.wait_newer(last_seq, NEXT_DECODE_WAIT_S if self.reader.on_demand else 0)

    def _close(self) -> None:
        if self.reader is not None:
            self.reader.stop()
            self.reader = None
        self._release_models()
        self.attributes.close()
        # Every open enter gets its leave. Should Redis not take them now, the checkpoint
        # stays and the farm closes the same presences (same keys) at the generation change.
        leaves = self.objects.close()
        if not self._redis_unreachable and self._publish_events(leaves):
            with contextlib.suppress(redis.RedisError):
                farm_keys.delete_presences(self.redis, self.camera_id, self.generation)
        if not self._redis_unreachable:
            with contextlib.suppress(redis.RedisError):  # it expires by itself anyway
                farm_keys.delete_stream(self.redis, self.camera_id, self.generation)

    # --- fencing and spec changes --------------------------------------------------------

    def _current(self) -> bool | None:
        """True/False when the generation could be checked, None when it could not."""
        try:
            published = farm_keys.read_assignment(self.redis, self.camera_id)
        except redis.RedisError as exc:
            published = None
            self._redis_unreachable = isinstance(exc, (redis.ConnectionError, redis.TimeoutError))
        else:
            self._redis_unreachable = False
        if published is not None:
            self._published_spec = published[2]
            return published[0] == self.generation
        # Redis lost it (restart) or is unreachable: ask the web server (the database's
        # record), at most every 5 s.
        now = time.monotonic()
        if now - self._web_checked_at < WEB_FALLBACK_INTERVAL_S:
            return None
        if self._unconfirmed and self._unconfirmed_too_long(now):
            return None  # no time left to wait for an answer: the task stops
        self._web_checked_at = time.monotonic()
        try:
            # One try: the next check asks again, and tries with waits between them would
            # keep a partitioned task running past its worker timeout.
            row = web_client.camera_assignment(self.camera_id, retries=0)
        except web_client.WebError as exc:
            log.warning("camera %s: assignment not confirmed: %s", self.camera_id, exc)
            return None
        self._published_spec = row[2] if row else ""
        return row is not None and row[0] == self.generation

    def _first_spec(self) -> tuple[CameraSpec | None, str]:
        """The spec reconcile wrote before it sent the start, waited for (it may be in flight,
        or Redis restarted) as long as an unconfirmable assignment: (spec, "") or (None, why)."""
        deadline = time.monotonic() + settings.SIGHTLINE_WORKER_TIMEOUT_S
        while not self.runtime.stopping.is_set():
            if self._current() is False:
                return None, "stale generation"
            spec = self._read_spec()
            if spec is not None:
                return spec, ""
            if time.monotonic() >= deadline:
                return None, "no spec in Redis"
            self.runtime.stopping.wait(CHECK_INTERVAL_S)
        return None, "worker shutting down"

    def _read_spec(self) -> CameraSpec | None:
        """The camera's spec from Redis; None (logged once until it is back) when it is not
        there: the runner keeps what it runs and asks again at the next check."""
        try:
            spec = farm_keys.read_spec(self.redis, self.camera_id)
        except redis.RedisError as exc:
            spec, why = None, f"Redis: {exc}"
        else:
            why = "missing in Redis"
        if spec is None and not self._spec_missing_logged:
            log.warning("camera %s: spec %s, retrying", self.camera_id, why)
        self._spec_missing_logged = spec is None
        return spec

    def _check_assignment(self) -> str | None:
        current = self._current()
        now = time.monotonic()
        if current is False:
            return "stale generation"
        self._unconfirmed = current is None
        if current is None:
            return UNCONFIRMED if self._unconfirmed_too_long(now) else None
        self._confirmed_at = now
        if self.spec is not None and self._published_spec not in ("", self.spec.spec_hash):
            # Reconcile writes a spec before it publishes its hash, so the one in Redis is
            # never older than the hash: the same as ours means the hash is on its way.
            spec = self._read_spec()
            if spec is not None and spec.spec_hash != self.spec.spec_hash:
                try:
                    self._apply_spec(spec)
                except web_client.NotAssigned:
                    return "stale generation"
                except web_client.WebError as exc:  # the old spec runs on; tried again
                    log.warning("camera %s: new source not fetched: %s", self.camera_id, exc)
        return None

    def _unconfirmed_too_long(self, now: float) -> bool:
        return now - self._confirmed_at > settings.SIGHTLINE_WORKER_TIMEOUT_S

    def _apply_spec(self, spec: CameraSpec) -> None:
        """Take a new spec: reopen the stream only if the source changed."""
        if self.spec is None or spec.source_hash != self.spec.source_hash:
            # First: should the web server not answer, what runs stays as it is.
            source = source_spec(
                web_client.camera_source(self.camera_id, self.generation, self.runtime.name)
            )
            if self.reader is not None:
                self.reader.stop()
            self.reader = LatestFrameReader(
                source,
                allow_files=settings.SIGHTLINE_ALLOW_FILE_SOURCES,
                allowed_networks=settings.SIGHTLINE_CAMERA_ALLOWED_NETWORKS,
                denied_networks=settings.SIGHTLINE_CAMERA_DENIED_NETWORKS,
            )
            self.reader.start()
        groups = inference_groups(spec)
        if self.spec is None or [group_key(g) for g in groups] != self._group_keys:
            self._release_models()
            self._failed_groups = {}
            for group in groups:
                try:
                    self.groups.append(self._prepare(group))
                except InferenceError as exc:
                    # One bad model never stops the camera's other displays.
                    self._last_error = f"model {group.model.name} {group.model.version}: {exc}"
                    log.warning("camera %s: %s", self.camera_id, self._last_error)
                    self._failed_groups[group_key(group)] = self._last_error
            self._group_keys = [group_key(g) for g in groups]
        else:
            # The same models and crops (a display added to a group, zones edited): the
            # loaded models stay, each group only learns its displays.
            by_key = {group_key(g): g for g in groups}
            for entry in self.groups:
                entry.group = by_key[group_key(entry.group)]
        self._display_errors = {
            display_id: self._failed_groups[group_key(group)]
            for group in groups
            if group_key(group) in self._failed_groups
            for display_id in group.display_ids
        }
        self.spec = spec
        self.attributes.apply(spec)
        self.thumbnails.apply(spec)
        # After the groups: trackers of unchanged groups live on, ended presences leave.
        self._publish_events(self.objects.apply(spec))
        log.info(
            "camera %s generation %s: %d displays in %d inference groups",
            self.camera_id,
            self.generation,
            len(spec.displays),
            len(self.groups),
        )

    def _prepare(self, group: InferenceGroup) -> _Group:
        key = group.model.key
        source = model_source(group.model)
        batcher = self._models.enter_context(
            self.runtime.store.acquire_batcher(
                source,
                max_batch=settings.SIGHTLINE_MAX_BATCH,
                max_wait_ms=settings.SIGHTLINE_MAX_WAIT_MS,
                timeout=settings.SIGHTLINE_START_GRACE_S,
            )
        )
        self.runtime.hold_model(key)
        self._models.callback(self.runtime.release_model, key)
        self._model_read(group.model, batcher.detector.info.class_names, DETECTION_TASK)
        return _Group(group, batcher, predict_options(group.model), source)

    def _model_read(self, model: ModelSpec, class_names: Mapping[int, str], task: str) -> None:
        """Tell the database (through Redis and the control worker) what the weights are."""
        names = {str(k): str(v) for k, v in class_names.items()}
        send_report(self.redis, ModelRead(model.id, names, task))

    def _release_models(self) -> None:
        self._models.close()
        self._models = ExitStack()
        self.groups = []

    # --- frames ------------------------------------------------------------------------

    def _submit(self, frame: Frame) -> _InFlight:
        """Hand the frame to every group's batcher (groups on one model can share a batch)."""
        self._last_frame_at = time.monotonic()
        in_flight = _InFlight(frame, self._last_frame_at)
        for entry in self.groups:
            try:
                future = entry.batcher.submit(frame.image, entry.options, crop=entry.group.crop)
            except (InferenceError, ValueError) as exc:  # a crop outside this frame
                self._inference_failed(exc)
                continue
            in_flight.pending.append((entry, future))
            if not entry.backend_asked:
                entry.backend_asked = True
                self._choose_backend(entry, frame)
        return in_flight

    def _finish(self, in_flight: _InFlight) -> None:
        """Take the frame's detections, track them and publish a result per display."""
        frame = in_flight.frame
        events = self.objects.frame(self._see_frame_size(frame))
        self.thumbnails.frame(frame.image)
        for entry, future in in_flight.pending:
            try:
                objects = future.result(timeout=INFERENCE_TIMEOUT_S)
            except (InferenceError, ValueError, TimeoutError) as exc:
                self._inference_failed(exc)
                continue
            untracked = [o.to_dict() for o in objects]
            tracked = None
            if self.objects.tracks(entry.group):
                tracked = self.objects.track(entry.group, objects, frame.captured_at)
                if self.attributes.runs(entry.group):
                    self.attributes.update(entry.group, frame.image, tracked, frame.captured_at)
            for display_id in entry.group.display_ids:
                payload = untracked
                if tracked is not None and self.objects.tracking(display_id):
                    seen = self.attributes.attach(display_id, tracked)
                    update = self.objects.present(display_id, seen, frame.captured_at)
                    payload = [o.to_dict() for o in update.objects]
                    events.setdefault(display_id, []).extend(update.events)
                if self._redis_unreachable:
                    continue  # as a failed XADD: the result is dropped (docs/deploy.md)
                self._redis_unreachable = not self.publisher.publish(
                    display_id=display_id,
                    model_id=entry.group.model.id,
                    frame=frame,
                    objects=payload,
                    thumbnail=self.thumbnails.for_result(display_id, payload, frame.captured_at),
                )
        self._publish_events(events, self.thumbnails.for_events(events))
        self._snapshot(frame)
        self._frames_out += 1
        elapsed_ms = (time.monotonic() - in_flight.submitted) * 1000
        self._latency_ms = (
            elapsed_ms if self._latency_ms is None else 0.8 * self._latency_ms + 0.2 * elapsed_ms
        )

    def _choose_backend(self, entry: _Group, frame: Frame) -> None:
        """Hand the group's model to the worker's backend switcher, with a real frame of
        its input (its crop): it measures and switches off the frame path."""
        crop = entry.group.crop
        image = Crop.from_box(crop, frame.image.shape).apply(frame.image) if crop else frame.image
        model = entry.group.model
        wanted = wanted_backend(model.backend, settings.SIGHTLINE_INFERENCE_BACKEND)
        request = SwitchRequest(
            key=model.key,
            source=entry.source,
            wanted=wanted,
            frame=image,
            options=entry.options,
        )
        try:
            self.runtime.backends.request(request)
        except Exception:  # the camera runs on torch whatever happens to the choice
            log.exception("camera %s: no backend choice for %s", self.camera_id, request.key)

    def _see_frame_size(self, frame: Frame) -> tuple[int, int]:
        """The frame's (width, height); a new one is recorded on the camera row (zones and
        lines are checked against it)."""
        height, width = frame.image.shape[:2]
        size = (int(width), int(height))
        if size != self._frame_size:
            self._frame_size = size
            send_report(self.redis, FrameSize(self.camera_id, *size))
        return size

    def _publish_events(
        self, events: dict[int, list[PresenceEvent]], thumbnails: EventThumbnails | None = None
    ) -> bool:
        """Send object events, with any that Redis refused before; False if some wait still.
        The thumbnails go with this attempt only: events kept for a retry go without theirs
        (a backlog of frames' JPEGs would cost memory for a picture nobody needs)."""
        self._unsent.extend((d, e) for d, made in events.items() for e in made)
        if not self._unsent:
            return True
        by_display: dict[int, list[PresenceEvent]] = {}
        for display_id, event in self._unsent:
            by_display.setdefault(display_id, []).append(event)
        # Redis unreachable: kept for the next try, as when Redis refuses them
        if not self._redis_unreachable and self.publisher.publish_events(by_display, thumbnails):
            self._unsent = []
            return True
        if len(self._unsent) > MAX_UNSENT_EVENTS:
            dropped = len(self._unsent) - MAX_UNSENT_EVENTS
            # Oldest first; the farm still closes their presences from the checkpoint.
            log.error("camera %s: %d object events dropped", self.camera_id, dropped)
            del self._unsent[:dropped]
        return False

    def _inference_failed(self, exc: Exception) -> None:
        self._last_error = f"{type(exc).__name__}: {exc}"
        log.warning("camera %s: inference failed: %s", self.camera_id, exc)

    def _secondary_failed(self, message: str) -> None:
        # CameraAttributes logs it (once) and lists it per display; here for last_error.
        self._last_error = message

    def _snapshot(self, frame: Frame) -> None:
        """Keep the newest frame as a JPEG in Redis for the API and the admin."""
        interval = settings.SIGHTLINE_SNAPSHOT_INTERVAL_S
        now = time.monotonic()
        if not interval or now < self._snapshot_due or self._redis_unreachable:
            return
        self._snapshot_due = now + interval
        ok, jpeg = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if ok:
            with contextlib.suppress(redis.RedisError):
                farm_keys.write_snapshot(self.redis, self.camera_id, jpeg.tobytes())

    # --- heartbeat ---------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        if self._redis_unreachable:
            return  # it would not land; the next check tries Redis again
        now = time.monotonic()
        elapsed = now - self._rate_since
        if elapsed >= 2.0:
            self._fps_out = self._frames_out / elapsed
            self._frames_out = 0
            self._rate_since = now
        status = self.reader.status() if self.reader else None
        error = self._last_error or (status.detail if status else "")
        self._error_since = error_since(self._error_since, error, time.time())
        info = StreamInfo(
            camera_id=self.camera_id,
            worker=self.runtime.name,
            generation=self.generation,
            spec_hash=self.spec.spec_hash if self.spec else "",
            state=status.state if status else StreamState.CONNECTING,
            reason=status.reason if status else None,
            fps_in=round(status.fps, 2) if status else 0.0,
            fps_out=round(self._fps_out, 2),
            frame_age=round(status.last_frame_age, 3)
            if status and status.last_frame_age is not None
            else None,
            latency_ms=round(self._latency_ms, 1) if self._latency_ms is not None else None,
            reconnects=status.reconnects if status else 0,
            last_error=error,
            last_error_at=self._error_since[1],
            updated=time.time(),
            display_errors=tuple(
                sorted([*self._display_errors.items(), *self.attributes.errors()])
            ),
        )
        try:
            farm_keys.write_stream(self.redis, info)
            farm_keys.write_presences(
                self.redis, self.camera_id, self.generation, self.objects.open_presences()
            )
        except redis.RedisError as exc:
            self._redis_unreachable = True  # until the next check
            log.warning("camera %s: heartbeat failed: %s", self.camera_id, exc)


def source_spec(fields: dict[str, Any]) -> SourceSpec:
    """The stream source, credentials included, from the web server's answer
    (tasks.web_client.camera_source): fetched at open time, never carried by a message."""
    url = str(fields["url"])
    return SourceSpec(
        url=url,
        username=str(fields["username"]),
        password=str(fields["password"]),
        target_fps=float(fields["fps"]),
        snapshot_url=str(fields["snapshot_url"]),
        snapshot_interval=float(fields["snapshot_interval"]),
        loop=settings.SIGHTLINE_ALLOW_FILE_SOURCES and url.startswith("/"),
        realtime=settings.SIGHTLINE_FILE_SOURCES_REALTIME,
        open_timeout=settings.SIGHTLINE_STREAM_OPEN_TIMEOUT_S,
        read_timeout=settings.SIGHTLINE_STREAM_READ_TIMEOUT_S,
        failed_after=settings.SIGHTLINE_STREAM_FAILED_AFTER_S,
    )


def predict_options(model: ModelSpec) -> PredictOptions:
    return PredictOptions(
        confidence=model.confidence, iou=model.iou, imgsz=model.imgsz, classes=model.classes
    )


def classifier_source(model: ModelSpec) -> ModelSource:
    """Where this worker gets a secondary (classify) model's weights."""
    return model_source(model, task=CLASSIFY_TASK)


def model_source(model: ModelSpec, *, task: str = DETECTION_TASK) -> ModelSource:
    """Where this worker gets the weights: a freshly signed URL from the web server (its
    model cache keeps them by sha256). ``task`` is what to load them as ("detect": a
    primary model, "classify": a secondary one). InferenceError when the web server does
    not say: one model that cannot load never stops a camera's other displays."""
    try:
        fields = web_client.model_source(model.id)
    except web_client.WebError as exc:
        raise InferenceError(f"model {model.id}: no source from the web server ({exc})") from None
    return source_from(fields, task=task)


def source_from(fields: dict[str, Any], *, task: str) -> ModelSource:
    """The ModelSource of the web server's answer (tasks.web_client.model_source)."""
    name, version = str(fields["name"]), str(fields["version"])
    if fields.get("hub_name"):
        return ModelSource(name=name, version=version, hub_name=str(fields["hub_name"]), task=task)
    if not fields.get("weights_url"):
        raise InferenceError(f"model {name} has neither weights nor an ultralytics model name")
    return ModelSource(
        name=name,
        version=version,
        sha256=str(fields["sha256"]),
        url=str(fields["weights_url"]),
        suffix=str(fields["suffix"]),
        task=task,
    )
