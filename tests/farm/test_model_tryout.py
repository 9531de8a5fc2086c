"""'Try on a camera' on a real farm: a real ingest worker loads the suite's trained shapes
detector through its ModelStore and runs it once on a camera's newest snapshot; the admin
(Django's test client, the real view) shows the boxes of the scene's known shapes."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files import File
from django.urls import reverse

from cms import redis_connection
from cms.farm import farm_keys
from cms.models import Camera, DetectionModel, Display
from inference.synthetic.video import Scene, stationary_path, write_video
from tests.farm.conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# The scene's truth: a square and a circle, parked (no jitter) at these centres.
TRUTH = {"square": (80, 120), "circle": (240, 120)}
PARKED = Scene(
    paths=tuple(
        stationary_path(i, shape, at=at, t0=0.0, t1=30.0, jitter_px=0)
        for i, (shape, at) in enumerate(TRUTH.items(), start=1)
    ),
    duration_s=30.0,
    fps=10.0,
    seed=5,
)


@pytest.fixture(autouse=True)
def clean_redis_after(redis_client):
    """Leave no snapshot or heartbeat behind (later tests reuse these camera ids), after the
    farm's workers stopped: an autouse fixture is set up first, so torn down last."""
    yield
    redis_client.flushdb()


@pytest.fixture(scope="module")
def parked_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tryout") / "parked.mp4"
    write_video(PARKED, path)
    return path


def shapes_model(weights: Path, name: str) -> DetectionModel:
    model = DetectionModel(name=name, version="trained", confidence=0.5, imgsz=320)
    with weights.open("rb") as handle:
        model.weights.save(f"{name}.pt", File(handle), save=False)
    model.save()
    return model


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("operator", "", "operator-pass-123")
    client.force_login(user)
    return client


def test_a_model_no_display_uses_finds_the_scenes_shapes_on_a_running_camera(
    farm_factory, staff_client, parked_video, trained_detector_path, settings
):
    settings.SIGHTLINE_TRYOUT_TIMEOUT_S = 90.0  # a first load on a busy CPU
    farm = farm_factory()
    farm.control()
    farm.start_beat()
    worker = farm.ingest(capacity=1)  # full: the try-out runs beside its camera
    camera = Camera.objects.create(name="lot", identifier="lot", url=str(parked_video), fps=5)
    Display.objects.create(
        name="lot",
        identifier="lot",
        camera=camera,
        model=shapes_model(trained_detector_path, "shapes"),
    )
    candidate = shapes_model(trained_detector_path, "candidate")  # used by no display
    r = redis_connection.client()
    wait_for(lambda: farm_keys.read_snapshot(r, camera.pk), 120, f"a snapshot\n{farm.logs()}")

    url = reverse("admin:cms_detectionmodel_try", args=[candidate.pk])
    response = staff_client.post(url, {"camera": str(camera.pk)})

    assert response.status_code == 200, f"{response.content!r}\n{farm.logs()}"
    body = response.json()
    assert body["worker"] == worker.name and body["camera"] == "lot"
    assert body["frame_size"] == [320, 240]
    assert body["image"].startswith("data:image/jpeg;base64,")
    found = {o["class_name"]: o for o in body["objects"]}
    assert set(found) == set(TRUTH), body["objects"]
    for name, (cx, cy) in TRUTH.items():
        x1, y1, x2, y2 = found[name]["box"]
        assert abs((x1 + x2) / 2 - cx) < 12 and abs((y1 + y2) / 2 - cy) < 12, found[name]
        assert found[name]["confidence"] >= 0.5
    assert str(parked_video) not in response.content.decode()  # the camera's URL stays home
    candidate.refresh_from_db()
    assert candidate.class_names  # what the worker read, as a camera task records it
