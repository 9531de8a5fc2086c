"""Precision and recall of detections against known boxes: greedy matching at an IoU."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from inference.entities import Box, DetectedObject
from inference.synthetic.images import LabelledShape


@dataclass(frozen=True, slots=True)
class Score:
    """Counts over a set of images: a true positive has the right class at IoU >= the threshold."""

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        present = self.true_positives + self.false_negatives
        return self.true_positives / present if present else 1.0

    def __add__(self, other: Score) -> Score:
        return Score(
            self.true_positives + other.true_positives,
            self.false_positives + other.false_positives,
            self.false_negatives + other.false_negatives,
        )


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two x1, y1, x2, y2 boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def score_image(
    truth: Sequence[LabelledShape], detections: Sequence[DetectedObject], *, min_iou: float = 0.5
) -> Score:
    """Match detections to `truth`, most confident first, each truth box at most once."""
    unmatched = list(truth)
    true_positives = 0
    for detection in sorted(detections, key=lambda d: -d.confidence):
        candidates = [
            (iou(detection.box, label.box), index)
            for index, label in enumerate(unmatched)
            if label.class_id == detection.class_id
        ]
        best = max(candidates, default=(0.0, -1))
        if best[0] >= min_iou:
            unmatched.pop(best[1])
            true_positives += 1
    return Score(true_positives, len(detections) - true_positives, len(unmatched))


def score_images(
    pairs: Iterable[tuple[Sequence[LabelledShape], Sequence[DetectedObject]]],
    *,
    min_iou: float = 0.5,
) -> Score:
    """The summed score of (truth, detections) pairs, one pair per image."""
    total = Score(0, 0, 0)
    for truth, detections in pairs:
        total += score_image(truth, detections, min_iou=min_iou)
    return total
