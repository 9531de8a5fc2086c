"""Backends on a real farm: a real ingest worker starts a display's model on torch, exports and
measures the candidates off the frame path, switches to the one `auto` chose while results keep
flowing, and reports it in /api/v1/cluster/; a forced backend this machine lacks (TensorRT)
leaves torch, with the reason shown."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files import File
from rest_framework.test import APIClient

from cms.models import Camera, DetectionModel, Display
from inference.backend_switch import MEASURING
from inference.synthetic.video import Scene, stationary_path, write_video
from tests.farm.conftest import wait_for
from tests.support.candidates import expected_labels

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(600)]

SCENE = Scene(
    paths=(
        stationary_path(1, "square", at=(80, 120), t0=0.0, t1=30.0, jitter_px=0),
        stationary_path(2, "circle", at=(240, 120), t0=0.0, t1=30.0, jitter_px=0),
    ),
    duration_s=30.0,
    fps=10.0,
    seed=5,
)
FPS = 4
MAX_GAP_S = 2.0  # the longest a display may go without a result, switch included


@pytest.fixture(scope="module")
def shapes_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("backends") / "shapes.mp4"
    write_video(SCENE, path)
    return path


@pytest.fixture
def staff(db) -> APIClient:
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw")
    client = APIClient()
    client.force_authenticate(user)
    return client


def model_row(weights: Path, **fields) -> DetectionModel:
    model = DetectionModel(**{"name": "shapes", "confidence": 0.5, "imgsz": 320, **fields})
    with weights.open("rb") as handle:
        model.weights.save(weights.name, File(handle), save=False)
    model.save()
    return model


def display_of(name: str, video: Path, model: DetectionModel) -> Display:
    camera = Camera.objects.create(name=name, identifier=name, url=str(video), fps=FPS)
    return Display.objects.create(name=name, identifier=name, camera=camera, model=model)


def chosen(staff: APIClient, model: DetectionModel) -> dict | None:
    """The model's backend in /api/v1/cluster/ once the worker has chosen it."""
    body = staff.get("/api/v1/cluster/").json()
    for worker in body["workers"]:
        for backend in worker["backends"]:
            if backend["model"] == f"{model.pk}:{model.sha256}" and backend["reason"] != MEASURING:
                return {**backend, "worker": worker["name"]}
    return None


def test_auto_switches_a_running_display_in_place_and_a_missing_backend_keeps_torch(
    farm_factory, staff, shapes_video, trained_detector_path
):
    # Given a farm whose worker has openvino and onnxruntime but not tensorrt
    farm = farm_factory(SIGHTLINE_INFERENCE_BACKEND="auto")
    farm.control()
    farm.start_beat()
    worker = farm.ingest(capacity=2)
    shapes = model_row(trained_detector_path)
    forced = model_row(farm.weights, name="forced", backend="tensorrt")
    display = display_of("shapes", shapes_video, shapes)
    other = display_of("forced", shapes_video, forced)
    wait_for(lambda: farm.running_on(display.camera) == worker.name, 120, "the camera to run")
    wait_for(lambda: farm.results_for(display), 60, "results on torch")

    # When the worker has chosen (exports, measurements and the swap take a while)
    report = wait_for(lambda: chosen(staff, shapes), 300, f"a backend choice\n{farm.logs()}")
    switched_at = time.time()
    wait_for(
        lambda: [r for r in farm.results_for(display) if r.frame_time > switched_at + 3],
        60,
        "results after the switch",
    )

    # Then auto took a faster CPU backend, measured against torch, reported per worker and model
    assert report["worker"] == worker.name
    assert report["backend"] in ("openvino", "onnxruntime"), report
    assert report["reason"].startswith("auto: fastest"), report
    # every variant, by label, one frame and four frames per call ("openvino bf16" where
    # OpenVINO's CPU default precision is bf16, as on this project's EPYCs, and "openvino
    # dynamic bf16" where the CPU has AMX too)
    labels = expected_labels()
    assert set(report["candidates"]) == labels, report
    assert set(report["batched"]) == labels, report
    assert all(ms > 0 for ms in [*report["candidates"].values(), *report["batched"].values()])
    assert report["variant"] in labels and report["variant"].startswith(report["backend"])
    # and the display's results flowed before, during and after the switch, none lost
    generation = farm.streams()[display.camera_id].generation
    results = [r for r in farm.results_for(display) if r.generation == generation]
    # Results in frame order, each frame once (frame_seq is the file's frame index, back to 0
    # when it loops). The reader keeps only the newest frame, so while the switcher loads its
    # candidates on the torch thread (each load holds up passes for a moment: docs/backends.md)
    # it skips file frames, as whenever inference is slower than the camera: the time gap
    # below bounds that.
    seqs = [r.frame_seq for r in results]
    steps = [(b - a) % SCENE.frame_count for a, b in itertools.pairwise(seqs)]
    assert min(steps) >= 1, seqs
    times = [r.frame_time for r in results]
    assert times[0] < switched_at - 1 and times[-1] > switched_at + 3
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) < MAX_GAP_S, max(gaps)
    assert all(r.objects for r in results[-5:])  # the new backend still sees the shapes

    # And the forced TensorRT model, which this machine cannot run, stays on torch with the reason
    fallback = wait_for(lambda: chosen(staff, forced), 120, "the forced model's report")
    assert fallback["backend"] == "torch"
    assert fallback["reason"].startswith("fell back to torch: tensorrt failed"), fallback
    assert fallback["variant"] == "torch"
    assert "not installed" in fallback["reason"]
    assert farm.running_on(other.camera) == worker.name
    assert farm.results_for(other)
