"""The farm stopped and started again (``make run`` twice): cameras resume at once."""

from __future__ import annotations

import time

import pytest

from cms import redis_connection
from cms.api.services import cluster_overview
from cms.models import StreamAssignment
from tests.farm.conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_restarted_farm_resumes_its_cameras_at_once_and_shows_them_pending_meanwhile(
    farm_factory,
):
    farm = farm_factory()
    control = farm.control()
    ingest = farm.ingest(capacity=2)
    camera = farm.camera("porch")
    farm.display("d-porch", camera)
    wait_for(lambda: farm.running_on(camera) == ingest.name, 90, "the camera on the worker")
    before = StreamAssignment.objects.get(camera=camera).generation

    # the whole farm stops (Ctrl-C), then starts again: the same worker name, new processes
    ingest.terminate()
    control.terminate()
    assert StreamAssignment.objects.get(camera=camera).worker == ingest.name  # still its
    farm.control()
    restarted = farm.ingest(capacity=2, name=ingest.name)
    online = time.monotonic()

    seen: set[str] = set()

    def resumed() -> bool:
        overview = cluster_overview(redis_connection.client())
        pending = [p for p in overview["pending"] if p["camera"] == camera.id]
        if farm.running_on(camera) == restarted.name:
            return True
        seen.update(p["reason"] for p in pending)
        assert pending, "a camera that does not run is listed as pending"
        return False

    wait_for(resumed, 30, "the camera running again")
    took = time.monotonic() - online
    assert took < 10, f"the camera ran again {took:.1f} s after its worker (not at the next beat)"
    assert StreamAssignment.objects.get(camera=camera).generation > before
    assert seen, "it was pending for a while, with the reason"
    print("pending reasons seen:", seen)


def quiet_for(worker, seconds: float) -> bool:
    """Whether the worker's log did not grow for ``seconds``."""
    before = worker.log()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if worker.log() != before:
            return False
        time.sleep(0.2)
    return True


def test_the_worker_watch_reconciles_promptly_and_logs_nothing_while_nothing_changes(
    farm_factory,
):
    farm = farm_factory()
    control = farm.control()
    ingest = farm.ingest(capacity=1)
    wait_for(lambda: ingest.name in control.log(), 20, "the watch to see the worker join")
    wait_for(lambda: quiet_for(control, 2.0), 30, "the reconciles of the join to finish")

    # nothing changes for three watch periods: the control worker writes no line
    quiet = control.log()
    window = time.monotonic() + 6.5
    while time.monotonic() < window:
        assert control.log() == quiet
        time.sleep(0.2)
    assert "watch_workers" not in control.log()

    ingest.kill()
    wait_for(
        lambda: f"workers offline: ['{ingest.name}']" in control.log(), 20, "the worker's loss"
    )
