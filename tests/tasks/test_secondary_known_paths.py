"""Secondary models against the known truth of a generated video.

Shapes of known shades ("light" or "dark" versions of their class colour) move on known paths;
the suite's trained shapes detector finds them, the camera runner's own CameraObjects tracks
them and its CameraAttributes runs the suite's trained shade classifier on their crops through
a real ModelStore and micro-batcher: the code path of an ingest task without the Celery around
it. A second display on the same inference has a broken secondary model.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass

import cv2
import pytest

from cms.farm.desired import CameraSpec, DisplaySpec, ModelSpec, SecondarySpec, inference_groups
from inference import ModelSource, ModelStore, PredictOptions
from inference.synthetic.accuracy import iou
from inference.synthetic.video import Scene, linear_path, write_video
from inference.ultralytics_backend import UltralyticsDetector
from tasks.camera_attributes import CameraAttributes
from tasks.camera_objects import CameraObjects
from tasks.worker_runtime import WorkerRuntime

pytestmark = pytest.mark.slow

T0 = 1_800_000_000.0
FPS = 10.0
EVERY_S = 1.0
SCENE = Scene(
    paths=(
        linear_path(1, "square", start=(30, 60), end=(290, 60), t0=0.0, t1=6.0, shade="dark"),
        linear_path(2, "circle", start=(290, 180), end=(30, 180), t0=0.5, t1=7.0, shade="light"),
        linear_path(3, "triangle", start=(160, 40), end=(160, 200), t0=1.0, t1=5.0, shade="light"),
        linear_path(4, "square", start=(60, 200), end=(260, 120), t0=2.0, t1=8.0, shade="dark"),
    ),
    duration_s=8.0,
    fps=FPS,
    seed=5,
)
SHADE_OF = {p.object_id: p.shade for p in SCENE.paths}
DETECTOR = ModelSpec(1, "shapes", "1", "0" * 64, 0.5, 0.7, 320, None)
SHADE = ModelSpec(2, "shade", "1", "1" * 64, 0.25, 0.7, 64, None)
BROKEN = ModelSpec(3, "broken", "1", "2" * 64, 0.25, 0.7, 64, None)


@dataclass
class Run:
    labels: dict[int, list[str]]  # per true object, the label on each of its frames' objects
    matched: Counter[int]  # per true object, the frames a tracked object was matched to it
    ids_by_object: dict[int, set[int]]
    requests: int
    classified: int
    broken_objects: int  # objects the display with the broken secondary model got
    errors: list[tuple[int, str]]


@pytest.fixture(scope="module")
def run(trained_detector_path, trained_classifier_path, tmp_path_factory) -> Run:
    folder = tmp_path_factory.mktemp("secondary-known-paths")
    video = folder / "shades.mp4"
    truth = write_video(SCENE, video)
    broken = folder / "broken.pt"
    broken.write_bytes(trained_classifier_path.read_bytes()[:5000])  # a cut-off file
    files = {SHADE.id: trained_classifier_path, BROKEN.id: broken}
    runtime = WorkerRuntime(name="test", capacity=1)
    runtime.__dict__["store"] = ModelStore(folder / "cache")  # the runtime's, on this folder

    def source_of(model: ModelSpec) -> ModelSource:
        path = str(files[model.id])
        return ModelSource(name=model.name, version=model.version, path=path, task="classify")

    attributes = CameraAttributes(runtime, source_of=source_of)
    detector = UltralyticsDetector(trained_detector_path, name="shapes", imgsz=320)
    options = PredictOptions(confidence=0.5, imgsz=320)
    shade = SecondarySpec(SHADE, every_s=EVERY_S, min_size=16)
    spec = CameraSpec(
        1,
        "source",
        (
            DisplaySpec(1, DETECTOR, None, "every", 1000, secondary=(shade,)),
            DisplaySpec(2, DETECTOR, None, "every", 1000, secondary=(SecondarySpec(BROKEN),)),
        ),
    )
    (group,) = inference_groups(spec)
    objects = CameraObjects(generation=5)
    objects.apply(spec)
    attributes.apply(spec)

    labels: dict[int, list[str]] = defaultdict(list)
    ids_by_object: dict[int, set[int]] = defaultdict(set)
    matched: Counter[int] = Counter()
    broken_objects = 0
    capture = cv2.VideoCapture(str(video))
    try:
        for seen in truth:
            ok, image = capture.read()
            assert ok, f"frame {seen.index} did not decode"
            t = T0 + seen.time
            objects.frame((image.shape[1], image.shape[0]))
            [detections] = detector.detect([image], options)
            tracked = objects.track(group, detections, t)
            attributes.update(group, image, tracked, t)
            shown = objects.present(1, attributes.attach(1, tracked), t).objects
            broken_objects += len(objects.present(2, attributes.attach(2, tracked), t).objects)
            for obj in shown:
                if (match := _truth_of(obj.detection.box, seen)) is None:
                    continue
                ids_by_object[match].add(obj.track_id)
                matched[match] += 1
                if "shade" in obj.attributes:
                    labels[match].append(obj.attributes["shade"].label)
        deadline = time.monotonic() + 30
        while attributes._pending and time.monotonic() < deadline:
            attributes.harvest()
            time.sleep(0.02)
    finally:
        capture.release()
        attributes.close()
        runtime.store.close()
    return Run(
        dict(labels),
        matched,
        dict(ids_by_object),
        attributes.requests(),
        attributes.classified,
        broken_objects,
        attributes.errors(),
    )


def _truth_of(box, seen):
    """The true object whose box overlaps ``box`` most (IoU >= 0.5), or None."""
    scored = [(iou(box, obj.box), obj.object_id) for obj in seen.objects]
    best = max(scored, default=(0.0, None))
    return best[1] if best[0] >= 0.5 else None


def test_each_track_gets_the_right_shade(run):
    assert set(run.labels) == set(SHADE_OF)
    for object_id, labels in run.labels.items():
        right = sum(label == SHADE_OF[object_id] for label in labels)
        assert right >= 0.9 * len(labels), (object_id, Counter(labels))
        # objects carry it from a frame or two after their track starts to its end
        assert len(labels) >= 0.8 * run.matched[object_id], (object_id, run.matched)


def test_secondary_passes_are_bounded_by_the_interval_never_one_per_frame(run):
    tracks = len({i for ids in run.ids_by_object.values() for i in ids})
    frames_with_objects = sum(len(labels) for labels in run.labels.values())

    assert run.requests <= tracks * (SCENE.duration_s / EVERY_S + 1)
    assert run.requests >= len(SHADE_OF)  # at least once each
    assert run.requests < frames_with_objects / 3
    assert run.classified == run.requests  # every crop answered, none lost


def test_a_broken_secondary_model_leaves_primary_results_and_shows_in_the_errors(run):
    assert run.broken_objects > 0.8 * sum(len(labels) for labels in run.labels.values())
    [(display_id, error)] = run.errors
    assert display_id == 2 and error.startswith("secondary model broken 1: ")
