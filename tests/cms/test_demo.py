"""`make run` tells a new user how to read the demo display: its token, once, or how to get one."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from cms.models import Display

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = re.compile(r"token ([A-Za-z0-9_-]{40,}) \(shown only now\)")


@pytest.fixture
def data_dir(settings, tmp_path: Path) -> Path:
    settings.DEBUG = True
    settings.SIGHTLINE_ALLOW_FILE_SOURCES = True
    settings.EMBEDDED_REDIS = False  # the suite's Redis is already running
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SIGHTLINE_DEMO_TRAIN = False  # minutes of CPU: tested in test_demo_objects
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def run_farm(tmp_path: Path) -> str:
    """`manage.py runfarm` with a Procfile whose only process exits at once."""
    procfile = tmp_path / "Procfile"
    procfile.write_text("noop: true\n")
    out = io.StringIO()
    call_command("runfarm", procfile=str(procfile), stdout=out)
    return out.getvalue()


def read_state(client, token: str) -> int:
    response = client.get("/api/v1/display/state/", HTTP_AUTHORIZATION=f"Token {token}")
    return response.status_code


def test_runfarm_prints_the_demo_token_once_with_the_admin_password(data_dir, tmp_path, client):
    # when the farm starts the first time
    first = run_farm(tmp_path)

    # then the banner shows the admin password and the demo display's token, which works
    assert "password " in first and "(changed since" not in first
    found = TOKEN.search(first)
    assert found, first
    token = found.group(1)
    assert "/api/v1/display/state/" in first
    assert read_state(client, token) == 200
    # and the plain token is kept nowhere, only its hash
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path

    # when it starts again
    second = run_farm(tmp_path)

    # then it cannot show the token again, and says how to get a new one
    assert TOKEN.search(second) is None
    assert token not in second
    assert "manage.py demo --rotate-token" in second
    assert Display.objects.filter(identifier="demo").count() == 1


def test_demo_rotate_token_prints_a_new_token_and_revokes_the_old(data_dir, client):
    created = io.StringIO()
    call_command("demo", stdout=created)
    old = TOKEN.search(created.getvalue()).group(1)
    again = io.StringIO()
    call_command("demo", stdout=again)
    assert TOKEN.search(again.getvalue()) is None
    assert "--rotate-token" in again.getvalue()

    rotated = io.StringIO()
    call_command("demo", rotate_token=True, stdout=rotated)

    new = TOKEN.search(rotated.getvalue()).group(1)
    assert new != old
    assert read_state(client, new) == 200
    assert read_state(client, old) == 401


@pytest.mark.slow
def test_offline_demo_moves_to_the_trained_detector_whose_scene_makes_every_event(
    data_dir, trained_detector_path
):
    import shutil

    import cv2

    from cms.demo import DEMO_LINES, DEMO_ZONES, ensure_demo, train_demo_detector
    from cms.farm.desired import inference_groups
    from cms.farm.reconcile import load_desired
    from inference import PredictOptions
    from inference.synthetic import demo_scene
    from inference.synthetic.training import cached_detector_path
    from inference.ultralytics_backend import UltralyticsDetector
    from tasks.camera_objects import CameraObjects

    # given the offline demo, its untrained stand-in in place
    display = ensure_demo(data_dir / "demo").display
    assert display.model.version == "untrained"
    assert (display.zones, display.lines) == (DEMO_ZONES, DEMO_LINES)
    # when the shapes detector is ready (the suite's own, so nothing trains here)
    cached = cached_detector_path(data_dir / "demo")
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(trained_detector_path, cached)
    model = train_demo_detector(data_dir / "demo")

    # then the demo display uses it, once
    display.refresh_from_db()
    assert display.model_id == model.id and model.name == "Shapes"
    assert train_demo_detector(data_dir / "demo") is None
    # and its scene shows track ids and enter, leave and cross events within a loop
    spec = load_desired([display.camera_id])[display.camera_id]
    (group,) = inference_groups(spec)
    objects = CameraObjects(generation=1)
    objects.apply(spec)
    detector = UltralyticsDetector(cached, name="shapes", imgsz=model.imgsz)
    options = PredictOptions(confidence=model.confidence, imgsz=model.imgsz)
    capture = cv2.VideoCapture(display.camera.url)
    kinds, tracks = set(), set()
    index = 0
    while (frame := capture.read())[0]:
        t = 1_800_000_000.0 + index / 10
        index += 1
        objects.frame((frame[1].shape[1], frame[1].shape[0]))
        [detections] = detector.detect([frame[1]], options)
        update = objects.present(display.id, objects.track(group, detections, t), t)
        kinds |= {(e.type, e.zone or e.line) for e in update.events}
        tracks |= {o.track_id for o in update.objects}
    capture.release()
    assert {("enter", "lane"), ("leave", "lane"), ("cross", "door")} <= kinds
    assert len(tracks) >= len(demo_scene().paths)


def test_the_django_side_sends_tasks_without_waiting_on_a_result_store():
    # With a result backend every send subscribes to it first, and with Redis down that
    # blocks for 20 retries and raises a RuntimeError instead of the broker error that
    # callers (a model check, a reconcile trigger) catch and log.
    from cms.farm.task_sender import sender

    assert type(sender.backend).__name__ == "DisabledBackend"
