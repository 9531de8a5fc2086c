"""Shades (inference/synthetic/shades.py): the known truth of secondary classifiers, drawn
inside the detector's colour range and reported by a scene's truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference.synthetic import (
    SHADES,
    SHAPE_CLASSES,
    Scene,
    ShapePath,
    Waypoint,
    linear_path,
    render_scene,
    scene_truth,
    shade_color,
    stationary_path,
    write_truth,
)
from inference.synthetic.shades import SHADE_JITTER, SHADE_OFFSET
from inference.synthetic.shapes import COLOR_JITTER, shape_color


def test_a_shade_stays_inside_the_colour_range_the_detector_was_trained_on():
    assert SHADE_OFFSET + SHADE_JITTER <= COLOR_JITTER
    assert SHADE_OFFSET - SHADE_JITTER > 0, "light and dark never meet"
    rng = np.random.default_rng(0)
    for cls, shape in enumerate(SHAPE_CLASSES):
        base = np.array(shape.color)
        for _ in range(50):
            light = np.array(shade_color(cls, "light", rng)) - base
            dark = np.array(shade_color(cls, "dark", rng)) - base
            assert (np.abs(light) <= COLOR_JITTER).all() and (np.abs(dark) <= COLOR_JITTER).all()
            assert (light > 0).all() and (dark < 0).all()


def test_an_unknown_shade_is_refused():
    with pytest.raises(ValueError, match=r"unknown shade 'pale' \(known: dark, light\)"):
        linear_path(1, "square", start=(0, 0), end=(10, 10), t0=0, t1=1, shade="pale")
    with pytest.raises(ValueError, match="unknown shade"):
        shade_color(0, "pale", np.random.default_rng(0))


def shaded_scene() -> Scene:
    return Scene(
        paths=(
            linear_path(1, "square", start=(40, 60), end=(280, 60), t0=0, t1=2, shade="light"),
            linear_path(2, "square", start=(40, 180), end=(280, 180), t0=0, t1=2, shade="dark"),
            stationary_path(3, "circle", at=(160, 120), t0=0, t1=2, size=36),
        ),
        duration_s=2.0,
        fps=5.0,
        seed=3,
        noise=0.0,
    )


def test_the_truth_reports_each_shapes_shade(tmp_path: Path):
    truth = scene_truth(shaded_scene())

    shades = {o.object_id: o.shade for frame in truth for o in frame.objects}
    assert shades == {1: "light", 2: "dark", 3: None}
    written = json.loads(write_truth(truth, tmp_path / "truth.json").read_text())
    assert {o["object_id"]: o["shade"] for o in written[0]["objects"]} == shades


def test_a_shaded_shape_is_drawn_in_its_shade_of_its_class_colour():
    frame, truth = next(render_scene(shaded_scene()))
    base = np.array(SHAPE_CLASSES[0].color)

    def inside(object_id: int) -> np.ndarray:
        [box] = [o.box for o in truth.objects if o.object_id == object_id]
        x1, y1, x2, y2 = (int(v) for v in box)
        return frame[y1 + 5 : y2 - 5, x1 + 5 : x2 - 5].reshape(-1, 3).mean(axis=0)

    light, dark = inside(1) - base, inside(2) - base
    assert (np.abs(light - SHADE_OFFSET) <= SHADE_JITTER + 0.5).all(), light
    assert (np.abs(dark + SHADE_OFFSET) <= SHADE_JITTER + 0.5).all(), dark


def test_a_path_without_a_shade_keeps_the_colour_it_had_before_shades_existed():
    plain = ShapePath(1, "square", 30, (Waypoint(0, 100, 100), Waypoint(1, 200, 100)))
    scene = Scene(paths=(plain,), duration_s=1.0, fps=2.0, seed=9, noise=0.0)

    frame, truth = next(render_scene(scene))

    assert plain.shade is None and truth.objects[0].shade is None
    # The colour every scene drew before shades: the class colour jittered by this seed.
    expected = shape_color(0, np.random.default_rng([scene.seed, plain.object_id, 0]))
    x1, y1, x2, y2 = (int(v) for v in truth.objects[0].box)
    assert (frame[y1:y2, x1:x2] == expected).all()
    assert SHADES == ("dark", "light")
