"""Boxes drawn on snapshots: visible where the box is, robust to malformed objects."""

from __future__ import annotations

import cv2
import numpy as np

from cms.api.drawing import draw_detections


def _jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image)[1].tobytes()


def _decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def test_a_box_is_drawn_on_its_edges():
    jpeg = _jpeg(np.zeros((200, 300, 3), np.uint8))

    image = _decode(
        draw_detections(
            jpeg,
            [{"class_id": 2, "class_name": "car", "confidence": 0.8, "box": [50, 60, 250, 180]}],
        )
    )

    assert image[120, 50].max() > 100  # left edge
    assert image[180, 150].max() > 100  # bottom edge
    assert image[120, 150].max() < 40  # inside


def test_malformed_objects_are_skipped_and_boxes_clamped():
    jpeg = _jpeg(np.zeros((100, 100, 3), np.uint8))
    objects = [
        {"box": [1, 2, 3]},
        {"box": ["a", 0, 1, 1]},
        {"box": [float("nan"), 0, 1, 1]},
        {"box": None},
        {"class_id": -5, "box": [-1e30, -10, 1e30, 1e9], "confidence": "high"},
    ]

    assert _decode(draw_detections(jpeg, objects)).shape == (100, 100, 3)


def test_an_undecodable_image_is_returned_unchanged():
    assert draw_detections(b"not a jpeg", [{"box": [0, 0, 1, 1]}]) == b"not a jpeg"
