"""A thumbnail's picture: scaled to a width with its aspect, boxes and labels drawn in it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tasks.thumbnail_image import Drawn, FrameThumbnails, colour_of, scaled_size


def decode(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


@pytest.mark.parametrize(
    ("size", "width", "expected"),
    [((1920, 1080), 640, (640, 360)), ((320, 240), 640, (320, 240)), ((1000, 3), 10, (10, 1))],
)
def test_scaled_size_keeps_the_aspect_and_never_enlarges(size, width, expected):
    assert scaled_size(*size, width) == expected


def test_a_large_frame_is_scaled_down_with_the_box_where_the_object_is():
    frame = np.full((1080, 1920, 3), 40, np.uint8)
    box = (960.0, 540.0, 1440.0, 900.0)  # in full-frame pixels

    picture = decode(FrameThumbnails(frame, max_width=640).jpeg([Drawn(box, "car", 2)]))

    assert picture.shape[:2] == (360, 640)
    colour = np.array(colour_of(2), float)
    # the box's left edge, scaled by a third, is drawn in the class's colour
    edge = picture[200:290, 319:322].reshape(-1, 3).mean(axis=0)
    assert np.abs(edge - colour).max() < 40, edge
    assert np.abs(picture[100, 100].astype(float) - 40).max() < 10  # away from it: the frame


def test_a_label_at_the_frames_top_edge_is_drawn_inside_the_picture():
    frame = np.zeros((240, 320, 3), np.uint8)

    picture = decode(FrameThumbnails(frame, max_width=640).jpeg([Drawn((0, 0, 50, 50), "sq")]))

    assert picture.shape[:2] == (240, 320)
    assert picture[2:12, 2:20].max() > 200  # the white label text, inside the box's top


def test_boxes_outside_the_frame_are_clipped_not_refused():
    frame = np.zeros((100, 200, 3), np.uint8)

    jpeg = FrameThumbnails(frame, max_width=640).jpeg([Drawn((-50, -50, 500, 500), "x")])

    assert decode(jpeg).shape[:2] == (100, 200)


def test_the_frame_is_scaled_once_and_each_picture_has_only_its_boxes():
    frame = np.zeros((480, 1280, 3), np.uint8)
    pictures = FrameThumbnails(frame, max_width=640)

    first = decode(pictures.jpeg([Drawn((0, 200, 200, 400), "")]))
    second = decode(pictures.jpeg([Drawn((1000, 200, 1200, 400), "")]))

    assert first[150:200, 0:3].max() > 100 and first[150:200, 500:503].max() < 30
    assert second[150:200, 500:503].max() > 100 and second[150:200, 0:3].max() < 30
    assert not frame.any()  # the camera's frame itself is never drawn on
