"""A display's crop (inference/crops.py): validated against the frame, boxes mapped back.

Inference on a crop through the micro-batcher, as the camera runner does it, is in
test_batcher.py (test_crop_through_the_batcher_is_mapped_back).
"""

from __future__ import annotations

import numpy as np
import pytest

from inference import Crop, DetectedObject


def test_a_crop_is_the_region_of_the_frame() -> None:
    frame = np.arange(720 * 1280 * 3, dtype=np.uint32).reshape(720, 1280, 3)
    region = Crop.from_box((400, 100, 1000, 600), frame.shape).apply(frame)
    assert region.shape == (500, 600, 3)
    assert region.flags.c_contiguous
    assert np.array_equal(region, frame[100:600, 400:1000])


def test_boxes_found_in_a_crop_are_shifted_into_frame_pixels() -> None:
    found = DetectedObject(class_id=0, class_name="person", confidence=0.9, box=(1, 2, 30, 40))
    [mapped] = Crop(400, 100, 1000, 600).to_frame([found])
    assert mapped.box == (401.0, 102.0, 430.0, 140.0)
    assert (mapped.class_name, mapped.confidence) == ("person", 0.9)


def test_fractional_crop_widens_to_whole_pixels() -> None:
    assert Crop.from_box((10.2, 5.9, 20.1, 30.0), (100, 100, 3)) == Crop(10, 5, 21, 30)


@pytest.mark.parametrize("box", [(10, 10, 10, 50), (10, 50, 60, 50), (60, 10, 10, 50)])
def test_zero_size_crop_is_a_clear_error(box: tuple[int, int, int, int]) -> None:
    with pytest.raises(ValueError, match="zero size"):
        Crop.from_box(box, (720, 1280, 3))


@pytest.mark.parametrize("box", [(-1, 0, 10, 10), (0, 0, 1281, 10), (0, 0, 10, 721)])
def test_crop_outside_the_frame_is_a_clear_error(box: tuple[int, int, int, int]) -> None:
    with pytest.raises(ValueError, match=r"outside the 1280x720 frame"):
        Crop.from_box(box, (720, 1280, 3))


@pytest.mark.parametrize("box", [(0, 0, 10), (0, 0, float("nan"), 10)])
def test_malformed_crop_box_is_a_clear_error(box: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="crop box"):
        Crop.from_box(box, (720, 1280, 3))
