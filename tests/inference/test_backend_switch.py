"""The worker's backend switcher on real models and real exports: a stream served on torch is
moved, while frames keep flowing, to the fastest backend that agrees with torch; a backend that
cannot run leaves torch with the reason; uploaded exports are not re-exported."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from inference import ModelSource, ModelStore, PredictOptions, sha256_of
from inference.backend_switch import MEASURING, BackendSwitcher, SwitchRequest
from inference.backends import agreement, device_precision
from inference.synthetic.video import Scene, render_scene, stationary_path
from tests.support.candidates import expected_labels, openvino_labels
from tests.support.trained import TRAINED_CONFIDENCE, TRAINED_IMGSZ

pytestmark = pytest.mark.slow

SCENE = Scene(
    paths=(
        stationary_path(1, "square", at=(80, 120), t0=0.0, t1=1.0, jitter_px=0),
        stationary_path(2, "circle", at=(240, 120), t0=0.0, t1=1.0, jitter_px=0),
    ),
    duration_s=1.0,
    fps=5.0,
    seed=3,
)
OPTIONS = PredictOptions(confidence=TRAINED_CONFIDENCE, imgsz=TRAINED_IMGSZ)
CHOICE_TIMEOUT_S = 600.0  # two exports on a busy two-core machine


@pytest.fixture(scope="module")
def frame():
    image, _ = next(render_scene(SCENE))
    return image


def source_of(path: Path) -> ModelSource:
    return ModelSource(name="shapes", version="trained", sha256=sha256_of(path), path=str(path))


def wait_for_choice(switcher: BackendSwitcher, key: str):
    deadline = time.monotonic() + CHOICE_TIMEOUT_S
    while time.monotonic() < deadline:
        reports = {r.key: r for r in switcher.report()}
        if key in reports and reports[key].reason != MEASURING:
            return reports[key]
        time.sleep(0.2)
    raise AssertionError(f"no backend chosen for {key} within {CHOICE_TIMEOUT_S:g} s")


def test_auto_moves_a_running_model_to_the_fastest_agreeing_backend_without_losing_a_frame(
    tmp_path, trained_detector_path, frame
):
    source = source_of(trained_detector_path)
    store = ModelStore(tmp_path / "cache")
    switcher = BackendSwitcher(store, cache_dir=tmp_path / "exports")
    results: list[tuple[str, list]] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    with store.acquire_batcher(source) as batcher:
        reference = batcher.detect(frame, OPTIONS, timeout=60)
        assert reference, "the trained detector sees the shapes"

        def stream() -> None:  # a camera: one frame at a time, each waiting for its result
            while not stop.is_set():
                try:
                    objects = batcher.detect(frame, OPTIONS, timeout=60)
                except BaseException as exc:
                    errors.append(exc)
                    return
                results.append((batcher.model.info.backend, objects))

        camera = threading.Thread(target=stream)
        camera.start()
        try:
            assert switcher.request(SwitchRequest("7:abc", source, "auto", frame, OPTIONS))
            # the same model and wanted backend again is not measured twice
            assert not switcher.request(SwitchRequest("7:abc", source, "auto", frame, OPTIONS))
            report = wait_for_choice(switcher, "7:abc")
            deadline = time.monotonic() + 30
            while sum(b == report.backend for b, _ in results) < 5:
                assert time.monotonic() < deadline, "no results on the new backend"
                time.sleep(0.05)
        finally:
            stop.set()
            camera.join(60)
            switcher.close()

        assert report.backend in ("openvino", "onnxruntime"), report
        # every variant measured, one frame and four frames per call
        assert set(report.candidates) == expected_labels(), report
        assert set(report.batched) == set(report.candidates), report
        assert all(ms > 0 for ms in [*report.candidates.values(), *report.batched.values()])
        assert report.variant in report.candidates and report.variant.startswith(report.backend)
        assert report.to_dict()["variant"] == report.variant
        assert report.reason.startswith("auto: fastest"), report
        # chosen for the camera's passes: one frame at a time
        assert "at 1.0 frames per pass" in report.reason, report
        assert batcher.model.info.backend == report.backend
        with store.acquire(source) as model:
            assert model.info.backend == report.backend
    assert not errors
    backends = [b for b, _ in results]
    assert backends[0] == "torch" and backends[-1] == report.backend
    # one switch, never back, and every frame's objects agree with torch's on both sides
    assert backends == sorted(backends, key=lambda b: b != "torch")
    assert agreement([reference] * len(results), [objects for _, objects in results]) >= 0.99
    assert batcher.stats().failed_frames == 0


def test_a_model_moved_to_another_backend_goes_back_to_torch_when_torch_is_wanted(
    tmp_path, trained_detector_path, frame
):
    source = source_of(trained_detector_path)
    store = ModelStore(tmp_path / "cache")
    switcher = BackendSwitcher(store, cache_dir=tmp_path / "exports")
    with store.acquire_batcher(source) as batcher:
        switcher.request(SwitchRequest("7:abc", source, "onnxruntime", frame, OPTIONS))
        assert wait_for_choice(switcher, "7:abc").backend == "onnxruntime"
        assert batcher.model.info.backend == "onnxruntime"

        switcher.request(SwitchRequest("7:abc", source, "torch", frame, OPTIONS))
        report = wait_for_choice(switcher, "7:abc")
        switcher.close()

        assert (report.backend, report.reason) == ("torch", "forced by setting")
        assert batcher.detect(frame, OPTIONS, timeout=60)
        assert batcher.model.info.backend == "torch"


def test_a_forced_backend_that_cannot_run_leaves_torch_with_the_reason(
    tmp_path, trained_detector_path, frame
):
    source = source_of(trained_detector_path)
    store = ModelStore(tmp_path / "cache")
    switcher = BackendSwitcher(store, cache_dir=tmp_path / "exports")
    with store.acquire_batcher(source) as batcher:
        switcher.request(SwitchRequest("7:abc", source, "tensorrt", frame, OPTIONS))
        report = wait_for_choice(switcher, "7:abc")
        switcher.close()

        assert report.backend == "torch"
        assert report.reason.startswith("fell back to torch: tensorrt failed"), report
        assert "not installed" in report.reason
        assert set(report.candidates) == {"torch"}
        assert batcher.model.info.backend == "torch"
        assert batcher.detect(frame, OPTIONS, timeout=60)


def test_uploaded_onnx_weights_run_as_uploaded(tmp_path, trained_detector_path, frame):
    from ultralytics import YOLO

    pt = tmp_path / "uploaded.pt"  # exported beside a copy: the suite's cache stays as it is
    pt.write_bytes(trained_detector_path.read_bytes())
    uploaded = Path(YOLO(str(pt)).export(format="onnx", imgsz=TRAINED_IMGSZ))
    source = source_of(uploaded)
    store = ModelStore(tmp_path / "cache")
    switcher = BackendSwitcher(store, cache_dir=tmp_path / "exports")
    with store.acquire_batcher(source) as batcher:
        switcher.request(SwitchRequest("8:def", source, "auto", frame, OPTIONS))
        report = wait_for_choice(switcher, "8:def")
        switcher.close()

        assert report.backend == "onnxruntime"
        assert "run as uploaded" in report.reason
        assert not (tmp_path / "exports").exists()  # nothing was exported
        assert batcher.detect(frame, OPTIONS, timeout=60)


def test_a_model_no_longer_loaded_is_not_reported(tmp_path, trained_detector_path, frame):
    source = source_of(trained_detector_path)
    store = ModelStore(tmp_path / "cache")
    switcher = BackendSwitcher(store, cache_dir=tmp_path / "exports")
    with store.acquire_batcher(source):
        switcher.request(SwitchRequest("7:abc", source, "torch", frame, OPTIONS))
        assert wait_for_choice(switcher, "7:abc").reason == "forced by setting"
    store.close()  # evicts the idle model
    assert switcher.report() == []
    switcher.close()


def test_a_forced_backend_runs_its_cheapest_variant_among_the_measured_ones(
    tmp_path, trained_detector_path, frame
):
    precision = device_precision("cpu")
    if precision in ("", "f32"):
        pytest.skip(f"no bf16 variant: OpenVINO's CPU default here is {precision or 'unknown'}")
    source = source_of(trained_detector_path)
    store = ModelStore(tmp_path / "cache")
    switcher = BackendSwitcher(store, cache_dir=tmp_path / "exports")
    with store.acquire_batcher(source) as batcher:
        switcher.request(SwitchRequest("7:abc", source, "openvino", frame, OPTIONS))
        report = wait_for_choice(switcher, "7:abc")
        switcher.close()

        labels = {"torch", *openvino_labels()}
        assert set(report.candidates) == labels, report
        assert set(report.batched) == labels, report
        assert (report.backend, report.reason.split(" (at ")[0]) == (
            "openvino",
            "forced by setting",
        )
        costs = {
            label: (report.candidates[label] + report.batched[label]) / 2
            for label in labels - {"torch"}
        }
        # reports round to 0.01 ms: the chosen one is the cheapest within that
        assert costs[report.variant] <= min(costs.values()) + 0.01, report
        assert batcher.model.info.backend == "openvino"
        assert batcher.detect(frame, OPTIONS, timeout=60)
