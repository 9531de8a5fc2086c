"""A camera's secondary models over its tracks: real classifiers in a real ModelStore, real
tracked objects from the camera's own CameraObjects (ultralytics' tracker)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from cms.farm.desired import CameraSpec, DisplaySpec, ModelSpec, SecondarySpec, inference_groups
from inference import ModelSource, ModelStore
from tasks.camera_attributes import CameraAttributes
from tasks.camera_objects import CameraObjects
from tasks.worker_runtime import WorkerRuntime
from tests.inference.objects.scenes import Path as BoxPath
from tests.inference.objects.scenes import frames
from tests.support.models import build_classifier_weights

FRAME = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
PRIMARY = ModelSpec(1, "shapes", "1", "0" * 64, 0.25, 0.7, 640, None)
COLOUR = ModelSpec(2, "colour", "1", "1" * 64, 0.25, 0.7, 64, None)
KIND = ModelSpec(3, "kind", "1", "2" * 64, 0.25, 0.7, 64, None)
BROKEN = ModelSpec(4, "broken", "1", "3" * 64, 0.25, 0.7, 64, None)
# Two cars across the frame for 4 s, a small one (30 px wide) under min_size.
CARS = [
    BoxPath(a=(40.0, 300.0), b=(600.0, 300.0), start=0.0, end=4.0),
    BoxPath(a=(600.0, 450.0), b=(40.0, 450.0), start=0.0, end=4.0),
    BoxPath(a=(300.0, 150.0), b=(320.0, 150.0), start=0.0, end=4.0, w=30.0, h=40.0),
]


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("secondary")
    broken = folder / "broken.pt"
    broken.write_bytes(b"not a model at all")
    return {
        COLOUR.id: build_classifier_weights(folder / "colour.pt", seed=1),
        KIND.id: build_classifier_weights(folder / "kind.pt", seed=2),
        BROKEN.id: broken,
    }


@pytest.fixture
def runtime(tmp_path) -> WorkerRuntime:
    runtime = WorkerRuntime(name="test", capacity=1)
    # The runtime's store, on this test's cache (a cached_property, set before first use).
    runtime.__dict__["store"] = ModelStore(tmp_path / "cache", max_models=4)
    yield runtime
    runtime.store.close()


def make(runtime: WorkerRuntime, weights: dict[int, Path]) -> tuple[CameraAttributes, list[str]]:
    reported: list[str] = []

    def source_of(model: ModelSpec) -> ModelSource:
        path = str(weights[model.id])
        return ModelSource(name=model.name, version=model.version, path=path, task="classify")

    return CameraAttributes(runtime, source_of=source_of, report=reported.append), reported


def display(display_id: int, *secondary: SecondarySpec) -> DisplaySpec:
    return DisplaySpec(display_id, PRIMARY, None, "every", 1000, secondary=secondary)


def run(attributes, objects, spec, scene, display_ids=(1,)):
    """Feed frames through tracking and secondary models; per display, the last objects."""
    (group,) = inference_groups(spec)
    seen = {}
    for t, detections in scene:
        objects.frame((640, 480))
        tracked = objects.track(group, detections, t)
        started = time.perf_counter()
        attributes.update(group, FRAME, tracked, t)
        # a pass of these classifiers (640 px crops) takes longer than this on CPU
        assert time.perf_counter() - started < 0.1, "the frame path waited for a classifier"
        for display_id in display_ids:
            update = objects.present(display_id, attributes.attach(display_id, tracked), t)
            seen[display_id] = update.objects
    return seen


def settle(attributes: CameraAttributes, timeout: float = 30.0) -> None:
    """Wait (with a deadline) until every answer is back."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attributes.harvest()
        if not attributes._pending:
            return
        time.sleep(0.02)
    raise AssertionError("classifications still pending")


def test_each_track_is_classified_once_then_per_interval_and_carries_its_label(runtime, weights):
    attributes, reported = make(runtime, weights)
    spec = CameraSpec(1, "s", (display(1, SecondarySpec(COLOUR, min_size=32, every_s=1.0)),))
    objects = CameraObjects(generation=2)
    objects.apply(spec)
    attributes.apply(spec)
    scene = list(frames(CARS, fps=10, duration=4.0))

    run(attributes, objects, spec, scene[:-1])
    settle(attributes)
    last = run(attributes, objects, spec, scene[-1:])[1]

    large = [o for o in last if o.detection.box[2] - o.detection.box[0] >= 32]
    small = [o for o in last if o not in large]
    assert len(large) == 2 and len(small) == 1
    for obj in large:
        [(name, result)] = obj.attributes.items()
        assert name == "colour" and 0.0 <= result.confidence <= 1.0
        assert obj.to_dict()["attributes"] == {"colour": result.to_dict()}
    assert not small[0].attributes  # under min_size: never classified
    # 2 tracks of 4 s at every_s 1: at most 2 x (4 / 1 + 1) passes, never one per frame
    assert 2 <= attributes.requests() <= 2 * (4 / 1.0 + 1)
    assert 2 <= attributes.classified <= attributes.requests()
    assert not reported and attributes.errors() == []
    assert runtime.models() == (f"{COLOUR.id}:{COLOUR.sha256}",)


def test_displays_with_the_same_group_and_secondary_share_one_classification_per_track(
    runtime, weights
):
    attributes, _ = make(runtime, weights)
    colour, kind = SecondarySpec(COLOUR, every_s=10.0), SecondarySpec(KIND, every_s=10.0)
    spec = CameraSpec(1, "s", (display(1, colour), display(2, colour), display(3, colour, kind)))
    objects = CameraObjects(generation=2)
    objects.apply(spec)
    attributes.apply(spec)
    scene = list(frames(CARS[:1], fps=10, duration=2.0))

    run(attributes, objects, spec, scene[:5], display_ids=(1, 2, 3))
    settle(attributes)
    seen = run(attributes, objects, spec, scene[5:], display_ids=(1, 2, 3))

    # one track: one colour pass shared by the three displays, one kind pass for display 3
    assert attributes.requests() == 2
    assert set(seen[1][0].attributes) == set(seen[2][0].attributes) == {"colour"}
    assert seen[1][0].attributes == seen[2][0].attributes
    assert set(seen[3][0].attributes) == {"colour", "kind"}


def test_a_broken_secondary_model_is_reported_per_display_and_retried_on_a_spec_change(
    runtime, weights
):
    attributes, reported = make(runtime, weights)
    spec = CameraSpec(1, "s", (display(1, SecondarySpec(BROKEN)), display(2)))
    objects = CameraObjects(generation=2)
    objects.apply(spec)
    attributes.apply(spec)

    seen = run(attributes, objects, spec, frames(CARS[:1], fps=10, duration=1.0), (1, 2))

    assert seen[1] and not seen[1][0].attributes  # the primary objects still come
    [(display_id, error)] = attributes.errors()
    assert display_id == 1 and error.startswith("secondary model broken 1: ")
    assert reported and reported[-1] == error

    # when the file is fixed and the spec changes, the load is tried again
    weights[BROKEN.id].write_bytes(weights[COLOUR.id].read_bytes())
    fixed = replace(spec, displays=(display(1, SecondarySpec(BROKEN, every_s=1.5)), display(2)))
    attributes.apply(fixed)
    assert attributes.errors() == []


def test_a_spec_change_keeps_the_schedulers_of_unchanged_keys(runtime, weights):
    attributes, _ = make(runtime, weights)
    colour = SecondarySpec(COLOUR, every_s=10.0)
    spec = CameraSpec(1, "s", (display(1, colour),))
    objects = CameraObjects(generation=2)
    objects.apply(spec)
    attributes.apply(spec)
    scene = list(frames(CARS[:1], fps=10, duration=2.0))
    run(attributes, objects, spec, scene[:5])
    settle(attributes)

    grown = CameraSpec(1, "s", (display(1, colour), display(2, colour)))
    objects.apply(grown)
    attributes.apply(grown)
    seen = run(attributes, objects, grown, scene[5:], display_ids=(1, 2))

    assert attributes.requests() == 1  # the track's answer was kept: no second pass
    assert seen[2][0].attributes == seen[1][0].attributes != {}


def test_a_classifier_that_fails_to_classify_leaves_primary_objects_and_reports(runtime, weights):
    attributes, reported = make(runtime, weights)
    spec = CameraSpec(1, "s", (display(1, SecondarySpec(COLOUR, every_s=0.5)),))
    objects = CameraObjects(generation=2)
    objects.apply(spec)
    attributes.apply(spec)
    # its batcher stops (as when the model is evicted under it): every crop now fails
    attributes._classifiers[COLOUR].batcher.close()

    seen = run(attributes, objects, spec, frames(CARS[:1], fps=10, duration=1.0))

    assert seen[1] and not seen[1][0].attributes
    [(display_id, error)] = attributes.errors()
    assert display_id == 1 and "BatcherClosedError" in error and reported
    assert attributes.requests() <= 1.0 / 0.5 + 1  # a failure waits for the next interval
