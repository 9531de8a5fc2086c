"""Detections drawn onto a camera's snapshot (``GET /api/v1/cameras/{id}/snapshot.jpg?boxes=1``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import cv2
import numpy as np

JPEG_QUALITY = 85
# BGR colours, picked by class id so one class keeps its colour across frames.
PALETTE = (
    (56, 56, 255),
    (151, 157, 255),
    (31, 112, 255),
    (29, 178, 255),
    (49, 210, 207),
    (10, 249, 72),
    (23, 204, 146),
    (134, 219, 61),
    (211, 188, 0),
    (255, 115, 100),
    (236, 24, 0),
    (255, 56, 132),
    (133, 0, 82),
    (255, 56, 203),
    (200, 149, 255),
    (199, 55, 255),
)


CROP_COLOR = (255, 255, 255)


def draw_detections(
    jpeg: bytes,
    objects: Iterable[Mapping[str, Any]],
    crops: Iterable[tuple[str, tuple[int, int, int, int]]] = (),
) -> bytes:
    """The JPEG with each object's box and label drawn on it, and each named crop outlined.

    Boxes are in full-frame pixels (as the farm reports them). An image that does not
    decode is returned unchanged; a malformed object is skipped.
    """
    image = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return jpeg
    thickness = max(1, round(min(image.shape[:2]) / 300))
    for name, crop in crops:
        box = _box({"box": list(crop)}, width=image.shape[1], height=image.shape[0])
        if box is not None:
            cv2.rectangle(image, box[:2], box[2:], CROP_COLOR, thickness, cv2.LINE_4)
            _label(image, f"crop: {name}", box[:2], CROP_COLOR, thickness)
    for obj in objects:
        box = _box(obj, width=image.shape[1], height=image.shape[0])
        if box is None:
            continue
        x1, y1, x2, y2 = box
        color = PALETTE[_class_id(obj) % len(PALETTE)]
        cv2.rectangle(image, (x1, y1), (x2, y2), color, thickness, cv2.LINE_AA)
        _label(image, _label_text(obj), (x1, y1), color, thickness)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return encoded.tobytes() if ok else jpeg


def _box(obj: Mapping[str, Any], *, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The object's box in integer pixels, clamped to the image; None when malformed."""
    box = obj.get("box")
    if not isinstance(box, list | tuple) or len(box) != 4:
        return None
    try:
        x1, y1, x2, y2 = (round(float(v)) for v in box)
    except (TypeError, ValueError, OverflowError):
        return None

    def clamp(value: int, limit: int) -> int:
        return min(max(value, 0), limit - 1)

    return clamp(x1, width), clamp(y1, height), clamp(x2, width), clamp(y2, height)


def _class_id(obj: Mapping[str, Any]) -> int:
    value = obj.get("class_id")
    return value if isinstance(value, int) and value >= 0 else 0


def _label_text(obj: Mapping[str, Any]) -> str:
    name = str(obj.get("class_name", obj.get("class_id", "")))
    confidence = obj.get("confidence")
    return f"{name} {confidence:.2f}" if isinstance(confidence, float | int) else name


def _label(
    image: np.ndarray, text: str, origin: tuple[int, int], color: tuple, thickness: int
) -> None:
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, thickness / 3
    (width, height), baseline = cv2.getTextSize(text, font, scale, max(1, thickness - 1))
    x, y = origin
    top = y - height - baseline if y - height - baseline >= 0 else y  # inside when at the edge
    cv2.rectangle(image, (x, top), (x + width, top + height + baseline), color, cv2.FILLED)
    cv2.putText(
        image,
        text,
        (x, top + height),
        font,
        scale,
        (255, 255, 255),
        max(1, thickness - 1),
        cv2.LINE_AA,
    )
