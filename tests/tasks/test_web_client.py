"""The ingest worker's client of the internal endpoints, against a real web server."""

from __future__ import annotations

import socket

import pytest

from cms.models import StreamAssignment
from tasks import web_client
from tests.conftest import WORKER_SECRET
from tests.factories import make_camera, make_model

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "cl13nt-camera-password"


def test_the_assigned_worker_gets_the_source_and_others_a_conflict_without_it(worker_web):
    camera = make_camera(password=PASSWORD)
    StreamAssignment.objects.create(camera=camera, worker="ingest@a", generation=2)

    assert web_client.camera_source(camera.pk, 2, "ingest@a")["password"] == PASSWORD
    with pytest.raises(web_client.NotAssigned) as stale:
        web_client.camera_source(camera.pk, 1, "ingest@a")
    assert stale.value.status == 409 and PASSWORD not in str(stale.value)
    assert web_client.camera_assignment(camera.pk) == (2, "ingest@a", "")
    assert web_client.camera_assignment(camera.pk + 1000) is None


def test_a_refusal_is_raised_at_once_and_its_text_holds_no_secret(worker_web):
    camera = make_camera(password=PASSWORD)
    StreamAssignment.objects.create(camera=camera, worker="ingest@a", generation=2)

    with pytest.raises(web_client.WebError) as refused:
        web_client.camera_source(camera.pk, 2, "")  # no worker name: 400, not retried

    assert refused.value.status == 400
    assert WORKER_SECRET not in str(refused.value) and PASSWORD not in str(refused.value)


def test_a_model_source_has_an_absolute_signed_url(worker_web):
    model = make_model(weights=b"bytes")
    source = web_client.model_source(model.pk)
    assert source["weights_url"].startswith(f"{worker_web.url}/models/{model.pk}/weights?token=")


def test_no_web_server_is_a_web_error(settings):
    settings.SIGHTLINE_WORKER_SECRET = WORKER_SECRET
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    settings.SIGHTLINE_WEB_URL = f"http://127.0.0.1:{port}"
    settings.SIGHTLINE_WEB_TIMEOUT_S = 1
    with pytest.raises(web_client.WebError) as error:
        web_client.model_source(1)
    assert error.value.status is None
