"""Coloured shapes on a textured background: the drawing primitives of every generated scene.

Each class differs from the others in both outline and colour, so a small detector
learns them in minutes. A shape's box is the square it is drawn in, (x, y, x + size,
y + size), whatever part of it the frame shows: callers clip it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inference.entities import Box


@dataclass(frozen=True, slots=True)
class ShapeClass:
    """One class of the synthetic detector: its name and base colour (BGR)."""

    name: str
    color: tuple[int, int, int]


SHAPE_CLASSES = (
    ShapeClass("square", (210, 90, 30)),  # blue
    ShapeClass("circle", (40, 40, 220)),  # red
    ShapeClass("triangle", (40, 200, 60)),  # green
)
CLASS_NAMES = tuple(c.name for c in SHAPE_CLASSES)
"""Class names in class-id order, as the trained detector reports them."""

COLOR_JITTER = 25
"""Each drawn shape's colour is its class colour moved by up to this much per channel."""


def class_id(name: str) -> int:
    """The class id of a shape name; ValueError naming the known ones otherwise."""
    try:
        return CLASS_NAMES.index(name)
    except ValueError:
        raise ValueError(f"unknown shape {name!r} (known: {', '.join(CLASS_NAMES)})") from None


def shape_color(cls: int, rng: np.random.Generator) -> tuple[int, int, int]:
    """The class colour of `cls`, jittered per channel, as ints in 0..255."""
    base = np.array(SHAPE_CLASSES[cls].color, dtype=np.int32)
    jittered = np.clip(base + rng.integers(-COLOR_JITTER, COLOR_JITTER + 1, 3), 0, 255)
    b, g, r = (int(v) for v in jittered)
    return b, g, r


def draw_shape(
    image: np.ndarray, cls: int, x: int, y: int, size: int, color: tuple[int, int, int]
) -> Box:
    """Draw shape `cls` filling the square at (x, y) of side `size`; return that square.

    Parts outside the image are cut off by OpenCV. A square fills the square, a circle
    touches its four sides, a triangle stands on its bottom side with its apex at the top
    centre.
    """
    x2, y2 = x + size - 1, y + size - 1  # inclusive pixel coordinates of the last row/column
    name = CLASS_NAMES[cls]
    if name == "square":
        cv2.rectangle(image, (x, y), (x2, y2), color, thickness=-1)
    elif name == "circle":
        # Eighth-pixel precision (shift=3) keeps a small circle touching its box on every side.
        centre = (round((x + x2) / 2 * 8), round((y + y2) / 2 * 8))
        cv2.circle(image, centre, round((size - 1) / 2 * 8), color, -1, cv2.LINE_AA, shift=3)
    else:
        apex = (round((x + x2) / 2 * 8), y * 8)
        points = np.array([apex, (x * 8, y2 * 8), (x2 * 8, y2 * 8)], dtype=np.int32)
        cv2.fillPoly(image, [points], color, cv2.LINE_AA, shift=3)
    return float(x), float(y), float(x + size), float(y + size)


def textured_background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A muted, blotchy, noisy BGR background with a few grey lines: no shape's colour."""
    base = rng.uniform(70, 170)
    tint = rng.uniform(-15, 15, 3)
    cells = (int(rng.integers(3, 12)), int(rng.integers(3, 9)))
    blotches = rng.normal(0.0, 22.0, (cells[1], cells[0], 1)).astype(np.float32)
    field = cv2.resize(blotches, (width, height), interpolation=cv2.INTER_CUBIC)
    image = base + tint[None, None, :] + field[:, :, None]
    image += rng.normal(0.0, 7.0, (height, width, 3))
    out = np.clip(image, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(0, 5))):
        grey = int(rng.integers(30, 230))
        start = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(out, start, end, (grey, grey, grey), int(rng.integers(1, 4)), cv2.LINE_AA)
    return out


def add_sensor_noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """`image` with Gaussian noise of `sigma` grey levels, as a camera adds to every frame."""
    if sigma <= 0:
        return image
    noisy = image.astype(np.int16) + rng.normal(0.0, sigma, image.shape).astype(np.int16)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def clip_box(box: Box, width: int, height: int) -> Box | None:
    """`box` cut to the frame, or None when nothing of it is inside."""
    x1, y1, x2, y2 = max(box[0], 0.0), max(box[1], 0.0), min(box[2], width), min(box[3], height)
    if x2 <= x1 or y2 <= y1:
        return None
    return float(x1), float(y1), float(x2), float(y2)


def box_area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])
