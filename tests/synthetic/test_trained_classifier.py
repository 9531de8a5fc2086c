"""The suite's trained shades classifier, run through the workers' own classifier code on the
crops the workers make (`classification_crop`)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from inference import (
    PredictOptions,
    UltralyticsClassifier,
    UltralyticsDetector,
    classification_crop,
)
from inference.synthetic import (
    DEFAULT_CLASSIFIER_SPEC,
    ClassifierSpec,
    CropsSpec,
    Scene,
    cached_classifier_path,
    iou,
    linear_path,
    render_scene,
    shade_crops,
    trained_classifier,
    write_video,
)
from inference.synthetic.classifier_training import cache_key, cache_key_contents
from tests.support.trained import (
    TRAINED_CLASSIFIER_IMGSZ,
    TRAINED_CONFIDENCE,
    TRAINED_IMGSZ,
    suite_cache_root,
)

pytestmark = pytest.mark.slow

HELD_OUT_SEED = 2026  # training crops come from DEFAULT_CLASSIFIER_SPEC.crops.seed (0)


@pytest.fixture(scope="module")
def shades(trained_classifier_path: Path) -> UltralyticsClassifier:
    return UltralyticsClassifier(trained_classifier_path, name="shade")


def accuracy(classifier: UltralyticsClassifier, images: list[np.ndarray], labels: list) -> float:
    results = []
    for start in range(0, len(images), 32):
        results += classifier.classify(images[start : start + 32])
    return float(np.mean([r.label == label for r, label in zip(results, labels, strict=True)]))


def shaded_scene() -> Scene:
    """Every class in both shades, in rows, crossing the frame (entering and leaving by its
    edges), 160 px apart in a row so that they never overlap."""
    paths = []
    for row, shape in enumerate(("square", "circle", "triangle")):
        y = 45 + 75 * row
        for lead, shade in enumerate(("light", "dark")):
            x = -20 - 160 * lead
            paths.append(
                linear_path(
                    len(paths) + 1,
                    shape,
                    start=(x, y),
                    end=(x + 360, y),
                    t0=0.0,
                    t1=4.0,
                    size=32 + 6 * row + 4 * lead,
                    shade=shade,
                )
            )
    return Scene(paths=tuple(paths), duration_s=4.0, fps=10.0, seed=7)


def test_the_trained_classifier_reports_the_shades_at_its_training_size(shades):
    assert dict(shades.info.class_names) == {0: "dark", 1: "light"}
    assert shades.info.imgsz == TRAINED_CLASSIFIER_IMGSZ  # read from the checkpoint's args


def test_the_trained_classifier_tells_the_shade_of_fresh_generated_crops(shades):
    crops = list(shade_crops(400, seed=HELD_OUT_SEED))
    assert {c.shade for c in crops} == {"dark", "light"}
    assert {c.class_id for c in crops} == {0, 1, 2}

    # Measured 1.0 here: the margin is for a model trained on another machine.
    assert accuracy(shades, [c.image for c in crops], [c.shade for c in crops]) >= 0.95


def test_crops_of_a_rendered_video_frame_at_the_true_boxes_get_their_shade(shades):
    images, labels = [], []
    for frame, truth in render_scene(shaded_scene()):
        for obj in truth.objects:
            # A sliver at the frame edge is below any secondary's min_size: not asserted.
            if obj.visible >= 0.5:
                images.append(classification_crop(frame, obj.box, size=shades.info.imgsz))
                labels.append(obj.shade)

    assert len(images) > 150
    assert accuracy(shades, images, labels) >= 0.95  # measured 1.0


def test_the_detectors_boxes_in_a_decoded_video_give_the_right_shade(
    shades, trained_detector_path: Path, tmp_path: Path
):
    """The workers' path: decoded frames, the detector's boxes, their crops, the classifier."""
    detector = UltralyticsDetector(trained_detector_path, name="shapes", imgsz=TRAINED_IMGSZ)
    options = PredictOptions(confidence=TRAINED_CONFIDENCE, imgsz=TRAINED_IMGSZ)
    truth = write_video(shaded_scene(), tmp_path / "shades.mp4")
    capture = cv2.VideoCapture(str(tmp_path / "shades.mp4"))
    frames = []
    while (read := capture.read())[0]:
        frames.append(read[1])
    capture.release()
    images, labels, missed = [], [], 0
    picked = range(0, len(frames), 3)
    for index, found in zip(
        picked, detector.detect([frames[i] for i in picked], options), strict=True
    ):
        for obj in truth[index].objects:
            if obj.visible < 0.6:
                continue
            best = max(found, key=lambda d: iou(d.box, obj.box), default=None)
            if best is None or iou(best.box, obj.box) < 0.5 or best.class_id != obj.class_id:
                missed += 1  # shaded shapes are found like any other (asserted below)
                continue
            images.append(classification_crop(frames[index], best.box, size=shades.info.imgsz))
            labels.append(obj.shade)

    assert len(images) >= 50
    assert missed <= 0.1 * (len(images) + missed)  # measured: 2 of 71
    assert accuracy(shades, images, labels) >= 0.95  # measured 1.0


def test_the_cache_answers_without_training_and_its_key_names_what_made_it(
    trained_classifier_path: Path,
):
    started = time.monotonic()
    assert trained_classifier(suite_cache_root()) == trained_classifier_path
    assert time.monotonic() - started < 5
    contents = cache_key_contents()
    assert {"shapes.py", "shades.py", "classifier_training.py", "crops.py"} <= set(
        contents["sources"]
    )
    assert {"ultralytics", "torch", "numpy", "opencv", "python"} <= set(contents["versions"])
    changed = replace(DEFAULT_CLASSIFIER_SPEC, epochs=DEFAULT_CLASSIFIER_SPEC.epochs + 1)
    assert cache_key(changed) != cache_key()
    assert trained_classifier_path.with_suffix(".json").is_file()


def test_two_callers_at_once_train_once_and_nothing_lands_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    tiny = ClassifierSpec(
        crops=CropsSpec(train_per_label=8, val_per_label=2, seed=1), epochs=1, batch=4
    )
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    cache = tmp_path / "cache"
    results: list[Path] = []
    caplog.set_level(logging.INFO, logger="inference.synthetic.classifier_training")
    callers = [
        threading.Thread(target=lambda: results.append(trained_classifier(cache, tiny)))
        for _ in range(2)
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=240)
    assert results == [cached_classifier_path(cache, tiny)] * 2
    trainings = [r for r in caplog.records if r.getMessage().startswith("training the shades")]
    assert len(trainings) == 1
    assert list(cwd.iterdir()) == []
    assert not list(results[0].parent.glob(".*.tmp")), "no half-written files left"
    tiny_classifier = UltralyticsClassifier(results[0], name="tiny")
    assert dict(tiny_classifier.info.class_names) == {0: "dark", 1: "light"}
