"""The farm health page and its series: sampled from heartbeats written as the workers write
them (cms.farm.farm_keys), read back through the admin with camera names, permissions, and a
clear answer when Redis is down."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from cms import redis_connection
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo, WorkerInfo
from cms.farm_health import series
from cms.farm_health.service import sample_farm
from cms.models import Camera
from cms.results import results_stream
from streams import StreamState
from tasks import app
from tests.factories import make_camera
from tests.support.workers import CeleryWorker

pytestmark = pytest.mark.django_db


@pytest.fixture
def sampled(redis_client):
    """Two samples 10 s apart of a GPU worker running "Gate" and a CPU worker."""
    gate = make_camera(name="Gate")
    now = time.time()
    for offset, stored in ((-10, 100), (0, 150)):
        farm_keys.write_worker(
            redis_client,
            WorkerInfo("gpu-1@rack", "cuda:0", 8, (gate.pk,), 30, 40, 55, 61, last_seen=now),
        )
        farm_keys.write_worker(redis_client, WorkerInfo("cpu-1@rack", "cpu", 4, (), 80, 20))
        farm_keys.write_stream(
            redis_client,
            StreamInfo(gate.pk, "gpu-1@rack", 2, "h", StreamState.ONLINE, fps_in=5, fps_out=4,
                       frame_age=0.2, latency_ms=35, reconnects=1, updated=now),
        )  # fmt: skip
        results_stream.count(redis_client, delivered=stored)
        sample_farm(redis_client, now=now + offset)
    return gate


def series_of(payload, chart_id):
    chart = next(c for c in payload["charts"] if c["id"] == chart_id)
    return {s["label"]: s["values"] for s in chart["series"]}, chart


def test_series_json_has_every_chart_with_names_units_and_values(admin_client, sampled):
    response = admin_client.get(reverse("admin-farm-health-series"), {"range": "hour"})
    assert response.status_code == 200
    payload = response.json()
    assert payload["range"] == "hour" and payload["step_s"] == 10
    fps, chart = series_of(payload, "fps")
    assert chart["unit"] == "fps" and len(chart["x"]) == 2
    assert fps == {"Gate in": [5.0, 5.0], "Gate out": [4.0, 4.0]}
    assert series_of(payload, "frame_age")[0] == {"Gate": [0.2, 0.2]}
    assert series_of(payload, "latency")[0] == {"Gate": [35.0, 35.0]}
    assert series_of(payload, "reconnects")[0] == {"Gate": [1, 1]}
    assert series_of(payload, "cpu")[0] == {"cpu-1@rack": [80.0, 80.0], "gpu-1@rack": [30.0, 30.0]}
    assert series_of(payload, "gpu_memory")[0] == {"gpu-1@rack": [61.0, 61.0]}
    load, chart = series_of(payload, "load")
    assert load["gpu-1@rack running"] == [1, 1] and load["gpu-1@rack capacity"] == [8, 8]
    assert chart["unit"] == "streams"
    throughput, chart = series_of(payload, "throughput")
    assert throughput["stored"] == [None, 15.0]  # 150 stored in 10 s
    assert chart["unit"] == "entries/s"
    assert set(series_of(payload, "backlog")[0]) == {"unread", "read, not acknowledged"}
    assert payload["notes"] == ["cpu-1@rack reports no GPU (a CPU worker): not in the GPU charts."]


def test_a_camera_renamed_is_shown_by_its_new_name_and_a_deleted_one_by_id(admin_client, sampled):
    Camera.objects.filter(pk=sampled.pk).update(name="North gate")
    payload = admin_client.get(reverse("admin-farm-health-series")).json()
    assert set(series_of(payload, "frame_age")[0]) == {"North gate"}
    camera_id = sampled.pk
    sampled.delete()
    payload = admin_client.get(reverse("admin-farm-health-series")).json()
    assert set(series_of(payload, "frame_age")[0]) == {f"camera {camera_id} (deleted)"}


def test_the_day_range_and_a_bad_range(admin_client, sampled):
    day = admin_client.get(reverse("admin-farm-health-series"), {"range": "day"})
    assert day.status_code == 200
    assert day.json()["step_s"] == 300
    bad = admin_client.get(reverse("admin-farm-health-series"), {"range": "week<script>"})
    assert bad.status_code == 400
    assert bad.json() == {"error": "range must be one of: hour, day"}


def test_the_page_links_and_toggles_ranges(admin_client):
    page = admin_client.get(reverse("admin-farm-health"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-range="hour"' in html and 'href="?range=day"' in html
    assert "vendor/uplot/uPlot.iife.min.js" in html
    day = admin_client.get(reverse("admin-farm-health"), {"range": "day"}).content.decode()
    assert 'data-range="day"' in day and 'href="?range=hour"' in day
    # An unknown range is the hour, never an error.
    odd = admin_client.get(reverse("admin-farm-health"), {"range": "x"})
    assert odd.status_code == 200 and 'data-range="hour"' in odd.content.decode()
    health = reverse("admin-farm-health")
    assert health in admin_client.get(reverse("admin:index")).content.decode()
    assert health in admin_client.get(reverse("admin-farm")).content.decode()


def test_the_health_pages_need_the_view_camera_permission(client, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="pw-123456", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin-farm-health")).status_code == 403
    assert client.get(reverse("admin-farm-health-series")).status_code == 403
    client.logout()
    anonymous = client.get(reverse("admin-farm-health-series"))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]


def test_redis_down_is_a_503_with_a_clear_message_and_the_page_still_loads(admin_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = admin_client.get(reverse("admin-farm-health-series"))
        assert response.status_code == 503
        assert response.json()["error"].startswith("Redis unreachable")
        assert admin_client.get(reverse("admin-farm-health")).status_code == 200
    finally:
        redis_connection.client().close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the worker's own connections need the database free
def test_the_beat_entry_samples_through_a_real_control_worker(tmp_path, redis_client, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["sample-farm-health"]
    assert entry["schedule"] == series.HOUR.step_s  # a point per step
    assert entry["options"]["expires"] < entry["schedule"]  # a late one is dropped, not stacked
    worker = CeleryWorker(tmp_path, queues="control").start()
    try:
        info = WorkerInfo("gpu-1@rack", "cuda:0", 8, last_seen=time.time())
        farm_keys.write_worker(redis_client, info)
        app.send_task(entry["task"], **entry["options"])
        deadline = time.monotonic() + 60
        while "worker:gpu-1@rack" not in series.read(redis_client, series.HOUR):
            assert time.monotonic() < deadline, "no sample from the control worker"
            time.sleep(0.1)
    finally:
        worker.terminate()
    assert "results" in series.read(redis_client, series.HOUR)
