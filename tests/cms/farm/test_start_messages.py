"""Reconcile's start messages: a list per worker, one per camera to a worker from before lists.

A worker that heartbeats ``start_lists`` gets one start_cameras message with its cameras; an
older one (upgraded after the control worker) would refuse that task as unknown, so it gets
one ingest_camera message per camera, as before. Real Redis broker, real reconcile.
"""

from __future__ import annotations

import time

import pytest

from cms.farm import farm_keys
from cms.farm.heartbeats import WorkerInfo
from cms.farm.reconcile import reconcile_once
from cms.models import StreamAssignment
from tests.factories import make_display
from tests.support.broker import queued

pytestmark = pytest.mark.django_db


def test_a_worker_from_before_start_lists_gets_a_message_per_camera(redis_client) -> None:
    cameras = [make_display().camera for _ in range(4)]
    now = time.time()
    farm_keys.write_worker(
        redis_client, WorkerInfo("new@host", "cpu", 2, last_seen=now, start_lists=True)
    )
    farm_keys.write_worker(redis_client, WorkerInfo("old@host", "cpu", 2, last_seen=now))

    assert reconcile_once(redis_client)["commands"] == {"Start": 4}

    on = {w: sorted(StreamAssignment.objects.filter(worker=w).values_list("camera_id", flat=True))
          for w in ("new@host", "old@host")}  # fmt: skip
    assert sorted(on["new@host"] + on["old@host"]) == sorted(c.id for c in cameras)
    (listed,) = queued(redis_client, "new@host")
    assert listed["headers"]["task"] == "tasks.ingest.start_cameras"
    assert sorted(listed["body"][0][0]) == [[c, 1] for c in on["new@host"]]
    singles = queued(redis_client, "old@host")
    assert {m["headers"]["task"] for m in singles} == {"tasks.ingest.ingest_camera"}
    assert sorted(m["body"][0] for m in singles) == [[c, 1] for c in on["old@host"]]
