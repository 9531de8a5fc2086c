"""The farm dashboard, its actions, and the admin's badges, filters and charts."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cms import live
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo, WorkerInfo
from cms.models import Detection, Display, StreamAssignment
from streams import StreamState
from tests.factories import make_display
from tests.results.conftest import dead_letter_one

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(redis_client):
    """A display whose camera runs on a (heartbeating) worker, and a pending one."""
    display = make_display()
    pending = make_display()
    StreamAssignment.objects.create(camera=display.camera, worker="gpu-1@rack", generation=2)
    StreamAssignment.objects.create(camera=pending.camera, pending_reason="no ingest worker online")
    now = time.time()
    farm_keys.write_worker(
        redis_client,
        WorkerInfo("gpu-1@rack", "cuda:0", 8, (display.camera_id,), 30, 40, last_seen=now),
    )
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            display.camera_id,
            "gpu-1@rack",
            2,
            "h",
            StreamState.ONLINE,
            fps_in=5,
            fps_out=5,
            frame_age=0.1,
            updated=now,
        ),
    )
    return display, pending


def test_dashboard_and_its_state(admin_client, running, redis_client):
    display, pending = running
    dead_letter_one(redis_client, {b"r": b"x"}, "boom", 5)
    page = admin_client.get(reverse("admin-farm"))
    assert page.status_code == 200
    assert b"Reconcile now" in page.content
    state = admin_client.get(reverse("admin-farm-state")).json()
    assert [w["name"] for w in state["workers"]] == ["gpu-1@rack"]
    assert state["streams"][0]["camera"] == display.camera_id
    assert state["streams"][0]["state"] == "online"
    assert state["pending"] == [
        {
            "camera": pending.camera_id,
            "camera_name": pending.camera.name,
            "camera_url": reverse("admin:cms_camera_change", args=[pending.camera_id]),
            "display": None,
            "display_name": None,
            "display_url": None,
            "model_names": [str(pending.model)],
            "reason": "no ingest worker online",
        }
    ]
    assert state["dead_letters"] == 1


def test_dashboard_needs_permission(client, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="pw-123456", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin-farm")).status_code == 403
    assert client.get(reverse("admin-farm-state")).status_code == 403
    assert client.post(reverse("admin-farm-reconcile")).status_code == 403


def test_reconcile_now_requests_a_reconcile(admin_client, redis_client):
    response = admin_client.post(reverse("admin-farm-reconcile"))
    assert response.status_code == 302
    assert redis_client.exists(farm_keys.RECONCILE_DIRTY)
    assert redis_client.exists(farm_keys.RECONCILE_SCHEDULED)


def test_restart_fences_the_running_task_and_asks_for_a_reconcile(
    admin_client, running, redis_client
):
    display, _ = running
    response = admin_client.post(reverse("admin-camera-restart", args=[display.camera_id]))
    assert response.status_code == 302
    assignment = StreamAssignment.objects.get(camera=display.camera)
    assert (assignment.generation, assignment.worker) == (3, "")
    assert farm_keys.read_assignment(redis_client, display.camera_id)[0] == 3
    assert redis_client.exists(farm_keys.RECONCILE_DIRTY)
    assert (
        admin_client.get(reverse("admin-camera-restart", args=[display.camera_id])).status_code
        == 405
    )


def test_lists_show_badges_and_filter_by_state(admin_client, running):
    display, pending = running
    cameras = reverse("admin:cms_camera_changelist")
    page = admin_client.get(cameras).content.decode()
    assert 'class="badge badge-running"' in page and 'class="badge badge-pending"' in page
    only_running = admin_client.get(cameras, {"farm_state": "running"}).context["cl"].result_list
    assert [c.pk for c in only_running] == [display.camera_id]
    only_pending = admin_client.get(cameras, {"farm_state": "pending"}).context["cl"].result_list
    assert [c.pk for c in only_pending] == [pending.camera_id]
    displays = reverse("admin:cms_display_changelist")
    by_camera = admin_client.get(displays, {"farm_state": "running"}).context["cl"].result_list
    assert [d.pk for d in by_camera] == [display.pk]


def test_client_online_filter(admin_client):
    online, offline, never = make_display(), make_display(), make_display()
    Display.objects.filter(pk=online.pk).update(client_last_seen=timezone.now())
    Display.objects.filter(pk=offline.pk).update(
        client_last_seen=timezone.now() - timedelta(hours=1)
    )
    url = reverse("admin:cms_display_changelist")
    for value, expected in [("online", online), ("offline", offline), ("never", never)]:
        found = admin_client.get(url, {"client": value}).context["cl"].result_list
        assert [d.pk for d in found] == [expected.pk]


def test_camera_page_shows_the_newest_frame(admin_client, running):
    display, _ = running
    page = admin_client.get(reverse("admin:cms_camera_change", args=[display.camera_id]))
    assert f"/api/v1/cameras/{display.camera_id}/snapshot.jpg?boxes=1".encode() in page.content


def test_display_page_shows_latest_detections_and_a_chart(admin_client, running, redis_client):
    display, _ = running
    now = timezone.now()
    person = {"class_id": 0, "class_name": "person", "confidence": 0.9, "box": [1, 2, 3, 4]}
    for minute in range(3):
        for i in range(minute + 1):
            Detection.objects.create(
                display=display, camera=display.camera, model=display.model, generation=2,
                frame_seq=i, frame_time=now, key=f"{minute}-{i}",
                created=now - timedelta(minutes=minute),
                detected_objects=[person],
            )  # fmt: skip
    live.push_delivered(redis_client, [Detection.objects.order_by("id").last()])
    page = admin_client.get(reverse("admin:cms_display_change", args=[display.pk])).content.decode()
    assert "1 object(s) person 0.90" in page
    # the detections chart (a tracking display also charts its zones: count only this one)
    chart = re.search(r'<svg[^>]*aria-label="Detections delivered.*?</svg>', page, re.S)
    assert chart
    assert chart.group(0).count('<rect class="chart-bar"') == 3 + 1  # a bar per minute, legend's
    assert "peak 3, total 6" in chart.group(0)


def test_farm_state_names_each_workers_models(admin_client, redis_client):
    display = make_display()
    model = display.model
    stale = f"{model.pk}:{'0' * 64}"
    farm_keys.write_worker(
        redis_client,
        WorkerInfo(
            "cpu-1@rack",
            "cpu",
            2,
            models=(f"{model.pk}:{model.sha256}", stale, "999999:abc"),
            last_seen=time.time(),
        ),
    )

    state = admin_client.get(reverse("admin-farm-state")).json()

    assert state["workers"][0]["model_labels"] == [
        f"{model.name} {model.version}",
        f"{model.name} {model.version} (earlier weights)",
        "model 999999 (deleted)",
    ]


def test_farm_state_shows_each_models_backend_with_its_measurements(admin_client, redis_client):
    from cms.farm.heartbeats import ModelBackend

    model = make_display().model
    key = f"{model.pk}:{model.sha256}"
    chosen = ModelBackend(key, "openvino", "auto: fastest", {"torch": 40.2, "openvino": 19.1})
    state = farm_state_with_backend(admin_client, redis_client, chosen)

    assert state["workers"][0]["backend_labels"] == [
        f"{model.name} {model.version}: openvino (auto: fastest; torch 40.2 ms, openvino 19.1 ms)"
    ]


def test_farm_state_names_the_chosen_variant_and_the_batched_figures(admin_client, redis_client):
    from cms.farm.heartbeats import ModelBackend

    model = make_display().model
    key = f"{model.pk}:{model.sha256}"
    chosen = ModelBackend(
        key,
        "openvino",
        "auto: fastest",
        {"torch": 40.2, "openvino bf16": 14.2},
        variant="openvino bf16",
        batched={"torch": 30.0, "openvino bf16": 11.7},
    )
    state = farm_state_with_backend(admin_client, redis_client, chosen)

    assert state["workers"][0]["backend_labels"] == [
        f"{model.name} {model.version}: openvino bf16 (auto: fastest; "
        "torch 40.2 ms (30 at 4), openvino bf16 14.2 ms (11.7 at 4))"
    ]


def test_camera_page_without_a_frame_shows_a_placeholder_with_the_reason(admin_client, running):
    _, pending = running

    page = admin_client.get(reverse("admin:cms_camera_change", args=[pending.camera_id]))

    html = page.content.decode()
    assert "No frame: pending: no ingest worker online" in html
    assert 'data-refresh-src="/api/v1/cameras/' in html
    assert ' src="/api/v1/cameras/' not in html  # no request that can only fail


def farm_state_with_backend(admin_client, redis_client, backend) -> dict:  # type: ignore[no-untyped-def]
    """The Farm page's state once one CPU worker reports `backend` for its model."""
    farm_keys.write_worker(
        redis_client,
        WorkerInfo(
            "cpu-1@rack",
            "cpu",
            2,
            models=(backend.key,),
            last_seen=time.time(),
            backends=(backend,),
        ),
    )
    return admin_client.get(reverse("admin-farm-state")).json()
