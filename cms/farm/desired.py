"""Desired state: what should run, as a pure function of the database rows.

The unit of work is a camera. Its spec lists, for every enabled display watching
it through an enabled model, the model, the crop and the event policy. Displays
with the same model, options and crop share one inference (an InferenceGroup).
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


@dataclass(frozen=True)
class DisplaySpec:
    id: int
    model: ModelSpec
    crop: tuple[int, int, int, int] | None
    policy: str
    policy_interval_ms: int


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
        return frozenset(f"{d.model.id}:{d.model.sha256}" for d in self.displays)


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
            DisplaySpec(row.id, row.model, row.crop, row.policy, row.policy_interval_ms)
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
    grouped: dict[tuple[ModelSpec, tuple[int, int, int, int] | None], list[int]] = {}
    for display in spec.displays:
        grouped.setdefault((display.model, display.crop), []).append(display.id)
    return [InferenceGroup(model, crop, tuple(ids)) for (model, crop), ids in grouped.items()]


def _display_fields(d: DisplaySpec) -> list[object]:
    m = d.model
    model = [m.id, m.name, m.version, m.sha256, m.confidence, m.iou, m.imgsz, m.classes]
    return [d.id, model, d.crop, d.policy, d.policy_interval_ms]


def _digest(payload: object) -> str:
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(encoded.encode()).hexdigest()[:16]
