"""Objects on a real farm: the suite's trained shapes detector on generated videos, real
Celery workers, the real results consumer storing object events.

- parked shapes with box noise: one enter each, no repeated events, no new results under
  the ``change`` policy;
- kill -9 of the worker while they are there: exactly one leave for each open enter, and
  the new worker's tracks get new ids;
- two cameras batched on one worker: each keeps its ids while the other restarts.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from cms import redis_connection
from cms.farm.reconcile import restart_camera
from cms.models import Camera, Detection, DetectionModel, Display, ObjectEvent, StreamAssignment
from cms.results import results_stream
from cms.results.consumer import ResultsConsumer
from inference.synthetic.video import write_video
from tests.farm.conftest import wait_for
from tests.support.parked_shapes import LEFT, PARKED, shapes_model

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(scope="module")
def parked_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("parked") / "parked.mp4"
    write_video(PARKED, path)
    return path


@pytest.fixture
def consumer(redis_client, settings):
    settings.SIGHTLINE_RESULTS_BLOCK_MS = 50
    settings.SIGHTLINE_RESULTS_BEAT_S = 60  # no "unchanged" beat within a test
    results_stream.ensure_group(redis_client)
    return ResultsConsumer(redis_connection.client(), "test-objects")


def consume_until(consumer, condition, timeout, what):
    """Run the results consumer until ``condition()`` holds (a deadline, never a sleep)."""

    def step():
        consumer.step()
        return condition()

    return wait_for(step, timeout, what)


def parked_display(name: str, video: Path, model: DetectionModel, **fields) -> Display:
    camera = Camera.objects.create(name=name, identifier=name, url=str(video), fps=5)
    fields = {"policy": Display.Policy.CHANGE, "zones": LEFT, **fields}
    return Display.objects.create(name=name, identifier=name, camera=camera, model=model, **fields)


def enters_of(display: Display, generation: int) -> list[ObjectEvent]:
    return list(display.object_events.filter(type="enter", generation=generation))


def test_parked_shapes_enter_once_and_a_killed_worker_leaves_each_once(
    farm_factory, consumer, parked_video, trained_detector_path
):
    farm = farm_factory()
    farm.control()
    farm.start_beat()
    doomed = farm.ingest(capacity=2)
    display = parked_display("parked", parked_video, shapes_model(trained_detector_path))
    camera = display.camera
    wait_for(lambda: farm.running_on(camera) == doomed.name, 90, "the camera to run")
    first = StreamAssignment.objects.get(camera=camera).generation

    # parked shapes enter once each: the square "left" and "view", the circle "view"
    consume_until(consumer, lambda: len(enters_of(display, first)) >= 3, 60, "three enters")
    settled = Detection.objects.filter(display=display).count()
    window = time.monotonic() + 6  # 30 frames of box noise at 5 fps
    while time.monotonic() < window:
        consumer.step()
    made = Counter((e.type, e.zone, e.class_name) for e in display.object_events.all())
    assert made == Counter(
        {("enter", "left", "square"): 1, ("enter", "view", "square"): 1,
         ("enter", "view", "circle"): 1}
    ), made  # fmt: skip
    # under "change" a parked shape's jitter is no change: no new result was delivered
    assert Detection.objects.filter(display=display).count() == settled
    old_ids = {e.track_id for e in enters_of(display, first)}
    assert all(track_id // 10**9 == first for track_id in old_ids)

    # when the worker is killed while they are there
    doomed.kill()
    killed_at = time.time()
    survivor = farm.ingest(capacity=2)
    wait_for(lambda: farm.running_on(camera) == survivor.name, 90, "the camera to move")
    moved = StreamAssignment.objects.get(camera=camera).generation

    # then every enter of the dead generation gets exactly one leave, at its last sighting
    consume_until(
        consumer,
        lambda: not display.object_events.filter(generation=first, open=True).exists(),
        60,
        "the farm to close the dead generation's presences",
    )
    leaves = list(display.object_events.filter(type="leave", generation=first))
    assert Counter(e.track_id for e in leaves) == Counter(
        e.track_id for e in enters_of(display, first)
    )
    assert len({e.key for e in leaves}) == len(leaves) == 3
    assert all(e.time.timestamp() <= killed_at + 0.5 and e.dwell_s > 5 for e in leaves)
    # and the new worker's tracks have new ids, of its own generation
    consume_until(consumer, lambda: len(enters_of(display, moved)) >= 3, 60, "new enters")
    new_ids = {e.track_id for e in enters_of(display, moved)}
    assert not new_ids & old_ids and all(i // 10**9 == moved for i in new_ids)


def test_two_batched_cameras_keep_their_ids_when_the_other_restarts(
    farm_factory, consumer, parked_video, trained_detector_path
):
    farm = farm_factory()
    farm.control()
    worker = farm.ingest(capacity=2)
    model = shapes_model(trained_detector_path)  # one model: the cameras share its batches
    steady = parked_display("steady", parked_video, model)
    restarted = parked_display("restarted", parked_video, model)
    for display in (steady, restarted):
        wait_for(lambda d=display: farm.running_on(d.camera) == worker.name, 90, "running")
    consume_until(
        consumer,
        lambda: (
            len(steady.object_events.filter(type="enter")) >= 3
            and len(restarted.object_events.filter(type="enter")) >= 3
        ),
        60,
        "both cameras' enters",
    )
    steady_ids = set(steady.object_events.values_list("track_id", flat=True))
    generation = StreamAssignment.objects.get(camera=restarted.camera).generation

    # when the other camera restarts (its tracker goes, a new one starts)
    restart_camera(restarted.camera_id)
    wait_for(
        lambda: (
            StreamAssignment.objects.get(camera=restarted.camera).generation > generation
            and farm.running_on(restarted.camera) == worker.name
        ),
        60,
        "the restart",
    )
    moved = StreamAssignment.objects.get(camera=restarted.camera).generation
    consume_until(
        consumer,
        lambda: restarted.object_events.filter(type="enter", generation__gte=moved).count() >= 3,
        60,
        "the restarted camera's new enters",
    )
    time_after = time.monotonic() + 3
    while time.monotonic() < time_after:
        consumer.step()

    # then the steady camera's objects kept their ids: no new event, the same ids in results
    assert set(steady.object_events.values_list("track_id", flat=True)) == steady_ids
    newest = Detection.objects.filter(display=steady).order_by("-id").first()
    assert {o["track_id"] for o in newest.detected_objects} <= steady_ids
