"""Desired state: what should run, as a pure function of the database rows.

The unit of work is a camera. Its spec lists, for every enabled display watching
it through an enabled model, the model, the crop, the event policy and what its
objects are tracked through (tracking, zones, lines, debounce). Displays with the
same model, options and crop share one inference (an InferenceGroup); a display's
tracking settings are not part of that key, so editing its zones changes the spec
(applied in place) but not the group.
Which rows are enabled is the query's business (cms.farm.reconcile.load_desired):
this module gets only the enabled ones.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson


@dataclass(frozen=True)
class ModelSpec:
    id: int
    name: str
    version: str
    sha256: str
    confidence: float
    iou: float
    imgsz: int
    classes: tuple[int, ...] | None
    # The model's own inference backend ("": the worker's SIGHTLINE_INFERENCE_BACKEND).
    backend: str = ""

    @property
    def key(self) -> str:
        """How workers name these weights in their heartbeat ("model id:sha256")."""
        return f"{self.id}:{self.sha256}"


Point = tuple[float, float]


@dataclass(frozen=True)
class ZoneSpec:
    """A display's zone in source pixels (validated by cms.display_geometry when saved)."""

    name: str
    polygon: tuple[Point, ...]


@dataclass(frozen=True)
class LineSpec:
    """A display's line in source pixels, from points[0] to points[1]."""

    name: str
    points: tuple[Point, Point]


@dataclass(frozen=True)
class SecondarySpec:
    """A classify model run on the crops of a display's tracked objects.

    ``classes`` are the primary model's class ids it runs on (None: all); an object's crop
    is classified when its shorter side is at least ``min_size`` pixels, once when its
    track starts and then at most once per ``every_s`` seconds.
    """

    model: ModelSpec
    classes: tuple[int, ...] | None = None
    min_size: int = 32
    every_s: float = 2.0


@dataclass(frozen=True)
class DisplaySpec:
    id: int
    model: ModelSpec
    crop: tuple[int, int, int, int] | None
    policy: str
    policy_interval_ms: int
    tracking: bool = True
    zones: tuple[ZoneSpec, ...] = ()
    lines: tuple[LineSpec, ...] = ()
    min_seen_s: float = 0.5
    max_lost_s: float = 2.0
    secondary: tuple[SecondarySpec, ...] = ()


@dataclass(frozen=True)
class CameraSpec:
    camera_id: int
    # Hash of what reopening the stream depends on (URL, credentials, fps, snapshot).
    source_hash: str
    displays: tuple[DisplaySpec, ...] = field(default=())

    # cached_property works on a frozen dataclass: it writes the instance __dict__ directly.
    @cached_property
    def spec_hash(self) -> str:
        """Changes whenever anything the ingest task runs changes."""
        return _digest([self.source_hash, [_display_fields(d) for d in self.displays]])

    @cached_property
    def model_keys(self) -> frozenset[str]:
        """The weights this camera needs, named as workers report them ("model id:sha256")."""
        models = [d.model for d in self.displays]
        models += [s.model for d in self.displays for s in d.secondary]
        return frozenset(m.key for m in models)

    def to_bytes(self) -> bytes:
        """The spec as reconcile stores it in Redis for the ingest worker (JSON). It holds no
        credential: the source hash is keyed, the source itself comes from the web server."""
        # orjson writes the nested dataclasses by their fields, as dataclasses.asdict would,
        # ten times faster than json: reconcile encodes 20,000 specs in a full run at scale.
        payload = {
            "camera_id": self.camera_id,
            "source_hash": self.source_hash,
            "displays": self.displays,
        }
        return orjson.dumps(payload)

    @classmethod
    def from_bytes(cls, raw: bytes | str) -> CameraSpec:
        """The spec of `to_bytes`; ValueError for anything else (the one place that validates)."""
        try:
            data = json.loads(raw)
            return cls(
                camera_id=_int(data["camera_id"]),
                source_hash=str(data["source_hash"]),
                displays=tuple(_display(d) for d in data["displays"]),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a camera spec: {exc!r}") from None


@dataclass(frozen=True)
class CameraRow:
    """The fields of an enabled Camera that desired state depends on."""

    id: int
    url: str
    username: str
    password: str
    snapshot_url: str
    snapshot_interval: float
    fps: float


@dataclass(frozen=True)
class DisplayRow:
    """An enabled display of an enabled camera, joined with its enabled model's fields."""

    id: int
    camera_id: int
    model: ModelSpec
    crop: tuple[int, int, int, int] | None
    policy: str
    policy_interval_ms: int
    tracking: bool = True
    zones: tuple[ZoneSpec, ...] = ()
    lines: tuple[LineSpec, ...] = ()
    min_seen_s: float = 0.5
    max_lost_s: float = 2.0
    secondary: tuple[SecondarySpec, ...] = ()


def zone_specs(value: object) -> tuple[ZoneSpec, ...]:
    """Stored zones JSON (``[{"name", "polygon"}]``) as specs; ValueError if it is not that."""
    try:
        return tuple(
            ZoneSpec(str(zone["name"]), tuple(_point(p) for p in zone["polygon"]))
            for zone in _items(value)
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a list of zones: {exc}") from None


def line_specs(value: object) -> tuple[LineSpec, ...]:
    """Stored lines JSON (``[{"name", "points"}]``) as specs; ValueError if it is not that."""
    try:
        specs = []
        for line in _items(value):
            start, end = line["points"]
            specs.append(LineSpec(str(line["name"]), (_point(start), _point(end))))
        return tuple(specs)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a list of lines: {exc}") from None


def _items(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError("not a list of objects")
    return value


def _point(value: object) -> Point:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError("a point is [x, y]")
    x, y = value
    return float(x), float(y)


def source_hash(camera: CameraRow, *, key: bytes) -> str:
    """Credentials change the hash (a change reopens the stream), keyed so the hash stored
    in Redis cannot be used to guess a password offline."""
    fields = [
        camera.url,
        camera.username,
        camera.password,
        camera.snapshot_url,
        camera.snapshot_interval,
        camera.fps,
    ]
    message = json.dumps(fields, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def display_blocker(
    *, display_enabled: bool, camera_enabled: bool, model_enabled: bool, model_problem: str = ""
) -> str:
    """Why desired state leaves the display out ("" when it is in), shown to operators and
    display clients as the display's pending reason. cms.farm.reconcile.load_desired
    selects by the same rule in SQL (enabled displays of enabled cameras and of enabled
    models that can run: ``model_problem`` is why one cannot, e.g. it is not a detection
    model, see DetectionModel.unusable_reason)."""
    if not display_enabled:
        return "the display is disabled"
    if not camera_enabled:
        return "its camera is disabled"
    if not model_enabled:
        return "its model is disabled"
    return model_problem


def desired_state(
    cameras: Iterable[CameraRow], displays: Iterable[DisplayRow], *, key: bytes
) -> dict[int, CameraSpec]:
    """Every camera with at least one display, keyed by camera id."""
    by_camera: dict[int, list[DisplaySpec]] = {}
    for row in displays:
        by_camera.setdefault(row.camera_id, []).append(
            DisplaySpec(
                row.id,
                row.model,
                row.crop,
                row.policy,
                row.policy_interval_ms,
                tracking=row.tracking,
                zones=row.zones,
                lines=row.lines,
                min_seen_s=row.min_seen_s,
                max_lost_s=row.max_lost_s,
                secondary=row.secondary,
            )
        )
    desired = {}
    for camera in cameras:
        specs = by_camera.get(camera.id)
        if specs:
            desired[camera.id] = CameraSpec(
                camera.id, source_hash(camera, key=key), tuple(sorted(specs, key=lambda d: d.id))
            )
    return desired


@dataclass(frozen=True)
class InferenceGroup:
    """Displays that share model, options and crop: one inference serves them all."""

    model: ModelSpec
    crop: tuple[int, int, int, int] | None
    display_ids: tuple[int, ...]


def inference_groups(spec: CameraSpec) -> list[InferenceGroup]:
    """Displays grouped by (model, crop) only: tracking, zones, lines and debounce are each
    display's own, so changing them leaves its group (and the group's tracker) as it is."""
    grouped: dict[tuple[ModelSpec, tuple[int, int, int, int] | None], list[int]] = {}
    for display in spec.displays:
        grouped.setdefault((display.model, display.crop), []).append(display.id)
    return [InferenceGroup(model, crop, tuple(ids)) for (model, crop), ids in grouped.items()]


# --- decoding CameraSpec.to_bytes (json.loads gave lists for tuples) --------------------------


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"not an integer: {value!r}")
    return value


def _float(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    # As written (an int stays one): the spec hash the worker computes must be reconcile's.
    return value


def _ints(value: object) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValueError(f"not a list: {value!r}")
    return tuple(_int(v) for v in value)


def model_spec_from_dict(data: dict[str, Any]) -> ModelSpec:
    """A ModelSpec from its JSON fields (a spec in Redis, the web server's model source);
    raises KeyError or ValueError when one is missing or of the wrong type."""
    return ModelSpec(
        id=_int(data["id"]),
        name=str(data["name"]),
        version=str(data["version"]),
        sha256=str(data["sha256"]),
        confidence=_float(data["confidence"]),
        iou=_float(data["iou"]),
        imgsz=_int(data["imgsz"]),
        classes=_ints(data["classes"]),
        backend=str(data.get("backend", "")),
    )


def _display(data: dict[str, Any]) -> DisplaySpec:
    crop = _ints(data["crop"])
    if crop is not None and len(crop) != 4:
        raise ValueError(f"a crop is four integers: {crop!r}")
    lines = tuple(
        LineSpec(str(ln["name"]), (_point(ln["points"][0]), _point(ln["points"][1])))
        for ln in data["lines"]
    )
    return DisplaySpec(
        id=_int(data["id"]),
        model=model_spec_from_dict(data["model"]),
        crop=crop,  # four integers, checked above
        policy=str(data["policy"]),
        policy_interval_ms=_int(data["policy_interval_ms"]),
        tracking=bool(data["tracking"]),
        zones=tuple(
            ZoneSpec(str(z["name"]), tuple(_point(p) for p in z["polygon"])) for z in data["zones"]
        ),
        lines=lines,
        min_seen_s=_float(data["min_seen_s"]),
        max_lost_s=_float(data["max_lost_s"]),
        secondary=tuple(
            SecondarySpec(
                model=model_spec_from_dict(s["model"]),
                classes=_ints(s["classes"]),
                min_size=_int(s["min_size"]),
                every_s=_float(s["every_s"]),
            )
            for s in data["secondary"]
        ),
    )


def _display_fields(d: DisplaySpec) -> list[object]:
    zones = [[z.name, z.polygon] for z in d.zones]
    lines = [[ln.name, ln.points] for ln in d.lines]
    objects = [d.tracking, zones, lines, d.min_seen_s, d.max_lost_s]
    secondary = [[_model_fields(s.model), s.classes, s.min_size, s.every_s] for s in d.secondary]
    fields = [d.id, _model_fields(d.model), d.crop, d.policy, d.policy_interval_ms, objects]
    # Appended only when set, so the hash of a camera without secondary models stays the
    # same across the upgrade (no needless in-place spec change).
    return [*fields, secondary] if secondary else fields


def _model_fields(m: ModelSpec) -> list[object]:
    fields = [m.id, m.name, m.version, m.sha256, m.confidence, m.iou, m.imgsz, m.classes]
    # Appended only when set: a model without its own backend keeps its camera's hash.
    return [*fields, m.backend] if m.backend else fields


def _digest(payload: object) -> str:
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(encoded.encode()).hexdigest()[:16]
