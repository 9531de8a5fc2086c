"""The live wall: its tiles' state text and counts (pure), and its endpoints over a farm's
state written into the suite's Redis as the ingest workers would write it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import orjson
import pytest
from django.urls import reverse

from cms import live
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo, WorkerInfo
from cms.farm_status import CameraStatus, FarmState
from cms.live_wall import WallFilter, class_counts, tile_reason
from cms.models import StreamAssignment
from streams import StreamReason, StreamState
from tests.factories import make_camera, make_display, make_model

SECRET = "s3cret-pass"


def stream(state: StreamState, **fields) -> StreamInfo:
    return StreamInfo(1, "cpu-1@rack", 2, "h", state, **fields)


# --- pure ---------------------------------------------------------------------------------


def test_a_recovering_camera_says_why_and_how_often_it_reconnected():
    status = CameraStatus(FarmState.RECOVERING, worker="cpu-1@rack", generation=2)
    info = stream(
        StreamState.RECOVERING,
        reason=StreamReason.UNREACHABLE,
        last_error="connection refused",
        reconnects=6,
    )
    assert tile_reason(status, info) == "recovering: unreachable, connection refused, 6 reconnects"


def test_a_failing_camera_with_one_reconnect_and_no_error():
    status = CameraStatus(FarmState.FAILING, worker="w", generation=1)
    info = stream(StreamState.FAILED, reason=StreamReason.REFUSED, reconnects=1)
    assert tile_reason(status, info) == "failing: refused, 1 reconnect"
    assert tile_reason(status, stream(StreamState.FAILED)) == "failing: "


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (CameraStatus(FarmState.RUNNING, worker="w", fps=5), ""),
        (CameraStatus(FarmState.STARTING, worker="w", generation=3),
         "starting on w (generation 3)"),
        (CameraStatus(FarmState.PENDING, reason="no worker online"), "pending: no worker online"),
        (CameraStatus(FarmState.STOPPED), "stopped: no ingest task runs this camera"),
        (CameraStatus(FarmState.UNKNOWN, reason="Redis down (x)"), "unknown: Redis down (x)"),
    ],
)  # fmt: skip
def test_every_state_has_its_text(status, text):
    assert tile_reason(status, None) == text


def test_counts_per_class_most_first():
    objects = [{"class_name": n} for n in ("car", "person", "person", "bus", "person", "car")]
    assert list(class_counts(objects).items()) == [("person", 3), ("car", 2), ("bus", 1)]
    assert class_counts([]) == {}


def test_filters_from_the_query_ignore_what_they_do_not_know():
    assert WallFilter.from_query({"worker": "w1", "state": "running", "display": "7"}) == (
        WallFilter("w1", "running", 7)
    )
    assert WallFilter.from_query({"state": "bogus", "display": "x"}) == WallFilter()
    assert WallFilter.from_query({"display": "9" * 40}) == WallFilter()


# --- endpoints ------------------------------------------------------------------------------


@pytest.fixture
def wall(redis_client, db):
    """A running camera with boxes, a recovering one (a password in its URL and error), a
    pending one, and a camera that should not run (its only display is disabled)."""
    now = time.time()
    running = make_display(
        name="Gate screen",
        camera=make_camera(name="Gate"),
        zones=[{"name": "lane", "polygon": [[0, 0], [100, 0], [100, 100]]}],
        lines=[{"name": "door", "points": [[0, 50], [100, 50]]}],
    )
    second = make_display(name="Gate counts", camera=running.camera, model=running.model)
    recovering = make_display(
        camera=make_camera(
            name="Yard", url=f"rtsp://admin:{SECRET}@10.0.0.9/stream", password=SECRET
        )
    )
    pending = make_display(camera=make_camera(name="Dock"))
    make_display(camera=make_camera(name="Attic"), enabled=False)
    make_display(camera=make_camera(name="Cellar"), model=make_model(enabled=False))
    StreamAssignment.objects.create(camera=running.camera, worker="cpu-1@rack", generation=2)
    StreamAssignment.objects.create(camera=recovering.camera, worker="cpu-2@rack", generation=4)
    StreamAssignment.objects.create(camera=pending.camera, pending_reason="no ingest worker online")
    for name in ("cpu-1@rack", "cpu-2@rack"):
        farm_keys.write_worker(redis_client, WorkerInfo(name, "cpu", 4, last_seen=now))
    farm_keys.write_stream(
        redis_client,
        StreamInfo(running.camera_id, "cpu-1@rack", 2, "h", StreamState.ONLINE, fps_out=5.0),
    )
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            recovering.camera_id,
            "cpu-2@rack",
            4,
            "h",
            StreamState.RECOVERING,
            reason=StreamReason.UNREACHABLE,
            last_error=f"cannot open rtsp://admin:{SECRET}@10.0.0.9/stream: connection refused",
            reconnects=6,
        ),
    )
    farm_keys.write_snapshot(redis_client, running.camera_id, b"\xff\xd8jpeg-bytes")
    objects = [
        {"box": [1, 2, 30, 40], "class_id": 0, "class_name": "person", "confidence": 0.91},
        {"box": [5, 6, 50, 60], "class_id": 0, "class_name": "person", "confidence": 0.5},
        {"box": [5, 6, 50, 60], "class_id": 2, "class_name": "car", "confidence": 0.7},
        {"box": "garbage", "class_name": "car"},
    ]
    frame_time = datetime.fromtimestamp(now - 0.5, UTC).isoformat()
    redis_client.set(
        live.latest_key(running.id),
        orjson.dumps({"id": 1, "frame_time": frame_time, "objects": objects}),
    )
    return running, second, recovering, pending


def state(client, **query):
    response = client.get(reverse("admin-live-state"), query)
    assert response.status_code == 200
    return {tile["name"]: tile for tile in response.json()["cameras"]}


def test_the_wall_lists_every_camera_that_should_run_with_its_state(admin_client, wall):
    running, second, _, _ = wall
    tiles = state(admin_client)
    assert list(tiles) == ["Dock", "Gate", "Yard"]  # by name; Attic and Cellar should not run
    gate = tiles["Gate"]
    assert (gate["state"], gate["frame"], gate["reason"], gate["worker"]) == (
        "running",
        True,
        "",
        "cpu-1@rack",
    )
    assert gate["display"] == running.id
    first, other = gate["displays"]
    assert first["zones"][0]["name"] == "lane" and first["lines"][0]["name"] == "door"
    assert first["counts"] == {"person": 2, "car": 1}
    assert [o["class_name"] for o in first["objects"]] == ["person", "person", "car"]
    assert other["id"] == second.id and other["objects"] == [] and other["counts"] == {}
    yard = tiles["Yard"]
    assert yard["frame"] is False and yard["state"] == "recovering"
    assert yard["reason"].startswith("recovering: unreachable, cannot open rtsp://")
    assert yard["reason"].endswith("connection refused, 6 reconnects")
    assert tiles["Dock"]["reason"] == "pending: no ingest worker online"


def test_no_password_in_the_wall(admin_client, wall):
    page = admin_client.get(reverse("admin-live"))
    body = admin_client.get(reverse("admin-live-state")).content
    assert page.status_code == 200
    assert SECRET.encode() not in body and SECRET.encode() not in page.content
    assert b"10.0.0.9/stream" in body  # the error is still there, masked


def test_filters_by_worker_state_and_display(admin_client, wall):
    second = wall[1]
    assert list(state(admin_client, worker="cpu-2@rack")) == ["Yard"]
    assert list(state(admin_client, state="pending")) == ["Dock"]
    only = state(admin_client, display=second.id)
    assert list(only) == ["Gate"] and only["Gate"]["display"] == second.id
    assert list(state(admin_client, state="nonsense")) == ["Dock", "Gate", "Yard"]
    page = admin_client.get(reverse("admin-live"), {"state": "running"}).content.decode()
    assert '<option value="running" selected>' in page
    assert "state.json?state=running" in page  # the page polls its own filtered wall


def test_a_frame_is_served_with_an_etag_and_an_unchanged_one_is_a_304(
    admin_client, wall, redis_client
):
    running = wall[0]
    url = reverse("admin-live-frame", args=[running.camera_id])
    response = admin_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response.content == b"\xff\xd8jpeg-bytes"
    assert "no-store" not in response["Cache-Control"] and "no-cache" in response["Cache-Control"]
    etag = response["ETag"]
    again = admin_client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    farm_keys.write_snapshot(redis_client, running.camera_id, b"\xff\xd8newer")
    newer = admin_client.get(url, headers={"If-None-Match": etag})
    assert newer.status_code == 200 and newer["ETag"] != etag


def test_a_camera_without_a_frame_is_a_404_not_a_500(admin_client, wall):
    _, _, recovering, _ = wall
    for camera_id in (recovering.camera_id, 999999):
        response = admin_client.get(reverse("admin-live-frame", args=[camera_id]))
        assert response.status_code == 404


def test_the_wall_is_for_staff_only(client, django_user_model, wall):
    running = wall[0]
    urls = [
        reverse("admin-live"),
        reverse("admin-live-state"),
        reverse("admin-live-frame", args=[running.camera_id]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    clerk = django_user_model.objects.create_user("clerk", password="pw-123456", is_staff=True)
    client.force_login(clerk)
    for url in urls:
        assert client.get(url).status_code == 403


def test_the_index_links_the_wall_and_the_farm(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("admin-live")}"' in page and f'href="{reverse("admin-farm")}"' in page
