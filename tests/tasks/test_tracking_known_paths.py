"""Tracking, zones and lines against the known truth of a generated video.

The suite's own trained shapes detector (tests/support/trained.py) reads the decoded frames
of a generated .mp4, and its boxes go through the camera runner's own CameraObjects: the
code path of an ingest task without the Celery around it. Frame times are the video's
timeline, so the truth's times compare directly.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import cv2
import pytest

from cms.farm.desired import (
    CameraSpec,
    DisplaySpec,
    LineSpec,
    ModelSpec,
    ZoneSpec,
    inference_groups,
)
from inference import PredictOptions
from inference.objects import anchor
from inference.objects.geometry import Zone, view_zone
from inference.synthetic.accuracy import iou
from inference.synthetic.video import (
    Scene,
    frame_truth,
    linear_path,
    stationary_path,
    write_video,
)
from inference.ultralytics_backend import UltralyticsDetector
from tasks.camera_objects import CameraObjects

pytestmark = pytest.mark.slow

T0 = 1_800_000_000.0
FPS = 10.0
MIN_SEEN_S = 0.5
MAX_LOST_S = 1.0
# The right half of the 320x240 frame, and a vertical line down its middle, drawn top to
# bottom: walking down the screen a viewer's left hand points to the screen's right, so a
# shape moving left to right crosses it "out" and right to left "in" (docs/objects.md).
RIGHT = ZoneSpec("right", ((160.0, 0.0), (320.0, 0.0), (320.0, 240.0), (160.0, 240.0)))
MIDDLE = LineSpec("middle", ((160.0, 0.0), (160.0, 240.0)))
SCENE = Scene(
    paths=(
        # a square from the left across the middle to the right, where it vanishes
        linear_path(1, "square", start=(30, 110), end=(290, 110), t0=0.5, t1=5.5, size=40),
        # a circle from the right to the left, lower down
        linear_path(2, "circle", start=(290, 190), end=(30, 190), t0=1.0, t1=6.0, size=36),
        # a triangle parked in the right half with a few pixels of box noise
        stationary_path(3, "triangle", at=(250, 40), t0=0.0, t1=8.0, size=40, jitter_px=2),
    ),
    duration_s=8.0,
    fps=FPS,
    seed=7,
)


@dataclass
class Run:
    events: list
    ids_by_object: dict[int, set[int]]
    counts: list[tuple[float, dict[str, dict[str, int]]]]


@pytest.fixture(scope="module")
def run(trained_detector_path, tmp_path_factory) -> Run:
    video = tmp_path_factory.mktemp("known-paths") / "scene.mp4"
    truth = write_video(SCENE, video)
    detector = UltralyticsDetector(trained_detector_path, name="shapes", imgsz=320)
    options = PredictOptions(confidence=0.5, imgsz=320)
    model = ModelSpec(1, "shapes", "1", "0" * 64, 0.5, 0.7, 320, None)
    display = DisplaySpec(
        1, model, None, "change", 1000, zones=(RIGHT,), lines=(MIDDLE,),
        min_seen_s=MIN_SEEN_S, max_lost_s=MAX_LOST_S,
    )  # fmt: skip
    spec = CameraSpec(1, "source", (display,))
    (group,) = inference_groups(spec)
    objects = CameraObjects(generation=5)
    objects.apply(spec)

    capture = cv2.VideoCapture(str(video))
    events, counts = [], []
    ids_by_object: dict[int, set[int]] = defaultdict(set)
    try:
        for seen in truth:
            ok, image = capture.read()
            assert ok, f"frame {seen.index} did not decode"
            t = T0 + seen.time
            objects.frame((image.shape[1], image.shape[0]))
            [detections] = detector.detect([image], options)
            update = objects.present(1, objects.track(group, detections, t), t)
            events += update.events
            counts.append((seen.time, objects.counts(1)))
            for tracked in update.objects:
                if (match := _truth_of(tracked.detection.box, seen)) is not None:
                    ids_by_object[match].add(tracked.track_id)
    finally:
        capture.release()
    events += objects.close().get(1, [])  # the video ends: what is still there leaves
    return Run(events, dict(ids_by_object), counts)


def _truth_of(box, seen):
    """The true object whose box overlaps ``box`` most (IoU >= 0.5), or None."""
    scored = [(iou(box, obj.box), obj.object_id) for obj in seen.objects]
    best = max(scored, default=(0.0, None))
    return best[1] if best[0] >= 0.5 else None


def _true_spans(zone: Zone) -> dict[int, tuple[float, float]]:
    """Per object, the first and last time (s) its true anchor is in ``zone``."""
    inside: dict[int, list[float]] = defaultdict(list)
    for index in range(SCENE.frame_count):
        truth = frame_truth(SCENE, index)
        for obj in truth.objects:
            if obj.visible == 1.0 and zone.contains(anchor(obj.box)):
                inside[obj.object_id].append(truth.time)
    return {object_id: (times[0], times[-1]) for object_id, times in inside.items()}


def test_each_object_keeps_one_track_id(run):
    assert set(run.ids_by_object) == {1, 2, 3}
    for object_id, ids in run.ids_by_object.items():
        assert len(ids) <= 2, f"object {object_id} switched ids more than once: {ids}"
        assert all(i // 10**9 == 5 for i in ids)
    every = [i for ids in run.ids_by_object.values() for i in ids]
    assert len(every) == len(set(every)), "two objects shared a track id"


def test_enter_and_leave_times_and_dwell_match_the_truth(run):
    zone = Zone(RIGHT.name, RIGHT.polygon)
    truth = _true_spans(zone)
    by_track = {i: oid for oid, ids in run.ids_by_object.items() for i in ids}
    enters = [e for e in run.events if e.type == "enter" and e.zone == "right"]
    leaves = [e for e in run.events if e.type == "leave" and e.zone == "right"]

    # the square and the triangle enter the right half once each; the circle starts in it
    assert Counter(by_track.get(e.track_id) for e in enters) == Counter({1: 1, 2: 1, 3: 1})
    assert len(leaves) == len(enters), "every enter gets exactly one leave"
    for enter in enters:
        first, last = truth[by_track[enter.track_id]]
        assert abs(enter.time - T0 - first) <= 0.3 + MIN_SEEN_S
        [leave] = [e for e in leaves if e.track_id == enter.track_id]
        if by_track[enter.track_id] != 3:  # the parked triangle leaves when the video ends
            assert abs(leave.time - T0 - last) <= 0.3 + MAX_LOST_S
            assert abs(leave.dwell_s - (last - first)) <= 0.5


def test_line_crossings_have_the_right_direction(run):
    by_track = {i: oid for oid, ids in run.ids_by_object.items() for i in ids}
    crossings = [(by_track.get(e.track_id), e.direction) for e in run.events if e.type == "cross"]

    assert sorted(crossings) == [(1, "out"), (2, "in")]


def test_zone_counts_are_right_past_the_debounce(run):
    zone = Zone(RIGHT.name, RIGHT.polygon)
    view = view_zone(None, (SCENE.width, SCENE.height))
    spans = {"right": _true_spans(zone), "view": _true_spans(view)}

    def settling(time, first, last):
        # an object counts once seen for min_seen_s, and until gone for max_lost_s (+0.3 s)
        return first - 0.3 <= time <= first + MIN_SEEN_S + 0.3 or (
            last - 0.3 <= time <= last + MAX_LOST_S + 0.3
        )

    checked = 0
    for time, counts in run.counts:
        for name, by_object in spans.items():
            if any(settling(time, first, last) for first, last in by_object.values()):
                continue
            expected = sum(first <= time <= last for first, last in by_object.values())
            assert sum(counts[name].values()) == expected, (name, time, counts)
            checked += 1
    assert checked >= 40  # of 160 (frame, zone) pairs, the rest being near a change


def test_the_parked_triangle_enters_once_and_nothing_else(run):
    [triangle_ids] = [ids for oid, ids in run.ids_by_object.items() if oid == 3]
    made = [(e.type, e.zone) for e in run.events if e.track_id in triangle_ids]

    # one enter into each zone it is in, and the leaves of the end of the video only
    assert Counter(made) == Counter(
        {("enter", "view"): 1, ("enter", "right"): 1, ("leave", "view"): 1, ("leave", "right"): 1}
    )
