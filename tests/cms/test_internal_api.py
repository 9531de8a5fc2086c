"""The web server's internal endpoints for ingest workers: camera and model sources."""

from __future__ import annotations

import logging

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from cms.models import StreamAssignment
from cms.worker_secret import worker_secret
from tests.factories import make_camera, make_model

pytestmark = pytest.mark.django_db

SECRET = "internal-api-test-secret-0123456789"
PASSWORD = "s3cr3t-camera-password"


@pytest.fixture(autouse=True)
def _secret(settings) -> None:
    settings.SIGHTLINE_WORKER_SECRET = SECRET


def worker_get(client, path: str, secret: str = SECRET, **params):
    return client.get(path, params, HTTP_AUTHORIZATION=f"Worker {secret}")


@pytest.fixture
def assigned():
    camera = make_camera(username="admin", password=PASSWORD, fps=4)
    StreamAssignment.objects.create(camera=camera, worker="ingest@gpu1", generation=3)
    return camera


def source_path(camera) -> str:
    return f"/internal/v1/cameras/{camera.pk}/source"


def test_the_assigned_worker_gets_its_cameras_source_never_cached(client, assigned, caplog):
    caplog.set_level(logging.DEBUG)
    response = worker_get(client, source_path(assigned), generation=3, worker="ingest@gpu1")

    assert response.status_code == 200
    assert response.json() == {
        "url": assigned.url, "username": "admin", "password": PASSWORD, "fps": 4.0,
        "snapshot_url": "", "snapshot_interval": assigned.snapshot_interval,
    }  # fmt: skip
    assert "no-store" in response["Cache-Control"]
    assert PASSWORD not in caplog.text and SECRET not in caplog.text


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"generation": 2, "worker": "ingest@gpu1"}, 409),  # a stale generation
        ({"generation": 4, "worker": "ingest@gpu1"}, 409),  # a future one
        ({"generation": 3, "worker": "ingest@gpu2"}, 409),  # not this worker's camera
        ({"generation": "x", "worker": "ingest@gpu1"}, 400),
        ({"worker": "ingest@gpu1"}, 400),
    ],
)
def test_anyone_else_gets_no_source(client, assigned, params, status, caplog):
    caplog.set_level(logging.DEBUG)
    response = worker_get(client, source_path(assigned), **params)

    assert response.status_code == status
    assert PASSWORD not in response.content.decode() and PASSWORD not in caplog.text


@pytest.mark.parametrize(
    "authorization", ["", f"Token {SECRET}", "Worker wrong", f"Worker {SECRET}x"]
)
def test_without_the_secret_it_is_403(client, assigned, authorization, caplog):
    response = client.get(
        source_path(assigned), {"generation": 3, "worker": "ingest@gpu1"},
        HTTP_AUTHORIZATION=authorization,
    )  # fmt: skip

    assert response.status_code == 403
    assert PASSWORD not in response.content.decode()
    assert SECRET not in caplog.text


def test_an_unknown_camera_is_404(client):
    assert (
        worker_get(client, "/internal/v1/cameras/999/source", generation=1, worker="w").status_code
        == 404
    )


def test_a_server_without_a_secret_answers_no_one(client, assigned, settings):
    settings.SIGHTLINE_WORKER_SECRET = ""
    settings.DEBUG = False
    response = worker_get(
        client, source_path(assigned), secret="", generation=3, worker="ingest@gpu1"
    )
    assert response.status_code == 403
    with pytest.raises(ImproperlyConfigured, match="SIGHTLINE_WORKER_SECRET"):
        worker_secret()


def test_in_development_a_secret_is_generated_once_under_data(settings, tmp_path):
    settings.SIGHTLINE_WORKER_SECRET = ""
    settings.DEBUG = True
    settings.DATA_DIR = tmp_path

    first = worker_secret()

    assert len(first) >= 16 and worker_secret() == first
    assert (tmp_path / "worker-secret").stat().st_mode & 0o077 == 0


def test_the_assignment_is_the_databases_record(client, assigned):
    response = worker_get(client, f"/internal/v1/cameras/{assigned.pk}/assignment")
    assert response.json() == {"generation": 3, "worker": "ingest@gpu1", "spec_hash": ""}
    assert worker_get(client, "/internal/v1/cameras/999/assignment").status_code == 404


def test_a_models_source_has_a_signed_weights_url_that_serves_them(client):
    model = make_model(weights=b"weights-bytes", confidence=0.3, classes=[0, 2])

    response = worker_get(client, f"/internal/v1/models/{model.pk}/source")

    data = response.json()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert (data["name"], data["sha256"], data["suffix"]) == (model.name, model.sha256, ".pt")
    assert (data["confidence"], data["classes"]) == (0.3, [0, 2])
    weights = client.get(data["weights_url"])
    assert weights.status_code == 200
    assert b"".join(weights.streaming_content) == b"weights-bytes"


def test_a_hub_models_source_names_it(client):
    model = make_model(hub_name="yolo11n.pt")
    data = worker_get(client, f"/internal/v1/models/{model.pk}/source").json()
    assert (data["hub_name"], data["weights_url"]) == ("yolo11n.pt", "")
    assert worker_get(client, "/internal/v1/models/999/source").status_code == 404


def test_only_get_is_answered(client, assigned):
    response = client.post(source_path(assigned), HTTP_AUTHORIZATION=f"Worker {SECRET}")
    assert response.status_code in (403, 405)


def test_the_internal_endpoints_are_not_in_the_public_schema(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    assert not [path for path in schema["paths"] if "internal" in path]
