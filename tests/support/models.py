"""Real, untrained ultralytics models for tests: built from architecture configs, seeded.

Weights cannot be downloaded here, so tests build models from ultralytics' own configs
and load the saved files through the same code as real weights. Untrained weights
score about 1.5e-4: use `UNTRAINED_CONFIDENCE` to get boxes.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from inference.ultralytics_env import configure_ultralytics, yolo_class

UNTRAINED_CONFIDENCE = 1e-4
DETECTION_CFG = "yolov8n.yaml"
CLASSIFIER_CFG = "yolov8n-cls.yaml"


def build_model(
    path: Path, *, cfg: str = DETECTION_CFG, seed: int = 0, coco_names: bool = True
) -> Path:
    """Build `cfg` with torch seeded, save it where `YOLO(path)` loads it back, return path.

    Detection models get COCO class names (person, bicycle, ...) unless `coco_names` is
    False, in which case ultralytics names them "0".."79".
    """
    import torch

    torch.manual_seed(seed)
    model = yolo_class()(cfg)
    if coco_names and model.task == "detect":
        model.model.names = dict(enumerate(coco_class_names()))
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(str(path))  # the checkpoint dict ultralytics itself writes (fp16 weights)
    return path


def build_detection_weights(path: Path, *, seed: int = 0) -> Path:
    """A yolov8n detection model as a .pt file."""
    return build_model(path, cfg=DETECTION_CFG, seed=seed)


def build_classifier_weights(path: Path, *, seed: int = 0) -> Path:
    """A yolov8n classification model as a .pt file (for "not a detection model" tests)."""
    return build_model(path, cfg=CLASSIFIER_CFG, seed=seed)


@cache
def coco_class_names() -> tuple[str, ...]:
    """The 80 COCO class names from ultralytics' dataset config."""
    configure_ultralytics()
    from ultralytics.utils import ROOT, YAML

    names = YAML.load(ROOT / "cfg/datasets/coco.yaml")["names"]
    return tuple(names[i] for i in range(len(names)))


def asset_frame(name: str) -> np.ndarray:
    """An image ultralytics ships (`bus.jpg` 810x1080, `zidane.jpg` 1280x720) as BGR uint8."""
    import cv2

    configure_ultralytics()
    from ultralytics.utils import ASSETS

    frame = cv2.imread(str(ASSETS / name))
    if frame is None:
        raise FileNotFoundError(ASSETS / name)
    return frame


def reference_predict(weights: Path, frames: list[np.ndarray], **kwargs: Any) -> list[np.ndarray]:
    """What plain ultralytics finds: per frame an (N, 6) array x1, y1, x2, y2, conf, cls."""
    model = yolo_class()(str(weights))
    results = model.predict(frames, verbose=False, **kwargs)
    return [r.boxes.data.cpu().numpy() for r in results]


def assert_detections_match(
    objects: list[Any], reference: np.ndarray, *, offset=(0.0, 0.0)
) -> None:
    """Same classes, boxes within 1e-3 px, confidences within 0.1 % as an (N, 6) reference.

    `offset` (dx, dy) is added to the reference boxes (a crop's origin in the frame).
    """
    assert len(objects) == len(reference), f"{len(objects)} objects, reference has {len(reference)}"
    dx, dy = offset
    for obj, (x1, y1, x2, y2, conf, cls) in zip(objects, reference.tolist(), strict=True):
        assert obj.class_id == int(cls)
        expected = (x1 + dx, y1 + dy, x2 + dx, y2 + dy)
        assert all(abs(a - b) <= 1e-3 for a, b in zip(obj.box, expected, strict=True)), (
            f"{obj.box} != {expected}"
        )
        assert abs(obj.confidence - conf) <= 1e-3 * conf, f"{obj.confidence} != {conf}"


def torch_archive_bytes(pickle: bytes = b"\x80\x02broken pickle") -> bytes:
    """A zip laid out like torch.save()'s (archive/data.pkl) around ``pickle``: it passes
    the upload check, and with the default pickle only fails when it is loaded."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle)
        archive.writestr("archive/version", "3\n")
    return buffer.getvalue()
