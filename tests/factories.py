"""Small row factories: valid defaults, override what the test is about."""

from __future__ import annotations

import itertools
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from cms.models import Camera, Detection, DetectionModel, Display, ObjectEvent

_counter = itertools.count(1)


def make_camera(**fields: Any) -> Camera:
    n = next(_counter)
    values: dict[str, Any] = {
        "name": f"Camera {n}",
        "identifier": f"camera-{n}",
        "url": f"rtsp://cameras.example.com:8554/cam{n}",
    }
    values.update(fields)
    camera = Camera(**values)
    camera.full_clean()
    camera.save()
    return camera


def make_model(**fields: Any) -> DetectionModel:
    n = next(_counter)
    weights = fields.pop("weights", None)
    values: dict[str, Any] = {"name": f"model-{n}"}
    if weights is None and "hub_name" not in fields:
        values["hub_name"] = "yolo11n.pt"
    values.update(fields)
    model = DetectionModel(**values)
    if weights is not None:
        model.weights.save(f"model-{n}.pt", ContentFile(weights), save=False)
    model.full_clean()
    model.save()
    return model


def make_display(**fields: Any) -> Display:
    n = next(_counter)
    values: dict[str, Any] = {"name": f"Display {n}", "identifier": f"display-{n}"}
    values.update(fields)
    values.setdefault("camera", make_camera())
    values.setdefault("model", make_model())
    display = Display(**values)
    display.full_clean()
    display.save()
    return display


_keys = itertools.count(1)


def make_detection(display: Display, **fields: Any) -> Detection:
    """A stored detection of the display: one person, unless told otherwise."""
    n = next(_keys)
    values: dict[str, Any] = {
        "display": display,
        "camera_id": display.camera_id,
        "model_id": display.model_id,
        "generation": 1,
        "frame_seq": n,
        "frame_time": timezone.now(),
        "detected_objects": [
            {"class_id": 0, "class_name": "person", "confidence": 0.9, "box": [1, 2, 30, 60]}
        ],
        "key": f"factory-detection-{n}-{display.pk}",
    }
    values.update(fields)
    return Detection.objects.create(**values)


def make_object_event(display: Display, **fields: Any) -> ObjectEvent:
    """A stored object event of the display: a car entering "lane", unless told otherwise."""
    n = next(_keys)
    values: dict[str, Any] = {
        "display": display,
        "camera_id": display.camera_id,
        "generation": 1,
        "key": f"{display.camera_id}:{display.pk}:enter:lane:{n}:factory",
        "type": "enter",
        "track_id": n,
        "class_id": 2,
        "class_name": "car",
        "time": timezone.now(),
        "box": [10.0, 20.0, 110.0, 220.0],
        "zone": "lane",
    }
    values.update(fields)
    return ObjectEvent.objects.create(**values)
