"""Operators watch the farm: cluster overview, camera snapshots, reconcile on request."""

from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest

from cms import live
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo, WorkerInfo
from cms.models import StreamAssignment
from streams import StreamReason, StreamState
from tests.factories import PERSON, make_camera, make_detection, make_display, make_model

pytestmark = pytest.mark.django_db


def black_jpeg(width: int = 320, height: int = 240) -> bytes:
    ok, data = cv2.imencode(".jpg", np.zeros((height, width, 3), np.uint8))
    assert ok
    return data.tobytes()


def test_cluster_shows_workers_streams_pending_and_the_last_reconcile(operator, redis_client):
    running = make_camera(name="Gate", username="viewer", password="hunter2-secret")
    waiting = make_camera(name="Dock")
    StreamAssignment.objects.create(camera=waiting, pending_reason="no worker has room")
    now = time.time()
    farm_keys.write_worker(
        redis_client,
        WorkerInfo(
            name="gpu-1@host",
            device="cuda:0",
            capacity=4,
            running=(running.id,),
            cpu_percent=12.5,
            memory_percent=40.0,
            gpu_percent=55.0,
            gpu_memory_percent=30.0,
            models=("abc123",),
            last_seen=now,
        ),
    )
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            camera_id=running.id,
            worker="gpu-1@host",
            generation=7,
            spec_hash="s",
            state=StreamState.RECOVERING,
            reason=StreamReason.AUTH,
            fps_in=9.5,
            fps_out=4.9,
            frame_age=0.2,
            reconnects=2,
            last_error="401 from rtsp://viewer:hunter2-secret@cam/live (hunter2-secret)",
            updated=now,
        ),
    )
    farm_keys.write_report(
        redis_client,
        {
            "finished_at": "2025-01-01T12:00:00+00:00",
            "duration_ms": 12.5,
            "commands": {"Start": 1},
            "desired": 2,
            "workers": 1,
            "pending": {str(waiting.id): "no worker has room"},
            "heartbeats_trusted": True,
        },
    )

    response = operator.get("/api/v1/cluster/")

    assert response.status_code == 200
    assert "hunter2" not in response.content.decode()
    body = response.json()
    [worker] = body["workers"]
    assert worker["name"] == "gpu-1@host"
    assert worker["device"] == "cuda:0"
    assert worker["capacity"] == 4
    assert worker["load"] == 0.25
    assert worker["gpu_percent"] == 55.0
    assert worker["models"] == ["abc123"]
    assert worker["last_heartbeat"] is not None
    [stream] = body["streams"]
    assert stream["camera"] == running.id and stream["camera_name"] == "Gate"
    assert (stream["worker"], stream["generation"]) == ("gpu-1@host", 7)
    assert (stream["state"], stream["reason"]) == ("recovering", "auth")
    assert stream["fps"] == 4.9 and stream["frame_age"] == 0.2
    assert body["pending"] == [
        {
            "camera": waiting.id,
            "camera_name": "Dock",
            "display": None,
            "display_name": None,
            "reason": "no worker has room",
        }
    ]
    assert body["reconcile"]["duration_ms"] == 12.5
    assert body["reconcile"]["finished_at"].startswith("2025-01-01T12:00:00")


def test_cluster_lists_displays_that_cannot_run_and_cameras_not_running_yet(operator, redis_client):
    off_camera = make_display(name="Gate", camera=make_camera(name="Gate cam", enabled=False))
    off_model = make_display(name="Hall", model=make_model(enabled=False))
    broken = make_display(name="Dock")
    StreamAssignment.objects.create(camera=broken.camera, worker="w1", generation=2)
    starting = make_display(name="Yard")
    StreamAssignment.objects.create(camera=starting.camera, worker="w1", generation=4)
    make_display(name="Idle", enabled=False)  # switched off on purpose: not pending
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            broken.camera_id, "w1", 2, "s", StreamState.ONLINE,
            display_errors=((broken.id, "model m 1: not a checkpoint"),),
        ),
    )  # fmt: skip

    pending = operator.get("/api/v1/cluster/").json()["pending"]

    reasons = {(p["camera"], p["display"]): p["reason"] for p in pending}
    assert reasons == {
        (starting.camera_id, None): "starting on w1 (generation 4)",
        (off_camera.camera_id, off_camera.id): "its camera is disabled",
        (off_model.camera_id, off_model.id): "its model is disabled",
        (broken.camera_id, broken.id): "its model failed to load: model m 1: not a checkpoint",
    }
    assert {p["display_name"] for p in pending} == {None, "Gate", "Hall", "Dock"}


def test_cluster_of_an_empty_farm(operator):
    body = operator.get("/api/v1/cluster/").json()

    assert body == {"workers": [], "streams": [], "pending": [], "reconcile": None}


def test_snapshot_of_a_running_camera(operator, redis_client):
    camera = make_camera()
    jpeg = black_jpeg()
    farm_keys.write_snapshot(redis_client, camera.id, jpeg)

    response = operator.get(f"/api/v1/cameras/{camera.id}/snapshot.jpg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content == jpeg


def test_snapshot_with_boxes_draws_the_displays_latest_detections(operator, redis_client):
    display = make_display()
    farm_keys.write_snapshot(redis_client, display.camera_id, black_jpeg())
    live.push_delivered(redis_client, [make_detection(display)])  # objects: [PERSON]

    response = operator.get(f"/api/v1/cameras/{display.camera_id}/snapshot.jpg", {"boxes": 1})

    assert response.status_code == 200
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    x1, y1, x2, y2 = (round(v) for v in PERSON["box"])
    # The box's left edge is drawn; the middle of the box stays black.
    assert image[(y1 + y2) // 2, x1].max() > 100
    assert image[(y1 + y2) // 2, (x1 + x2) // 2].max() < 40


def test_snapshot_of_a_camera_that_is_not_running_is_404_with_a_reason(operator, redis_client):
    camera = make_camera()
    StreamAssignment.objects.create(camera=camera, pending_reason="no online worker")

    response = operator.get(f"/api/v1/cameras/{camera.id}/snapshot.jpg", HTTP_ACCEPT="image/jpeg")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "no online worker" in response.json()["detail"]


def test_snapshot_of_a_connecting_stream_says_so(operator, redis_client):
    camera = make_camera()
    farm_keys.write_stream(
        redis_client,
        StreamInfo(camera_id=camera.id, worker="w", generation=1, spec_hash="s"),
    )

    response = operator.get(f"/api/v1/cameras/{camera.id}/snapshot.jpg")

    assert response.status_code == 404
    assert "connecting" in response.json()["detail"]


def test_snapshot_of_a_missing_camera_is_404_and_bad_boxes_is_400(operator):
    camera = make_camera()

    assert operator.get("/api/v1/cameras/999999/snapshot.jpg").status_code == 404
    bad = operator.get(f"/api/v1/cameras/{camera.id}/snapshot.jpg", {"boxes": "maybe"})
    assert bad.status_code == 400
    assert "boxes" in bad.json()


def test_reconcile_request_marks_the_farm_for_a_reconcile(operator, redis_client):
    response = operator.post("/api/v1/reconcile/")

    assert response.status_code == 202
    assert redis_client.get(farm_keys.RECONCILE_DIRTY) == b"1"
    assert b"root" in redis_client.get(farm_keys.RECONCILE_SCHEDULED)


def test_cluster_shows_each_models_backend_and_old_heartbeats_stay_readable(operator, redis_client):
    from cms.farm.heartbeats import ModelBackend

    now = time.time()
    farm_keys.write_worker(
        redis_client,
        WorkerInfo(
            name="cpu-1@host",
            device="cpu",
            capacity=4,
            models=("3:abc",),
            last_seen=now,
            backends=(
                ModelBackend(
                    "3:abc",
                    "openvino",
                    "auto: fastest (2.1x torch)",
                    {"torch": 40.2, "openvino": 19.1, "openvino bf16": 14.2},
                    variant="openvino bf16",
                    batched={"torch": 30.0, "openvino": 18.4, "openvino bf16": 11.7},
                ),
            ),
        ),
    )
    # A heartbeat written before backends existed has no "backends" key.
    old = {"name": "old@host", "device": "cpu", "capacity": 2, "last_seen": now}
    redis_client.set(farm_keys.worker_key("old@host"), json.dumps(old))
    redis_client.zadd(farm_keys.WORKER_INDEX, {"old@host": now})

    response = operator.get("/api/v1/cluster/")

    assert response.status_code == 200
    workers = {w["name"]: w for w in response.json()["workers"]}
    assert workers["cpu-1@host"]["backends"] == [
        {
            "model": "3:abc",
            "backend": "openvino",
            "reason": "auto: fastest (2.1x torch)",
            "candidates": {"torch": 40.2, "openvino": 19.1, "openvino bf16": 14.2},
            "variant": "openvino bf16",
            "batched": {"torch": 30.0, "openvino": 18.4, "openvino bf16": 11.7},
        }
    ]
    assert workers["old@host"]["backends"] == []
