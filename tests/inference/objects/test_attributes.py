"""The secondary-model scheduler: once when a track starts, then at most once per interval."""

from __future__ import annotations

import random

import pytest

from inference.entities import Classification, DetectedObject
from inference.objects import TrackedObject
from inference.objects.attributes import AttributeRule, AttributeScheduler

T0 = 1_800_000_000.0
DARK = Classification(1, "dark", 0.9)


def obj(track_id: int, *, class_id: int = 0, size: float = 50.0) -> TrackedObject:
    box = (10.0, 10.0, 10.0 + size, 10.0 + size * 2)
    return TrackedObject(DetectedObject(class_id, "square", 0.9, box), track_id, T0)


def test_a_new_track_is_due_at_once_then_only_after_every_s():
    scheduler = AttributeScheduler(AttributeRule(every_s=1.0))

    assert [o.track_id for o in scheduler.due([obj(1)], T0)] == [1]
    scheduler.finished(1, DARK)
    assert scheduler.due([obj(1)], T0 + 0.1) == []
    assert scheduler.due([obj(1)], T0 + 0.99) == []
    assert [o.track_id for o in scheduler.due([obj(1)], T0 + 1.0)] == [1]
    assert scheduler.requests == 2
    assert scheduler.latest(1) == DARK


def test_a_track_in_flight_is_not_asked_again_and_a_failure_waits_for_the_interval():
    scheduler = AttributeScheduler(AttributeRule(every_s=0.5))
    scheduler.due([obj(1)], T0)

    assert scheduler.due([obj(1)], T0 + 2.0) == []  # the answer is still out
    assert scheduler.in_flight() == 1
    scheduler.finished(1, None)  # the model failed
    assert scheduler.latest(1) is None and scheduler.in_flight() == 0
    assert [o.track_id for o in scheduler.due([obj(1)], T0 + 2.1)] == [1]
    assert scheduler.due([obj(1)], T0 + 2.2) == []


def test_only_the_rule_classes_and_boxes_of_min_size_are_classified():
    scheduler = AttributeScheduler(AttributeRule(classes=(2,), min_size=32))
    frame = [obj(1, class_id=2, size=40), obj(2, class_id=0, size=40), obj(3, class_id=2, size=31)]

    assert [o.track_id for o in scheduler.due(frame, T0)] == [1]
    # the small one grows: due as soon as its shorter side reaches min_size
    assert [o.track_id for o in scheduler.due([obj(3, class_id=2, size=32)], T0 + 0.1)] == [3]


def test_ended_tracks_are_forgotten_with_their_results():
    scheduler = AttributeScheduler(AttributeRule(every_s=1.0), forget_after_s=3.0)
    scheduler.due([obj(1)], T0)
    scheduler.finished(1, DARK)

    scheduler.due([obj(2)], T0 + 3.5)

    assert scheduler.latest(1) is None and set(scheduler.results()) == set()
    scheduler.finished(1, DARK)  # a late answer for a forgotten track is dropped
    assert scheduler.latest(1) is None


def test_requests_stay_within_tracks_times_duration_over_every_s_plus_one():
    """30 fps for 20 s, tracks coming and going, answers back 1-5 frames later."""
    rng = random.Random(4)
    every_s, fps, duration = 1.0, 30.0, 20.0
    scheduler = AttributeScheduler(AttributeRule(every_s=every_s))
    lives = {i: (s := rng.uniform(0, 15), s + rng.uniform(0.2, 5)) for i in range(1, 41)}
    pending: list[tuple[int, int]] = []  # (frame it returns on, track id)
    frames = int(duration * fps)
    asked_per_frame = []
    for n in range(frames):
        t = T0 + n / fps
        for ready, track_id in [p for p in pending if p[0] <= n]:
            scheduler.finished(track_id, DARK)
            pending.remove((ready, track_id))
        present = [obj(i) for i, (a, b) in lives.items() if a <= n / fps <= b]
        due = scheduler.due(present, t)
        asked_per_frame.append(len(due))
        pending += [(n + rng.randint(1, 5), o.track_id) for o in due]

    bound = sum((b - a) / every_s + 1 for a, b in lives.values())
    assert 40 <= scheduler.requests <= bound
    assert scheduler.requests < frames  # never one per frame
    assert max(asked_per_frame) < 40


def test_negative_every_s_is_refused():
    with pytest.raises(ValueError, match="every_s"):
        AttributeRule(every_s=-1.0)
