"""`agreement`: the share of objects on which a backend's detections match torch's."""

from __future__ import annotations

import pytest

from inference.backends import agreement
from inference.entities import DetectedObject


def obj(
    x: float, y: float, *, cls: int = 0, conf: float = 0.8, size: float = 20.0
) -> DetectedObject:
    return DetectedObject(cls, str(cls), conf, (x, y, x + size, y + size))


def test_identical_detections_agree_fully():
    frames = [[obj(10, 10), obj(50, 50, cls=1)], [obj(12, 10)]]

    assert agreement(frames, frames) == 1.0


def test_no_objects_on_either_side_is_full_agreement():
    assert agreement([[], []], [[], []]) == 1.0
    assert agreement([], []) == 1.0


def test_boxes_within_the_pixel_tolerance_agree_and_beyond_it_do_not():
    reference = [[obj(10, 10)]]

    assert agreement(reference, [[obj(11.9, 8.1)]]) == 1.0
    assert agreement(reference, [[obj(12.1, 10)]]) == 0.0
    assert agreement(reference, [[obj(12.1, 10)]], box_px=3.0) == 1.0


def test_one_box_edge_beyond_the_tolerance_is_enough_to_disagree():
    moved = DetectedObject(0, "0", 0.8, (10.0, 10.0, 30.0, 32.5))

    assert agreement([[obj(10, 10)]], [[moved]]) == 0.0


def test_confidence_beyond_its_tolerance_disagrees():
    reference = [[obj(10, 10, conf=0.80)]]

    assert agreement(reference, [[obj(10, 10, conf=0.815)]]) == 1.0
    assert agreement(reference, [[obj(10, 10, conf=0.83)]]) == 0.0
    assert agreement(reference, [[obj(10, 10, conf=0.83)]], confidence=0.05) == 1.0


def test_another_class_in_the_same_place_disagrees():
    assert agreement([[obj(10, 10, cls=0)]], [[obj(10, 10, cls=1)]]) == 0.0


def test_missing_and_extra_objects_both_count_against_the_candidate():
    reference = [[obj(10, 10), obj(60, 60), obj(110, 110)]]

    # 2 paired, 1 missing: 2 of 3 objects agree
    assert agreement(reference, [[obj(10, 10), obj(60, 60)]]) == pytest.approx(2 / 3)
    # 3 paired, 1 extra: 3 of 4
    extra = [[obj(10, 10), obj(60, 60), obj(110, 110), obj(200, 200)]]
    assert agreement(reference, extra) == pytest.approx(3 / 4)


def test_each_object_pairs_once():
    # Two reference boxes 1 px apart, one candidate box between them: one pair, one left over.
    reference = [[obj(10, 10), obj(11, 10)]]

    assert agreement(reference, [[obj(10.5, 10)]]) == pytest.approx(1 / 2)


def test_the_closest_boxes_pair_first():
    # Greedy by distance: (10 -> 10.2) and (11.5 -> 11.9) pair, although 10 is also
    # within tolerance of 11.9; a first-come pairing could strand 11.5.
    reference = [[obj(10, 10), obj(11.5, 10)]]
    candidate = [[obj(11.9, 10), obj(10.2, 10)]]

    assert agreement(reference, candidate) == 1.0


def test_order_within_a_frame_does_not_matter():
    reference = [[obj(10, 10), obj(60, 60, cls=2), obj(110, 10, cls=1)]]

    assert agreement(reference, [list(reversed(reference[0]))]) == 1.0


def test_it_counts_objects_over_all_frames():
    reference = [[obj(10, 10)]] * 99 + [[obj(10, 10)]]
    candidate = [[obj(10, 10)]] * 99 + [[obj(40, 40)]]

    # 99 pairs, then 1 missing and 1 extra
    assert agreement(reference, candidate) == pytest.approx(99 / 101)


def test_different_frame_counts_are_refused():
    with pytest.raises(ValueError, match="2 frames but candidate has 1"):
        agreement([[], []], [[]])
