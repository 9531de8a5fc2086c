"""What the API views do, apart from parsing and rendering: plain functions over rows and Redis."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Model, Q, QuerySet, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cms import live
from cms.api.drawing import draw_detections
from cms.audience.services import note_heartbeat
from cms.display_geometry import RESERVED_ZONE
from cms.farm import farm_keys
from cms.farm.desired import display_blocker
from cms.farm.heartbeats import StreamInfo
from cms.models import (
    Camera,
    Detection,
    DetectionModel,
    Display,
    ObjectEvent,
    StreamAssignment,
    ZoneMinute,
)
from cms.zone_counts import zone_counts
from streams import redaction
from streams.entities import StreamState

# The stream state in which frames arrive, and the one shown when no task runs it.
RUNNING_STATE = StreamState.ONLINE
NOT_RUNNING_STATE = StreamState.STOPPED


class NotRunning(Exception):
    """A camera has no current frame; the message says why."""


# --- display clients ------------------------------------------------------------------------


def display_state(display: Display, r: redis.Redis, *, now: float | None = None) -> dict[str, Any]:
    """The display's newest result (from Redis) and whether its camera's stream runs."""
    now = time.time() if now is None else now
    latest = live.read_latest(r, display.id) or {}
    stream = farm_keys.read_streams(r, [display.camera_id]).get(display.camera_id)
    frame_time = parse_time(latest.get("frame_time"))
    # A display desired state leaves out, or whose model its worker could not load, does
    # not run even while its camera's stream is online for other displays.
    pending = display_pending_reason(display, stream)
    running = bool(not pending and stream is not None and stream.state is RUNNING_STATE)
    state = {
        "objects": latest.get("objects") or [],
        # Read with the display (no extra query): the client can draw them over the objects.
        "zones": display.zones,
        "lines": display.lines,
        "frame_time": frame_time,
        "frame_seq": latest.get("frame_seq"),
        "age_s": None if frame_time is None else round(max(0.0, now - frame_time.timestamp()), 3),
        "generation": latest.get("generation"),
        "detection_id": latest.get("id"),
        "running": running,
        "stream_state": (stream.state if stream is not None else NOT_RUNNING_STATE).value,
        "not_running_reason": display_not_running_reason(display, stream, running=running) or None,
    }
    if latest.get("session_id"):  # the newest result was inside a display session
        state["session_id"] = latest["session_id"]
    return state


def display_zones(display: Display, r: redis.Redis, *, now: float | None = None) -> dict[str, Any]:
    """Objects per zone now (cms.zone_counts), every zone of the display listed, "view" first.

    Counted from the newest result while the counts are live: the display tracks, it gets
    live results (display_state's ``running``) and that result is fresh (see
    ``zones_fresh_s``). Otherwise every count is 0, ``live`` is false and ``reason`` says why.
    """
    now = time.time() if now is None else now
    names = [RESERVED_ZONE, *(zone["name"] for zone in display.zones)]
    latest = live.read_latest(r, display.id) or {}
    frame_time = parse_time(latest.get("frame_time"))
    age_s = None if frame_time is None else round(max(0.0, now - frame_time.timestamp()), 3)
    reason = _zones_not_live_reason(display, r, age_s)
    objects = [] if reason else latest.get("objects") or []
    return {
        "live": not reason,
        "reason": reason or None,
        "frame_time": frame_time,
        "age_s": age_s,
        "zones": zone_counts(objects, names),
    }


def zones_fresh_s(display: Display) -> float:
    """How old the newest result may be for its zone counts to be live: ``max_lost_s``
    (an object gone that long has left), plus, under the change and interval policies,
    the beat (an unchanged scene delivers a result only that often)."""
    beat = 0.0 if display.policy == Display.Policy.EVERY else settings.SIGHTLINE_RESULTS_BEAT_S
    return display.max_lost_s + beat


def _zones_not_live_reason(display: Display, r: redis.Redis, age_s: float | None) -> str:
    if not display.tracking:
        return "the display does not track objects (tracking is off)"
    stream = farm_keys.read_streams(r, [display.camera_id]).get(display.camera_id)
    running = bool(
        not display_pending_reason(display, stream)
        and stream is not None
        and stream.state is RUNNING_STATE
    )
    not_running = display_not_running_reason(display, stream, running=running)
    if not_running:
        return f"the display gets no live results: {not_running}"
    if age_s is None:
        return "no result yet"
    if age_s > zones_fresh_s(display):
        return f"the newest result is {age_s:g} s old (more than {zones_fresh_s(display):g} s)"
    return ""


MAX_STATS_BUCKETS = 1440  # a day of minutes, 60 days of hours
_BUCKET_SECONDS = {"minute": 60, "hour": 3600}


EARLIEST_BUCKET = datetime(1, 1, 2, tzinfo=UTC)


def stats_range(
    *, start: datetime | None, end: datetime | None, bucket: str, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """The (from, to) a stats answer covers: ``from`` down to its bucket's start (default
    the hour before ``to``, ``to`` default now), and at most MAX_STATS_BUCKETS buckets, so a
    longer range is cut at its end. ``to`` not after ``from`` covers nothing (from, from).

    Every range the schema allows has an answer; the answer's from and to say what it covers.
    """
    end = end or now or timezone.now()
    size = _BUCKET_SECONDS[bucket]
    try:
        start = start or end - timedelta(hours=1)
        start = datetime.fromtimestamp(start.timestamp() // size * size, UTC)
    except (OverflowError, OSError, ValueError):  # near year 1: the earliest bucket
        start = EARLIEST_BUCKET
    if end <= start:
        return start, start
    with contextlib.suppress(OverflowError):  # near year 9999 the range ends at `to` anyway
        end = min(end, start + timedelta(seconds=MAX_STATS_BUCKETS * size))
    return start, end


def zone_stats(
    display: Display, *, zone: str | None, start: datetime, end: datetime, bucket: str
) -> list[dict[str, Any]]:
    """The display's zone minutes from ``start`` (a bucket's start) to ``end``, per zone
    and minute or UTC hour, oldest first then by zone: entered, left, mean and max dwell
    (of the leaves; null without one), max_count. Buckets with nothing stored are absent."""
    rows = ZoneMinute.objects.filter(display=display, minute__gte=start, minute__lt=end)
    if zone is not None:
        rows = rows.filter(zone=zone)
    when = TruncHour("minute", tzinfo=UTC) if bucket == "hour" else F("minute")
    grouped = (
        rows.annotate(start=when)
        .values("zone", "start")
        .annotate(
            entered=Sum("entered"),
            left=Sum("left"),
            dwell_sum_s=Sum("dwell_sum_s"),
            dwell_max_s=Max("dwell_max_s"),
            max_count=Max("max_count"),
        )
        .order_by("start", "zone")
    )
    return [
        {
            "zone": row["zone"],
            "start": row["start"],
            "entered": row["entered"],
            "left": row["left"],
            "mean_dwell_s": round(row["dwell_sum_s"] / row["left"], 3) if row["left"] else None,
            "max_dwell_s": row["dwell_max_s"] if row["left"] else None,
            "max_count": row["max_count"],
        }
        for row in grouped
    ]


def display_pending_reason(display: Display, stream: StreamInfo | None) -> str:
    """Why the display gets no results though its camera may run ("" when nothing stops it):
    desired state leaves it out (it, its camera or its model is disabled, or its model
    cannot run), or the worker running its camera reports that its model failed to load."""
    blocker = display_blocker(
        display_enabled=display.enabled,
        camera_enabled=display.camera.enabled,
        model_enabled=display.model.enabled,
        model_problem=display.model.unusable_reason,
    )
    if blocker:
        return blocker
    error = stream.primary_error(display.id) if stream is not None else None
    return f"its model failed to load: {_masked(error, display.camera)}" if error else ""


def display_secondary_errors(display: Display, stream: StreamInfo | None) -> list[str]:
    """The errors of the display's failing secondary models, as its camera's worker reports
    them (masked). The display still gets results, without those models' attributes."""
    if stream is None:
        return []
    return [_masked(error, display.camera) for error in stream.secondary_errors(display.id)]


def display_not_running_reason(
    display: Display, stream: StreamInfo | None, *, running: bool
) -> str:
    """Why the display gets no live results now, for its client ("" when it gets them)."""
    pending = display_pending_reason(display, stream)
    if pending or running:
        return pending
    if stream is None:
        reason = _camera_pending_reason(display.camera_id)
        if reason:
            return f"its camera is pending: {_masked(reason, display.camera)}"
        return "no ingest task runs its camera yet"
    return f"its camera's stream is {stream.condition}"


def detection_page(
    display: Display, *, after: int | None, limit: int
) -> tuple[list[Detection], bool]:
    """(detections oldest first, whether more follow).

    With ``after``: those with a greater id. Without: the newest ``limit``.
    """
    return cursor_page(Detection.objects.filter(display=display), after=after, limit=limit)


def object_event_page(
    display: Display, *, after: int | None, limit: int, type: str | None = None
) -> tuple[list[ObjectEvent], bool]:
    """(the display's object events oldest first, whether more follow), like detection_page;
    ``type`` keeps only enter, leave or cross events."""
    rows = ObjectEvent.objects.filter(display=display)
    if type is not None:
        rows = rows.filter(type=type)
    return cursor_page(rows, after=after, limit=limit)


Row = TypeVar("Row", bound=Model)


def cursor_page(rows: QuerySet[Row], *, after: int | None, limit: int) -> tuple[list[Row], bool]:
    """(rows oldest first by id, whether more follow).

    With ``after``: those with a greater id. Without: the newest ``limit``.
    """
    if after is None:
        return list(rows.order_by("-id")[:limit])[::-1], False
    page = list(rows.filter(id__gt=after).order_by("id")[: limit + 1])
    return page[:limit], len(page) > limit


def record_heartbeat(
    display: Display, *, version: str | None = None, showing: str | None = None
) -> datetime:
    """Note that the display's client is alive, and what it shows as a play
    (cms.audience.services.note_heartbeat); returns the time recorded.

    An UPDATE, not save(): a heartbeat changes nothing that should run, so it must not
    trigger a reconcile, and it must not move ``updated`` (the configuration's time). The
    display's row is locked first, so heartbeats of one display record plays in turn.
    """
    with transaction.atomic():
        before = (
            Display.objects.select_for_update()
            .filter(pk=display.pk)
            .values("client_last_seen", "client_showing")
            .first()
        )
        now = timezone.now()
        if before is None:  # deleted meanwhile: nothing to record
            return now
        fields: dict[str, Any] = {"client_last_seen": now}
        if version is not None:
            fields["client_version"] = version
        if showing is not None:
            fields["client_showing"] = showing
        Display.objects.filter(pk=display.pk).update(**fields)
        # A heartbeat without `showing` shows what the last one said.
        note_heartbeat(
            display.pk,
            showing=before["client_showing"] if showing is None else showing,
            now=now,
            last_seen=before["client_last_seen"],
        )
    return now


def rotate_display_token(display: Display) -> str:
    """Issue a new client token for the display; the old one stops working at once."""
    token = display.rotate_token()
    display.save(update_fields=["token_hash", "updated"])
    return token


# --- operators ----------------------------------------------------------------------------------


def cluster_overview(r: redis.Redis) -> dict[str, Any]:
    """Workers, running streams, pending cameras and the last reconcile, for /api/v1/cluster/."""
    workers = farm_keys.read_workers(r)
    streams = farm_keys.read_all_streams(r)
    report = farm_keys.read_report(r)
    cameras = Camera.objects.in_bulk(list(streams))
    return {
        "workers": [_worker(w) for w in sorted(workers.values(), key=lambda w: w.name)],
        "streams": [_stream(s, cameras.get(s.camera_id)) for _, s in sorted(streams.items())],
        "pending": _pending_cameras(streams) + _pending_displays(streams),
        "reconcile": _report(report),
    }


def _pending_cameras(streams: dict[int, StreamInfo]) -> list[dict[str, Any]]:
    """Cameras reconcile could not place or waits for, and assigned ones not running yet."""
    rows = (
        StreamAssignment.objects.exclude(pending_reason="", worker="")
        .select_related("camera")
        .order_by("camera_id")
    )
    pending = []
    for a in rows:
        stream = streams.get(a.camera_id)
        if a.pending_reason:
            reason = _masked(a.pending_reason, a.camera)
        elif stream is None or stream.generation != a.generation:
            reason = f"starting on {a.worker} (generation {a.generation})"
        else:
            continue
        pending.append(_pending(a.camera, None, reason))
    return pending


def _pending_displays(streams: dict[int, StreamInfo]) -> list[dict[str, Any]]:
    """Enabled displays that get no results: camera or model disabled, model unusable (not
    a detection model, weights that do not load), or model not loaded by the worker."""
    with_errors = {d for s in streams.values() for d, _ in s.display_errors if s.primary_error(d)}
    displays = (
        Display.objects.filter(enabled=True)
        .filter(
            Q(camera__enabled=False)
            | Q(model__enabled=False)
            | Q(model__in=DetectionModel.objects.exclude(DetectionModel.usable()))
            | Q(id__in=with_errors)
        )
        .select_related("camera", "model")
        .order_by("camera_id", "id")
    )
    pending = []
    for display in displays:
        reason = display_pending_reason(display, streams.get(display.camera_id))
        if reason:
            pending.append(_pending(display.camera, display, reason))
    return pending


def _pending(camera: Camera, display: Display | None, reason: str) -> dict[str, Any]:
    return {
        "camera": camera.id,
        "camera_name": camera.name,
        "display": display.id if display is not None else None,
        "display_name": display.name if display is not None else None,
        "reason": reason,
    }


def camera_snapshot(camera: Camera, r: redis.Redis, *, boxes: bool) -> bytes:
    """The camera's newest frame as JPEG, with its displays' latest detections when ``boxes``.

    Raises NotRunning when there is no current frame.
    """
    jpeg = farm_keys.read_snapshot(r, camera.id)
    if jpeg is None:
        raise NotRunning(not_running_reason(camera, r))
    if not boxes:
        return jpeg
    displays = list(camera.displays.filter(enabled=True))
    objects: list[dict[str, Any]] = []
    for display in displays:
        latest = live.read_latest(r, display.id)
        if latest:
            objects.extend(latest.get("objects") or [])
    crops = [(d.name, d.crop) for d in displays if d.crop is not None]
    return draw_detections(jpeg, objects, crops)


def not_running_reason(camera: Camera, r: redis.Redis) -> str:
    if not camera.enabled:
        return "The camera is disabled."
    stream = farm_keys.read_streams(r, [camera.id]).get(camera.id)
    if stream is not None:
        return f"No frame yet: the stream is {stream.condition}."
    pending = _camera_pending_reason(camera.id)
    if pending:
        return f"Not running: {_masked(pending, camera)}."
    return "Not running: no ingest task runs this camera."


def _camera_pending_reason(camera_id: int) -> str:
    """Why reconcile could not place the camera ("" when it did or has not looked)."""
    reason = (
        StreamAssignment.objects.filter(camera_id=camera_id)
        .values_list("pending_reason", flat=True)
        .first()
    )
    return reason or ""


def _masked(text: str, camera: Camera | None) -> str:
    """``text`` without the camera's password or any other secret it shows (URL passwords)."""
    text = redaction.mask_secrets(text or "")
    return redaction.redact_text(text, [camera.password]) if camera is not None else text


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 string or a Unix time as an aware datetime; None when neither."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            return None
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, UTC)
        return parsed
    return None


def _worker(info: Any) -> dict[str, Any]:
    return {
        "name": info.name,
        "device": info.device,
        "capacity": info.capacity,
        "load": round(len(info.running) / info.capacity, 3) if info.capacity else 1.0,
        "running": list(info.running),
        "cpu_percent": info.cpu_percent,
        "memory_percent": info.memory_percent,
        "gpu_percent": info.gpu_percent,
        "gpu_memory_percent": info.gpu_memory_percent,
        "models": list(info.models),
        "backends": [
            {
                "model": b.key,
                "backend": b.backend,
                "reason": b.reason,
                "candidates": b.candidates,
                "variant": b.variant or b.backend,
                "batched": b.batched,
            }
            for b in info.backends
        ],
        "draining": info.draining,
        "last_heartbeat": datetime.fromtimestamp(info.last_seen, UTC),
    }


def _stream(info: StreamInfo, camera: Camera | None) -> dict[str, Any]:
    return {
        "camera": info.camera_id,
        "camera_name": camera.name if camera is not None else None,
        "worker": info.worker,
        "generation": info.generation,
        "state": info.state.value,
        "reason": info.reason.value if info.reason is not None else "",
        "fps": info.fps_out,
        "fps_in": info.fps_in,
        "frame_age": info.frame_age,
        "latency_ms": info.latency_ms,
        "reconnects": info.reconnects,
        "last_error": _masked(info.last_error, camera),
        "last_error_at": datetime.fromtimestamp(info.last_error_at, UTC)
        if info.last_error_at
        else None,
        "display_errors": [
            {"display": display_id, "error": _masked(message, camera)}
            for display_id, message in info.display_errors
        ],
        "updated": datetime.fromtimestamp(info.updated, UTC),
    }


def _report(report: dict[str, Any] | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "finished_at": parse_time(report.get("finished_at")),
        "duration_ms": report.get("duration_ms"),
        "commands": report.get("commands") or {},
        "desired": report.get("desired"),
        "workers": report.get("workers"),
        "heartbeats_trusted": report.get("heartbeats_trusted"),
    }
