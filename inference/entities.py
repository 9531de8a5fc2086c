"""Plain data that crosses the package boundary: detections, model metadata, options, sources."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Protocol, get_args, get_type_hints, runtime_checkable

import numpy as np

Box = tuple[float, float, float, float]
"""x1, y1, x2, y2 in pixels of the frame the box belongs to."""

WEIGHT_SUFFIXES = (".pt", ".onnx", ".torchscript")
"""Weight formats the ultralytics backend runs; ultralytics picks the runtime from the suffix."""

MODEL_TASKS = ("detect", "classify")
"""What a model does: ultralytics' task names (a primary detector, a secondary classifier)."""


@dataclass(frozen=True, slots=True)
class DetectedObject:
    """One detection in one frame.

    Its JSON form (``to_dict``, checked by ``check_dict``) is the object schema of the whole results
    path: the result message validates its objects with ``check_dict``, and the API's
    DetectedObjectSerializer lists the same fields (a test holds them equal, and the optional
    ones optional). A new field is declared here; its JSON check comes from its type
    (``_JSON_CHECKS``). A field with a default of None is optional: left out of the JSON
    while None, checked when present.

    A tracked object also has its ``track_id`` (unique for the camera, never reused),
    ``first_seen`` (Unix seconds) and the names of the ``zones`` it is in now, and, where its
    display runs secondary models, ``attributes``: the latest result of each by model name,
    ``{"<model name>": {"label": "sedan", "confidence": 0.91}}`` (``Classification.to_dict``).
    """

    class_id: int
    class_name: str
    confidence: float
    box: Box
    track_id: int | None = None
    first_seen: float | None = None
    zones: tuple[str, ...] | None = None
    attributes: dict[str, dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict: class_id, class_name, confidence, box as [x1, y1, x2, y2], and
        the optional fields that are set."""
        data = {name: _to_json(getattr(self, name)) for name, _, _ in _OBJECT_FIELDS}
        for name, _, _ in _OPTIONAL_FIELDS:
            value = getattr(self, name)
            if value is not None:
                data[name] = _to_json(value)
        return data

    @staticmethod
    def check_dict(data: Any) -> None:
        """Raise ValueError unless ``data`` is a detected object's JSON form (extra keys pass)."""
        if not isinstance(data, dict):
            raise ValueError("a detected object must be a JSON object")
        for name, check, expected in _OBJECT_FIELDS:
            if not check(data.get(name)):
                raise ValueError(f"{name!r} must be {expected}")
        if len(data) > len(_OBJECT_FIELDS):  # the common untracked object skips this loop
            for name, check, expected in _OPTIONAL_FIELDS:
                if name in data and not check(data[name]):
                    raise ValueError(f"{name!r} must be {expected}")


# By exact type, which excludes bool (an int subclass) and is fast: the results consumer
# checks every object of every result.
def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_number(value: Any) -> bool:
    return type(value) is float or type(value) is int


def _is_str(value: Any) -> bool:
    return type(value) is str


def _is_box(value: Any) -> bool:
    return (
        (type(value) is list or type(value) is tuple)
        and len(value) == 4
        and all([_is_number(v) for v in value])
    )


def _is_names(value: Any) -> bool:
    return (type(value) is list or type(value) is tuple) and all([_is_str(v) for v in value])


def is_attributes(value: Any) -> bool:
    """Whether ``value`` is an object's attributes: model name -> {"label", "confidence"}."""
    return type(value) is dict and all(
        [_is_str(name) and _is_classification(result) for name, result in value.items()]
    )


def _is_classification(value: Any) -> bool:
    return (
        type(value) is dict
        and len(value) == 2
        and _is_str(value.get("label"))
        and _is_number(value.get("confidence"))
    )


def _to_json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# How a field's type is checked in JSON: (check, what the error says it must be).
_JSON_CHECKS: dict[Any, tuple[Callable[[Any], bool], str]] = {
    int: (_is_int, "an integer"),
    float: (_is_number, "a number"),
    str: (_is_str, "a string"),
    Box: (_is_box, "a list of 4 numbers"),
    tuple[str, ...]: (_is_names, "a list of strings"),
    dict[str, dict[str, Any]]: (
        is_attributes,
        'an object of model name -> {"label": string, "confidence": number}',
    ),
}


def _json_check(hint: Any) -> tuple[Callable[[Any], bool], str]:
    """The check of a field's type; an optional field (``T | None``) is checked as ``T``."""
    if hint in _JSON_CHECKS:
        return _JSON_CHECKS[hint]
    [inner] = [arg for arg in get_args(hint) if arg is not type(None)]
    return _JSON_CHECKS[inner]


_HINTS = get_type_hints(DetectedObject)
_OBJECT_FIELDS = tuple(
    (f.name, *_json_check(_HINTS[f.name])) for f in fields(DetectedObject) if f.default is MISSING
)
_OPTIONAL_FIELDS = tuple(
    (f.name, *_json_check(_HINTS[f.name]))
    for f in fields(DetectedObject)
    if f.default is not MISSING
)


@dataclass(frozen=True, slots=True)
class Classification:
    """A classify model's answer for one image: its top class and how sure it is."""

    class_id: int
    label: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """The form an object's ``attributes`` hold per model: {"label", "confidence"}."""
        return {"label": self.label, "confidence": self.confidence}


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a loaded model is and where it runs.

    `imgsz` is the size the model was warmed up at, or, for a static export (ONNX,
    TorchScript), the size it was exported at: ultralytics runs those at that size
    whatever `PredictOptions.imgsz` says. A classifier runs every image at its `imgsz` (by
    default the size it was trained at).

    `backend` is what runs it (`inference.backends.BACKENDS`: "torch" for .pt and TorchScript,
    "onnxruntime", "openvino", "tensorrt" for exports). `input_shape` is a static export's
    fixed (height, width), every frame being letterboxed into it; None where the model takes
    each frame at its own rect shape (torch, dynamic exports).
    """

    name: str
    version: str
    sha256: str
    class_names: Mapping[int, str]
    device: str
    imgsz: int
    backend: str = "torch"
    input_shape: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class PredictOptions:
    """Per-display inference settings (from the DetectionModel / Display rows).

    Hashable on purpose: the micro-batcher groups frames by their options, because
    ultralytics applies one confidence, IoU, size and class filter to a whole batch.
    """

    confidence: float = 0.25
    iou: float = 0.7
    imgsz: int = 640
    classes: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be within [0, 1], got {self.confidence}")
        if not 0.0 <= self.iou <= 1.0:
            raise ValueError(f"iou must be within [0, 1], got {self.iou}")
        if self.imgsz < 32:
            raise ValueError(f"imgsz must be at least 32 pixels, got {self.imgsz}")
        if self.classes is not None:
            # Accept any iterable of ints from callers but store a canonical, hashable tuple.
            object.__setattr__(self, "classes", tuple(sorted({int(c) for c in self.classes})))


@dataclass(frozen=True, slots=True)
class ModelSource:
    """Where a model's weights come from: exactly one of `url`, `path`, `hub_name`.

    `url` is fetched as is (a signed query string stays opaque); `sha256` is "" when
    unknown, in which case nothing can be verified and the file is fetched every load.
    `suffix` names the weight format when neither the URL nor the path shows it. `task`
    ("detect" or "classify") says what to load the weights as; it is part of the key, so a
    store never hands out a classifier where a detector was asked for.
    """

    name: str
    version: str = ""
    sha256: str = ""
    url: str | None = None
    path: str | None = None
    hub_name: str | None = None
    suffix: str = field(default="", compare=False)
    task: str = "detect"

    def __post_init__(self) -> None:
        given = [k for k in ("url", "path", "hub_name") if getattr(self, k)]
        if len(given) != 1:
            got = ", ".join(given) or "none"
            raise ValueError(
                f"model {self.name!r}: give exactly one of url, path, hub_name ({got})"
            )
        if self.sha256:
            sha = self.sha256.strip().lower()
            if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
                raise ValueError(f"model {self.name!r}: sha256 must be 64 hex digits")
            object.__setattr__(self, "sha256", sha)
        if self.suffix and self.suffix not in WEIGHT_SUFFIXES:
            raise ValueError(f"model {self.name!r}: suffix must be one of {WEIGHT_SUFFIXES}")
        if self.task not in MODEL_TASKS:
            raise ValueError(f"model {self.name!r}: task must be one of {MODEL_TASKS}")

    @property
    def key(self) -> str:
        """Identity of the loaded model: the sha256 when known, else the location, and the
        task unless it is "detect" (so a detector's key is what it always was)."""
        if self.sha256:
            where = f"sha256:{self.sha256}"
        elif self.url:
            where = f"url:{self.url.split('?', 1)[0]}"
        else:
            where = f"path:{self.path}" if self.path else f"hub:{self.hub_name}"
        return where if self.task == "detect" else f"{self.task}:{where}"

    @property
    def label(self) -> str:
        """How errors and logs name the model."""
        return f"{self.name} {self.version}".strip() if self.version else self.name


@runtime_checkable
class Detector(Protocol):
    """Frames (numpy BGR, HxWx3 uint8) in; per frame, its detections in that frame's pixels."""

    info: ModelInfo

    def detect(
        self, frames: Sequence[np.ndarray], options: PredictOptions
    ) -> list[list[DetectedObject]]: ...


@runtime_checkable
class Classifier(Protocol):
    """Images (numpy BGR, HxWx3 uint8, e.g. `classification_crop`s) in; one top-1 answer each."""

    info: ModelInfo

    def classify(self, images: Sequence[np.ndarray]) -> list[Classification]: ...
