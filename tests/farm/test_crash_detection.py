"""A crashed worker noticed by its closed Redis connection; a paused one by its heartbeat."""

from __future__ import annotations

import signal
import time

import pytest
from django.conf import settings

from cms import redis_connection
from cms.farm import worker_connections
from tests.farm.conftest import generations, placement, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def cameras_on_two_workers(farm, prefix: str) -> tuple:
    """(cameras, a worker running some, the other worker running the rest): both hold the
    model, so a camera that moves starts without a model load."""
    a, b = farm.ingest(capacity=4), farm.ingest(capacity=4)
    wait_for(lambda: {a.name, b.name} <= set(farm.workers_online()), 30, "both workers")
    cameras = [farm.camera(f"{prefix}{i}", fps=2) for i in range(4)]
    for camera in cameras:
        farm.display(f"d-{camera.identifier}", camera)
    wait_for(
        lambda: set(placement(farm, cameras)) == {a.name, b.name}, 90, "cameras on both workers"
    )
    # Their heartbeats, which run the cameras, went through those connections for seconds:
    # the watch (twice a second) has seen them. Absence counts once Redis is up a timeout.
    r = redis_connection.client()
    wait_for(
        lambda: worker_connections.redis_run(r)[1] >= settings.SIGHTLINE_WORKER_TIMEOUT_S,
        30,
        "Redis up for a worker timeout",
    )
    wait_for(
        lambda: {a.name, b.name} <= set(worker_connections.connected_workers(r)),
        10,
        "both workers' named connections",
    )
    return cameras, a, b


def test_a_killed_workers_cameras_run_elsewhere_within_5s(farm_factory):
    farm = farm_factory()
    control = farm.control()
    cameras, doomed, survivor = cameras_on_two_workers(farm, "crash")
    before = generations(cameras)

    doomed.kill()
    killed = time.monotonic()
    wait_for(lambda: placement(farm, cameras) == {survivor.name: 4}, 30, "cameras on the survivor")
    moved_after = time.monotonic() - killed
    print(f"cameras ran elsewhere {moved_after:.1f} s after the kill")
    # detection (two looks, 1 s), reconcile, start, first stream heartbeat (1 s)
    assert moved_after < 5, f"cameras ran elsewhere {moved_after:.1f} s after the kill"
    assert "workers crashed (their connection closed)" in control.log()
    assert doomed.name in control.log()
    moved = [c for c in before if generations(cameras)[c] != before[c]]
    assert moved, "the killed worker's cameras got new generations"


def test_a_paused_worker_keeps_its_cameras_until_its_heartbeat_times_out(farm_factory):
    farm = farm_factory()
    control = farm.control()
    cameras, paused, _ = cameras_on_two_workers(farm, "pause")
    before = generations(cameras)
    on_paused = placement(farm, cameras)[paused.name]
    assert paused.process is not None

    paused.process.send_signal(signal.SIGSTOP)
    try:
        stopped = time.monotonic()
        # silent but connected: for 3 s (less than the 10 s timeout) it is still online,
        # its connection listed, and nothing moved
        r = redis_connection.client()
        while time.monotonic() - stopped < 3:
            assert paused.name in farm.workers_online()
            assert paused.name in worker_connections.connected_workers(r)
            assert generations(cameras) == before
            time.sleep(0.2)
        assert "workers crashed" not in control.log()
    finally:
        paused.process.send_signal(signal.SIGCONT)
    assert on_paused > 0
    wait_for(lambda: placement(farm, cameras)[paused.name] == on_paused, 20, "it runs again")


def test_redis_dropping_every_connection_at_once_moves_no_camera(farm_factory, redis_client):
    farm = farm_factory()
    control = farm.control()
    cameras, a, b = cameras_on_two_workers(farm, "drop")
    before = generations(cameras)

    # as CLIENT KILL TYPE normal, or a proxy restarting: every connection closes at once,
    # the control worker's too; the heartbeats stay
    redis_client.client_kill_filter(_type="normal", skipme=True)
    r = redis_connection.client()
    wait_for(
        lambda: {a.name, b.name} <= set(worker_connections.connected_workers(r)),
        10,
        "both workers connected again (at their next heartbeat)",
    )
    window = time.monotonic() + 3  # the watch's looks through the reconnects and after
    while time.monotonic() < window:
        assert generations(cameras) == before
        time.sleep(0.2)
    assert "workers crashed" not in control.log()
    assert "most worker connections closed" in control.log()  # the watch saw it, and waited
    assert set(placement(farm, cameras)) == {a.name, b.name}
