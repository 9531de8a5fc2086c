"""An ingest worker needs Redis and the web server, not the database (DESIGN "Ingest hosts")."""

from __future__ import annotations

import socket

import pytest

from cms import redis_connection
from cms.farm import farm_keys
from cms.farm.commands import Assignment
from cms.farm.reconcile import run_reconcile
from cms.models import Camera, DetectionModel, StreamAssignment
from tests.farm.conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_an_ingest_worker_whose_database_url_points_nowhere_runs_cameras(farm_factory):
    # given a "database" that only counts who connects: the ingest worker's DATABASE_URL
    trap = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    trap.bind(("127.0.0.1", 0))
    trap.listen(16)
    port = trap.getsockname()[1]
    farm = farm_factory()
    farm.control()  # the control worker, this process and the live server keep the database
    worker = farm.ingest(
        capacity=2, env={"DATABASE_URL": f"postgres://nobody@127.0.0.1:{port}/none"}
    )
    model = farm.model()
    camera = farm.camera("nodb", username="admin", password="cam-secret")

    # when a display asks for the camera
    display = farm.display("nodb", camera)

    # then it runs on that worker, results arrive, and what it learned reaches the database
    wait_for(lambda: farm.running_on(camera) == worker.name, 60, "the camera to run")
    wait_for(lambda: farm.results_for(display), 60, "results")
    wait_for(lambda: DetectionModel.objects.get(pk=model.pk).class_names, 15, "the class names")
    wait_for(lambda: Camera.objects.get(pk=camera.pk).frame_width == 320, 15, "the frame size")
    # and a spec change is applied in place from Redis
    before = StreamAssignment.objects.get(camera=camera)
    display.min_seen_s = 1.5
    display.save()
    after = wait_for(
        lambda: (
            StreamAssignment.objects.filter(camera=camera)
            .exclude(spec_hash=before.spec_hash)
            .first()
        ),
        15,
        "the new spec",
    )
    assert after.generation == before.generation  # in place, not restarted
    wait_for(
        lambda: farm.streams()[camera.id].spec_hash == after.spec_hash, 15, "the new spec to run"
    )

    trap.setblocking(False)
    with pytest.raises(BlockingIOError):  # nobody ever connected to the "database"
        trap.accept()
    trap.close()
    log = worker.log()
    assert "cam-secret" not in log
    assert "OperationalError" not in log


def test_a_spec_missing_in_redis_keeps_the_camera_running_until_reconcile_writes_it(
    farm_factory,
):
    farm = farm_factory()
    farm.control()
    worker = farm.ingest(capacity=1)
    camera = farm.camera("respec")
    farm.display("respec", camera)
    wait_for(lambda: farm.running_on(camera) == worker.name, 60, "the camera to run")
    assignment = StreamAssignment.objects.get(camera=camera)
    r = redis_connection.client()

    # when Redis lost the spec while a new spec hash is published (as after a restart), and
    # no reconcile runs meanwhile (the test holds its lock)
    lock = r.lock(farm_keys.RECONCILE_LOCK, timeout=60)
    assert lock.acquire(blocking_timeout=30)
    r.delete(farm_keys.spec_key(camera.id))
    farm_keys.publish_assignments(
        r, [Assignment(camera.id, worker.name, assignment.generation, "not-yet-written")]
    )

    # then the camera runs on what it has, saying so once
    wait_for(lambda: "spec missing in Redis" in worker.log(), 10, "the missing spec logged")
    before = farm.streams()[camera.id].updated
    wait_for(lambda: farm.streams()[camera.id].updated > before + 2, 10, "heartbeats go on")
    assert worker.log().count("spec missing in Redis") == 1
    assert farm.running_on(camera) == worker.name

    # and a reconcile rewrites the spec and the real hash: nothing restarts
    lock.release()
    run_reconcile()
    assert farm_keys.read_spec(r, camera.id) is not None
    wait_for(
        lambda: farm_keys.read_assignment(r, camera.id)[2] == assignment.spec_hash, 10, "the hash"
    )
    assert StreamAssignment.objects.get(camera=camera).generation == assignment.generation
    assert farm.running_on(camera) == worker.name
