"""Validation lives in the models' clean(), so the admin and the API share it."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from cms.models import Camera, DetectionModel, Display, hash_token
from tests.factories import make_camera, make_display, make_model

pytestmark = pytest.mark.django_db


def errors_of(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        instance.full_clean()
    return raised.value.message_dict


@pytest.mark.parametrize(
    "url",
    [
        "ftp://camera.example.com/stream",
        "concat:/etc/passwd|/etc/hosts",
        "file:///etc/passwd",
        "/var/videos/demo.mp4",
        "pipe:0",
        "not a url",
        "",
    ],
)
def test_camera_rejects_unsafe_or_unsupported_urls(url, settings):
    settings.SIGHTLINE_ALLOW_FILE_SOURCES = False
    camera = Camera(name="c", identifier="c", url=url)
    assert "url" in errors_of(camera)


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://10.0.0.5:554/stream1",
        "rtsps://camera.example.com/live",
        "http://camera.example.com/mjpeg",
        "https://camera.example.com/live.m3u8",
    ],
)
def test_camera_accepts_stream_urls(url):
    Camera(name="c", identifier="c", url=url).full_clean()


def test_local_files_need_the_setting(settings, tmp_path):
    video = tmp_path / "demo.mp4"
    video.write_bytes(b"\0")
    settings.SIGHTLINE_ALLOW_FILE_SOURCES = False
    assert "url" in errors_of(Camera(name="c", identifier="c", url=str(video)))
    settings.SIGHTLINE_ALLOW_FILE_SOURCES = True
    Camera(name="c", identifier="c", url=str(video)).full_clean()


def test_camera_moves_credentials_out_of_the_url():
    camera = make_camera(url="rtsp://viewer:s3cret@cam.example.com:554/live")
    assert camera.url == "rtsp://cam.example.com:554/live"
    assert (camera.username, camera.password) == ("viewer", "s3cret")


def test_camera_moves_credentials_out_of_an_ipv6_url_decoding_them():
    camera = make_camera(url="rtsp://ad%20min:p%40ss@[fd00::5]:8554/live?ch=1")
    assert camera.url == "rtsp://[fd00::5]:8554/live?ch=1"
    assert (camera.username, camera.password) == ("ad min", "p@ss")


@pytest.mark.parametrize("fps", [0, -1])
def test_camera_fps_must_be_positive(fps):
    camera = Camera(name="c", identifier="c", url="rtsp://cam.example.com/x", fps=fps)
    assert "fps" in errors_of(camera)


def test_snapshot_url_must_be_http():
    camera = Camera(
        name="c", identifier="c", url="rtsp://cam.example.com/x", snapshot_url="rtsp://cam/x"
    )
    assert "snapshot_url" in errors_of(camera)


def test_camera_bad_snapshot_url_is_a_field_error():
    camera = Camera(
        name="c", identifier="c", url="rtsp://cam.example.com/x", snapshot_url="gopher://x"
    )
    assert "snapshot_url" in errors_of(camera)


@pytest.mark.parametrize("field", ["confidence", "iou"])
@pytest.mark.parametrize("value", [0, -0.1, 1.01, 5])
def test_model_thresholds_live_in_the_unit_interval(field, value):
    model = DetectionModel(name="m", hub_name="yolo11n.pt", **{field: value})
    assert field in errors_of(model)


def test_model_threshold_of_one_is_allowed():
    DetectionModel(name="m", hub_name="yolo11n.pt", confidence=1, iou=1).full_clean()


def test_model_needs_exactly_one_weights_source():
    assert errors_of(DetectionModel(name="m"))
    with_both = DetectionModel(name="m", hub_name="yolo11n.pt", weights="weights/x.pt")
    assert errors_of(with_both)


@pytest.mark.parametrize("classes", [[-1], ["person"], [1.5], {"a": 1}, [True]])
def test_model_class_filter_is_a_list_of_class_ids(classes):
    assert "classes" in errors_of(DetectionModel(name="m", hub_name="y.pt", classes=classes))


def test_model_defaults_match_ultralytics_predict():
    model = DetectionModel(name="m", hub_name="yolo11n.pt")
    assert (model.confidence, model.iou, model.imgsz) == (0.25, 0.7, 640)


def test_uploaded_weights_get_their_sha256(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    content = b"pretend weights"
    model = make_model(weights=content)
    assert model.sha256 == hashlib.sha256(content).hexdigest()
    model.weights.save("replaced.pt", ContentFile(b"new weights"))
    model.refresh_from_db()
    assert model.sha256 == hashlib.sha256(b"new weights").hexdigest()


@pytest.mark.parametrize(
    "crop",
    [
        (10, 10, 10, 20),  # zero width
        (10, 10, 20, 10),  # zero height
        (30, 10, 20, 20),  # x2 before x1
        (10, 30, 20, 20),  # y2 before y1
    ],
)
def test_display_crop_needs_order_and_positive_size(crop):
    display = make_display()
    display.crop_x1, display.crop_y1, display.crop_x2, display.crop_y2 = crop
    assert errors_of(display)


def test_display_crop_is_all_or_nothing():
    display = make_display()
    display.crop_x1 = 5
    assert errors_of(display)


def test_display_crop_property():
    display = make_display(crop_x1=1, crop_y1=2, crop_x2=30, crop_y2=40)
    assert display.crop == (1, 2, 30, 40)
    assert make_display().crop is None


def test_display_token_is_stored_hashed_and_rotation_revokes():
    display = make_display()
    token = display.rotate_token()
    display.save()
    assert display.token_hash == hash_token(token) != token
    old_hash = display.token_hash
    new_token = display.rotate_token()
    display.save()
    assert new_token != token
    assert Display.objects.filter(token_hash=old_hash).count() == 0
    assert Display.objects.get(token_hash=hash_token(new_token)) == display


@pytest.mark.parametrize(
    "url", ["rtsp://u:pw@[::1/x", "rtsp://u:p@host:abc/", "rtsp://u:p@host:99999/x"]
)
def test_malformed_urls_with_credentials_are_field_errors(url):
    assert "url" in errors_of(Camera(name="c", identifier="c", url=url))


def test_credentials_typed_into_the_url_replace_stored_ones():
    camera = make_camera(username="old", password="old-secret")
    camera.url = "rtsp://new:new-secret@cam.example.com/live"
    camera.full_clean()
    assert (camera.username, camera.password) == ("new", "new-secret")
    assert camera.url == "rtsp://cam.example.com/live"


@pytest.mark.parametrize("field, value", [("fps", float("nan")), ("fps", float("inf"))])
def test_non_finite_numbers_are_refused(field, value):
    camera = Camera(name="c", identifier="c", url="rtsp://cam.example.com/x", **{field: value})
    assert field in errors_of(camera)


def test_weights_must_be_a_weights_file(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    model = DetectionModel(name="m")
    model.weights.save("notes.txt", ContentFile(b"hello"), save=False)
    assert "weights" in errors_of(model)


def test_display_client_online_follows_heartbeats(settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S = 90
    display = make_display()
    assert not display.client_online
    display.client_last_seen = timezone.now() - timedelta(seconds=30)
    assert display.client_online
    display.client_last_seen = timezone.now() - timedelta(seconds=120)
    assert not display.client_online
