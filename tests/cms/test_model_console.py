"""The admin's model pages: class filters picked by name (stored as before), warnings, and the
try-out's error paths (real Redis, real broker, real database; no ingest worker here)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from cms.farm import farm_keys
from cms.farm.heartbeats import WorkerInfo
from cms.model_console import UNTRAINED_VERSION, model_warnings
from cms.model_tryout import choose_worker, push_reply, redact
from cms.models import DetectionModel
from cms.weights import signed_weights_url
from tasks.tryout import run_tryout
from tasks.worker_runtime import WorkerRuntime
from tests.cms.test_admin import display_change
from tests.factories import make_camera, make_display, make_model
from tests.support.models import torch_archive_bytes

pytestmark = pytest.mark.django_db

COCO_START = {"0": "person", "1": "bicycle", "2": "car", "3": "motorcycle"}


@pytest.fixture(autouse=True)
def clean_redis_after(redis_client):
    """Leave no snapshot or heartbeat behind (later tests reuse these camera ids), after the
    farm's workers stopped: an autouse fixture is set up first, so torn down last."""
    yield
    redis_client.flushdb()


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("operator", "", "operator-pass-123")
    client.force_login(user)
    return client


def model_with(**read) -> DetectionModel:
    """A model as a worker left it once it read the weights (saving a new hub model forgets
    what was read, so ``read`` is written after)."""
    model = make_model(**{k: v for k, v in read.items() if k in ("enabled", "version")})
    DetectionModel.objects.filter(pk=model.pk).update(**read)
    model.refresh_from_db()
    return model


def model_form(model: DetectionModel, **fields):
    data = {
        "name": model.name,
        "version": model.version,
        "hub_name": model.hub_name,
        "confidence": "0.25",
        "iou": "0.7",
        "imgsz": "640",
        "enabled": "on",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def post_model(staff_client, model, **fields):
    url = reverse("admin:cms_detectionmodel_change", args=[model.pk])
    return staff_client.post(url, model_form(model, **fields))


def change_page(staff_client, model) -> str:
    url = reverse("admin:cms_detectionmodel_change", args=[model.pk])
    return staff_client.get(url).content.decode()


# --- a model's class filter ------------------------------------------------------------------


def test_known_classes_are_checkboxes_by_name_stored_as_ids(staff_client):
    model = model_with(class_names=COCO_START)
    page = change_page(staff_client, model)
    assert re.search(r'type="checkbox" name="classes" value="2"[^>]*>\s*2: car', page)
    assert "2: car" in page and "3: motorcycle" in page

    response = post_model(staff_client, model, classes=["2", "0"])
    assert response.status_code == 302
    model.refresh_from_db()
    assert model.classes == [0, 2]  # as the JSON box stored it, and the API shows it

    assert post_model(staff_client, model).status_code == 302  # none ticked: all classes
    model.refresh_from_db()
    assert model.classes is None


def test_a_stored_id_the_model_lacks_stays_listed_and_ticked(staff_client):
    model = model_with(class_names=COCO_START, classes=[1, 7])
    page = change_page(staff_client, model)
    assert re.search(r'value="7"[^>]*checked', page)
    assert "7: (not a class of this model)" in page


def test_a_choice_that_is_not_offered_is_a_form_error(staff_client):
    model = model_with(class_names=COCO_START)
    response = post_model(staff_client, model, classes=["9"])
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    model.refresh_from_db()
    assert model.classes is None


def test_unknown_classes_keep_the_json_box_and_say_why(staff_client):
    model = make_model()  # a hub model never loaded: no class names yet
    page = change_page(staff_client, model)
    assert 'name="classes"' in page and 'type="checkbox" name="classes"' not in page
    assert "class names are not known yet" in page

    assert post_model(staff_client, model, classes="[0, 2]").status_code == 302
    model.refresh_from_db()
    assert model.classes == [0, 2]
    response = post_model(staff_client, model, classes="[-1]")
    assert response.status_code == 200
    assert "A list of class ids" in response.content.decode()


# --- a display's audience classes -------------------------------------------------------------


def test_audience_classes_are_picked_from_the_models_class_names(staff_client):
    display = make_display(model=model_with(class_names=COCO_START))
    url = reverse("admin:cms_display_change", args=[display.pk])
    page = staff_client.get(url).content.decode()
    assert re.search(r'type="checkbox" name="audience_classes" value="person"[^>]*checked', page)
    assert 'value="car"' in page

    response = display_change(staff_client, display, audience_classes=["car", "person"])
    assert response.status_code == 302
    display.refresh_from_db()
    assert display.audience_classes == ["person", "car"]  # names, in the model's order

    assert display_change(staff_client, display).status_code == 302  # none: the default
    display.refresh_from_db()
    assert display.audience_classes == ["person"]

    response = display_change(staff_client, display, audience_classes=["lorry"])
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_audience_classes_the_model_lacks_stay_offered(staff_client):
    display = make_display(model=model_with(class_names={"0": "square"}), audience_classes=["car"])
    page = staff_client.get(reverse("admin:cms_display_change", args=[display.pk])).content
    assert b"car (not a class of this model)" in page


def test_audience_classes_fall_back_to_json_while_the_classes_are_unknown(staff_client):
    display = make_display()
    page = staff_client.get(reverse("admin:cms_display_change", args=[display.pk])).content
    assert b"class names are not known yet" in page
    response = display_change(staff_client, display, audience_classes='["person", "car"]')
    assert response.status_code == 302
    display.refresh_from_db()
    assert display.audience_classes == ["person", "car"]


# --- warnings ---------------------------------------------------------------------------------


def test_warnings_untrained_disabled_and_unused():
    used = make_display().model
    assert model_warnings(used) == []
    idle = make_model(enabled=False, version=UNTRAINED_VERSION)
    found = model_warnings(idle)
    assert [w.split(":")[0] for w in found] == ["untrained", "disabled", "unused"]


def test_a_secondary_model_is_used():
    classify = model_with(task="classify")
    make_display(secondary=[{"model": classify.pk}])
    assert not any(w.startswith("unused") for w in model_warnings(classify))


def test_the_list_and_the_change_page_show_the_warnings(staff_client):
    make_display()
    idle = make_model(enabled=False)
    listing = staff_client.get(reverse("admin:cms_detectionmodel_changelist")).content.decode()
    assert listing.count('class="badge badge-warning"') == 2  # idle: disabled, unused
    assert 'title="unused: no display uses this model">unused<' in listing
    page = change_page(staff_client, idle)
    assert "This model is disabled: no display runs on it." in page
    assert "This model is unused: no display uses this model." in page


# --- try on a camera: what the web process refuses or reports --------------------------------


def jpeg(width: int = 64, height: int = 48) -> bytes:
    return cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8))[1].tobytes()


def try_on(staff_client, model, camera_id) -> tuple[int, dict]:
    url = reverse("admin:cms_detectionmodel_try", args=[model.pk])
    response = staff_client.post(url, {"camera": str(camera_id)})
    return response.status_code, response.json()


def heartbeat(r, name: str, **fields) -> None:
    info = WorkerInfo(name=name, device="cpu", capacity=2, last_seen=time.time(), **fields)
    farm_keys.write_worker(r, info)


def test_the_change_page_offers_the_enabled_cameras(staff_client):
    model = make_model()
    make_camera(name="Hall")
    make_camera(name="Off", enabled=False)
    page = change_page(staff_client, model)
    assert 'class="model-tryout"' in page and ">Hall</option>" in page
    assert ">Off</option>" not in page


def test_a_camera_without_a_frame_is_a_clear_409(staff_client, redis_client):
    model, camera = make_model(), make_camera(name="Hall")
    heartbeat(redis_client, "ingest@a")
    status, body = try_on(staff_client, model, camera.pk)
    assert status == 409
    assert body["detail"].startswith("Camera Hall has no frame yet")


def test_no_ingest_worker_is_a_clear_503(staff_client, redis_client):
    model, camera = make_model(), make_camera()
    farm_keys.write_snapshot(redis_client, camera.pk, jpeg())
    status, body = try_on(staff_client, model, camera.pk)
    assert (status, body) == (503, {"detail": "No ingest worker is online to run the model."})


def test_a_worker_that_does_not_answer_is_a_504(staff_client, redis_client, settings):
    settings.SIGHTLINE_TRYOUT_TIMEOUT_S = 1.0
    model, camera = make_model(), make_camera()
    farm_keys.write_snapshot(redis_client, camera.pk, jpeg())
    heartbeat(redis_client, "ingest@silent")  # a heartbeat, and nobody reading its queue
    status, body = try_on(staff_client, model, camera.pk)
    assert status == 504
    assert body["detail"].startswith("Ingest worker ingest@silent did not answer within 1 s")


@pytest.mark.parametrize(
    ("camera", "status", "detail"),
    [("", 400, "Choose a camera."), ("x", 400, "Choose a camera."), ("999999", 404, None)],
)
def test_a_bad_camera_is_a_4xx(staff_client, camera, status, detail):
    url = reverse("admin:cms_detectionmodel_try", args=[make_model().pk])
    response = staff_client.post(url, {"camera": camera})
    assert response.status_code == status
    assert detail is None or response.json()["detail"] == detail
    assert staff_client.get(url).status_code == 405


def test_a_classify_model_is_not_tried(staff_client):
    status, body = try_on(staff_client, model_with(task="classify"), make_camera().pk)
    assert status == 409 and "not a detection model" in body["detail"]


def test_the_try_out_needs_staff(client):
    url = reverse("admin:cms_detectionmodel_try", args=[make_model().pk])
    assert client.post(url, {"camera": "1"}).status_code == 302  # to the login page


def test_choose_worker_prefers_one_that_holds_the_model_then_the_least_loaded():
    model = make_model()
    key = f"{model.pk}:{model.sha256}"

    def info(name, running, models=()):
        return WorkerInfo(name=name, device="cpu", capacity=2, running=running, models=models)

    full_holder = info("a", (1, 2), (key,))
    busy = info("b", (3,))
    idle = info("c", ())
    assert choose_worker({"a": full_holder, "b": busy}, model) == "a"  # nothing to load
    assert choose_worker({"b": busy, "c": idle}, model) == "c"
    assert choose_worker({"a": full_holder}, model) == "a"
    assert choose_worker({}, model) is None


def test_errors_shown_to_the_operator_carry_no_secret():
    message = (
        "fetch failed: http://web:8000/weights/3/?token=eyJtIjozfQ:1s2:abc and "
        "rtsp://admin:hunter2@cam/stream"
    )
    shown = redact(message)
    assert "eyJ" not in shown and "hunter2" not in shown
    assert "token=<redacted>" in shown and "rtsp://<redacted>@cam/stream" in shown


# --- the worker's side, in this process: its error replies -------------------------------------


def reply_of(redis_client, key: str) -> dict:
    import json

    raw = redis_client.lpop(key)
    assert raw is not None
    return json.loads(raw)


def test_the_worker_replies_when_the_camera_has_no_frame(redis_client):
    runtime = WorkerRuntime(name="in-test", capacity=1)
    model, camera = make_model(), make_camera()
    outcome = run_tryout(runtime, model.pk, camera.pk, "sightline:tryout:t1", time.time() + 30)
    assert outcome == "error"
    assert "no frame" in reply_of(redis_client, "sightline:tryout:t1")["error"]


def test_the_worker_replies_when_the_model_does_not_load(
    redis_client, settings, tmp_path, worker_web
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SIGHTLINE_MODEL_CACHE_DIR = str(tmp_path / "cache")
    runtime = WorkerRuntime(name="in-test", capacity=1)
    model = DetectionModel(name="broken")
    model.weights.save("broken.pt", ContentFile(torch_archive_bytes()), save=False)
    model.save()
    camera = make_camera()
    farm_keys.write_snapshot(redis_client, camera.pk, jpeg())
    outcome = run_tryout(runtime, model.pk, camera.pk, "sightline:tryout:t2", time.time() + 60)
    assert outcome == "error"
    error = reply_of(redis_client, "sightline:tryout:t2")["error"]
    assert error.startswith("ModelLoadError: model 'broken 1': cannot load weights"), error
    assert "token=" not in error  # fetched through a signed URL, never quoted


def test_an_expired_try_out_is_not_run(redis_client):
    runtime = WorkerRuntime(name="in-test", capacity=1)
    assert run_tryout(runtime, 1, 1, "sightline:tryout:t3", time.time() - 1) == "expired"
    assert redis_client.exists("sightline:tryout:t3") == 0


def test_replies_expire(redis_client):
    push_reply(redis_client, "sightline:tryout:t4", {"objects": []})
    assert 0 < redis_client.ttl("sightline:tryout:t4") <= 60


def test_drawn_labels_say_class_and_percent():
    from cms.model_tryout import _percent_label

    square = {"class_id": 0, "class_name": "square", "confidence": 0.873, "box": [1, 2, 3, 4]}
    assert _percent_label(square)["class_name"] == "square 87%"
    assert _percent_label({**square, "confidence": 0.004})["class_name"] == "square <1%"


def test_a_weights_fetch_that_fails_leaks_no_signed_url(
    redis_client, settings, tmp_path, caplog, worker_web
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SIGHTLINE_MODEL_CACHE_DIR = str(tmp_path / "cache")
    model = DetectionModel(name="remote")
    model.weights.save("remote.pt", ContentFile(torch_archive_bytes()), save=False)
    model.save()
    Path(model.weights.path).unlink()  # as on a worker that does not share the media folder
    camera = make_camera()
    farm_keys.write_snapshot(redis_client, camera.pk, jpeg())
    runtime = WorkerRuntime(name="in-test", capacity=1)

    outcome = run_tryout(runtime, model.pk, camera.pk, "sightline:tryout:t5", time.time() + 30)

    assert outcome == "error"
    error = reply_of(redis_client, "sightline:tryout:t5")["error"]
    token = signed_weights_url(model).split("token=", 1)[1].split(":", 1)[0]
    assert error.startswith("WeightsFetchError: model 'remote 1'"), error
    assert "HTTP 404" in error  # the lost file, told as such
    assert token not in error and token not in caplog.text
