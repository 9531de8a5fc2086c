"""Operators manage cameras, models and displays; the model's own rules validate the input."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cms.models import Camera, DetectionModel, Display, hash_token
from tests.api.conftest import token_client, user_client
from tests.factories import make_camera, make_display, make_model
from tests.support.models import torch_archive_bytes

pytestmark = pytest.mark.django_db


# --- cameras ------------------------------------------------------------------------------


def test_create_camera_moves_url_credentials_and_masks_them(operator):
    response = operator.post(
        "/api/v1/cameras/",
        {
            "name": "Gate",
            "identifier": "gate",
            "url": "rtsp://viewer:hunter2-secret@cam.example.com:554/live",
            "fps": 10,
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["url"] == "rtsp://cam.example.com:554/live"
    assert body["username"] == "viewer"
    assert body["has_password"] is True
    assert "password" not in body
    assert "hunter2" not in response.content.decode()
    camera = Camera.objects.get(pk=body["id"])
    assert (camera.username, camera.password) == ("viewer", "hunter2-secret")


def test_camera_password_is_write_only_and_kept_when_omitted(operator):
    camera = make_camera(username="viewer", password="hunter2-secret")

    read = operator.get(f"/api/v1/cameras/{camera.id}/")
    assert "hunter2" not in read.content.decode() and read.json()["has_password"] is True

    renamed = operator.patch(f"/api/v1/cameras/{camera.id}/", {"name": "Renamed"})
    assert renamed.status_code == 200
    camera.refresh_from_db()
    assert camera.password == "hunter2-secret"

    cleared = operator.patch(f"/api/v1/cameras/{camera.id}/", {"password": ""})
    assert cleared.json()["has_password"] is False


def test_a_masked_query_secret_sent_back_unchanged_keeps_the_stored_url(operator):
    camera = make_camera(url="https://cam.example.com/video.mjpg?token=s3cr3t-value")
    read = operator.get(f"/api/v1/cameras/{camera.id}/").json()
    assert "s3cr3t" not in read["url"]

    response = operator.put(f"/api/v1/cameras/{camera.id}/", {**read, "name": "Same URL"})

    assert response.status_code == 200, response.json()
    camera.refresh_from_db()
    assert camera.url == "https://cam.example.com/video.mjpg?token=s3cr3t-value"


@pytest.mark.parametrize(
    "fields, error_field",
    [
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "concat:rtsp://a|rtsp://b"}, "url"),
        ({"url": ""}, "url"),
        ({"fps": 0}, "fps"),
        ({"fps": "nan"}, "fps"),
        ({"fps": "inf"}, "fps"),
        ({"snapshot_interval": "Infinity"}, "snapshot_interval"),
        ({"identifier": "not a slug!"}, "identifier"),
        ({"url": "rtsp://u:pw@[::1/x"}, "url"),
        ({"url": "rtsp://u:p@host:abc/"}, "url"),
        ({"url": "rtsp://u:p@host:99999/x"}, "url"),
        ({"snapshot_url": "http://[::1/x"}, "snapshot_url"),
    ],
)
def test_invalid_camera_is_400_with_field_messages(operator, settings, fields, error_field):
    settings.SIGHTLINE_ALLOW_FILE_SOURCES = False
    data = {"name": "Cam", "identifier": "cam", "url": "rtsp://cam.example.com/live", **fields}

    response = operator.post("/api/v1/cameras/", data)

    assert response.status_code == 400
    assert error_field in response.json()


def test_duplicate_identifier_is_400(operator):
    make_camera(identifier="gate")

    response = operator.post(
        "/api/v1/cameras/", {"name": "G", "identifier": "gate", "url": "rtsp://h/x"}
    )

    assert response.status_code == 400
    assert "identifier" in response.json()


def test_camera_list_update_and_delete(operator):
    camera = make_camera(name="Old")

    assert [c["id"] for c in operator.get("/api/v1/cameras/").json()] == [camera.id]
    assert (
        operator.patch(f"/api/v1/cameras/{camera.id}/", {"enabled": False}).json()["enabled"]
        is False
    )
    assert operator.delete(f"/api/v1/cameras/{camera.id}/").status_code == 204
    assert operator.get(f"/api/v1/cameras/{camera.id}/").status_code == 404


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{broken", "application/json"),
        ("[1, 2]", "application/json"),
        ('{"name": 5, "identifier": [], "url": {}}', "application/json"),
        ('{"name": "x", "identifier": "x", "url": "rtsp://h/x", "fps": NaN}', "application/json"),
        ("name=x", "text/plain"),
    ],
)
def test_malformed_camera_input_is_4xx(operator, body, content_type):
    response = operator.generic("POST", "/api/v1/cameras/", body, content_type=content_type)

    assert response.status_code in (400, 415)


# --- models -----------------------------------------------------------------------------------


def test_upload_weights_as_multipart(operator):
    weights = torch_archive_bytes()  # shaped like a torch archive: the upload check passes
    response = operator.post(
        "/api/v1/models/",
        {
            "name": "people",
            "version": "2",
            "weights": SimpleUploadedFile("people.pt", weights),
            "confidence": "0.4",
            "classes": [0, 2],
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sha256"] == hashlib.sha256(weights).hexdigest()
    assert body["weights"].startswith("weights/") and body["weights"].endswith(".pt")
    assert body["classes"] == [0, 2]
    assert body["confidence"] == 0.4
    model = DetectionModel.objects.get(pk=body["id"])
    assert model.weights.read() == weights


def test_create_model_by_hub_name_as_json(operator):
    response = operator.post("/api/v1/models/", {"name": "yolo", "hub_name": "yolo11n.pt"})

    assert response.status_code == 201
    assert response.json()["weights"] is None


@pytest.mark.parametrize(
    "fields, error_field",
    [
        ({}, "non_field_errors"),  # neither weights nor a hub name
        ({"hub_name": "../../etc/passwd"}, "hub_name"),
        ({"hub_name": "yolo11n.pt", "confidence": 1.5}, "confidence"),
        ({"hub_name": "yolo11n.pt", "iou": 0}, "iou"),
        ({"hub_name": "yolo11n.pt", "imgsz": 8}, "imgsz"),
        ({"hub_name": "yolo11n.pt", "classes": [-1]}, "classes"),
        ({"hub_name": "yolo11n.pt", "classes": "0,2"}, "classes"),
        ({"hub_name": "yolo11n.pt", "backend": "tflite"}, "backend"),
        ({"hub_name": "yolo11n.pt", "backend": "auto"}, "backend"),
    ],
)
def test_invalid_model_is_400(operator, fields, error_field):
    response = operator.post("/api/v1/models/", {"name": "m", **fields})

    assert response.status_code == 400
    assert error_field in response.json(), response.json()


def test_a_model_backend_is_set_and_cleared_through_the_api(operator):
    created = operator.post(
        "/api/v1/models/", {"name": "m", "hub_name": "yolo11n.pt", "backend": "openvino"}
    )
    assert created.status_code == 201, created.json()
    assert created.json()["backend"] == "openvino"
    url = f"/api/v1/models/{created.json()['id']}/"
    cleared = operator.patch(url, {"backend": ""}, format="json")
    assert cleared.status_code == 200, cleared.json()
    assert cleared.json()["backend"] == ""
    assert DetectionModel.objects.get().backend == ""


def test_a_model_in_use_cannot_be_deleted(operator):
    display = make_display()

    response = operator.delete(f"/api/v1/models/{display.model_id}/")

    assert response.status_code == 409
    assert display.name in response.json()["detail"]
    assert DetectionModel.objects.filter(pk=display.model_id).exists()


# --- displays ---------------------------------------------------------------------------------


def test_create_display_returns_its_token_once(operator):
    camera, model = make_camera(), make_model()

    response = operator.post(
        "/api/v1/displays/",
        {
            "name": "Lobby",
            "identifier": "lobby",
            "camera": camera.id,
            "model": model.id,
            "crop": [0, 0, 640, 360],
            "policy": "change",
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    token = body["token"]
    display = Display.objects.get(pk=body["id"])
    assert display.token_hash == hash_token(token)
    assert display.crop == (0, 0, 640, 360)
    assert token_client(token).get("/api/v1/display/").status_code == 200
    # Never again.
    assert token not in operator.get(f"/api/v1/displays/{display.id}/").content.decode()
    assert "token" not in operator.get("/api/v1/displays/").json()[0]


def test_rotate_token_revokes_the_old_one(operator):
    camera, model = make_camera(), make_model()
    created = operator.post(
        "/api/v1/displays/",
        {"name": "D", "identifier": "d", "camera": camera.id, "model": model.id},
    ).json()

    rotated = operator.post(f"/api/v1/displays/{created['id']}/rotate-token/")

    assert rotated.status_code == 200
    new_token = rotated.json()["token"]
    assert new_token != created["token"]
    assert token_client(created["token"]).get("/api/v1/display/").status_code == 401
    assert token_client(new_token).get("/api/v1/display/").status_code == 200


@pytest.mark.parametrize(
    "crop, status",
    [
        (None, 200),
        ([0, 0, 10, 10], 200),
        ([10, 0, 5, 10], 400),  # x2 <= x1: the model's clean() says so
        ([0, 0, 10], 400),
        ([0, 0, 10, -1], 400),
        ([0, 0, 10, 2**40], 400),
        ("0,0,10,10", 400),
    ],
)
def test_display_crop_is_validated_by_the_model(operator, crop, status):
    display = make_display()

    response = operator.patch(f"/api/v1/displays/{display.id}/", {"crop": crop})

    assert response.status_code == status, response.json()
    if status == 400:
        assert "crop" in response.json()
    else:
        assert response.json()["crop"] == crop


def test_display_with_unknown_camera_is_400(operator):
    model = make_model()

    response = operator.post(
        "/api/v1/displays/",
        {"name": "D", "identifier": "d", "camera": 999999, "model": model.id},
    )

    assert response.status_code == 400
    assert "camera" in response.json()


def test_display_shows_its_client_online_after_a_heartbeat(operator):
    camera, model = make_camera(), make_model()
    created = operator.post(
        "/api/v1/displays/",
        {"name": "D", "identifier": "d", "camera": camera.id, "model": model.id},
    ).json()
    assert created["client_online"] is False

    token_client(created["token"]).post("/api/v1/display/heartbeat/", {"version": "3.0"})

    body = operator.get(f"/api/v1/displays/{created['id']}/").json()
    assert body["client_online"] is True
    assert body["client_version"] == "3.0"


# --- fields left out take the model's default in every content type ---------------------------

CONTENT_TYPES = ["json", "multipart", "form"]


def _send(client, method, path, data, content_type):
    if content_type == "form":
        body = urlencode(data, doseq=True)
        return client.generic(method, path, body, "application/x-www-form-urlencoded")
    return getattr(client, method.lower())(path, data, format=content_type)


def _create_data(kind, content_type):
    if kind == "cameras":
        return {"name": "Gate", "identifier": "gate", "url": "rtsp://cam.example.com/live"}
    if kind == "models":
        if content_type == "multipart":  # as docs/api.md shows: curl -F weights=@x.pt
            return {
                "name": "people",
                "version": "2",
                "weights": SimpleUploadedFile("x.pt", torch_archive_bytes()),
            }
        return {"name": "people", "version": "2", "hub_name": "yolo11n.pt"}
    camera, model = make_camera(), make_model()
    return {"name": "Lobby", "identifier": "lobby", "camera": camera.pk, "model": model.pk}


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize("kind", ["cameras", "models", "displays"])
def test_a_create_without_enabled_is_enabled_in_every_content_type(operator, kind, content_type):
    data = _create_data(kind, content_type)

    response = _send(operator, "POST", f"/api/v1/{kind}/", data, content_type)

    assert response.status_code == 201, response.json()
    assert response.json()["enabled"] is True


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize("kind", ["cameras", "models", "displays"])
def test_enabled_false_is_kept_and_an_update_without_it_leaves_it(operator, kind, content_type):
    data = {**_create_data(kind, content_type), "enabled": False}
    created = _send(operator, "POST", f"/api/v1/{kind}/", data, content_type)
    assert created.status_code == 201, created.json()
    assert created.json()["enabled"] is False
    path = f"/api/v1/{kind}/{created.json()['id']}/"

    renamed = _send(operator, "PATCH", path, {"name": "Renamed"}, content_type)

    assert renamed.status_code == 200, renamed.json()
    assert renamed.json()["enabled"] is False
    assert renamed.json()["name"] == "Renamed"


# --- who may do what ------------------------------------------------------------------------------

UNSAFE = [
    ("post", "/api/v1/cameras/", {}),
    ("put", "/api/v1/cameras/{camera}/", {}),
    ("patch", "/api/v1/cameras/{camera}/", {}),
    ("delete", "/api/v1/cameras/{camera}/", None),
    ("post", "/api/v1/models/", {}),
    ("patch", "/api/v1/models/{model}/", {}),
    ("delete", "/api/v1/models/{model}/", None),
    ("post", "/api/v1/displays/", {}),
    ("patch", "/api/v1/displays/{display}/", {}),
    ("delete", "/api/v1/displays/{display}/", None),
    ("post", "/api/v1/displays/{display}/rotate-token/", None),
    ("post", "/api/v1/reconcile/", None),
]
READS = [
    "/api/v1/cameras/",
    "/api/v1/cameras/{camera}/",
    "/api/v1/models/",
    "/api/v1/models/{model}/",
    "/api/v1/displays/",
    "/api/v1/displays/{display}/",
    "/api/v1/cluster/",
]


def _ids():
    display = make_display()
    return {"camera": display.camera_id, "model": display.model_id, "display": display.id}


def _call(client, method, path, data):
    return (
        getattr(client, method)(path, data) if data is not None else getattr(client, method)(path)
    )


def test_anonymous_gets_401_everywhere(client):
    ids = _ids()
    for method, path, data in UNSAFE:
        assert _call(client, method, path.format(**ids), data).status_code == 401, path
    for path in READS:
        assert client.get(path.format(**ids)).status_code == 401, path


def test_non_staff_user_cannot_change_or_read_anything(make_user):
    # Even holding every permission, a user who is not staff is not an operator.
    user = make_user(
        staff=False,
        perms=("cms.add_camera", "cms.change_camera", "cms.delete_camera", "cms.view_camera"),
    )
    client = user_client(user)
    ids = _ids()
    before = (Camera.objects.count(), DetectionModel.objects.count(), Display.objects.count())

    for method, path, data in UNSAFE:
        assert _call(client, method, path.format(**ids), data).status_code == 403, path
    for path in READS:
        assert client.get(path.format(**ids)).status_code == 403, path
    after = (Camera.objects.count(), DetectionModel.objects.count(), Display.objects.count())
    assert after == before


def test_non_staff_session_user_gets_403(client, make_user):
    client.force_login(make_user(staff=False))

    assert client.get("/api/v1/cameras/").status_code == 403
    assert client.post("/api/v1/reconcile/").status_code == 403


def test_staff_without_permissions_gets_403(make_user):
    client = user_client(make_user(staff=True))
    ids = _ids()

    for method, path, data in UNSAFE:
        assert _call(client, method, path.format(**ids), data).status_code == 403, path
    for path in READS:
        assert client.get(path.format(**ids)).status_code == 403, path


def test_staff_with_view_permission_reads_but_cannot_change(make_user):
    client = user_client(make_user(perms=("cms.view_camera",)))
    camera = make_camera()

    assert client.get(f"/api/v1/cameras/{camera.id}/").status_code == 200
    assert client.get("/api/v1/cluster/").status_code == 200
    assert client.patch(f"/api/v1/cameras/{camera.id}/", {"name": "x"}).status_code == 403
    assert client.delete(f"/api/v1/cameras/{camera.id}/").status_code == 403
    assert client.get("/api/v1/displays/").status_code == 403


def test_staff_with_change_permission_can_change(make_user):
    client = user_client(make_user(perms=("cms.view_display", "cms.change_display")))
    display = make_display()

    assert client.patch(f"/api/v1/displays/{display.id}/", {"name": "x"}).status_code == 200
    assert client.post(f"/api/v1/displays/{display.id}/rotate-token/").status_code == 200
    assert client.delete(f"/api/v1/displays/{display.id}/").status_code == 403


def test_session_auth_needs_csrf_for_changes(make_user, superuser):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(superuser)

    assert client.get("/api/v1/cameras/").status_code == 200
    assert client.post("/api/v1/reconcile/").status_code == 403


def test_display_token_does_not_open_operator_endpoints(display_a):
    display, token = display_a
    client = token_client(token)

    assert client.get("/api/v1/cameras/").status_code == 401
    assert client.get("/api/v1/cluster/").status_code == 401
    assert client.post(f"/api/v1/displays/{display.id}/rotate-token/").status_code == 401
