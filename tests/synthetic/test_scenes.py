"""Generated scenes: deterministic, labelled right, videos that decode to their truth."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from inference.synthetic import (
    CLASS_NAMES,
    DEMO_LINE,
    DEMO_ZONE,
    SHAPE_CLASSES,
    DatasetSpec,
    Scene,
    ShapePath,
    Waypoint,
    demo_scene,
    linear_path,
    render_scene,
    scene_truth,
    shapes_image,
    stationary_path,
    write_truth,
    write_video,
    write_yolo_dataset,
)


def crossing_scene() -> Scene:
    return Scene(
        paths=(
            linear_path(1, "square", start=(-10, 120), end=(330, 120), t0=0.0, t1=3.8, size=40),
            stationary_path(2, "circle", at=(160, 50), t0=0.5, t1=3.0, size=36, jitter_px=2),
            linear_path(3, "triangle", start=(80, 270), end=(80, -30), t0=1.0, t1=4.0, size=32),
        ),
        duration_s=4.0,
        fps=10.0,
        seed=3,
    )


def hue_of(color: tuple[int, int, int]) -> int:
    pixel = np.array([[color]], dtype=np.uint8)
    return int(cv2.cvtColor(pixel, cv2.COLOR_BGR2HSV)[0, 0, 0])


def hue_distance(a: int, b: int) -> int:
    d = abs(a - b) % 180  # OpenCV hues run 0..179 round the circle
    return min(d, 180 - d)


def test_the_same_seed_makes_the_same_image_and_another_seed_another():
    first, labels = shapes_image(np.random.default_rng(7))
    again, labels_again = shapes_image(np.random.default_rng(7))
    other, _ = shapes_image(np.random.default_rng(8))
    assert np.array_equal(first, again) and labels == labels_again
    assert not np.array_equal(first, other)


def test_every_label_covers_its_shape_in_the_class_colour():
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(30):
        image, labels = shapes_image(rng)
        hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
        for label in labels:
            x1, y1, x2, y2 = (int(v) for v in label.box)
            assert 0 <= x1 < x2 <= image.shape[1] and 0 <= y1 < y2 <= image.shape[0]
            # Every class fills its box's lower middle (a triangle's base, a circle's body).
            cx, cy = (x1 + x2) // 2, y1 + 3 * (y2 - y1) // 4
            expected = hue_of(SHAPE_CLASSES[label.class_id].color)
            assert hue_distance(int(hsv[cy, cx, 0]), expected) <= 12, label
            assert hsv[cy, cx, 1] > 120, "shapes are saturated, the background is not"
            checked += 1
    assert checked > 50


def test_a_yolo_dataset_has_an_image_and_a_label_file_per_sample(tmp_path: Path):
    data_yaml = write_yolo_dataset(tmp_path, DatasetSpec(train_images=5, val_images=2, seed=4))
    assert f"path: {tmp_path.resolve()}" in data_yaml.read_text()
    for split, count in (("train", 5), ("val", 2)):
        images = sorted((tmp_path / "images" / split).glob("*.png"))
        labels = sorted((tmp_path / "labels" / split).glob("*.txt"))
        assert len(images) == len(labels) == count
        for label in labels:
            for line in label.read_text().splitlines():
                cls, *coords = line.split()
                assert 0 <= int(cls) < len(CLASS_NAMES)
                assert all(0.0 <= float(c) <= 1.0 for c in coords)


def test_truth_follows_the_paths_and_objects_enter_and_leave_through_the_edges():
    scene = crossing_scene()
    truth = scene_truth(scene)
    assert len(truth) == 40 and truth[12].time == pytest.approx(1.2)
    square = [next(o for o in f.objects if o.object_id == 1) for f in truth if f.index <= 38]
    assert square[0].visible < 1.0 and square[0].box[0] == 0.0  # entering from the left
    # Linear: at 1.9 s the square is halfway from x=-10 to x=330, i.e. its centre is at 160.
    middle = square[19].box
    assert (middle[0] + middle[2]) / 2 == pytest.approx(160, abs=1)
    assert next(f.index for f in truth if any(o.object_id == 3 for o in f.objects)) >= 10
    circle_frames = [f for f in truth if any(o.object_id == 2 for o in f.objects)]
    assert [f.index for f in circle_frames] == list(range(5, 31))


def test_a_stationary_shape_jitters_by_at_most_its_jitter():
    truth = scene_truth(crossing_scene())
    boxes = np.array([o.box for f in truth for o in f.objects if o.object_id == 2])
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    assert np.ptp(centres, axis=0).max() > 0, "it does jitter"
    assert np.abs(centres - np.array([160, 50])).max() <= 2 + 1  # jitter plus half a pixel each
    assert scene_truth(crossing_scene()) == truth


def test_a_written_video_decodes_to_the_rendered_frames_with_the_shapes_at_their_truth(
    tmp_path: Path,
):
    scene = crossing_scene()
    truth = write_video(scene, tmp_path / "scene.mp4")
    write_truth(truth, tmp_path / "scene.json")
    capture = cv2.VideoCapture(str(tmp_path / "scene.mp4"))
    decoded = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        decoded.append(frame)
    capture.release()
    assert len(decoded) == scene.frame_count == len(truth)
    rendered = [frame for frame, _ in render_scene(scene)]
    for frame, original, frame_truth in zip(decoded, rendered, truth, strict=True):
        assert frame.shape == (scene.height, scene.width, 3)
        assert float(np.abs(frame.astype(int) - original).mean()) < 12  # lossy, but the same
        hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)
        for obj in frame_truth.objects:
            if obj.visible < 1.0:
                continue
            x1, y1, x2, y2 = (int(v) for v in obj.box)
            cx, cy = (x1 + x2) // 2, y1 + 3 * (y2 - y1) // 4
            expected = hue_of(SHAPE_CLASSES[obj.class_id].color)
            assert hue_distance(int(hsv[cy, cx, 0]), expected) <= 15, (frame_truth.index, obj)


def test_bad_paths_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="unknown shape 'hexagon'"):
        linear_path(1, "hexagon", start=(0, 0), end=(1, 1), t0=0, t1=1)
    with pytest.raises(ValueError, match="times must increase"):
        ShapePath(1, "square", 20, (Waypoint(1.0, 0, 0), Waypoint(1.0, 5, 5)))
    path = linear_path(1, "square", start=(0, 0), end=(1, 1), t0=0, t1=1)
    with pytest.raises(ValueError, match="unique"):
        Scene(paths=(path, path), duration_s=1.0)


def test_the_demo_scene_parks_a_shape_in_its_zone_and_moves_one_across_its_line():
    truth = scene_truth(demo_scene())
    zone = np.array(DEMO_ZONE, dtype=np.float32)

    def anchors(object_id: int) -> list[tuple[float, float]]:
        return [
            ((o.box[0] + o.box[2]) / 2, o.box[3])  # the bottom-centre, as zones use
            for f in truth
            for o in f.objects
            if o.object_id == object_id
        ]

    def inside(point: tuple[float, float]) -> bool:
        return cv2.pointPolygonTest(zone, point, False) >= 0

    assert all(inside(p) for p in anchors(3)), "the parked circle stays in the lane"
    assert any(inside(p) for p in anchors(1)) and not inside(anchors(1)[-1])
    line_y = DEMO_LINE[0][1]
    triangle = anchors(2)
    assert triangle[0][1] < line_y < triangle[-1][1], "the triangle crosses the door line"
    assert DEMO_LINE[0][0] <= triangle[0][0] <= DEMO_LINE[1][0]
