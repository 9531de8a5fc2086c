"""Small row factories: valid defaults, override what the test is about."""

from __future__ import annotations

import itertools
from typing import Any

from django.core.files.base import ContentFile

from cms.models import Camera, DetectionModel, Display

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
