"""A display's crop (inference/crops.py): validated against the frame, boxes mapped back; and
an object's classification crop: padded, cut to the frame, resized to a square.

Inference on a crop through the micro-batcher, as the camera runner does it, is in
test_batcher.py (test_crop_through_the_batcher_is_mapped_back).
"""

from __future__ import annotations

import numpy as np
import pytest

from inference import Crop, DetectedObject, classification_crop
from inference.crops import padded_region


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


# --- classification crops (classification_crop) -------------------------------------------


def _gradient(height: int = 100, width: int = 200) -> np.ndarray:
    """A frame whose every pixel says where it is: B = x, G = y."""
    ys, xs = np.mgrid[0:height, 0:width]
    return np.dstack([xs, ys, np.zeros_like(xs)]).astype(np.uint8)


def test_a_classification_crop_is_the_box_padded_on_every_side() -> None:
    frame = _gradient()

    image = classification_crop(frame, (50, 20, 90, 60), size=48, padding=0.1)

    # 40 px wide and high, 4 px of padding each side: 48x48 from (46, 16), no resizing.
    assert np.array_equal(image, frame[16:64, 46:94])


def test_without_padding_a_classification_crop_is_the_box() -> None:
    frame = _gradient()

    image = classification_crop(frame, (10.0, 5.0, 42.0, 37.0), size=32, padding=0.0)

    assert np.array_equal(image, frame[5:37, 10:42])


def test_a_classification_crop_is_cut_at_the_frame_edge() -> None:
    frame = _gradient()

    assert padded_region((-10, -10, 30, 30), frame.shape, padding=0.1) == (0.0, 0.0, 34.0, 34.0)
    assert padded_region((180, 80, 200, 100), frame.shape, padding=0.5) == (
        170.0,
        70.0,
        200.0,
        100.0,
    )
    image = classification_crop(frame, (180, 80, 200, 100), size=30, padding=0.5)
    assert np.array_equal(image, frame[70:100, 170:200])


def test_a_classification_crop_is_resized_to_a_square_bgr_image() -> None:
    frame = _gradient()

    image = classification_crop(frame, (0, 0, 120, 60), size=32)

    assert image.shape == (32, 32, 3)
    assert image.dtype == np.uint8
    assert image.flags.c_contiguous
    # Stretched, not letterboxed: the left column is near x = 0, the right one near x = 132.
    assert image[:, 0, 0].max() < 8
    assert image[:, -1, 0].min() > 120
    small = classification_crop(frame, (10, 10, 14, 14), size=32, padding=0.0)  # enlarged
    assert small.shape == (32, 32, 3)
    assert small[:, :, 0].min() >= 10 and small[:, :, 0].max() <= 13


@pytest.mark.parametrize(
    ("box", "kwargs", "message"),
    [
        ((300, 10, 340, 50), {}, "outside the 200x100 frame"),
        ((10, 10, 10, 50), {}, "zero size"),
        ((10, 10, 50, float("nan")), {}, "finite"),
        ((10, 10, 50), {}, "4 finite numbers"),
        ((10, 10, 50, 50), {"padding": -0.1}, "padding"),
        ((10, 10, 50, 50), {"size": 0}, "size"),
    ],
)
def test_a_bad_classification_crop_is_a_clear_error(box, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        classification_crop(_gradient(), box, **{"size": 32, **kwargs})


def test_a_classification_crop_refuses_a_frame_that_is_not_bgr() -> None:
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        classification_crop(np.zeros((10, 10), np.uint8), (1, 1, 5, 5), size=8)
