"""`letterbox_shape`: the input shape torch's rect inference uses, which an export is built at."""

from __future__ import annotations

import numpy as np
import pytest

from inference.backends import letterbox_shape
from inference.ultralytics_env import yolo_class


@pytest.mark.parametrize(
    ("frame_hw", "imgsz", "expected"),
    [
        ((480, 640), 640, (480, 640)),  # the 640x480 stream
        ((480, 640), 320, (256, 320)),  # 240 rows padded to the next multiple of 32
        ((240, 320), 320, (256, 320)),  # the suite's generated videos
        ((720, 1280), 640, (384, 640)),  # 16:9 at 640: 360 rows -> 384
        ((1080, 810), 640, (640, 480)),  # portrait (bus.jpg)
        ((100, 100), 640, (640, 640)),  # small frames are scaled up
        ((640, 640), 640, (640, 640)),
        ((480, 640), 600, (480, 608)),  # imgsz rounds up to the stride first
    ],
)
def test_shapes_of_common_frames(frame_hw, imgsz, expected):
    assert letterbox_shape(frame_hw, imgsz) == expected


def test_a_larger_stride_pads_further():
    assert letterbox_shape((480, 640), 640, stride=64) == (512, 640)


def test_a_rectangular_imgsz_is_height_width():
    assert letterbox_shape((480, 640), (320, 640)) == (320, 448)


@pytest.mark.parametrize("bad", [(0, 640), (480, -1)])
def test_an_empty_frame_is_refused(bad):
    with pytest.raises(ValueError, match="positive size"):
        letterbox_shape(bad, 640)


@pytest.mark.parametrize(
    "frame_hw", [(480, 640), (240, 320), (720, 1280), (1080, 810), (333, 517), (50, 400)]
)
def test_it_is_the_shape_ultralytics_letterbox_gives(frame_hw):
    from ultralytics.data.augment import LetterBox

    frame = np.zeros((*frame_hw, 3), np.uint8)

    padded = LetterBox((640, 640), auto=True, stride=32)(image=frame)

    assert padded.shape[:2] == letterbox_shape(frame_hw, 640)


@pytest.mark.parametrize(("frame_hw", "imgsz"), [((480, 640), 640), ((240, 320), 320)])
def test_it_is_the_shape_torch_predicts_at(detection_weights, frame_hw, imgsz):
    yolo = yolo_class()(str(detection_weights))
    seen: list[tuple[int, ...]] = []
    frame = np.zeros((*frame_hw, 3), np.uint8)
    yolo.predict([frame], imgsz=imgsz, verbose=False)  # builds the predictor's model
    hook = yolo.predictor.model.register_forward_pre_hook(
        lambda _module, inputs: seen.append(tuple(inputs[0].shape))
    )
    try:
        yolo.predict([frame], imgsz=imgsz, verbose=False)
    finally:
        hook.remove()

    assert seen[-1][2:] == letterbox_shape(frame_hw, imgsz)
