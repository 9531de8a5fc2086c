"""Crop a frame to a display's box without copying it."""

from __future__ import annotations

import numpy as np


def crop_view(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The (x1, y1, x2, y2) box of `image` in source pixels, x2/y2 exclusive, as a view.

    No pixels are copied: the result shares the frame's memory (and its read-only
    flag). Raises ValueError for an empty box or one that does not fit the image.
    """
    x1, y1, x2, y2 = (int(v) for v in box)
    height, width = image.shape[:2]
    if not (x1 < x2 and y1 < y2):
        raise ValueError(f"crop box {box} is empty: it needs x1 < x2 and y1 < y2")
    if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
        raise ValueError(f"crop box {box} does not fit a {width}x{height} frame")
    return image[y1:y2, x1:x2]
