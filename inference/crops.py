"""A display's crop: infer on a region of the frame, report boxes in full-frame pixels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from inference.entities import DetectedObject


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
