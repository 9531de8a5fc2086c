"""Display clients: their own configuration, state, history and heartbeat, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.authtoken.models import Token

from cms import live
from cms.api.services import rotate_display_token
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo
from cms.models import Display
from streams import StreamReason, StreamState
from tests.api.conftest import token_client
from tests.factories import PERSON, make_detection

pytestmark = pytest.mark.django_db

CLIENT_ENDPOINTS = [
    ("get", "/api/v1/display/"),
    ("get", "/api/v1/display/state/"),
    ("get", "/api/v1/display/detections/"),
    ("post", "/api/v1/display/heartbeat/"),
]


def test_config_describes_the_display_without_camera_credentials(display_a):
    display, token = display_a
    camera = display.camera
    camera.username, camera.password = "viewer", "hunter2-secret"
    camera.save()
    model = display.model
    model.class_names = {"0": "person", "1": "bicycle"}
    model.save()
    display.crop_x1, display.crop_y1, display.crop_x2, display.crop_y2 = 10, 20, 300, 400
    display.policy, display.policy_interval_ms = Display.Policy.INTERVAL, 500
    display.save()

    response = token_client(token).get("/api/v1/display/")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Lobby"
    assert body["identifier"] == display.identifier
    assert body["camera_name"] == camera.name
    assert body["model_name"] == model.name
    assert body["class_names"] == {"0": "person", "1": "bicycle"}
    assert body["crop"] == [10, 20, 300, 400]
    assert body["policy"] == "interval"
    assert body["policy_interval_ms"] == 500
    assert "url" not in response.content.decode() and "hunter2" not in response.content.decode()


def test_state_before_any_result_is_empty_and_not_running(display_a):
    _, token = display_a

    body = token_client(token).get("/api/v1/display/state/").json()

    assert body["objects"] == []
    assert body["frame_time"] is None and body["age_s"] is None
    assert body["running"] is False
    assert body["stream_state"] == "stopped"


def test_state_shows_the_latest_result_and_a_running_stream(display_a, redis_client):
    display, token = display_a
    frame_time = datetime.now(UTC) - timedelta(seconds=2)
    detection = make_detection(display, frame_seq=42, frame_time=frame_time, generation=3)
    live.push_delivered(redis_client, [detection])
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            camera_id=display.camera_id,
            worker="w1",
            generation=3,
            spec_hash="x",
            state=StreamState.ONLINE,
        ),
    )

    body = token_client(token).get("/api/v1/display/state/").json()

    assert body["objects"] == [PERSON]
    assert body["frame_seq"] == 42
    assert body["generation"] == 3
    assert body["detection_id"] == detection.id
    assert 1.5 < body["age_s"] < 30
    assert body["running"] is True
    assert body["stream_state"] == "online"


def test_state_is_not_running_while_the_stream_recovers(display_a, redis_client):
    display, token = display_a
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            camera_id=display.camera_id,
            worker="w1",
            generation=1,
            spec_hash="x",
            state=StreamState.RECOVERING,
            reason=StreamReason.TIMEOUT,
        ),
    )

    body = token_client(token).get("/api/v1/display/state/").json()

    assert body["running"] is False
    assert body["stream_state"] == "recovering"
    assert body["not_running_reason"] == "its camera's stream is recovering (timeout)"


def test_state_says_why_a_display_does_not_run(display_a, redis_client):
    display, token = display_a
    client = token_client(token)
    assert client.get("/api/v1/display/state/").json()["not_running_reason"] == (
        "no ingest task runs its camera yet"
    )

    display.model.enabled = False
    display.model.save()
    assert client.get("/api/v1/display/state/").json()["not_running_reason"] == (
        "its model is disabled"
    )
    display.model.enabled = True
    display.model.save()
    display.camera.enabled = False
    display.camera.save()
    assert client.get("/api/v1/display/state/").json()["not_running_reason"] == (
        "its camera is disabled"
    )

    display.camera.enabled = True
    display.camera.save()
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            display.camera_id, "w1", 1, "x", StreamState.ONLINE,
            display_errors=((display.id, "model m 1: cannot read weights"),),
        ),
    )  # fmt: skip
    body = client.get("/api/v1/display/state/").json()
    # the camera runs, for its other displays, but this display gets nothing
    assert body["running"] is False
    assert body["stream_state"] == "online"
    assert body["not_running_reason"] == "its model failed to load: model m 1: cannot read weights"


def test_state_of_a_running_display_has_no_reason(display_a, redis_client):
    display, token = display_a
    farm_keys.write_stream(
        redis_client, StreamInfo(display.camera_id, "w1", 1, "x", StreamState.ONLINE)
    )

    body = token_client(token).get("/api/v1/display/state/").json()

    assert body["running"] is True and body["not_running_reason"] is None


def test_detections_page_forward_with_a_cursor(display_a):
    display, token = display_a
    rows = [make_detection(display) for _ in range(5)]
    client = token_client(token)

    first = client.get("/api/v1/display/detections/", {"after": 0, "limit": 2}).json()
    assert [d["id"] for d in first["results"]] == [rows[0].id, rows[1].id]
    assert first["next"] is not None

    second = client.get(first["next"]).json()
    assert [d["id"] for d in second["results"]] == [rows[2].id, rows[3].id]

    third = client.get(second["next"]).json()
    assert [d["id"] for d in third["results"]] == [rows[4].id]
    assert third["next"] is None

    item = third["results"][0]
    assert set(item) == {"id", "frame_seq", "frame_time", "generation", "objects"}
    assert item["objects"] == [PERSON]
    assert item["frame_seq"] == rows[4].frame_seq


def test_detections_without_a_cursor_are_the_newest_oldest_first(display_a):
    display, token = display_a
    rows = [make_detection(display) for _ in range(4)]

    body = token_client(token).get("/api/v1/display/detections/", {"limit": 3}).json()

    assert [d["id"] for d in body["results"]] == [r.id for r in rows[1:]]
    assert body["next"] is None


@pytest.mark.parametrize(
    "query",
    [
        {"after": "x"},
        {"after": "-1"},
        {"after": "1e3"},
        {"after": str(2**64)},
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "ten"},
    ],
)
def test_bad_query_parameters_are_400_with_field_messages(display_a, query):
    _, token = display_a

    response = token_client(token).get("/api/v1/display/detections/", query)

    assert response.status_code == 400
    assert set(response.json()) <= {"after", "limit"}


def test_one_detection_of_the_display_is_readable_by_id(display_a):
    display, token = display_a
    detection = make_detection(display)

    response = token_client(token).get(f"/api/v1/display/detections/{detection.id}/")

    assert response.status_code == 200
    assert response.json()["id"] == detection.id


def test_display_a_cannot_read_display_b(display_a, display_b):
    a, token_a = display_a
    b, _ = display_b
    mine = make_detection(a)
    theirs = make_detection(b)
    client = token_client(token_a)

    assert client.get(f"/api/v1/display/detections/{theirs.id}/").status_code == 404
    history = client.get("/api/v1/display/detections/", {"after": 0}).json()
    assert [d["id"] for d in history["results"]] == [mine.id]
    assert client.get("/api/v1/display/").json()["id"] == a.id
    # The operator endpoints do not take display tokens at all.
    assert client.get(f"/api/v1/displays/{b.id}/").status_code == 401
    assert client.get(f"/api/v1/displays/{a.id}/").status_code == 401


def test_heartbeat_records_the_client_without_touching_the_configuration(display_a):
    display, token = display_a
    updated_before = display.updated

    response = token_client(token).post(
        "/api/v1/display/heartbeat/", {"version": "2.1.0", "showing": "menu board"}
    )

    assert response.status_code == 200
    display.refresh_from_db()
    assert display.client_version == "2.1.0"
    assert display.client_showing == "menu board"
    assert display.client_last_seen is not None
    assert display.updated == updated_before
    assert response.json()["display_updated"] is not None


def test_heartbeat_without_a_body_keeps_what_the_client_said_before(display_a):
    display, token = display_a
    client = token_client(token)
    client.post("/api/v1/display/heartbeat/", {"version": "1.0"})

    assert client.post("/api/v1/display/heartbeat/").status_code == 200

    display.refresh_from_db()
    assert display.client_version == "1.0"


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{not json", "application/json"),
        ('["a list"]', "application/json"),
        ('"a string"', "application/json"),
        ('{"version": ["not", "a", "string"]}', "application/json"),
        ('{"version": "' + "v" * 101 + '"}', "application/json"),
        ('{"showing": "\\u0000"}', "application/json"),
        ("null", "application/json"),
    ],
)
def test_heartbeat_with_bad_input_is_400(display_a, body, content_type):
    _, token = display_a

    response = token_client(token).post(
        "/api/v1/display/heartbeat/", body, content_type=content_type
    )

    assert response.status_code == 400


@pytest.mark.parametrize("method, path", CLIENT_ENDPOINTS)
def test_requests_without_credentials_are_401(client, method, path):
    response = getattr(client, method)(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize(
    "header",
    ["Token not-a-real-token", "Token", "Token a b", "Bearer whatever", "Token \u00e9t\u00e9"],
)
def test_wrong_or_malformed_tokens_are_401(client, display_a, header):
    response = client.get("/api/v1/display/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401


def test_a_rotated_out_token_gets_401(display_a):
    display, old_token = display_a
    new_token = rotate_display_token(display)

    assert token_client(old_token).get("/api/v1/display/").status_code == 401
    assert token_client(new_token).get("/api/v1/display/").status_code == 200


def test_a_staff_token_is_not_a_display_token(superuser, display_a):
    staff = token_client(Token.objects.create(user=superuser).key)

    for method, path in CLIENT_ENDPOINTS:
        assert getattr(staff, method)(path).status_code == 401


def test_the_admin_session_does_not_open_display_endpoints(client, superuser, display_a):
    client.force_login(superuser)

    assert client.get("/api/v1/display/").status_code == 401


def test_display_tokens_are_rate_limited(settings, display_a, display_b):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"display": "3/min"},
    }
    _, token_a = display_a
    _, token_b = display_b
    client = token_client(token_a)

    statuses = [client.get("/api/v1/display/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/display/state/")
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 60
    # Another display has its own allowance.
    assert token_client(token_b).get("/api/v1/display/").status_code == 200


def test_state_answers_503_when_redis_is_unreachable(settings, display_a):
    _, token = display_a
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = token_client(token).get("/api/v1/display/state/")

    assert response.status_code == 503
    assert "Redis" in response.json()["detail"]
