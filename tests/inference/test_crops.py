from __future__ import annotations

import numpy as np
import pytest

from inference import Crop, crop_and_map
from tests.inference.conftest import IMGSZ
from tests.support.models import UNTRAINED_CONFIDENCE, assert_detections_match, reference_predict


def test_crop_is_inferred_alone_and_mapped_back_to_frame_pixels(
    detector, detection_weights, zidane, options
):
    box = (400, 100, 1000, 600)

    objects = crop_and_map(zidane, box, lambda f: detector.detect([f], options)[0])

    region = np.ascontiguousarray(zidane[100:600, 400:1000])
    [reference] = reference_predict(
        detection_weights, [region], conf=UNTRAINED_CONFIDENCE, imgsz=IMGSZ
    )
    assert len(objects) > 0
    assert_detections_match(objects, reference, offset=(400, 100))
    for obj in objects:
        x1, y1, x2, y2 = obj.box
        assert 400 <= x1 <= x2 <= 1000 and 100 <= y1 <= y2 <= 600


def test_fractional_crop_widens_to_whole_pixels():
    assert Crop.from_box((10.2, 5.9, 20.1, 30.0), (100, 100, 3)) == Crop(10, 5, 21, 30)


@pytest.mark.parametrize("box", [(10, 10, 10, 50), (10, 50, 60, 50), (60, 10, 10, 50)])
def test_zero_size_crop_is_a_clear_error(box, zidane):
    with pytest.raises(ValueError, match="zero size"):
        crop_and_map(zidane, box, lambda f: pytest.fail("detect must not run"))


@pytest.mark.parametrize("box", [(-1, 0, 10, 10), (0, 0, 1281, 10), (0, 0, 10, 721)])
def test_crop_outside_the_frame_is_a_clear_error(box, zidane):
    with pytest.raises(ValueError, match=r"outside the 1280x720 frame"):
        crop_and_map(zidane, box, lambda f: pytest.fail("detect must not run"))


@pytest.mark.parametrize("box", [(0, 0, 10), (0, 0, float("nan"), 10)])
def test_malformed_crop_box_is_a_clear_error(box, zidane):
    with pytest.raises(ValueError, match="crop box"):
        Crop.from_box(box, zidane.shape)
