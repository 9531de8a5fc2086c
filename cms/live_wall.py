"""The admin's live wall: a tile per camera that should be running, read from what the farm
already keeps in Redis (stream heartbeats, snapshots, each display's latest result).

Nothing here asks the ingest workers for anything: a wall of 50 cameras costs them nothing.
``tile_reason`` and ``class_counts`` are pure; ``wall_tiles`` reads the rows and Redis once
per poll (a few queries, three Redis round trips whatever the number of cameras).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings

from cms import live, redis_connection
from cms.api.services import parse_time, zones_fresh_s
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo
from cms.farm_status import CameraStatus, FarmState, status_of
from cms.models import Camera, DetectionModel, Display, StreamAssignment
from streams import redaction

STATES = tuple(state.value for state in FarmState)
# The page polls the metadata and each tile's frame this often (the issue asks for 1-2 s).
REFRESH_MS = 1000


@dataclass(frozen=True)
class WallFilter:
    """What the wall shows: query parameters, so a filtered wall is a link."""

    worker: str = ""
    state: str = ""
    display: int | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> WallFilter:
        """Unknown states and non-numeric displays are ignored (the whole wall), never a 500."""
        state = query.get("state", "")
        display = query.get("display", "")
        return cls(
            worker=query.get("worker", "")[:200],
            state=state if state in STATES else "",
            display=int(display) if display.isdigit() and len(display) < 19 else None,
        )

    def keeps(self, status: CameraStatus) -> bool:
        if self.worker and status.worker != self.worker:
            return False
        return not self.state or status.state.value == self.state


def tile_reason(status: CameraStatus, stream: StreamInfo | None) -> str:
    """A not-running camera's state and why, for its placeholder ("" while it runs):
    "recovering: unreachable, connection refused, 6 reconnects"."""
    if status.state is FarmState.RUNNING:
        return ""
    if status.state in (FarmState.RECOVERING, FarmState.FAILING) and stream is not None:
        reconnects = f"{stream.reconnects} reconnect{'' if stream.reconnects == 1 else 's'}"
        why = stream.reason.value if stream.reason is not None else ""
        parts = [why, stream.last_error, reconnects if stream.reconnects else ""]
        return f"{status.state}: " + ", ".join(p for p in parts if p)
    if status.state is FarmState.STARTING:
        return f"starting on {status.worker} (generation {status.generation})"
    if status.state is FarmState.STOPPED:
        return "stopped: no ingest task runs this camera"
    return f"{status.state}: {status.reason}" if status.reason else str(status.state)


def class_counts(objects: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Objects per class name, most first (then by name): {"person": 3, "car": 1}."""
    counts = Counter(str(o.get("class_name", o.get("class_id", "?"))) for o in objects)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def wall_cameras() -> list[tuple[Camera, list[Display]]]:
    """Every camera desired state runs (cms.farm.reconcile.load_desired), by name: enabled,
    with an enabled display on an enabled model that can run; each with those displays."""
    models = DetectionModel.objects.filter(DetectionModel.usable(), enabled=True)
    displays = Display.objects.filter(enabled=True, camera__enabled=True, model__in=models)
    by_camera: dict[int, list[Display]] = {}
    for display in displays.order_by("id"):
        by_camera.setdefault(display.camera_id, []).append(display)
    cameras = Camera.objects.filter(id__in=by_camera).order_by("name", "id")
    return [(camera, by_camera[camera.id]) for camera in cameras]


def wall_tiles(wall: WallFilter, *, now: float) -> list[dict[str, Any]]:
    """Each tile's metadata: state, reason, whether a frame is there, and per display its
    zones, lines, crop, newest boxes and counts. No camera URL or password in any of it."""
    cameras = wall_cameras()
    if wall.display is not None:
        cameras = [(c, ds) for c, ds in cameras if any(d.id == wall.display for d in ds)]
    ids = [c.id for c, _ in cameras]
    client = redis_connection.client()
    assignments = StreamAssignment.objects.in_bulk(ids)
    try:
        streams = farm_keys.read_streams(client, ids)
        latest = live.read_latest_many(client, [d.id for _, ds in cameras for d in ds])
        frames = _snapshots_exist(client, ids)
    except redis.RedisError as exc:
        unknown = CameraStatus(FarmState.UNKNOWN, reason=f"Redis unreachable ({exc})")
        streams, latest, frames = {}, {}, set()
        statuses = dict.fromkeys(ids, unknown)
    else:
        statuses = {i: status_of(assignments.get(i), streams.get(i)) for i in ids}
    tiles = []
    for camera, displays in cameras:
        status = statuses[camera.id]
        if not wall.keeps(status):
            continue
        stream = streams.get(camera.id)
        shown = [_display(d, latest.get(d.id), status=status, now=now) for d in displays]
        tiles.append(_tile(camera, status, stream, shown, camera.id in frames, wall))
    return tiles


def _tile(
    camera: Camera,
    status: CameraStatus,
    stream: StreamInfo | None,
    displays: list[dict[str, Any]],
    has_frame: bool,
    wall: WallFilter,
) -> dict[str, Any]:
    running = status.state is FarmState.RUNNING
    chosen = wall.display if wall.display is not None else displays[0]["id"]
    reason = tile_reason(status, stream)
    if running and not has_frame:
        reason = _no_frame_reason()
    return {
        "id": camera.id,
        "name": camera.name,
        "state": status.state.value,
        "worker": status.worker,
        "fps": status.fps,
        "frame_age": status.frame_age,
        "reconnects": stream.reconnects if stream is not None else 0,
        "reason": _masked(reason, camera),
        "error": _masked(status.reason, camera) if running else "",
        "frame": running and has_frame,
        "display": chosen,
        "displays": displays,
    }


def _display(
    display: Display, latest: dict[str, Any] | None, *, status: CameraStatus, now: float
) -> dict[str, Any]:
    """A display's geometry, and its newest result's boxes while that result is current (not
    older than an object may stay unseen, plus the change policy's beat: zones_fresh_s)."""
    latest = latest or {}
    frame_time = parse_time(latest.get("frame_time"))
    age_s = None if frame_time is None else round(max(0.0, now - frame_time.timestamp()), 1)
    running = status.state is FarmState.RUNNING
    current = running and age_s is not None and age_s <= zones_fresh_s(display)
    drawn = [_box(o) for o in latest.get("objects") or []] if current else []
    objects = [o for o in drawn if o is not None]
    return {
        "id": display.id,
        "name": display.name,
        "zones": display.zones,
        "lines": display.lines,
        "crop": display.crop,
        "objects": objects,
        "counts": class_counts(objects),
        "age_s": age_s,
    }


def _box(obj: Any) -> dict[str, Any] | None:
    """The fields the wall draws; a malformed object is left out."""
    if not isinstance(obj, Mapping):
        return None
    box = obj.get("box")
    if not isinstance(box, list) or len(box) != 4:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in box):
        return None
    return {
        "box": box,
        "class_id": obj.get("class_id"),
        "class_name": obj.get("class_name", obj.get("class_id", "?")),
        "confidence": obj.get("confidence"),
        "track_id": obj.get("track_id"),
    }


def _no_frame_reason() -> str:
    if settings.SIGHTLINE_SNAPSHOT_INTERVAL_S <= 0:
        return "running: no frames kept (SIGHTLINE_SNAPSHOT_INTERVAL_S is 0)"
    return "running: no frame yet"


def _snapshots_exist(client: redis.Redis, camera_ids: list[int]) -> set[int]:
    """The cameras with a snapshot in Redis (EXISTS: the frames themselves are not read)."""
    pipe = client.pipeline(transaction=False)
    for camera_id in camera_ids:
        pipe.exists(farm_keys.snapshot_key(camera_id))
    return {c for c, n in zip(camera_ids, pipe.execute(), strict=True) if n}


def _masked(text: str, camera: Camera) -> str:
    text = redaction.mask_secrets(text or "")
    return redaction.redact_text(text, [camera.password]) if camera.password else text


def filter_choices() -> dict[str, list[Any]]:
    """The filters' options: workers online or assigned a camera, states, the wall's displays."""
    try:
        workers = set(farm_keys.read_workers(redis_connection.client()))
    except redis.RedisError:
        workers = set()
    workers |= set(StreamAssignment.objects.exclude(worker="").values_list("worker", flat=True))
    displays = [(d.id, f"{d.name} ({camera.name})") for camera, ds in wall_cameras() for d in ds]
    return {"workers": sorted(workers), "states": list(STATES), "displays": sorted(displays)}
