"""Placement across workers and recovery from failures, on a real farm."""

from __future__ import annotations

import threading
import time

import pytest

from cms.farm import farm_keys
from cms.farm.heartbeats import WorkerInfo
from cms.farm.reconcile import reconcile_once, run_reconcile
from cms.models import StreamAssignment
from tests.farm.conftest import generations, placement, wait_for
from tests.support.broker import queued
from tests.support.workers import reset_broker_connections

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_cameras_spread_capacity_holds_and_a_new_worker_takes_nothing(farm_factory, settings):
    # Loads of full workers (1.0) against a new idle one (0.0) do not pass a threshold of 1.0.
    settings.SIGHTLINE_REBALANCE_THRESHOLD = 1.0  # here, and in the farm's processes:
    farm = farm_factory(SIGHTLINE_REBALANCE_THRESHOLD="1.0")
    farm.control()
    a, b = farm.ingest(capacity=3), farm.ingest(capacity=3)
    cameras = [farm.camera(f"cam{i}", fps=1) for i in range(6)]
    for camera in cameras:
        farm.display(f"d-{camera.identifier}", camera)
    wait_for(lambda: placement(farm, cameras) == {a.name: 3, b.name: 3}, 90, "3 and 3")

    # capacity is never exceeded: a seventh camera stays pending, with the reason
    extra = farm.camera("extra", fps=1)
    farm.display("d-extra", extra)
    wait_for(
        lambda: StreamAssignment.objects.filter(camera=extra).exclude(pending_reason="").exists(),
        30,
        "the seventh camera to be pending",
    )
    assert extra.assignment.pending_reason == "every ingest worker is at capacity"
    assert {len(w.running) for w in farm.workers_online().values()} == {3}
    extra.delete()  # so that it cannot take the new worker's free slots
    running = generations(cameras)

    # a third worker joining below the rebalance threshold moves nothing
    c = farm.ingest(capacity=3)
    wait_for(lambda: c.name in farm.workers_online(), 30, "the third worker")
    run_reconcile()
    run_reconcile()
    assert generations(cameras) == running
    assert placement(farm, cameras) == {a.name: 3, b.name: 3}
    assert farm.workers_online()[c.name].running == ()


def two_cameras_on_one_worker_then_another(farm, prefix: str) -> tuple:
    """(cameras, the worker running both, a second worker that joined afterwards)."""
    first = farm.ingest(capacity=4)
    cameras = [farm.camera(f"{prefix}{i}", fps=1) for i in range(2)]
    for camera in cameras:
        farm.display(f"d-{camera.identifier}", camera)
    wait_for(lambda: placement(farm, cameras) == {first.name: 2}, 60, "both on one worker")
    second = farm.ingest(capacity=4)
    wait_for(lambda: second.name in farm.workers_online(), 30, "the second worker")
    return cameras, first, second


def test_killed_worker_cameras_move_within_15s_and_its_restart_resumes_nothing(farm_factory):
    farm = farm_factory()
    farm.control()
    farm.start_beat()
    cameras, doomed, survivor = two_cameras_on_one_worker_then_another(farm, "k")
    before = generations(cameras)

    doomed.kill()
    killed = time.monotonic()
    wait_for(lambda: placement(farm, cameras) == {survivor.name: 2}, 40, "cameras on the survivor")
    moved_after = time.monotonic() - killed
    # its closed connection noticed in about a second (test_crash_detection.py), then
    # reconcile, the survivor's model load and the start
    assert moved_after < 15, f"cameras moved after {moved_after:.1f} s"
    assert all(generations(cameras)[c] > before[c] for c in before)

    # the killed worker restarted under its old name resumes nothing stale
    farm.ingest(capacity=4, name=doomed.name)
    wait_for(lambda: doomed.name in farm.workers_online(), 30, "the restarted worker")
    window = time.monotonic() + 3  # stale start messages, if any, would run now
    while time.monotonic() < window:
        assert farm.workers_online()[doomed.name].running == ()
        time.sleep(0.2)
    assert placement(farm, cameras) == {survivor.name: 2}


def test_sigterm_moves_cameras_within_5s(farm_factory):
    farm = farm_factory()
    farm.control()
    cameras, leaving, staying = two_cameras_on_one_worker_then_another(farm, "t")

    stopped = time.monotonic()
    threading.Thread(target=leaving.terminate, daemon=True).start()
    wait_for(
        lambda: placement(farm, cameras) == {staying.name: 2}, 30, "cameras on the other worker"
    )
    assert time.monotonic() - stopped < 5 + 8  # + model load on the new worker (CPU, 2 cores)
    wait_for(lambda: leaving.process.poll() is not None, 30, "the worker to exit")
    assert leaving.process.returncode == 0
    assert "Traceback" not in leaving.log()


def test_two_reconciles_at_once_assign_each_camera_exactly_once(farm_factory, redis_client):
    farm = farm_factory()
    cameras = [farm.camera(f"r{i}") for i in range(20)]
    for camera in cameras:
        farm.display(f"d-{camera.identifier}", camera)
    redis_client.flushdb()  # drop the triggers those saves sent; nobody consumes them here
    now = time.time()
    for name in ("w1", "w2"):
        farm_keys.write_worker(
            redis_client, WorkerInfo(name, "cpu", 20, last_seen=now, start_lists=True)
        )

    barrier = threading.Barrier(2)

    def reconcile() -> None:
        barrier.wait()
        reconcile_once()

    threads = [threading.Thread(target=reconcile) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert set(generations(cameras).values()) == {1}
    # One start message per worker, listing its [camera, generation] pairs.
    started = [
        pair for n in ("w1", "w2") for m in queued(redis_client, n) for pair in m["body"][0][0]
    ]
    assert sorted(started) == sorted([camera.id, 1] for camera in cameras)


def test_redis_restart_under_a_running_farm_moves_nothing(farm_factory, embedded_redis):
    farm = farm_factory()
    farm.control()
    farm.start_beat()
    a, b = farm.ingest(capacity=2), farm.ingest(capacity=2)
    cameras = [farm.camera(f"rr{i}", fps=1) for i in range(2)]
    for camera in cameras:
        farm.display(f"d-{camera.identifier}", camera)
    wait_for(lambda: placement(farm, cameras) == {a.name: 1, b.name: 1}, 90, "one each")
    before = generations(cameras)

    # everything in Redis is gone, as after a restart without persistence
    embedded_redis.stop()
    embedded_redis.start()
    reset_broker_connections()  # this test process's pooled broker connections are dead
    wait_for(lambda: placement(farm, cameras) == {a.name: 1, b.name: 1}, 60, "convergence")
    # over one heartbeat timeout, with reconciles running: a mass reassignment would show now
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:
        run_reconcile()
        assert generations(cameras) == before
        time.sleep(1)
    assert placement(farm, cameras) == {a.name: 1, b.name: 1}
