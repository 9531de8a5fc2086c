"""The parked-shapes scene the farm tests show the suite's trained detector: a square in the
left half and a circle in the right one, parked with 2 px of box noise, and the zone over the
left half."""

from __future__ import annotations

from pathlib import Path

from django.core.files import File

from cms.models import DetectionModel
from inference.synthetic.video import Scene, stationary_path

PARKED = Scene(
    paths=(
        stationary_path(1, "square", at=(80, 120), t0=0.0, t1=20.0, jitter_px=2),
        stationary_path(2, "circle", at=(240, 120), t0=0.0, t1=20.0, jitter_px=2),
    ),
    duration_s=20.0,
    fps=10.0,
    seed=3,
)
LEFT = [{"name": "left", "polygon": [[0, 0], [160, 0], [160, 240], [0, 240]]}]


def shapes_model(weights: Path) -> DetectionModel:
    """A saved model row of the trained shapes detector (its weights at ``weights``)."""
    model = DetectionModel(name="shapes", version="trained", confidence=0.5, imgsz=320)
    with weights.open("rb") as handle:
        model.weights.save("shapes.pt", File(handle), save=False)
    model.save()
    return model
