from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from inference import (
    ModelLoadError,
    ModelSource,
    ModelStore,
    UltralyticsDetector,
    WeightsFetchError,
)
from inference.store import load_ultralytics
from tests.inference.conftest import IMGSZ, sha256_hex


class CountingLoader:
    """The real ultralytics loader, counting how often each model is loaded."""

    def __init__(self) -> None:
        self.loads: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, source, weights, device):
        with self.lock:
            self.loads.append(source.name)
        return UltralyticsDetector(
            weights.path, name=source.name, sha256=weights.sha256, device=device, imgsz=IMGSZ
        )


@pytest.fixture
def loader() -> CountingLoader:
    return CountingLoader()


def local(name: str, path) -> ModelSource:
    return ModelSource(name=name, version="1", path=str(path))


def test_signed_url_model_loads_through_the_store_and_detects(
    weights_server, detection_weights, tmp_path, bus, options
):
    data = detection_weights.read_bytes()
    weights_server.files["3"] = data
    source = ModelSource(name="people", sha256=sha256_hex(data), url=weights_server.url("3"))
    store = ModelStore(tmp_path / "cache", loader=load_ultralytics)

    with store.acquire(source) as detector:
        [objects] = detector.detect([bus], options)

    assert objects
    [info] = store.loaded()
    assert (info.name, info.sha256, info.device) == ("people", sha256_hex(data), "cpu")


def test_concurrent_first_requests_load_the_model_once(
    detection_weights, tmp_path, loader, bus, options
):
    store = ModelStore(tmp_path, loader=loader)
    start = threading.Barrier(6)

    def stream(_: int) -> int:
        start.wait()
        with store.acquire(local("people", detection_weights), timeout=60) as detector:
            return id(detector)

    with ThreadPoolExecutor(6) as pool:
        ids = set(pool.map(stream, range(6)))

    assert loader.loads == ["people"]
    assert len(ids) == 1


def test_least_recently_used_idle_model_is_evicted(
    detection_weights, other_detection_weights, tmp_path, loader
):
    store = ModelStore(tmp_path, max_models=1, loader=loader)

    with store.acquire(local("a", detection_weights)):
        pass
    with store.acquire(local("b", other_detection_weights)):
        pass

    assert [m.name for m in store.loaded()] == ["b"]
    with store.acquire(local("a", detection_weights)):
        pass
    assert loader.loads == ["a", "b", "a"]


def test_model_in_use_is_never_evicted(
    detection_weights, other_detection_weights, tmp_path, loader, bus, options
):
    store = ModelStore(tmp_path, max_models=1, loader=loader)

    with store.acquire(local("a", detection_weights)) as in_use:
        with store.acquire(local("b", other_detection_weights)):
            # Over the bound while both are leased: neither may go.
            assert {m.name for m in store.loaded()} == {"a", "b"}
        assert [m.name for m in store.loaded()] == ["a"]  # b was idle and least recent
        assert in_use.detect([bus], options)[0]
    with store.acquire(local("a", detection_weights)):
        pass
    assert loader.loads == ["a", "b"]


def test_failed_load_reaches_every_waiter_and_is_retried_later(
    tmp_path, classifier_weights, detection_weights
):
    bad = tmp_path / "model.pt"
    bad.write_bytes(classifier_weights.read_bytes())
    store = ModelStore(tmp_path / "cache")
    start = threading.Barrier(3)

    def stream(_: int) -> str:
        start.wait()
        try:
            with store.acquire(local("m", bad)):
                return "loaded"
        except ModelLoadError as exc:
            return str(exc)

    with ThreadPoolExecutor(3) as pool:
        outcomes = list(pool.map(stream, range(3)))

    assert all("not a detection model" in o for o in outcomes)
    assert store.loaded() == []
    bad.write_bytes(detection_weights.read_bytes())  # the operator uploads the right file
    with store.acquire(local("m", bad)) as detector:
        assert detector.info.name == "m"


def test_fetch_errors_surface_from_acquire(weights_server, tmp_path):
    source = ModelSource(name="gone", url=weights_server.url("404"))

    with (
        pytest.raises(WeightsFetchError, match=r"'gone'.*HTTP 404"),
        ModelStore(tmp_path).acquire(source),
    ):
        pass


def test_streams_share_one_batcher_per_model(detection_weights, tmp_path, loader, bus, options):
    store = ModelStore(tmp_path, loader=loader)
    source = local("people", detection_weights)

    with store.acquire_batcher(source) as first, store.acquire_batcher(source) as second:
        assert first is second
        assert first.detect(bus, options, timeout=30)
    store.close()
    assert store.loaded() == []


def test_frames_per_pass_is_what_the_models_batcher_gathered(
    detection_weights, tmp_path, loader, bus, options
):
    store = ModelStore(tmp_path, loader=loader)
    source = local("people", detection_weights)

    with store.acquire_batcher(source, max_batch=3, max_wait_ms=1000) as batcher:
        assert store.frames_per_pass(source.key) is None  # no pass yet
        for future in [batcher.submit(bus, options) for _ in range(3)]:
            future.result(timeout=60)  # the batcher waits for max_batch frames: one pass
        assert store.frames_per_pass(source.key) == 3.0
        assert batcher.detect(bus, options, timeout=60)  # alone, after max_wait
        assert store.frames_per_pass(source.key) == 2.0
    assert store.frames_per_pass("never loaded") is None
    store.close()


def test_a_broken_model_does_not_disturb_streams_on_a_good_one(
    detection_weights, classifier_weights, tmp_path, bus, options
):
    store = ModelStore(tmp_path / "cache")
    empty = tmp_path / "empty.pt"
    empty.touch()

    with store.acquire_batcher(local("good", detection_weights)) as batcher:
        before = batcher.detect(bus, options, timeout=60)
        for broken in (empty, classifier_weights):
            with pytest.raises(ModelLoadError), store.acquire(local("broken", broken)):
                pass
        after = batcher.detect(bus, options, timeout=60)

    assert before and after == before
    assert [m.name for m in store.loaded()] == ["good"]


def test_a_classify_source_gives_a_classifier_and_its_batcher(
    classifier_weights, detection_weights, tmp_path, bus
):
    from inference import UltralyticsClassifier, classification_crop

    store = ModelStore(tmp_path / "cache")
    source = ModelSource(name="shade", path=str(classifier_weights), task="classify")
    crop = classification_crop(bus, (50, 400, 250, 900), size=64)

    with store.acquire_batcher(source) as batcher, store.acquire(source) as model:
        assert isinstance(model, UltralyticsClassifier) and batcher.model is model
        assert batcher.kind == "classify"
        result = batcher.classify(crop, timeout=60)
    assert result == model.classify([crop])[0]
    assert [(m.name, m.imgsz) for m in store.loaded()] == [("shade", 640)]  # its args' imgsz


def test_weights_of_the_wrong_task_are_refused_with_what_they_are(
    classifier_weights, detection_weights, tmp_path
):
    store = ModelStore(tmp_path / "cache")
    as_classifier = ModelSource(name="people", path=str(detection_weights), task="classify")
    as_detector = ModelSource(name="shade", path=str(classifier_weights))

    wrong_classifier = pytest.raises(ModelLoadError, match="'people' is a 'detect' model, not a")
    with wrong_classifier, store.acquire(as_classifier):
        pass
    wrong_detector = pytest.raises(ModelLoadError, match="'shade' is a 'classify' model, not a")
    with wrong_detector, store.acquire(as_detector):
        pass
    assert store.loaded() == []


def test_one_file_as_detector_and_as_classifier_is_two_models():
    detect = ModelSource(name="m", path="/weights/m.pt")
    classify = ModelSource(name="m", path="/weights/m.pt", task="classify")

    assert detect.key == "path:/weights/m.pt"  # a detector's key is what it always was
    assert classify.key == "classify:path:/weights/m.pt"
    with pytest.raises(ValueError, match="task must be one of"):
        ModelSource(name="m", path="/weights/m.pt", task="segment")
