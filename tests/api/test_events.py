"""Server-Sent Events against a real uvicorn: live events, resync with Last-Event-ID, keepalives.

The server is a separate process, so the rows it reads must be committed
(``transaction=True``); it shares this session's Redis and test database.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests
from asgiref.sync import async_to_sync

from cms import live
from cms.api.events import parse_message
from cms.api.services import rotate_display_token
from tests.api.asgi_server import AsgiServer, EventStream, wait_for
from tests.api.conftest import token_client
from tests.factories import make_detection, make_object_event

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = "/api/v1/display/events/"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        server = AsgiServer(tmp_path_factory.mktemp("uvicorn") / "uvicorn.log").start()
    yield server
    server.stop()


def deliver(redis_client, detection):
    """What the results consumer does once a Detection row is stored: publish it live."""
    live.push_delivered(redis_client, [detection])


def rest_item(token, detection_id):
    return token_client(token).get(f"/api/v1/display/detections/{detection_id}/").json()


def test_live_events_arrive_for_the_display_only(server, display_a, display_b, redis_client):
    display, token = display_a
    with EventStream(server.url + EVENTS, token) as stream:
        assert stream.status_code == 200
        assert stream.response.headers["Content-Type"].startswith("text/event-stream")
        assert stream.response.headers["Cache-Control"] == "no-cache"
        stream.wait_ready()

        deliver(redis_client, make_detection(display_b[0]))
        mine = make_detection(display)
        deliver(redis_client, mine)
        event = stream.next_event()

    assert event["event"] == "detection"
    assert event["id"] == mine.id
    # The same shape and format as the detections endpoint.
    assert event["data"] == rest_item(token, mine.id)


def test_reconnect_with_last_event_id_gets_exactly_the_missed_events_then_live(
    server, display_a, redis_client
):
    display, token = display_a
    url = server.url + EVENTS
    with EventStream(url, token) as stream:
        stream.wait_ready()
        first = make_detection(display)
        deliver(redis_client, first)
        assert stream.next_event()["id"] == first.id

    # Delivered while the client was away: published to nobody.
    missed = [make_detection(display) for _ in range(3)]
    for detection in missed:
        deliver(redis_client, detection)

    with EventStream(url, token, last_event_id=first.id) as stream:
        stream.wait_ready()
        replayed = [stream.next_event() for _ in missed]
        assert [e["id"] for e in replayed] == [d.id for d in missed]
        assert [e["data"] for e in replayed] == [rest_item(token, d.id) for d in missed]

        # A result published after the subscription but already replayed is not sent twice.
        deliver(redis_client, missed[-1])
        newer = make_detection(display)
        deliver(redis_client, newer)
        assert stream.next_event()["id"] == newer.id


def test_one_last_event_id_resumes_detections_and_object_events_without_gap_or_duplicate(
    server, display_a, display_b, redis_client
):
    display, token = display_a
    url = server.url + EVENTS
    first = make_detection(display)
    make_object_event(display_b[0])  # another display's: never in this stream
    missed = [
        make_object_event(display),
        make_detection(display),
        make_object_event(display, type="cross", zone="", line="door", direction="out"),
        make_detection(display),
        make_object_event(display, type="leave", dwell_s=2.5),
    ]
    kinds = ["object", "detection", "object", "detection", "object"]

    with EventStream(url, token, last_event_id=first.id) as stream:
        stream.wait_ready()
        replayed = [stream.next_event() for _ in missed]
        assert [e["id"] for e in replayed] == [row.id for row in missed]
        assert [e["event"] for e in replayed] == kinds
        history = token_client(token).get("/api/v1/display/object-events/", {"after": first.id})
        assert [e["data"] for e in replayed if e["event"] == "object"] == history.json()["results"]
        assert replayed[1]["data"] == rest_item(token, missed[1].id)

        # Live: both kinds in one message, in id order; what was replayed is not sent again.
        newer = [make_object_event(display), make_detection(display)]
        live.push_delivered(redis_client, [missed[3], newer[1]], [missed[4], newer[0]])
        pushed = [stream.next_event(), stream.next_event()]
        assert [(e["event"], e["id"]) for e in pushed] == [
            ("object", newer[0].id),
            ("detection", newer[1].id),
        ]

    # Resuming from an object event's id continues with the next detection.
    with EventStream(url, token, last_event_id=missed[2].id) as stream:
        stream.wait_ready()
        rest = [stream.next_event() for _ in range(4)]
    assert [e["id"] for e in rest] == [missed[3].id, missed[4].id, newer[0].id, newer[1].id]


def test_a_detection_is_the_same_json_live_replayed_and_from_the_endpoint(
    server, display_a, redis_client
):
    display, token = display_a
    moment = datetime(2025, 1, 1, 12, 0, 0, 951358, tzinfo=UTC)
    objects = [{"class_id": 3, "class_name": "vélo", "confidence": 0.5, "box": [1, 2.5, 3, 4]}]
    before = make_detection(display)
    with EventStream(server.url + EVENTS, token) as stream:
        stream.wait_ready()
        detection = make_detection(display, frame_time=moment, detected_objects=objects)
        deliver(redis_client, detection)
        pushed = stream.next_event()["data"]
    with EventStream(server.url + EVENTS, token, last_event_id=before.id) as stream:
        replayed = stream.next_event()["data"]
    page = token_client(token).get("/api/v1/display/detections/", {"after": before.id}).json()

    assert pushed == replayed == page["results"][0] == rest_item(token, detection.id)
    assert pushed["frame_time"] == "2025-01-01T12:00:00.951358Z"
    assert pushed["objects"] == objects


def test_a_long_absence_is_replayed_in_order(server, display_a, redis_client):
    display, token = display_a
    start = make_detection(display)
    backlog = [make_detection(display) for _ in range(1203)]  # several replay batches

    with EventStream(server.url + EVENTS, token, last_event_id=start.id) as stream:
        stream.wait_ready()
        ids = [stream.next_event()["id"] for _ in backlog]

    assert ids == [d.id for d in backlog]


def test_idle_streams_get_keepalive_comments(server, display_a):
    _, token = display_a
    with EventStream(server.url + EVENTS, token) as stream:
        stream.wait_ready()
        assert stream.no_event_for(1.5)

    assert stream.comments.count("keepalive") >= 2


def test_a_closed_stream_unsubscribes(server, display_a, redis_client):
    display, token = display_a
    channel = live.events_channel(display.id)

    def subscribers():
        return dict(redis_client.pubsub_numsub(channel))[channel.encode()]

    with EventStream(server.url + EVENTS, token) as stream:
        stream.wait_ready()
        assert subscribers() == 1

    wait_for(lambda: subscribers() == 0)


def test_idle_clients_do_not_hold_threads(server, display_a, redis_client):
    display, token = display_a
    baseline = server.threads()
    streams = [EventStream(server.url + EVENTS, token) for _ in range(40)]
    try:
        for stream in streams:
            stream.wait_ready()
        # Each request's sync thread ends once its stream idles.
        wait_for(
            lambda: server.threads() <= baseline + 4,
            message=lambda: f"{server.threads()} threads for 40 idle streams, {baseline} before",
        )

        detection = make_detection(display)
        deliver(redis_client, detection)
        assert all(stream.next_event()["id"] == detection.id for stream in streams)
    finally:
        for stream in streams:
            stream.close()


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 401),
        ({"Authorization": "Token wrong"}, 401),
        ({"Authorization": "Token"}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ],
)
def test_event_stream_refuses_bad_credentials(server, headers, status):
    response = requests.get(server.url + EVENTS, headers=headers, timeout=10)

    assert response.status_code == status
    assert response.headers["WWW-Authenticate"].startswith("Token")
    assert "detail" in response.json()


def test_event_stream_refuses_a_rotated_out_token(server, display_a):
    display, old = display_a
    rotate_display_token(display)

    response = requests.get(
        server.url + EVENTS, headers={"Authorization": f"Token {old}"}, timeout=10
    )

    assert response.status_code == 401


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "99999999999999999999999", "١٢"])
def test_a_bad_last_event_id_is_400(server, display_a, value):
    _, token = display_a

    response = requests.get(
        server.url + EVENTS,
        headers={"Authorization": f"Token {token}", "Last-Event-ID": value.encode()},
        timeout=10,
    )

    assert response.status_code == 400


def test_only_get_is_allowed(server, display_a):
    _, token = display_a

    response = requests.post(
        server.url + EVENTS, headers={"Authorization": f"Token {token}"}, timeout=10
    )

    assert response.status_code == 405


def test_event_stream_is_rate_limited(settings, async_client, display_a):
    # In process: the refusal happens before any streaming.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"display": "1/min"},
    }
    _, token = display_a
    auth = {"Authorization": f"Token {token}"}
    token_client(token).get("/api/v1/display/")  # uses the allowance

    response = async_to_sync(async_client.get)(EVENTS, headers=auth)

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


def test_event_stream_answers_503_when_redis_is_unreachable(settings, async_client, display_a):
    _, token = display_a
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = async_to_sync(async_client.get)(EVENTS, headers={"Authorization": f"Token {token}"})

    assert response.status_code == 503
    assert "Redis" in response.json()["detail"]


def test_a_live_message_carries_a_batch_and_skips_only_malformed_events():
    data = '[{"id": 5, "frame_seq": 1, "objects": []}, {"id": "x"}, 7, {"id": 6, "frame_seq": 2}]'
    assert [e["id"] for e in parse_message(data)] == [5, 6]
    assert parse_message("not json") == []


def test_live_events_are_forwarded_as_published():
    event = {"id": 5, "frame_seq": 1, "frame_time": "2025-01-01T12:00:00+02:00", "objects": []}
    assert parse_message(f"[{json.dumps(event)}]") == [event]  # no date parsed or reformatted
