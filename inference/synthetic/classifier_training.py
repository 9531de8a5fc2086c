"""The shades classifier: a small YOLO classify model that tells a shape's shade, "dark" or
"light" (`shades.py`), from its classification crop; trained on generated crops, cached on disk.

`trained_classifier(cache_root)` returns the path of the trained .pt, training it first (under
a minute on two CPU cores) when the cache has none for the current generator, settings and
library versions, the way the shapes detector is (`cached_training`).

The crops are made by `inference.crops.classification_crop`, the function the workers use
on tracked objects, from generated frames: one target shape of every class and both shades,
of varied sizes, sometimes cut by the frame edge, among neighbouring shapes, on textured
backgrounds with sensor noise.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inference.crops import DEFAULT_PADDING, classification_crop
from inference.entities import Box
from inference.synthetic import cached_training
from inference.synthetic.images import IMAGE_HEIGHT, IMAGE_WIDTH
from inference.synthetic.shades import SHADES, random_shade, shade_color
from inference.synthetic.shapes import (
    CLASS_NAMES,
    add_sensor_noise,
    box_area,
    clip_box,
    draw_shape,
    shape_color,
    textured_background,
)

CACHE_SUBDIR = "shades-classifier"
LABELS = SHADES
"""The classifier's class names in class-id order."""
# What decides the trained weights besides the settings and versions: the code that draws and
# crops the images, and this module.
_SOURCES = (
    Path(__file__).parent / "shapes.py",
    Path(__file__).parent / "shades.py",
    Path(__file__),
    Path(__file__).parents[1] / "crops.py",
    cached_training.SOURCE,
)
TRAINING_TIMEOUT_S = 1800.0
_MODULE = "inference.synthetic.classifier_training"
MIN_VISIBLE = 0.5
"""A target shape cut by the frame edge shows at least this fraction of its box."""


@dataclass(frozen=True, slots=True)
class CropsSpec:
    """Everything that decides the generated crops; part of the classifier's cache key.

    `size_range` is wider than the detector's on both ends: a tracked object's box may be a
    little smaller or larger than the shape. `imgsz` is the crops' side (and the model's).
    """

    train_per_label: int = 500
    val_per_label: int = 50
    imgsz: int = 32
    padding: float = DEFAULT_PADDING
    frame_width: int = IMAGE_WIDTH
    frame_height: int = IMAGE_HEIGHT
    size_range: tuple[int, int] = (20, 72)
    max_neighbours: int = 3
    noise_range: tuple[float, float] = (0.0, 8.0)
    seed: int = 0


@dataclass(frozen=True, slots=True)
class ClassifierSpec:
    """Everything that decides the shades classifier: its crops, architecture and training.

    ultralytics' YOLOv8 classify backbone below its "n" width (0.25): telling two shades of
    three colours apart needs little capacity. The colour augmentations (HSV, RandAugment)
    are off, since they would change the very thing the label is; flips and a mild random
    crop stay.
    """

    crops: CropsSpec = field(default_factory=CropsSpec)
    depth_multiple: float = 0.33
    width_multiple: float = 0.125
    epochs: int = 8
    batch: int = 32
    seed: int = 0
    train_args: tuple[tuple[str, Any], ...] = (
        ("hsv_h", 0.0),
        ("hsv_s", 0.0),
        ("hsv_v", 0.0),
        ("auto_augment", None),
        ("erasing", 0.0),
        ("scale", 0.15),
        ("warmup_epochs", 1.0),
    )


DEFAULT_CLASSIFIER_SPEC = ClassifierSpec()


@dataclass(frozen=True, slots=True)
class ShadeCrop:
    """A generated classification crop and its truth: the shape's shade, class and box."""

    image: np.ndarray
    shade: str
    class_id: int
    box: Box


def shade_crop(rng: np.random.Generator, spec: CropsSpec = CropsSpec()) -> ShadeCrop:
    """One crop of a random shape in a random shade, cut from a generated frame at its box."""
    width, height = spec.frame_width, spec.frame_height
    frame = textured_background(width, height, rng)
    size = int(rng.integers(spec.size_range[0], spec.size_range[1] + 1))
    x, y, box = _target_box(rng, size, width, height)
    for _ in range(int(rng.integers(0, spec.max_neighbours + 1))):
        _draw_neighbour(frame, rng, avoid=box, size_range=spec.size_range)
    cls = int(rng.integers(0, len(CLASS_NAMES)))
    shade = random_shade(rng)
    draw_shape(frame, cls, x, y, size, shade_color(cls, shade, rng))
    frame = add_sensor_noise(frame, float(rng.uniform(*spec.noise_range)), rng)
    image = classification_crop(frame, box, size=spec.imgsz, padding=spec.padding)
    return ShadeCrop(image, shade, cls, box)


def _target_box(
    rng: np.random.Generator, size: int, width: int, height: int
) -> tuple[int, int, Box]:
    """Where the target shape goes (x, y) and its box cut to the frame, as the truth has it."""
    while True:
        margin = size // 3  # sometimes cut by the edge, as objects entering a camera's view
        x = int(rng.integers(-margin, width - size + margin + 1))
        y = int(rng.integers(-margin, height - size + margin + 1))
        whole: Box = (float(x), float(y), float(x + size), float(y + size))
        visible = clip_box(whole, width, height)
        if visible is not None and box_area(visible) >= MIN_VISIBLE * box_area(whole):
            return x, y, visible


def _draw_neighbour(
    frame: np.ndarray, rng: np.random.Generator, *, avoid: Box, size_range: tuple[int, int]
) -> None:
    """Another shape (any class, any colour) near or far, never over the target's box."""
    height, width = frame.shape[:2]
    size = int(rng.integers(size_range[0], size_range[1] + 1))
    x = int(rng.integers(-size // 2, width - size // 2))
    y = int(rng.integers(-size // 2, height - size // 2))
    gap = 2.0
    apart = (
        x + size + gap <= avoid[0]
        or avoid[2] + gap <= x
        or y + size + gap <= avoid[1]
        or avoid[3] + gap <= y
    )
    if not apart:
        return
    cls = int(rng.integers(0, len(CLASS_NAMES)))
    kind = int(rng.integers(0, 3))  # dark, light, or the class colour with the usual jitter
    color = shade_color(cls, SHADES[kind], rng) if kind < 2 else shape_color(cls, rng)
    draw_shape(frame, cls, x, y, size, color)


def shade_crops(count: int, *, seed: int, spec: CropsSpec = CropsSpec()) -> Iterator[ShadeCrop]:
    """`count` crops from the generator seeded with `seed`."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield shade_crop(rng, spec)


def write_crops_dataset(root: Path, spec: CropsSpec = CropsSpec()) -> Path:
    """Write `spec`'s crops under `root` in ultralytics' classify layout; return `root`.

    Layout: {train,val}/{dark,light}/NNNNN.png, exactly `train_per_label` (`val_per_label`)
    per label and split. PNG: lossless, like a decoded frame in memory.
    """
    rng = np.random.default_rng(spec.seed)
    for split, per_label in (("train", spec.train_per_label), ("val", spec.val_per_label)):
        counts = dict.fromkeys(LABELS, 0)
        for label in LABELS:
            (root / split / label).mkdir(parents=True, exist_ok=True)
        while min(counts.values()) < per_label:
            crop = shade_crop(rng, spec)
            if counts[crop.shade] >= per_label:
                continue
            name = f"{sum(counts.values()):05d}.png"
            cv2.imwrite(str(root / split / crop.shade / name), crop.image)
            counts[crop.shade] += 1
    return root


def cache_key_contents(spec: ClassifierSpec = DEFAULT_CLASSIFIER_SPEC) -> dict[str, Any]:
    """What the cache key hashes: the spec, the generator's source and the library versions."""
    return cached_training.cache_contents(spec, _SOURCES)


def cache_key(spec: ClassifierSpec = DEFAULT_CLASSIFIER_SPEC) -> str:
    """The sha256 of `cache_key_contents(spec)` as canonical JSON."""
    return cached_training.cache_key(cache_key_contents(spec))


def cached_classifier_path(
    cache_root: Path, spec: ClassifierSpec = DEFAULT_CLASSIFIER_SPEC
) -> Path:
    """Where the classifier trained from `spec` lives under `cache_root` (it may not exist yet)."""
    return cache_root / CACHE_SUBDIR / f"shades-{cache_key(spec)[:16]}.pt"


def trained_classifier(cache_root: Path, spec: ClassifierSpec = DEFAULT_CLASSIFIER_SPEC) -> Path:
    """The .pt of the classifier trained from `spec`, training it on a cache miss.

    Next to it, a .json file records the cache key's contents and the training time.
    Raises RuntimeError when training fails.
    """
    return cached_training.train_cached(
        cached_classifier_path(cache_root, spec),
        spec=spec,
        contents=cache_key_contents(spec),
        module=_MODULE,
        what="shades classifier",
        timeout=TRAINING_TIMEOUT_S,
    )


def spec_from_dict(data: dict[str, Any]) -> ClassifierSpec:
    """The ClassifierSpec that `dataclasses.asdict` turned into `data` (lists back to tuples)."""
    crops = data["crops"]
    return ClassifierSpec(
        **{
            **data,
            "crops": CropsSpec(
                **{
                    **crops,
                    "size_range": tuple(crops["size_range"]),
                    "noise_range": tuple(crops["noise_range"]),
                }
            ),
            "train_args": tuple((str(k), v) for k, v in data["train_args"]),
        }
    )


def model_config(spec: ClassifierSpec) -> dict[str, Any]:
    """ultralytics' YOLOv8 classify architecture for the two shades at the spec's scale."""
    return cached_training.architecture(
        "v8/yolov8-cls.yaml",
        classes=len(LABELS),
        depth=spec.depth_multiple,
        width=spec.width_multiple,
    )


def train(spec: ClassifierSpec, weights: Path, work: Path) -> None:
    """Generate the crops and train on them in this process; write the weights to `weights`
    (everything ultralytics writes goes under `work`; the labels travel inside the checkpoint,
    ultralytics names classes by their folders)."""
    cached_training.train_yolo(
        model_config(spec),
        data=write_crops_dataset(work / "dataset", spec.crops),
        imgsz=spec.crops.imgsz,
        epochs=spec.epochs,
        batch=spec.batch,
        seed=spec.seed,
        train_args=spec.train_args,
        weights=weights,
        work=work,
    )


def main(argv: list[str] | None = None) -> None:
    """`python -m inference.synthetic.classifier_training SPEC.json OUT.pt`: the child process."""
    cached_training.child_main(argv, spec_from_dict=spec_from_dict, train=train)


if __name__ == "__main__":
    main()
