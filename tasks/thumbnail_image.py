"""A thumbnail's picture: a frame scaled down to a width, boxes drawn on it, as JPEG (pure).

One ``FrameThumbnails`` per frame: the frame is scaled once, however many events or results
of that frame get a picture, and each picture is the scaled frame with its own boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in full-frame pixels
Colour = tuple[int, int, int]  # BGR

JPEG_QUALITY = 80
# Distinct on dark and light scenes; a class keeps its colour (class_id modulo the palette).
PALETTE: tuple[Colour, ...] = (
    (56, 56, 255),
    (48, 211, 255),
    (80, 200, 50),
    (255, 157, 49),
    (187, 76, 240),
    (32, 150, 255),
    (200, 200, 0),
    (147, 69, 52),
)


@dataclass(frozen=True, slots=True)
class Drawn:
    """One box to draw and its short label ("square", "person")."""

    box: Box
    label: str
    class_id: int = 0


def colour_of(class_id: int) -> Colour:
    return PALETTE[class_id % len(PALETTE)]


def scaled_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    """(width, height) at most ``max_width`` wide, same aspect; a smaller frame keeps its size."""
    if width <= max_width:
        return width, height
    return max_width, max(1, round(height * max_width / width))


class FrameThumbnails:
    """The pictures of one frame (BGR, as decoded); lazy: nothing is scaled until asked."""

    def __init__(self, image: np.ndarray, *, max_width: int) -> None:
        self._image = image
        self._max_width = max_width
        self._scaled: np.ndarray | None = None
        self._scale = 1.0

    def jpeg(self, drawn: Sequence[Drawn]) -> bytes:
        """The scaled frame with ``drawn`` on it; raises ValueError if it does not encode."""
        base = self._scaled_frame()
        picture = base.copy()
        thickness = max(1, round(picture.shape[1] / 320))
        for item in drawn:
            _draw(picture, item, self._scale, thickness)
        ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise ValueError("the thumbnail did not encode as JPEG")
        return encoded.tobytes()

    def _scaled_frame(self) -> np.ndarray:
        if self._scaled is None:
            height, width = self._image.shape[:2]
            size = scaled_size(width, height, self._max_width)
            if size == (width, height):
                self._scaled = self._image
            else:
                self._scaled = cv2.resize(self._image, size, interpolation=cv2.INTER_AREA)
                self._scale = size[0] / width
        return self._scaled


def _draw(picture: np.ndarray, item: Drawn, scale: float, thickness: int) -> None:
    height, width = picture.shape[:2]
    x1, y1, x2, y2 = (round(v * scale) for v in item.box)
    x1, x2 = sorted((min(max(x1, 0), width - 1), min(max(x2, 0), width - 1)))
    y1, y2 = sorted((min(max(y1, 0), height - 1), min(max(y2, 0), height - 1)))
    colour = colour_of(item.class_id)
    cv2.rectangle(picture, (x1, y1), (x2, y2), colour, thickness)
    if not item.label:
        return
    font_scale = 0.4 * thickness
    (text_w, text_h), baseline = cv2.getTextSize(
        item.label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness
    )
    # Above the box, or inside it at the frame's top edge: the label is always in the picture.
    top = y1 - text_h - baseline - 2 if y1 - text_h - baseline - 2 >= 0 else y1
    left = min(x1, max(0, width - text_w - 2))
    cv2.rectangle(
        picture, (left, top), (left + text_w + 2, top + text_h + baseline + 2), colour, cv2.FILLED
    )
    cv2.putText(
        picture,
        item.label,
        (left + 1, top + text_h + 1),
        cv2.FONT_HERSHEY_SIMPLEX,
        font_scale,
        (255, 255, 255),
        thickness,
        cv2.LINE_AA,
    )
