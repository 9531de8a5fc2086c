"""No response anywhere carries a camera password or a token, except the token just issued."""

from __future__ import annotations

import time

import pytest

from cms import live
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo
from cms.models import StreamAssignment
from tests.api.conftest import token_client
from tests.factories import make_camera, make_detection, make_model

pytestmark = pytest.mark.django_db

PASSWORD = "hunter2-camera-secret"
QUERY_SECRET = "q-s3cr3t-value"


@pytest.fixture
def farm(operator, redis_client):
    """A camera with secrets everywhere they could leak from, a display and its token."""
    camera = make_camera(
        url=f"https://viewer:{PASSWORD}@cam.example.com/video.mjpg?token={QUERY_SECRET}",
        snapshot_url=f"https://cam.example.com/snap.jpg?password={QUERY_SECRET}",
    )
    created = operator.post(
        "/api/v1/displays/",
        {"name": "Lobby", "identifier": "lobby", "camera": camera.id, "model": make_model().id},
    )
    display_id, token = created.json()["id"], created.json()["token"]
    detection = make_detection(camera.displays.get())
    error = f"401 from https://viewer:{PASSWORD}@cam.example.com ({PASSWORD})"
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            camera_id=camera.id, worker="w", generation=1, spec_hash="s", last_error=error,
            updated=time.time(),
        ),
    )  # fmt: skip
    StreamAssignment.objects.create(camera=camera, pending_reason=f"failed: {error}")
    farm_keys.write_snapshot(redis_client, camera.id, b"\xff\xd8 not really a jpeg")
    live.push_delivered(redis_client, [detection])
    return {"camera": camera.id, "display": display_id, "token": token}


def secrets(farm, operator_token):
    return [PASSWORD, QUERY_SECRET, farm["token"], operator_token]


def test_operator_responses_hold_no_secret(operator, farm):
    ids = farm
    paths = [
        "/api/v1/cameras/",
        f"/api/v1/cameras/{ids['camera']}/",
        f"/api/v1/cameras/{ids['camera']}/snapshot.jpg",
        "/api/v1/models/",
        "/api/v1/displays/",
        f"/api/v1/displays/{ids['display']}/",
        "/api/v1/cluster/",
        "/api/schema/",
        "/api/docs/",
    ]
    responses = [operator.get(path) for path in paths]
    responses += [
        operator.patch(f"/api/v1/cameras/{ids['camera']}/", {"name": "Renamed"}),
        operator.patch(f"/api/v1/cameras/{ids['camera']}/", {"url": "ftp://u:hunter2@h/"}),
        operator.post(
            "/api/v1/cameras/",
            {"name": "x", "identifier": "x", "url": f"gopher://h/?password={QUERY_SECRET}"},
        ),
        operator.post("/api/v1/reconcile/"),
    ]

    for response in responses:
        assert response.status_code < 500
        for secret in [*secrets(farm, operator.credentials_key()), "hunter2"]:
            assert secret.encode() not in response.content, response.wsgi_request.path


def test_display_client_responses_hold_no_secret(operator, farm):
    client = token_client(farm["token"])
    responses = [
        client.get("/api/v1/display/"),
        client.get("/api/v1/display/state/"),
        client.get("/api/v1/display/detections/"),
        client.post("/api/v1/display/heartbeat/", {"version": "1"}),
    ]

    for response in responses:
        assert response.status_code == 200
        for secret in secrets(farm, operator.credentials_key()):
            assert secret.encode() not in response.content, response.wsgi_request.path


def test_a_token_appears_only_in_the_response_that_issued_it(operator, farm):
    rotated = operator.post(f"/api/v1/displays/{farm['display']}/rotate-token/").json()["token"]

    later = [
        operator.get("/api/v1/displays/"),
        operator.get(f"/api/v1/displays/{farm['display']}/"),
        token_client(rotated).get("/api/v1/display/"),
    ]

    for response in later:
        assert rotated.encode() not in response.content
        assert farm["token"].encode() not in response.content
