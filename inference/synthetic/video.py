"""Videos of shapes moving on known paths, with every frame's true boxes.

A scene is plain data (paths of shapes, size, fps, seed); rendering it is deterministic, so
a test can compare what a tracker reports with where each object really was. Times are in
seconds from the first frame; frame i is at i / fps.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inference.entities import Box
from inference.synthetic.images import IMAGE_HEIGHT, IMAGE_WIDTH
from inference.synthetic.shades import check_shade, shade_color
from inference.synthetic.shapes import (
    CLASS_NAMES,
    add_sensor_noise,
    box_area,
    class_id,
    clip_box,
    draw_shape,
    shape_color,
    textured_background,
)

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Waypoint:
    """Where a shape's box centre is (pixels) at `t` seconds."""

    t: float
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class ShapePath:
    """One object: a shape of `size` pixels moving linearly from waypoint to waypoint.

    It exists from its first waypoint's time to its last one's (inclusive) and nowhere else;
    a waypoint outside the frame makes it enter or leave through the edge. `jitter_px` moves
    its drawn box by up to that many pixels per side in every frame (a parked car's noise);
    the truth reports the drawn box. `shade` ("light" or "dark", `shades.py`) draws it in
    that shade of its class colour, which the truth reports; None draws it in its class
    colour with the usual random jitter (neither shade on purpose).
    """

    object_id: int
    shape: str
    size: int
    waypoints: tuple[Waypoint, ...]
    jitter_px: int = 0
    shade: str | None = None

    def __post_init__(self) -> None:
        class_id(self.shape)  # raises for an unknown shape
        if self.size < 4:
            raise ValueError(f"object {self.object_id}: size must be at least 4 pixels")
        if not self.waypoints:
            raise ValueError(f"object {self.object_id}: a path needs at least one waypoint")
        times = [w.t for w in self.waypoints]
        if any(b <= a for a, b in pairwise(times)):
            raise ValueError(f"object {self.object_id}: waypoint times must increase")
        if self.jitter_px < 0:
            raise ValueError(f"object {self.object_id}: jitter_px must not be negative")
        if self.shade is not None:
            check_shade(self.shade)

    @property
    def class_id(self) -> int:
        return class_id(self.shape)

    @property
    def start_s(self) -> float:
        return self.waypoints[0].t

    @property
    def end_s(self) -> float:
        return self.waypoints[-1].t

    def centre_at(self, t: float) -> Point | None:
        """The box centre at `t` (linear between waypoints), None outside the path's time."""
        points = self.waypoints
        if t < points[0].t or t > points[-1].t:
            return None
        for a, b in pairwise(points):
            if t <= b.t:
                f = (t - a.t) / (b.t - a.t)
                return a.x + f * (b.x - a.x), a.y + f * (b.y - a.y)
        return points[-1].x, points[-1].y  # a single waypoint: one instant


def linear_path(
    object_id: int,
    shape: str,
    *,
    start: Point,
    end: Point,
    t0: float,
    t1: float,
    size: int = 40,
    jitter_px: int = 0,
    shade: str | None = None,
) -> ShapePath:
    """A shape moving in a straight line from `start` (at `t0`) to `end` (at `t1`)."""
    return ShapePath(
        object_id,
        shape,
        size,
        (Waypoint(t0, *start), Waypoint(t1, *end)),
        jitter_px=jitter_px,
        shade=shade,
    )


def stationary_path(
    object_id: int,
    shape: str,
    *,
    at: Point,
    t0: float,
    t1: float,
    size: int = 40,
    jitter_px: int = 2,
    shade: str | None = None,
) -> ShapePath:
    """A shape standing at `at` from `t0` to `t1`, its box jittering by `jitter_px`."""
    return linear_path(
        object_id,
        shape,
        start=at,
        end=at,
        t0=t0,
        t1=t1,
        size=size,
        jitter_px=jitter_px,
        shade=shade,
    )


@dataclass(frozen=True, slots=True)
class Scene:
    """A generated video: its paths, duration, frame rate and size, and the seed of its looks.

    The seed decides the background, each shape's colour, the jitter and the sensor noise
    (`noise`, grey levels of Gaussian noise added to every frame).
    """

    paths: tuple[ShapePath, ...]
    duration_s: float
    fps: float = 10.0
    width: int = IMAGE_WIDTH
    height: int = IMAGE_HEIGHT
    seed: int = 0
    noise: float = 3.0

    def __post_init__(self) -> None:
        if self.fps <= 0 or self.duration_s <= 0:
            raise ValueError("a scene needs a positive duration_s and fps")
        if self.width < 32 or self.height < 32:
            raise ValueError("a scene must be at least 32x32 pixels")
        ids = [p.object_id for p in self.paths]
        if len(set(ids)) != len(ids):
            raise ValueError("object ids in a scene must be unique")

    @property
    def frame_count(self) -> int:
        # A small epsilon so 2.0 s at 10 fps is 20 frames despite float rounding.
        return math.floor(self.duration_s * self.fps + 1e-9)

    def time_of(self, index: int) -> float:
        return index / self.fps


@dataclass(frozen=True, slots=True)
class TruthObject:
    """An object in one frame: its id, class and box cut to the frame.

    `visible` is the fraction of its whole box inside the frame (1.0 when nothing is cut);
    the box is the drawn shape's whether or not another shape drawn later covers it.
    `shade` is its path's ("light", "dark", or None when drawn in neither on purpose).
    """

    object_id: int
    class_id: int
    class_name: str
    box: Box
    visible: float
    shade: str | None = None


@dataclass(frozen=True, slots=True)
class FrameTruth:
    """Every object of frame `index` (at `time` seconds)."""

    index: int
    time: float
    objects: tuple[TruthObject, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _placement(path: ShapePath, scene: Scene, index: int) -> tuple[int, int, int] | None:
    """(x, y, size) of `path`'s drawn box in frame `index`, or None when it is not there."""
    centre = path.centre_at(scene.time_of(index))
    if centre is None:
        return None
    size = path.size
    dx = dy = 0
    if path.jitter_px:
        rng = np.random.default_rng([scene.seed, path.object_id, index, 1])
        dx, dy, ds = (int(v) for v in rng.integers(-path.jitter_px, path.jitter_px + 1, 3))
        size = max(4, size + ds)
    return round(centre[0] - size / 2) + dx, round(centre[1] - size / 2) + dy, size


def frame_truth(scene: Scene, index: int) -> FrameTruth:
    """The true objects of frame `index`, without drawing it."""
    objects = []
    for path in scene.paths:
        placement = _placement(path, scene, index)
        if placement is None:
            continue
        x, y, size = placement
        whole: Box = (float(x), float(y), float(x + size), float(y + size))
        box = clip_box(whole, scene.width, scene.height)
        if box is None:
            continue
        visible = box_area(box) / box_area(whole)
        objects.append(
            TruthObject(
                path.object_id, path.class_id, CLASS_NAMES[path.class_id], box, visible, path.shade
            )
        )
    return FrameTruth(index, scene.time_of(index), tuple(objects))


def scene_truth(scene: Scene) -> list[FrameTruth]:
    """Every frame's truth, in order."""
    return [frame_truth(scene, index) for index in range(scene.frame_count)]


def render_scene(scene: Scene) -> Iterator[tuple[np.ndarray, FrameTruth]]:
    """Each frame (BGR uint8) of `scene` with its truth, in order."""
    background = textured_background(scene.width, scene.height, np.random.default_rng(scene.seed))
    colors = {p.object_id: _path_color(p, scene) for p in scene.paths}
    for index in range(scene.frame_count):
        image = background.copy()
        for path in scene.paths:
            placement = _placement(path, scene, index)
            if placement is not None:
                draw_shape(image, path.class_id, *placement, colors[path.object_id])
        noise = np.random.default_rng([scene.seed, index, 2])
        yield add_sensor_noise(image, scene.noise, noise), frame_truth(scene, index)


def _path_color(path: ShapePath, scene: Scene) -> tuple[int, int, int]:
    rng = np.random.default_rng([scene.seed, path.object_id, 0])
    if path.shade is None:
        return shape_color(path.class_id, rng)  # what every scene drew before shades
    return shade_color(path.class_id, path.shade, rng)


def write_video(scene: Scene, path: Path) -> list[FrameTruth]:
    """Write `scene` to `path` (MPEG-4 Part 2 in .mp4, OpenCV's mp4v) and return its truth.

    OpenCV's FFmpeg backend, and so every Sightline stream reader, decodes it.
    """
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter.fourcc(*"mp4v"), scene.fps, (scene.width, scene.height)
    )
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write a video to {path}")
    truth = []
    try:
        for frame, frame_truth_ in render_scene(scene):
            writer.write(frame)
            truth.append(frame_truth_)
    finally:
        writer.release()
    return truth


def write_truth(truth: Sequence[FrameTruth], path: Path) -> Path:
    """Write `truth` as JSON (a list of frames, each with its objects) next to a video."""
    path.write_text(json.dumps([frame.to_dict() for frame in truth]))
    return path
