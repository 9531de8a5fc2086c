"""One start message per worker: the worker sends itself one ingest task per camera.

Reconcile's side (one message per worker, through cms.farm.task_sender) is what every farm
test starts its cameras with; here, what the worker's side puts on the real broker.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tasks.ingest import start_cameras
from tests.support.broker import queued

WORKER = "gpu-1@rack"


def run_as_received(cameras: list[list[int]], *, expires: str | None) -> int:
    """start_cameras run as the worker runs a message it received (hostname, expiry)."""
    start_cameras.push_request(hostname=WORKER, expires=expires)
    try:
        return start_cameras.run(cameras)
    finally:
        start_cameras.pop_request()


def test_each_camera_becomes_an_ingest_task_on_the_workers_own_queue(redis_client):
    expires = (datetime.now(UTC) + timedelta(seconds=60)).isoformat()

    assert run_as_received([[7, 3], [8, 1]], expires=expires) == 2

    messages = queued(redis_client, WORKER)
    assert [m["headers"]["task"] for m in messages] == ["tasks.ingest.ingest_camera"] * 2
    assert [m["body"][0] for m in messages] == [[7, 3], [8, 1]]
    # Expiring when the list would have: a start late by more than the grace never runs.
    assert {datetime.fromisoformat(m["headers"]["expires"]) for m in messages} == {
        datetime.fromisoformat(expires)
    }
    assert len({m["headers"]["id"] for m in messages}) == 2


def test_a_list_without_expiry_starts_tasks_without_one(redis_client):
    assert run_as_received([[9, 4]], expires=None) == 1
    (message,) = queued(redis_client, WORKER)
    assert message["headers"]["expires"] is None
