"""The control host's Redis restarted while cameras run on two ingest hosts."""

from __future__ import annotations

import time

import pytest

from cms.models import Detection, StreamAssignment
from tests.farm.conftest import placement, wait_for
from tests.support.workers import reset_broker_connections

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def assignments(cameras) -> dict[int, tuple[int, str]]:
    """Each camera's (generation, worker) as the database has it."""
    rows = StreamAssignment.objects.filter(camera__in=cameras)
    return {a.camera_id: (a.generation, a.worker) for a in rows}


def test_a_redis_restart_moves_no_camera_and_every_camera_runs_again_within_30s(
    hosts, farm_factory
):
    farm = farm_factory()
    farm.control()
    farm.start_beat()
    farm.start_results()
    b, c = hosts.b.ingest(farm), hosts.c.ingest(farm)
    wait_for(lambda: {b.name, c.name} <= set(farm.workers_online()), 30, "both ingest hosts")
    cameras = [farm.camera(f"rr{i}", fps=2) for i in range(4)]  # a device outside the farm
    displays = [farm.display(f"d-{camera.identifier}", camera) for camera in cameras]
    wait_for(lambda: set(placement(farm, cameras)) == {b.name, c.name}, 90, "cameras on B and C")
    before = assignments(cameras)
    assert {worker for _, worker in before.values()} == {b.name, c.name}

    # Redis stops and starts again on the same address, port and password, without
    # persistence: assignments, specs, heartbeats, queues and the results stream are gone
    newest = Detection.objects.order_by("-id").values_list("id", flat=True).first() or 0
    hosts.redis.restart()
    restarted = time.monotonic()
    reset_broker_connections()  # this process's pooled broker connections died with it

    # every camera runs again, on its worker with its generation, and its results are stored
    def running_again() -> bool:
        return all(farm.running_on(camera) == before[camera.id][1] for camera in cameras)

    wait_for(running_again, 30, "every camera running again where it ran")
    wait_for(
        lambda: all(Detection.objects.filter(display=d, id__gt=newest).exists() for d in displays),
        30 - (time.monotonic() - restarted),
        "results of every display stored again",
    )
    took = time.monotonic() - restarted
    print(f"every camera ran again and stored results {took:.1f} s after the restart")

    # no reassignment at all: over a worker timeout after the restart (when reconcile trusts
    # missing heartbeats again) with beat's and the watch's reconciles, nothing moved
    window = time.monotonic() + 12
    while time.monotonic() < window:
        assert assignments(cameras) == before
        time.sleep(0.5)
    assert running_again()
