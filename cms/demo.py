"""The demo `make run` sets up: a looping clip, a model and a display, so detections flow.

The clip pans across the two pictures ultralytics ships (bus.jpg, zidane.jpg). The
model is yolo11n.pt where ultralytics can download it; otherwise an untrained yolov8n
built from its architecture config, marked as such, with a threshold low enough for its
(meaningless) boxes to show that the pipeline works.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from pathlib import Path

from django.core.files import File

from cms.models import Camera, DetectionModel, Display

log = logging.getLogger(__name__)

DEMO_SIZE = (640, 480)
DEMO_FPS = 10
UNTRAINED_CONFIDENCE = 1e-4  # untrained weights score about 1.5e-4
HOW_TO_ROTATE = (
    "shown once, when the display was created; for a new one run "
    "`python manage.py demo --rotate-token` (or Admin -> Displays -> Rotate client token)"
)


@dataclass(frozen=True)
class Demo:
    display: Display
    # The display's client token, only when the display was just created: only its hash
    # is stored, so a later run cannot show it again (rotate it for a new one).
    token: str | None

    def token_text(self) -> str:
        """The token to print, or how to get a new one when it can no longer be shown."""
        return f"{self.token} (shown only now)" if self.token else HOW_TO_ROTATE


def ensure_demo(directory: Path) -> Demo:
    """Create (once) the demo camera, model and display."""
    existing = Display.objects.filter(identifier="demo").first()
    if existing is not None:
        return Demo(existing, token=None)
    directory.mkdir(parents=True, exist_ok=True)
    camera, _ = Camera.objects.get_or_create(
        identifier="demo",
        defaults={"name": "Demo clip", "url": str(write_demo_clip(directory / "demo.mp4"))},
    )
    model = demo_model(directory)
    display = Display(name="Demo display", identifier="demo", camera=camera, model=model)
    token = display.rotate_token()
    display.save()
    return Demo(display, token=token)


def write_demo_clip(path: Path, seconds: int = 12) -> Path:
    """A 640x480 clip panning across ultralytics' sample pictures."""
    import cv2

    from inference.ultralytics_env import configure_ultralytics

    configure_ultralytics()
    from ultralytics.utils import ASSETS

    width, height = DEMO_SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), DEMO_FPS, DEMO_SIZE)
    pictures = []
    for name in ("bus.jpg", "zidane.jpg"):
        picture = cv2.imread(str(ASSETS / name))
        if picture is None:  # imread does not raise
            raise FileNotFoundError(f"ultralytics' sample picture {ASSETS / name} is unreadable")
        pictures.append(picture)
    frames = seconds * DEMO_FPS
    for index in range(frames):
        picture = pictures[index * len(pictures) // frames]
        scale = max(width / picture.shape[1], height / picture.shape[0]) * 1.25
        resized = cv2.resize(picture, None, fx=scale, fy=scale)
        phase = (index % (frames // len(pictures))) / (frames // len(pictures))
        x = int((resized.shape[1] - width) * phase)
        y = int((resized.shape[0] - height) * phase)
        writer.write(resized[y : y + height, x : x + width])
    writer.release()
    return path


def demo_model(directory: Path) -> DetectionModel:
    if _internet_reachable():
        return DetectionModel.objects.create(
            name="YOLO11n", version="hub", hub_name="yolo11n.pt", notes="pretrained (COCO)"
        )
    weights = untrained_weights(directory / "yolov8n-untrained.pt")
    model = DetectionModel(
        name="YOLOv8n",
        version="untrained",
        confidence=UNTRAINED_CONFIDENCE,
        imgsz=320,
        notes="untrained demo weights: boxes are random, the pipeline is real",
    )
    with weights.open("rb") as handle:
        model.weights.save(weights.name, File(handle), save=False)
    model.save()
    return model


def untrained_weights(path: Path) -> Path:
    """An untrained YOLOv8n built from its architecture config (seeded), saved as .pt."""
    if path.exists():
        return path
    import torch

    from inference.ultralytics_env import yolo_class

    torch.manual_seed(0)
    yolo_class()("yolov8n.yaml").save(str(path))
    return path


def _internet_reachable() -> bool:
    try:
        socket.create_connection(("github.com", 443), timeout=3).close()
    except OSError:
        return False
    return True
