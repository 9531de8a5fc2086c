from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from inference import ModelLoadError, PredictOptions, UltralyticsDetector
from tests.inference.conftest import IMGSZ
from tests.support.models import UNTRAINED_CONFIDENCE, assert_detections_match, reference_predict

# torch 2.13 deprecates torch.jit (TorchScript still works); ultralytics' tracer warns too.
exporting = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore:Converting a tensor to a Python boolean"
)


def test_single_frame_matches_ultralytics_predict(detector, detection_weights, bus, options):
    [objects] = detector.detect([bus], options)

    [reference] = reference_predict(
        detection_weights, [bus], conf=UNTRAINED_CONFIDENCE, imgsz=IMGSZ
    )
    assert len(objects) > 0
    assert_detections_match(objects, reference)


def test_batch_of_mixed_sizes_matches_ultralytics_predict(
    detector, detection_weights, bus, zidane, options
):
    frames = [bus, zidane, np.ascontiguousarray(bus[:, ::-1])]

    results = detector.detect(frames, options)

    reference = reference_predict(detection_weights, frames, conf=UNTRAINED_CONFIDENCE, imgsz=IMGSZ)
    assert len(results) == 3
    for objects, expected in zip(results, reference, strict=True):
        assert_detections_match(objects, expected)


def test_boxes_are_in_each_frames_own_pixels(detector, bus, zidane, options):
    for frame, objects in zip([bus, zidane], detector.detect([bus, zidane], options), strict=True):
        height, width = frame.shape[:2]
        for obj in objects:
            x1, y1, x2, y2 = obj.box
            assert 0 <= x1 <= x2 <= width and 0 <= y1 <= y2 <= height


def test_options_reach_ultralytics(detector, detection_weights, zidane):
    options = PredictOptions(confidence=2e-4, iou=0.5, imgsz=160, classes=(0, 2, 5))

    [objects] = detector.detect([zidane], options)

    [reference] = reference_predict(
        detection_weights, [zidane], conf=2e-4, iou=0.5, imgsz=160, classes=[0, 2, 5]
    )
    assert_detections_match(objects, reference)
    assert {o.class_id for o in objects} <= {0, 2, 5}


def test_objects_carry_class_names_and_serialise(detector, bus, options):
    [objects] = detector.detect([bus], options)

    first = objects[0]
    assert first.class_name == detector.info.class_names[first.class_id]
    payload = json.loads(json.dumps(first.to_dict()))
    assert payload["class_id"] == first.class_id
    assert payload["box"] == list(first.box)


def test_model_info_describes_the_model(detector):
    info = detector.info

    assert (info.name, info.version, info.device, info.imgsz) == ("yolov8n", "1", "cpu", IMGSZ)
    assert info.class_names[0] == "person" and len(info.class_names) == 80


def test_empty_batch_gives_no_results(detector, options):
    assert detector.detect([], options) == []


@pytest.mark.parametrize(
    "frame",
    [np.zeros((0, 10, 3), np.uint8), np.zeros((10, 10), np.uint8), np.zeros((8, 8, 3), np.float32)],
)
def test_malformed_frame_is_refused_clearly(detector, options, frame):
    with pytest.raises(ValueError, match="frame"):
        detector.detect([frame], options)


def test_loading_keeps_the_workers_torch_thread_count(detection_weights):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        UltralyticsDetector(detection_weights, name="threads", imgsz=64)
        assert torch.get_num_threads() == 2  # ultralytics would set cpu_count - 1
    finally:
        torch.set_num_threads(before)


def test_empty_file_is_refused_naming_the_model(tmp_path):
    empty = tmp_path / "empty.pt"
    empty.touch()

    with pytest.raises(ModelLoadError, match=r"'people 3'.*empty"):
        UltralyticsDetector(empty, name="people", version="3")


@exporting
@pytest.mark.parametrize("suffix", [".pt", ".torchscript", ".onnx"])
def test_random_bytes_are_refused_naming_the_model(tmp_path, suffix):
    junk = tmp_path / f"junk{suffix}"
    junk.write_bytes(os.urandom(4096))

    with pytest.raises(ModelLoadError, match=r"'junk-model'"):
        UltralyticsDetector(junk, name="junk-model")


def test_classification_model_is_refused(classifier_weights):
    with pytest.raises(ModelLoadError, match=r"'cls'.*'classify' model, not a detection model"):
        UltralyticsDetector(classifier_weights, name="cls")


def test_missing_file_and_unknown_format_are_refused(tmp_path, detection_weights):
    with pytest.raises(ModelLoadError, match="does not exist"):
        UltralyticsDetector(tmp_path / "nope.pt", name="gone")
    renamed = tmp_path / "weights.bin"
    renamed.write_bytes(detection_weights.read_bytes())
    with pytest.raises(ModelLoadError, match=r"unsupported weights format '\.bin'"):
        UltralyticsDetector(renamed, name="bin")


def test_cuda_is_not_initialised_by_a_cpu_model(detector):
    assert detector.info.device == "cpu"
    assert not torch.cuda.is_initialized()


@pytest.fixture(scope="module")
def torchscript_weights(detection_weights: Path, tmp_path_factory) -> Path:
    from inference.ultralytics_env import yolo_class

    work = tmp_path_factory.mktemp("export")
    source = work / "model.pt"
    source.write_bytes(detection_weights.read_bytes())
    exported = yolo_class()(str(source)).export(format="torchscript", imgsz=IMGSZ)
    # Named like a cache entry: the file name no longer says what the model is.
    cached = work / "0123abcd.torchscript"
    Path(exported).rename(cached)
    return cached


@pytest.mark.slow
@exporting
def test_torchscript_export_runs_and_matches_ultralytics(torchscript_weights, bus, options):
    detector = UltralyticsDetector(torchscript_weights, name="ts", imgsz=640)

    [objects] = detector.detect([bus], options)

    [reference] = reference_predict(
        torchscript_weights, [bus], conf=UNTRAINED_CONFIDENCE, imgsz=IMGSZ
    )
    assert len(objects) > 0
    assert_detections_match(objects, reference)
    assert detector.info.class_names[0] == "person"
    assert detector.info.imgsz == IMGSZ  # a static export runs at its export size


@pytest.mark.slow
@exporting
def test_classifier_export_is_refused_even_when_its_name_says_nothing(classifier_weights, tmp_path):
    from inference.ultralytics_env import yolo_class

    source = tmp_path / "model.pt"
    source.write_bytes(classifier_weights.read_bytes())
    exported = Path(yolo_class()(str(source)).export(format="torchscript", imgsz=64))
    cached = exported.rename(tmp_path / "0123abcd.torchscript")

    with pytest.raises(ModelLoadError, match=r"'cls-ts' is a 'classify' model"):
        UltralyticsDetector(cached, name="cls-ts", imgsz=64)


def test_model_is_warmed_up_once_at_load(detection_weights, bus, options):
    detector = UltralyticsDetector(detection_weights, name="warm", imgsz=IMGSZ)
    predictor = detector._yolo.predictor  # built by the warm-up pass

    detector.detect([bus], options)
    detector.detect([bus], PredictOptions(confidence=0.5, imgsz=160, classes=(1,)))

    assert predictor is not None and predictor.done_warmup
    assert detector._yolo.predictor is predictor  # options never rebuild it


@pytest.fixture(scope="module")
def onnx_weights(detection_weights: Path, tmp_path_factory) -> Path:
    from inference.ultralytics_env import yolo_class

    work = tmp_path_factory.mktemp("export-onnx")
    source = work / "model.pt"
    source.write_bytes(detection_weights.read_bytes())
    exported = yolo_class()(str(source)).export(format="onnx", imgsz=IMGSZ, simplify=False)
    cached = work / "4567cdef.onnx"  # named like a cache entry
    Path(exported).rename(cached)
    return cached


@pytest.mark.slow
@exporting
def test_onnx_export_runs_and_matches_ultralytics(onnx_weights, bus, options):
    detector = UltralyticsDetector(onnx_weights, name="onnx", imgsz=640)

    [objects] = detector.detect([bus], options)

    [reference] = reference_predict(onnx_weights, [bus], conf=UNTRAINED_CONFIDENCE, imgsz=IMGSZ)
    assert len(objects) > 0
    assert_detections_match(objects, reference)
    assert detector.info.class_names[0] == "person"
