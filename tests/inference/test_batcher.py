from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from inference import (
    BatcherClosedError,
    InferenceTimeoutError,
    MicroBatcher,
    PredictOptions,
    SplitPolicy,
)
from tests.inference.conftest import IMGSZ
from tests.support.models import UNTRAINED_CONFIDENCE, assert_detections_match, reference_predict


class FaultyDetector:
    """The real detector, failing any forward pass that contains a marked frame.

    Stands in for what cannot be provoked on purpose here: a CUDA error, a frame
    that trips the model.
    """

    MARK = (7, 7, 7)

    def __init__(self, detector, gate: threading.Event | None = None) -> None:
        self.inner = detector
        self.info = detector.info
        self.gate = gate
        self.calls = 0

    def detect(self, frames, options):
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(30)
        if any(tuple(f[0, 0]) == self.MARK for f in frames):
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return self.inner.detect(frames, options)


def marked(frame: np.ndarray) -> np.ndarray:
    bad = frame.copy()
    bad[0, 0] = FaultyDetector.MARK
    return bad


@pytest.fixture(scope="module")
def references(detection_weights, bus, zidane):
    """Plain ultralytics results for each frame alone."""
    frames = {"bus": bus, "zidane": zidane}
    return {
        name: reference_predict(detection_weights, [frame], conf=UNTRAINED_CONFIDENCE, imgsz=IMGSZ)[
            0
        ]
        for name, frame in frames.items()
    }


def test_one_forward_pass_for_queued_frames_matches_ultralytics(
    detector, detection_weights, bus, options
):
    frames = [bus, np.ascontiguousarray(bus[::-1]), bus]
    with MicroBatcher(
        detector, max_batch=3, max_wait_ms=10_000, policy=SplitPolicy(always_batch=True)
    ) as batcher:
        futures = [batcher.submit(f, options) for f in frames]
        results = [f.result(60) for f in futures]
        stats = batcher.stats()

    assert (stats.frames, stats.forward_passes) == (3, 1)
    reference = reference_predict(detection_weights, frames, conf=UNTRAINED_CONFIDENCE, imgsz=IMGSZ)
    for objects, expected in zip(results, reference, strict=True):
        assert objects
        assert_detections_match(objects, expected)


def test_batch_of_one_matches_ultralytics(detector, references, bus, options):
    with MicroBatcher(detector, max_batch=1) as batcher:
        assert_detections_match(batcher.detect(bus, options, timeout=60), references["bus"])


def test_crop_through_the_batcher_is_mapped_back(detector, detection_weights, zidane, options):
    region = np.ascontiguousarray(zidane[100:600, 400:1000])
    [reference] = reference_predict(
        detection_weights, [region], conf=UNTRAINED_CONFIDENCE, imgsz=IMGSZ
    )

    with MicroBatcher(detector) as batcher:
        objects = batcher.detect(zidane, options, timeout=60, crop=(400, 100, 1000, 600))

    assert objects
    assert_detections_match(objects, reference, offset=(400, 100))
    for obj in objects:
        x1, y1, x2, y2 = obj.box
        assert 400 <= x1 <= x2 <= 1000 and 100 <= y1 <= y2 <= 600


def test_many_streams_get_exactly_their_own_results(detector, references, bus, zidane):
    options = PredictOptions(confidence=UNTRAINED_CONFIDENCE, imgsz=IMGSZ)
    streams = [("bus", bus), ("zidane", zidane)] * 3

    with MicroBatcher(detector, max_batch=8) as batcher:

        def run(stream):
            name, frame = stream
            return name, [batcher.detect(frame, options, timeout=60) for _ in range(4)]

        with ThreadPoolExecutor(len(streams)) as pool:
            outcomes = list(pool.map(run, streams))
        stats = batcher.stats()

    for name, results in outcomes:
        for objects in results:
            assert_detections_match(objects, references[name])
    assert stats.frames == 24 and stats.failed_frames == 0
    assert stats.gathers < 24  # frames of several streams shared gathers


def test_frames_with_other_options_are_inferred_with_their_own(detector, detection_weights, bus):
    wide = PredictOptions(confidence=UNTRAINED_CONFIDENCE, imgsz=IMGSZ)
    people = PredictOptions(confidence=UNTRAINED_CONFIDENCE, imgsz=160, classes=(0,))

    with MicroBatcher(
        detector, max_batch=2, max_wait_ms=10_000, policy=SplitPolicy(always_batch=True)
    ) as batcher:
        a, b = batcher.submit(bus, wide), batcher.submit(bus, people)
        wide_objects, people_objects = a.result(60), b.result(60)

    [wide_ref] = reference_predict(detection_weights, [bus], conf=UNTRAINED_CONFIDENCE, imgsz=IMGSZ)
    [people_ref] = reference_predict(
        detection_weights, [bus], conf=UNTRAINED_CONFIDENCE, imgsz=160, classes=[0]
    )
    assert_detections_match(wide_objects, wide_ref)
    assert_detections_match(people_objects, people_ref)


def test_stalled_stream_does_not_hold_the_others_back(detector, bus):
    options = PredictOptions(confidence=UNTRAINED_CONFIDENCE, imgsz=160)
    max_wait_ms = 200
    stalled = threading.Event()

    with MicroBatcher(detector, max_batch=4, max_wait_ms=max_wait_ms) as batcher:

        def stream(index: int, rounds: int) -> float:
            worst = 0.0
            for _ in range(rounds):
                if index == 3 and stalled.is_set():
                    return worst  # this camera froze: it stops submitting
                started = time.monotonic()
                batcher.detect(bus, options, timeout=60)
                worst = max(worst, time.monotonic() - started)
            return worst

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(stream, range(4), [3] * 4))  # four streams warm up together
            before = batcher.stats().gather_timeouts
            stalled.set()
            worst = list(pool.map(stream, range(3), [25] * 3))
        after = batcher.stats().gather_timeouts

    # The batcher waits for the missing stream at most max_wait, and only until it has
    # learnt that three streams are left (its window of recent batches).
    assert after - before <= 8 + 2
    assert max(worst) < max_wait_ms / 1000 + 5.0


def test_failing_frame_fails_only_its_caller(detector, references, bus, options):
    faulty = FaultyDetector(detector)
    with MicroBatcher(
        faulty, max_batch=3, max_wait_ms=10_000, policy=SplitPolicy(always_batch=True)
    ) as batcher:
        good_1, bad, good_2 = (batcher.submit(f, options) for f in (bus, marked(bus), bus))

        with pytest.raises(RuntimeError, match="illegal memory access"):
            bad.result(60)
        assert_detections_match(good_1.result(60), references["bus"])
        assert_detections_match(good_2.result(60), references["bus"])
        # The thread survived and keeps serving.
        for future in [batcher.submit(bus, options) for _ in range(3)]:
            assert_detections_match(future.result(60), references["bus"])
        assert batcher.stats().failed_frames == 1


def test_bad_crop_is_refused_in_the_caller_and_others_go_on(detector, references, bus, options):
    with MicroBatcher(detector) as batcher:
        with pytest.raises(ValueError, match="zero size"):
            batcher.detect(bus, options, timeout=60, crop=(10, 10, 10, 80))
        with pytest.raises(ValueError, match="frame"):
            batcher.detect(np.zeros((0, 0, 3), np.uint8), options, timeout=60)

        assert_detections_match(batcher.detect(bus, options, timeout=60), references["bus"])


def test_late_result_times_out_and_a_queued_frame_is_dropped(detector, bus, options):
    gate = threading.Event()
    slow = FaultyDetector(detector, gate=gate)
    with MicroBatcher(slow, max_batch=1) as batcher:
        first = batcher.submit(bus, options)  # occupies the inference thread until the gate opens
        deadline = time.monotonic() + 30
        while slow.calls == 0 and time.monotonic() < deadline:
            time.sleep(0.01)

        with pytest.raises(InferenceTimeoutError, match=r"within 0\.2 s"):
            batcher.detect(bus, options, timeout=0.2)
        gate.set()
        assert first.result(60)
        assert batcher.detect(bus, options, timeout=60)
        stats = batcher.stats()

    assert stats.cancelled == 1 and stats.frames == 2


def test_closing_fails_queued_frames_and_refuses_new_ones(detector, bus, options):
    gate = threading.Event()
    slow = FaultyDetector(detector, gate=gate)
    batcher = MicroBatcher(slow, max_batch=1)
    running = batcher.submit(bus, options)
    deadline = time.monotonic() + 30
    while slow.calls == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    queued = batcher.submit(bus, options)

    closer = threading.Thread(target=batcher.close)
    closer.start()
    with pytest.raises(BatcherClosedError):
        queued.result(30)
    gate.set()
    closer.join(30)

    assert running.result(30)  # the pass in flight finishes
    with pytest.raises(BatcherClosedError):
        batcher.submit(bus, options)


class TestSplitPolicy:
    KEY = (640, 720, 1280)

    def test_tries_both_ways_then_keeps_the_cheaper(self):
        policy = SplitPolicy(always_batch=False, explore_every=1000, min_samples=2)
        tried = []
        for _ in range(4):
            batched = policy.batched(self.KEY, 4)
            tried.append(batched)
            policy.record(self.KEY, batched, 4, 0.4 if batched else 0.8)

        assert sorted(tried) == [False, False, True, True]
        assert all(policy.batched(self.KEY, 4) for _ in range(20))

    def test_rechecks_the_other_way_now_and_then(self):
        policy = SplitPolicy(always_batch=False, explore_every=10, min_samples=1)
        for batched in (True, False):
            policy.record(self.KEY, batched, 4, 0.8 if batched else 0.4)

        choices = [policy.batched(self.KEY, 4) for _ in range(20)]

        assert choices.count(True) == 2  # the worse way, once every ten decisions

    def test_follows_a_change_in_cost(self):
        policy = SplitPolicy(always_batch=False, explore_every=5, min_samples=1, window=3)
        policy.record(self.KEY, True, 4, 0.4)
        policy.record(self.KEY, False, 4, 0.8)
        for _ in range(50):  # batching got slow (e.g. a bigger input size elsewhere)
            batched = policy.batched(self.KEY, 4)
            policy.record(self.KEY, batched, 4, 2.0 if batched else 0.8)

        assert not policy.batched(self.KEY, 4)

    def test_one_slow_measurement_does_not_flip_the_choice(self):
        policy = SplitPolicy(always_batch=False, explore_every=1000, min_samples=3)
        for _ in range(3):
            policy.record(self.KEY, True, 4, 0.4)
            policy.record(self.KEY, False, 4, 0.6)

        policy.record(self.KEY, True, 4, 4.0)  # a neighbour's burst during one batch

        assert policy.batched(self.KEY, 4)

    def test_single_frames_and_gpu_need_no_decision(self):
        assert not SplitPolicy(always_batch=False).batched(self.KEY, 1)
        assert SplitPolicy(always_batch=True).batched(self.KEY, 2)


# --- a classifier's batcher: objects' crops in, one Classification each -------------------

CLS_IMGSZ = 64


@pytest.fixture(scope="module")
def classifier(classifier_weights):
    from inference import UltralyticsClassifier

    return UltralyticsClassifier(classifier_weights, name="shade", imgsz=CLS_IMGSZ)


@pytest.fixture(scope="module")
def object_crops(bus):
    """Classification crops of boxes in a real photo, at the classifier's size."""
    from inference import classification_crop

    boxes = [(50, 400, 250, 900), (220, 380, 340, 860), (650, 380, 810, 880), (0, 550, 80, 880)]
    return [classification_crop(bus, box, size=CLS_IMGSZ) for box in boxes]


def test_crops_from_many_threads_are_classified_in_one_forward_pass(classifier, object_crops):
    expected = classifier.classify(object_crops)
    with MicroBatcher(
        classifier, max_batch=4, max_wait_ms=10_000, policy=SplitPolicy(always_batch=True)
    ) as batcher:
        start = threading.Barrier(len(object_crops))

        def one_object(crop):
            start.wait(10)
            return batcher.classify(crop, timeout=60)

        with ThreadPoolExecutor(len(object_crops)) as pool:
            results = list(pool.map(one_object, object_crops))
        stats = batcher.stats()

    assert batcher.kind == "classify" and batcher.model is classifier
    assert (stats.frames, stats.forward_passes, stats.gathers) == (4, 1, 1)
    assert [r.class_id for r in results] == [e.class_id for e in expected]
    for result, one in zip(results, expected, strict=True):
        assert abs(result.confidence - one.confidence) <= 1e-5


def test_crops_of_two_sizes_run_in_a_pass_each(classifier, bus):
    from inference import classification_crop

    crops = [classification_crop(bus, (50, 400, 250, 900), size=s) for s in (64, 64, 96)]
    with MicroBatcher(
        classifier, max_batch=3, max_wait_ms=10_000, policy=SplitPolicy(always_batch=True)
    ) as batcher:
        futures = [batcher.submit_crop(c) for c in crops]
        results = [f.result(60) for f in futures]
        stats = batcher.stats()

    assert (stats.frames, stats.forward_passes) == (3, 2)
    assert results[0] == results[1]


def test_a_batcher_refuses_the_other_kind_of_input(
    classifier, detector, object_crops, bus, options
):
    with MicroBatcher(classifier) as crops_only, MicroBatcher(detector) as frames_only:
        with pytest.raises(TypeError, match=r"'classify' model: submit\(\) needs a 'detect'"):
            crops_only.submit(bus, options)
        with pytest.raises(TypeError, match=r"'detect' model: submit_crop\(\) needs a 'classify'"):
            frames_only.submit_crop(object_crops[0])
        with pytest.raises(ValueError, match="a frame must be"):
            crops_only.submit_crop(np.zeros((8, 8), np.uint8))
        assert crops_only.classify(object_crops[0], timeout=60).label


class RenamingDetector:
    """The real detector, its objects' class names prefixed: which model answered a frame
    shows in each result (two untrained models give the same boxes)."""

    def __init__(self, detector, prefix: str) -> None:
        self.inner = detector
        self.info = detector.info
        self.prefix = prefix

    def detect(self, frames, options):
        return [
            [dataclasses.replace(o, class_name=self.prefix + o.class_name) for o in objects]
            for objects in self.inner.detect(frames, options)
        ]


@pytest.fixture(scope="module")
def other_detector(other_detection_weights):
    from inference import UltralyticsDetector

    loaded = UltralyticsDetector(other_detection_weights, name="yolov8n", version="2", imgsz=IMGSZ)
    return RenamingDetector(loaded, "new-")


def test_swapping_the_model_under_load_loses_no_frame_and_no_result(
    detector, other_detector, bus, options
):
    """Streams keep submitting while the model is swapped: every frame gets a result, from
    the old model until the swap and from the new one after it, never a mix within a stream."""
    before = detector.detect([bus], options)[0]
    after = other_detector.detect([bus], options)[0]
    assert before != after  # two different models, so each result says which one ran
    swapped = threading.Event()
    stop = threading.Event()

    def stream(batcher) -> list[str]:
        seen: list[str] = []
        while not stop.is_set():
            objects = batcher.submit(bus, options).result(timeout=30)
            seen.append("old" if objects == before else "new" if objects == after else "?")
        return seen

    with MicroBatcher(detector, max_batch=4, max_wait_ms=2) as batcher:
        with ThreadPoolExecutor(3) as pool:
            streams = [pool.submit(stream, batcher) for _ in range(3)]
            deadline = time.monotonic() + 30
            while batcher.stats().frames < 6 and time.monotonic() < deadline:
                time.sleep(0.01)
            batcher.swap_model(other_detector)
            swapped.set()
            frames_at_swap = batcher.stats().frames
            while batcher.stats().frames < frames_at_swap + 9 and time.monotonic() < deadline:
                time.sleep(0.01)
            stop.set()
            results = [s.result(timeout=60) for s in streams]
        assert batcher.model is other_detector
        assert batcher.stats().failed_frames == 0
    for seen in results:
        assert "?" not in seen
        assert seen[0] == "old" and seen[-1] == "new"
        first_new = seen.index("new")
        assert set(seen[first_new:]) == {"new"}, seen  # once swapped, never back


def test_a_model_of_another_kind_cannot_be_swapped_in(detector, classifier):
    with MicroBatcher(detector) as batcher, pytest.raises(TypeError, match="cannot swap"):
        batcher.swap_model(classifier)
