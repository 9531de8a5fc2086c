"""Synthetic scenes: boxes moving on known paths, sampled at any frame rate.

A path is the box of one object as a function of time, visible between ``start`` and ``end``;
``frames`` samples paths at a frame rate, optionally with a few pixels of box noise, as a
detector would report them (full-frame boxes, no ids).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from inference.entities import Box, DetectedObject
from inference.objects.entities import TrackedObject

T0 = 1_800_000_000.0
"""Frame times are Unix seconds; scenes start here."""


@dataclass(frozen=True)
class Path:
    """A box of size ``w`` x ``h`` whose anchor (bottom-centre) moves from ``a`` to ``b``."""

    a: tuple[float, float]
    b: tuple[float, float]
    start: float = 0.0
    end: float = 10.0
    w: float = 60.0
    h: float = 80.0
    class_id: int = 0
    class_name: str = "car"
    confidence: float = 0.9

    def anchor_at(self, t: float) -> tuple[float, float]:
        f = 0.0 if self.end == self.start else (t - self.start) / (self.end - self.start)
        f = min(1.0, max(0.0, f))
        return (self.a[0] + f * (self.b[0] - self.a[0]), self.a[1] + f * (self.b[1] - self.a[1]))

    def box_at(self, t: float) -> Box:
        x, y = self.anchor_at(t)
        return (x - self.w / 2, y - self.h, x + self.w / 2, y)

    def visible(self, t: float) -> bool:
        return self.start <= t <= self.end


def labelled_frames(
    paths: list[Path],
    *,
    fps: float,
    duration: float,
    noise: float = 0.0,
    seed: int = 0,
) -> Iterator[tuple[float, list[tuple[int, DetectedObject]]]]:
    """(frame time, [(path index, detection)]) for each frame from T0 to T0 + duration."""
    rng = random.Random(seed)
    n = round(duration * fps)
    for i in range(n + 1):
        t = i / fps
        detections = []
        for k, path in enumerate(paths):
            if not path.visible(t):
                continue
            box = path.box_at(t)
            if noise:
                box = (
                    box[0] + rng.uniform(-noise, noise),
                    box[1] + rng.uniform(-noise, noise),
                    box[2] + rng.uniform(-noise, noise),
                    box[3] + rng.uniform(-noise, noise),
                )
            detection = DetectedObject(path.class_id, path.class_name, path.confidence, box)
            detections.append((k, detection))
        yield T0 + t, detections


def frames(
    paths: list[Path],
    *,
    fps: float,
    duration: float,
    noise: float = 0.0,
    seed: int = 0,
) -> Iterator[tuple[float, list[DetectedObject]]]:
    """(frame time, detections) for each frame from T0 to T0 + duration."""
    for t, labelled in labelled_frames(paths, fps=fps, duration=duration, noise=noise, seed=seed):
        yield t, [d for _, d in labelled]


def tracked_frames(
    paths: list[Path],
    *,
    fps: float,
    duration: float,
    noise: float = 0.0,
    seed: int = 0,
) -> Iterator[tuple[float, list[TrackedObject]]]:
    """Like ``frames`` with perfect tracking: path i is track i + 1, first seen at its start."""
    for t, labelled in labelled_frames(paths, fps=fps, duration=duration, noise=noise, seed=seed):
        yield t, [TrackedObject(d, k + 1, T0 + paths[k].start) for k, d in labelled]
