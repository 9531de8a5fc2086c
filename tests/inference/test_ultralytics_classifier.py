"""The classify backend (inference/ultralytics_classifier.py) on real, untrained weights.

Its accuracy on known labels is in tests/synthetic/test_trained_classifier.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from inference import Classification, ModelLoadError, UltralyticsClassifier
from inference.ultralytics_env import yolo_class

CLS_IMGSZ = 64


@pytest.fixture(scope="module")
def classifier(classifier_weights: Path) -> UltralyticsClassifier:
    return UltralyticsClassifier(classifier_weights, name="shade", version="2", imgsz=CLS_IMGSZ)


@pytest.fixture(scope="module")
def crops(bus: np.ndarray) -> list[np.ndarray]:
    """Square pieces of a real photo, of the size the classifier runs at."""
    pieces = [bus[0:200, 0:200], bus[300:500, 100:300], bus[600:800, 500:700]]
    return [np.ascontiguousarray(p[::3, ::3][:CLS_IMGSZ, :CLS_IMGSZ]) for p in pieces]


def test_each_image_gets_the_top1_class_plain_ultralytics_gives(
    classifier, classifier_weights, crops
):
    results = classifier.classify(crops)

    reference = yolo_class()(str(classifier_weights)).predict(crops, imgsz=CLS_IMGSZ, verbose=False)
    assert len(results) == len(crops)
    for result, expected in zip(results, reference, strict=True):
        assert isinstance(result, Classification)
        assert result.class_id == int(expected.probs.top1)
        assert result.label == expected.names[int(expected.probs.top1)]
        assert abs(result.confidence - float(expected.probs.top1conf)) <= 1e-5
        assert result.to_dict() == {"label": result.label, "confidence": result.confidence}


def test_model_info_describes_the_classifier(classifier, classifier_weights):
    assert classifier.info.name == "shade"
    assert classifier.info.version == "2"
    assert classifier.info.device == "cpu"
    assert classifier.info.imgsz == CLS_IMGSZ
    assert len(classifier.info.class_names) == 1000  # yolov8n-cls.yaml's ImageNet head


def test_input_size_defaults_to_the_one_it_was_trained_at(classifier_weights):
    trained_at = yolo_class()(str(classifier_weights)).model.args["imgsz"]

    assert UltralyticsClassifier(classifier_weights, name="default").info.imgsz == trained_at


def test_empty_batch_gives_no_results(classifier):
    assert classifier.classify([]) == []


@pytest.mark.parametrize(
    "image", [np.zeros((8, 8), np.uint8), np.zeros((8, 8, 3), np.float32), "not an image"]
)
def test_malformed_image_is_refused_clearly(classifier, image):
    with pytest.raises(ValueError, match="a frame must be"):
        classifier.classify([image])


def test_a_detection_model_is_refused_naming_the_model(detection_weights):
    with pytest.raises(
        ModelLoadError, match=r"'people 1' is a 'detect' model, not a classification model"
    ):
        UltralyticsClassifier(detection_weights, name="people", version="1")


def test_a_classification_model_is_refused_as_a_detector_saying_what_it_is(classifier_weights):
    from inference import UltralyticsDetector

    with pytest.raises(
        ModelLoadError,
        match=r"'shade' is a 'classify' model, not a detection model: use it as a classif",
    ):
        UltralyticsDetector(classifier_weights, name="shade")


def test_corrupt_and_empty_files_are_refused_naming_the_model(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(os.urandom(4096))
    empty = tmp_path / "empty.pt"
    empty.touch()

    with pytest.raises(ModelLoadError, match=r"'junk-model'.*cannot load weights junk\.pt"):
        UltralyticsClassifier(junk, name="junk-model")
    with pytest.raises(ModelLoadError, match=r"'hollow'.*empty"):
        UltralyticsClassifier(empty, name="hollow")
    with pytest.raises(ModelLoadError, match="does not exist"):
        UltralyticsClassifier(tmp_path / "gone.pt", name="gone")


def test_loading_keeps_the_workers_torch_thread_count(classifier_weights):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        UltralyticsClassifier(classifier_weights, name="threads", imgsz=CLS_IMGSZ)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.slow
@pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore:Converting a tensor to a Python boolean"
)
def test_a_torchscript_export_classifies_like_its_pt(
    classifier, classifier_weights, crops, tmp_path
):
    source = tmp_path / "model.pt"
    source.write_bytes(classifier_weights.read_bytes())
    exported = Path(yolo_class()(str(source)).export(format="torchscript", imgsz=CLS_IMGSZ))
    cached = exported.rename(tmp_path / "89abcdef.torchscript")  # the name says nothing

    export = UltralyticsClassifier(cached, name="shade-ts")

    assert export.info.imgsz == CLS_IMGSZ  # a static export runs at its export size
    for mine, theirs in zip(export.classify(crops), classifier.classify(crops), strict=True):
        assert mine.class_id == theirs.class_id
        assert abs(mine.confidence - theirs.confidence) <= 1e-3
