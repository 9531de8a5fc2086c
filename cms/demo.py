"""The demo `make run` sets up: a looping clip, a model and a display, so detections flow.

With internet: yolo11n.pt on a clip panning across the two pictures ultralytics ships
(bus.jpg, zidane.jpg). Offline: the small shapes detector the test suite trains
(inference.synthetic), on a generated scene where squares, circles and triangles cross the
demo display's zone "lane" and line "door", so track ids, enter/leave/cross events, counts
and dwell show within minutes. The detector is trained once, in the background
(``train_demo_detector``, started by runfarm) and cached under data/; until it is ready an
untrained yolov8n stands in, and the log says so.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from pathlib import Path

from django.core.files import File

from cms.model_console import UNTRAINED_VERSION
from cms.models import Camera, DetectionModel, Display
from inference.synthetic.demo import DEMO_LINE, DEMO_ZONE, demo_scene
from inference.synthetic.images import IMAGE_WIDTH
from inference.synthetic.training import cached_detector_path, trained_detector
from inference.synthetic.video import write_video

log = logging.getLogger(__name__)

DEMO_SIZE = (640, 480)
DEMO_FPS = 10
UNTRAINED_CONFIDENCE = 1e-4  # untrained weights score about 1.5e-4
# The offline demo (inference.synthetic.demo): a 320x240 scene, looping, whose shapes
# cross the zone "lane" and the line "door" (its direction: docs/objects.md).
DEMO_ZONES = [{"name": "lane", "polygon": [list(point) for point in DEMO_ZONE]}]
DEMO_LINES = [{"name": "door", "points": [list(point) for point in DEMO_LINE]}]
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
    online = _internet_reachable()
    if online:
        clip = write_demo_clip(directory / "demo.mp4")
        model = DetectionModel.objects.create(
            name="YOLO11n", version="hub", hub_name="yolo11n.pt", notes="pretrained (COCO)"
        )
        objects: dict[str, object] = {}
    else:
        clip = write_shapes_clip(directory / "shapes.mp4")
        trained = cached_detector_path(directory)
        model = shapes_model(trained) if trained.is_file() else untrained_model(directory)
        objects = {"zones": DEMO_ZONES, "lines": DEMO_LINES, "policy": Display.Policy.CHANGE}
    camera, _ = Camera.objects.get_or_create(
        identifier="demo", defaults={"name": "Demo clip", "url": str(clip)}
    )
    display = Display(name="Demo display", identifier="demo", camera=camera, model=model, **objects)
    token = display.rotate_token()
    display.save()
    return Demo(display, token=token)


def write_shapes_clip(path: Path) -> Path:
    """The offline demo's scene: shapes crossing the lane and the door, one parked."""
    if not path.exists():
        write_video(demo_scene(), path)
    return path


def shapes_model(weights: Path) -> DetectionModel:
    model = DetectionModel(
        name="Shapes",
        version="trained",
        confidence=0.5,
        imgsz=IMAGE_WIDTH,
        notes="the small detector the test suite trains on generated shapes (offline demo)",
    )
    with weights.open("rb") as handle:
        model.weights.save("shapes.pt", File(handle), save=False)
    model.save()
    return model


def train_demo_detector(directory: Path) -> DetectionModel | None:
    """Train (minutes, once: cached under ``directory``) the shapes detector and move the
    demo display from the untrained stand-in to it; None when there is nothing to do."""
    display = Display.objects.select_related("model").filter(identifier="demo").first()
    if display is None or display.model.version != UNTRAINED_VERSION:
        return None
    log.info(
        "demo: training the shapes detector in the background (minutes, once); "
        "the untrained model stands in until it is ready"
    )
    model = shapes_model(trained_detector(directory))
    display.model = model
    display.save(update_fields=["model", "updated"])
    log.info("demo: the shapes detector is ready; the demo display uses it now")
    return model


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


def untrained_model(directory: Path) -> DetectionModel:
    """The stand-in until the shapes detector is trained: its boxes are random."""
    weights = untrained_weights(directory / "yolov8n-untrained.pt")
    model = DetectionModel(
        name="YOLOv8n",
        version=UNTRAINED_VERSION,
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
