"""The farm status the admin shows: from the assignment row and the live heartbeat."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo
from cms.farm_status import camera_statuses, status_of
from cms.models import StreamAssignment
from streams import StreamReason, StreamState
from tests.factories import make_display

pytestmark = pytest.mark.django_db


def test_status_of_each_situation():
    running = StreamAssignment(camera_id=1, worker="w1", generation=3)
    assert status_of(None, None).state == "stopped"
    assert (
        status_of(
            StreamAssignment(camera_id=1, pending_reason="no ingest worker online"), None
        ).state
        == "pending"
    )
    assert status_of(running, None).state == "starting"
    online = StreamInfo(1, "w1", 3, "h", StreamState.ONLINE, fps_out=5.0, frame_age=0.1)
    assert str(status_of(running, online)) == "running on w1 (gen 3, 5 fps, frame age 0.1 s)"
    stale = StreamInfo(1, "w1", 2, "h", StreamState.ONLINE)
    assert status_of(running, stale).state == "starting"
    down = StreamInfo(1, "w1", 3, "h", StreamState.RECOVERING, reason=StreamReason.TIMEOUT)
    assert str(status_of(running, down)) == "recovering on w1 (gen 3): timeout"


def test_admin_lists_show_running_and_pending_cameras(admin_client, redis_client):
    running = make_display()
    pending = make_display()
    StreamAssignment.objects.create(camera=running.camera, worker="gpu-1@rack", generation=4)
    StreamAssignment.objects.create(
        camera=pending.camera, pending_reason="every ingest worker is at capacity"
    )
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            running.camera_id,
            "gpu-1@rack",
            4,
            "h",
            StreamState.ONLINE,
            fps_out=5,
            frame_age=0.2,
            updated=time.time(),
        ),
    )
    assert camera_statuses([running.camera_id])[running.camera_id].state == "running"
    for url in (reverse("admin:cms_camera_changelist"), reverse("admin:cms_display_changelist")):
        page = admin_client.get(url).content.decode()
        assert "running on gpu-1@rack (gen 4" in page
        assert "pending: every ingest worker is at capacity" in page
    change = admin_client.get(
        reverse("admin:cms_display_change", args=[running.pk])
    ).content.decode()
    assert "running on gpu-1@rack" in change
