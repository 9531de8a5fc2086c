"""Regions of frames: a display's crop (infer on a region, report boxes in full-frame pixels),
and an object's classification crop (the image a secondary classifier sees of it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from inference.entities import Box, DetectedObject

_EPSILON = 1e-6

DEFAULT_PADDING = 0.1
"""How much of a box's size a classification crop adds on each side: some of what surrounds
an object, and room for a detector's box that is a little too tight."""


@dataclass(frozen=True, slots=True)
class Crop:
    """An integer pixel region x1 <= x < x2, y1 <= y < y2 of a frame."""

    x1: int
    y1: int
    x2: int
    y2: int

    @classmethod
    def from_box(cls, box: Sequence[float], frame_shape: Sequence[int]) -> Crop:
        """Validate a crop box (x1, y1, x2, y2 in source pixels) against a frame's shape.

        Fractional edges widen the region to whole pixels. Raises ValueError for a
        zero-size box or one that reaches outside the frame.
        """
        if len(box) != 4:
            raise ValueError(f"a crop box is (x1, y1, x2, y2), got {tuple(box)}")
        if not all(math.isfinite(float(v)) for v in box):
            raise ValueError(f"crop box {tuple(box)} has a non-finite coordinate")
        height, width = int(frame_shape[0]), int(frame_shape[1])
        x1, y1 = math.floor(box[0]), math.floor(box[1])
        x2, y2 = math.ceil(box[2]), math.ceil(box[3])
        if x2 <= x1 or y2 <= y1:
            raise ValueError(
                f"crop box {tuple(box)} has zero size (x2 must exceed x1 and y2 exceed y1)"
            )
        if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
            raise ValueError(f"crop box {tuple(box)} reaches outside the {width}x{height} frame")
        return cls(x1, y1, x2, y2)

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """The cropped region as a contiguous array (ultralytics copies views anyway)."""
        return np.ascontiguousarray(frame[self.y1 : self.y2, self.x1 : self.x2])

    def to_frame(self, objects: Sequence[DetectedObject]) -> list[DetectedObject]:
        """Shift boxes found in the crop back into full-frame pixels."""
        dx, dy = float(self.x1), float(self.y1)
        return [
            replace(o, box=(o.box[0] + dx, o.box[1] + dy, o.box[2] + dx, o.box[3] + dy))
            for o in objects
        ]


def classification_crop(
    frame: np.ndarray, box: Sequence[float], *, size: int, padding: float = DEFAULT_PADDING
) -> np.ndarray:
    """The object in `box` (x1, y1, x2, y2 frame pixels) as a size x size BGR uint8 image.

    The box grows by `padding` of its width (height) on the left and right (top and
    bottom), is cut to the frame and resized to a square (stretched, not letterboxed).
    Training crops and inference crops are made by this one function, so a classifier sees
    objects at inference as it saw them in training. Raises ValueError for a bad frame,
    size, padding or box, or a box with nothing inside the frame.
    """
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8 or frame.size == 0:
        raise ValueError(f"a frame must be non-empty HxWx3 uint8, got {frame.shape} {frame.dtype}")
    if size < 1:
        raise ValueError(f"size must be at least 1 pixel, got {size}")
    if not (math.isfinite(padding) and padding >= 0):
        raise ValueError(f"padding must be a non-negative fraction, got {padding}")
    import cv2  # here, so `import inference` stays cheap

    region = padded_region(box, frame.shape, padding=padding)
    x1, y1, x2, y2 = (int(v) for v in region)
    pixels = frame[y1:y2, x1:x2]
    shrinking = pixels.shape[0] >= size and pixels.shape[1] >= size
    # INTER_AREA averages when shrinking (no aliasing); it is nearest-like when enlarging.
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(pixels, (size, size), interpolation=interpolation))


def padded_region(box: Sequence[float], frame_shape: Sequence[int], *, padding: float) -> Box:
    """The whole pixels (x1, y1, x2, y2) a classification crop of `box` takes from a frame."""
    if len(box) != 4 or not all(math.isfinite(float(v)) for v in box):
        raise ValueError(f"a box is 4 finite numbers (x1, y1, x2, y2), got {tuple(box)}")
    x1, y1, x2, y2 = (float(v) for v in box)
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"box {tuple(box)} has zero size (x2 must exceed x1 and y2 exceed y1)")
    pad_x, pad_y = (x2 - x1) * padding, (y2 - y1) * padding
    height, width = int(frame_shape[0]), int(frame_shape[1])
    # The epsilon keeps float noise (40 * 0.1 = 4.000000000000001) from adding a pixel.
    left = max(0, math.floor(x1 - pad_x + _EPSILON))
    top = max(0, math.floor(y1 - pad_y + _EPSILON))
    right = min(width, math.ceil(x2 + pad_x - _EPSILON))
    bottom = min(height, math.ceil(y2 + pad_y - _EPSILON))
    if right <= left or bottom <= top:
        raise ValueError(f"box {tuple(box)} lies outside the {width}x{height} frame")
    return float(left), float(top), float(right), float(bottom)
