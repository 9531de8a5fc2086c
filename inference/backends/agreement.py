"""Whether two backends detect the same objects: the test of an export against torch.

Pure: detections in, a fraction out. Tests assert it per backend, and choosing a backend
refuses one whose agreement with torch is below the bar on the stream's own frames.
"""

from __future__ import annotations

from collections.abc import Sequence

from inference.entities import DetectedObject

DEFAULT_BOX_PX = 2.0
"""Every box edge within this many pixels of torch's."""
DEFAULT_CONFIDENCE = 0.02
"""Confidence within this of torch's."""
REQUIRED_AGREEMENT = 0.99
"""The share of objects that must agree for a backend to count as exact (the issue's bar)."""


def agreement(
    reference: Sequence[Sequence[DetectedObject]],
    candidate: Sequence[Sequence[DetectedObject]],
    *,
    box_px: float = DEFAULT_BOX_PX,
    confidence: float = DEFAULT_CONFIDENCE,
) -> float:
    """The share of objects on which `candidate` agrees with `reference`, frame by frame.

    Both are the detections of the same frames, in order. An object agrees when the other
    side has one of the same class with every box edge within `box_px` pixels and the
    confidence within `confidence`, each object pairing at most once. Every object left
    unpaired, on either side, disagrees: a missing or an extra detection counts against the
    candidate like a moved one. 1.0 when neither side found anything.
    """
    if len(reference) != len(candidate):
        raise ValueError(
            f"reference has {len(reference)} frames but candidate has {len(candidate)}"
        )
    paired = unpaired = 0
    for ref_objects, cand_objects in zip(reference, candidate, strict=True):
        pairs = _pairs(ref_objects, cand_objects, box_px=box_px, confidence=confidence)
        paired += pairs
        unpaired += len(ref_objects) + len(cand_objects) - 2 * pairs
    total = paired + unpaired
    return paired / total if total else 1.0


def _pairs(
    reference: Sequence[DetectedObject],
    candidate: Sequence[DetectedObject],
    *,
    box_px: float,
    confidence: float,
) -> int:
    """How many one-to-one pairs within tolerance, closest boxes first (greedy)."""
    within = sorted(
        (_box_distance(r, c), i, j)
        for i, r in enumerate(reference)
        for j, c in enumerate(candidate)
        if r.class_id == c.class_id
        and abs(r.confidence - c.confidence) <= confidence
        and _box_distance(r, c) <= box_px
    )
    used_ref: set[int] = set()
    used_cand: set[int] = set()
    for _, i, j in within:
        if i not in used_ref and j not in used_cand:
            used_ref.add(i)
            used_cand.add(j)
    return len(used_ref)


def _box_distance(a: DetectedObject, b: DetectedObject) -> float:
    """The largest difference of any box edge, in pixels."""
    return max(abs(p - q) for p, q in zip(a.box, b.box, strict=True))
