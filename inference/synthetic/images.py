"""Still images of shapes with their true boxes, and YOLO datasets made of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inference.entities import Box
from inference.synthetic.shapes import (
    CLASS_NAMES,
    box_area,
    clip_box,
    draw_shape,
    shape_color,
    textured_background,
)

IMAGE_WIDTH = 320
IMAGE_HEIGHT = 240
"""320x240 (QVGA): a detector trained at imgsz 320 sees frames at their own size, and training
and inference stay fast on two CPU cores. Videos use the same size by default."""

SIZE_RANGE = (24, 64)
"""Shape sizes (box side, pixels) in training images; videos should stay within it."""

MIN_VISIBLE = 0.4
"""A shape cut by the frame edge is labelled only if this fraction of its box is inside."""


@dataclass(frozen=True, slots=True)
class LabelledShape:
    """A shape in an image: its class and its box (x1, y1, x2, y2 pixels, cut to the image)."""

    class_id: int
    box: Box

    @property
    def class_name(self) -> str:
        return CLASS_NAMES[self.class_id]


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """Everything that decides a generated dataset; part of the trained detector's cache key."""

    train_images: int = 400
    val_images: int = 30
    width: int = IMAGE_WIDTH
    height: int = IMAGE_HEIGHT
    max_shapes: int = 6
    size_range: tuple[int, int] = SIZE_RANGE
    seed: int = 0


def shapes_image(
    rng: np.random.Generator,
    *,
    width: int = IMAGE_WIDTH,
    height: int = IMAGE_HEIGHT,
    max_shapes: int = 6,
    size_range: tuple[int, int] = SIZE_RANGE,
) -> tuple[np.ndarray, list[LabelledShape]]:
    """A BGR image of 0..`max_shapes` non-overlapping shapes, some cut by the edge, and its labels.

    Shapes cut so far that less than MIN_VISIBLE of them shows are drawn but not labelled
    would teach the detector to miss edges, so they are not drawn at all.
    """
    image = textured_background(width, height, rng)
    labels: list[LabelledShape] = []
    placed: list[Box] = []
    for _ in range(int(rng.integers(0, max_shapes + 1))):
        for _attempt in range(20):
            size = int(rng.integers(size_range[0], size_range[1] + 1))
            # Centres may lie up to a third of the size outside the image: edge cases on purpose.
            margin = size // 3
            x = int(rng.integers(-margin, width - size + margin + 1))
            y = int(rng.integers(-margin, height - size + margin + 1))
            box: Box = (float(x), float(y), float(x + size), float(y + size))
            visible = clip_box(box, width, height)
            if visible is None or box_area(visible) < MIN_VISIBLE * box_area(box):
                continue
            if any(_overlap(box, other) for other in placed):
                continue
            cls = int(rng.integers(0, len(CLASS_NAMES)))
            draw_shape(image, cls, x, y, size, shape_color(cls, rng))
            placed.append(box)
            labels.append(LabelledShape(cls, visible))
            break
    return image, labels


def _overlap(a: Box, b: Box, gap: float = 2.0) -> bool:
    return not (
        a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1]
    )


def yolo_label_lines(labels: list[LabelledShape], width: int, height: int) -> list[str]:
    """YOLO's label format: `class cx cy w h`, normalised to the image size."""
    lines = []
    for label in labels:
        x1, y1, x2, y2 = label.box
        cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
        w, h = (x2 - x1) / width, (y2 - y1) / height
        lines.append(f"{label.class_id} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    return lines


def write_yolo_dataset(root: Path, spec: DatasetSpec = DatasetSpec()) -> Path:
    """Write `spec`'s images and labels under `root` in YOLO's layout; return its data.yaml.

    Layout: images/{train,val}/NNNNN.png, labels/{train,val}/NNNNN.txt. PNG, because JPEG
    would blur the edges the detector should learn and is not what a decoded frame is.
    """
    rng = np.random.default_rng(spec.seed)
    for split, count in (("train", spec.train_images), ("val", spec.val_images)):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            image, labels = shapes_image(
                rng,
                width=spec.width,
                height=spec.height,
                max_shapes=spec.max_shapes,
                size_range=spec.size_range,
            )
            cv2.imwrite(str(root / "images" / split / f"{index:05d}.png"), image)
            lines = yolo_label_lines(labels, spec.width, spec.height)
            (root / "labels" / split / f"{index:05d}.txt").write_text(
                "".join(f"{ln}\n" for ln in lines)
            )
    names = "".join(f"  {i}: {name}\n" for i, name in enumerate(CLASS_NAMES))
    data_yaml = root / "data.yaml"
    data_yaml.write_text(
        f"path: {root.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}"
    )
    return data_yaml
