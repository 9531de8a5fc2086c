"""A camera's life on a real farm: start, shared decode, in-place spec changes, stop, fencing."""

from __future__ import annotations

import os
import time

import pytest
from django.core.files.base import ContentFile

from cms import redis_connection
from cms.api.services import cluster_overview, display_state
from cms.farm import farm_keys
from cms.farm.commands import Assignment
from cms.farm_status import camera_statuses
from cms.models import DetectionModel, Display, StreamAssignment
from tests.farm.conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_display_created_runs_on_a_worker_with_results_and_shared_decode(farm_factory):
    farm = farm_factory()
    farm.control()
    worker = farm.ingest(capacity=2)
    farm.model()  # the upload is not what is being timed

    # given a camera, a model and a display
    camera = farm.camera("lobby")
    created = time.monotonic()
    first = farm.display("lobby-a", camera)

    # then an ingest task is assigned within about a second and runs on the worker
    wait_for(
        lambda: StreamAssignment.objects.filter(camera=camera, worker=worker.name).exists(),
        5,
        "assignment",
    )
    assert time.monotonic() - created < 3
    wait_for(lambda: farm.running_on(camera) == worker.name, 60, "stream heartbeat")
    wait_for(lambda: farm.results_for(first), 60, "results for the first display")
    generation = StreamAssignment.objects.get(camera=camera).generation
    # the worker filled in the class names and keeps a snapshot of the newest frame
    assert DetectionModel.objects.get(pk=first.model_id).class_names["0"] == "person"
    jpeg = wait_for(
        lambda: farm_keys.read_snapshot(redis_connection.client(), camera.id), 10, "a snapshot"
    )
    assert jpeg.startswith(b"\xff\xd8")

    # a second display on the same camera shares the task (one reader, same generation)
    second = farm.display("lobby-b", camera)
    wait_for(lambda: farm.results_for(second), 60, "results for the second display")
    assert StreamAssignment.objects.get(camera=camera).generation == generation
    assert farm.workers_online()[worker.name].running == (camera.id,)

    # a crop change is applied in place: same generation, stream not reopened
    reconnects = farm.streams()[camera.id].reconnects
    Display.objects.filter(pk=second.pk).update(crop_x1=0, crop_y1=0, crop_x2=160, crop_y2=120)
    second.refresh_from_db()
    second.save()  # through the signal, like the admin
    wait_for(
        lambda: any(
            max(o["box"][2] for o in r.objects or [{"box": [0, 0, 0, 0]}]) <= 160
            for r in farm.results_for(second)[-3:]
        ),
        60,
        "cropped results",
    )
    stream = farm.streams()[camera.id]
    assert stream.generation == generation
    assert stream.reconnects == reconnects
    assert stream.spec_hash == StreamAssignment.objects.get(camera=camera).spec_hash

    # disabling the last display stops the task
    Display.objects.get(pk=first.pk).__class__.objects.filter(pk=first.pk).delete()
    second.enabled = False
    second.save()
    wait_for(lambda: camera.id not in farm.streams(), 15, "the task to stop")
    wait_for(lambda: farm.workers_online()[worker.name].running == (), 15, "worker to be idle")
    assert StreamAssignment.objects.get(camera=camera).worker == ""


def test_a_fenced_task_stops_within_2s_and_a_late_start_exits_at_once(farm_factory):
    farm = farm_factory()
    worker = farm.ingest(capacity=2)
    farm.control()
    camera = farm.camera("gate")
    farm.display("gate", camera)
    wait_for(lambda: farm.running_on(camera), 60, "the camera to run")
    assignment = StreamAssignment.objects.get(camera=camera)

    # when another generation takes over (as a reconcile elsewhere would)
    StreamAssignment.objects.filter(camera=camera).update(generation=assignment.generation + 1)
    farm_keys.publish_assignments(
        redis_connection.client(), [Assignment(camera.id, "elsewhere", assignment.generation + 1)]
    )
    fenced = time.monotonic()
    wait_for(
        lambda: farm.workers_online()[worker.name].running == (), 10, "the fenced task to stop"
    )
    assert time.monotonic() - fenced < 2 + 2  # stop within 2 s, seen through a 2 s heartbeat

    # a start message with an old generation exits at once and publishes nothing
    from celery import current_app
    from celery.utils import worker_direct

    current_app.send_task(
        "tasks.ingest.ingest_camera",
        args=[camera.id, assignment.generation],
        queue=worker_direct(worker.name),
    )
    wait_for(lambda: "ended: stale generation" in worker.log(), 10, "the stale start to exit")
    # A heartbeat sent while the stale start ran may still name it: the next one (2 s) not.
    wait_for(
        lambda: farm.workers_online()[worker.name].running == (), 4, "no task in the heartbeat"
    )


def test_a_corrupt_model_is_found_and_the_other_display_keeps_running(farm_factory):
    farm = farm_factory()
    farm.control()
    farm.ingest(capacity=2)
    camera = farm.camera("hall")
    good = farm.display("hall-good", camera)
    broken_model = farm.model(name="broken")
    broken_model.weights.save("broken.pt", ContentFile(os.urandom(4096)))
    broken = farm.display("hall-broken", camera, model=broken_model)

    wait_for(lambda: farm.results_for(good), 90, "results for the display with a good model")
    # The worker may try the broken weights before the control worker's check marks them
    # invalid (then it reports the load failure); from then on desired state leaves the
    # display out. Either way the display says why it gets nothing, in the API.
    wait_for(
        lambda: DetectionModel.objects.get(pk=broken_model.pk).validation_state == "invalid",
        60,
        "the check of the broken model",
    )
    pending = cluster_overview(redis_connection.client())["pending"]
    [entry] = [p for p in pending if p["display"] == broken.id]
    assert entry["reason"].startswith("its model's weights do not load: ")
    broken = Display.objects.select_related("camera", "model").get(pk=broken.pk)  # as checked
    state = display_state(broken, redis_connection.client())
    assert state["running"] is False
    assert state["not_running_reason"] == entry["reason"]
    status = str(camera_statuses([camera.id])[camera.id])
    assert status.startswith("running on")
    wait_for(lambda: len(farm.results_for(good)) > 1, 30, "the good display keeps running")
