"""Event thumbnails on a real farm: the trained shapes detector on a generated video, a real
ingest worker drawing and sending the pictures through Redis, the real results consumer
saving them where the admin reads them (cms.thumbnails)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cms import redis_connection, thumbnails
from cms.models import Detection, StreamAssignment
from cms.results import results_stream
from cms.results.consumer import ResultsConsumer
from inference.synthetic.video import write_video
from tests.farm.conftest import wait_for
from tests.farm.test_objects import PARKED, consume_until, enters_of, parked_display, shapes_model

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def decode(jpeg: bytes | None) -> np.ndarray:
    assert jpeg is not None
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def test_enters_and_a_change_policy_displays_results_get_their_thumbnails(
    farm_factory, redis_client, settings, tmp_path, trained_detector_path
):
    settings.SIGHTLINE_RESULTS_BLOCK_MS = 50
    settings.SIGHTLINE_RESULTS_BEAT_S = 60  # no "unchanged" beat within the test
    settings.SIGHTLINE_THUMBNAIL_DIR = tmp_path / "thumbnails"
    results_stream.ensure_group(redis_client)
    consumer = ResultsConsumer(redis_connection.client(), "test-thumbnails")
    video = tmp_path / "parked.mp4"
    write_video(PARKED, video)  # 320 x 240
    # 160 wide: the worker scales the 320 x 240 frames down to 160 x 120
    farm = farm_factory(SIGHTLINE_THUMBNAIL_WIDTH="160")
    farm.control()
    worker = farm.ingest(capacity=1)
    display = parked_display("thumbs", video, shapes_model(trained_detector_path))
    wait_for(lambda: farm.running_on(display.camera) == worker.name, 90, "the camera to run")
    generation = StreamAssignment.objects.get(camera=display.camera).generation

    consume_until(consumer, lambda: len(enters_of(display, generation)) >= 3, 60, "three enters")

    # each enter (the square's "left" and "view", the circle's "view") has its picture
    pictures = {
        e.key: decode(thumbnails.load("event", e.key)) for e in enters_of(display, generation)
    }
    assert {p.shape for p in pictures.values()} == {(120, 160, 3)}
    by_shape = {(e.class_name, e.zone): pictures[e.key] for e in enters_of(display, generation)}
    # the square's two enters share its box; the circle's picture has another
    assert np.array_equal(by_shape[("square", "left")], by_shape[("square", "view")])
    assert not np.array_equal(by_shape[("square", "view")], by_shape[("circle", "view")])
    # and the display's first delivered result (under "change") has one too
    first = Detection.objects.filter(display=display).order_by("frame_time").first()
    assert first is not None
    assert decode(thumbnails.load("detection", first.key)).shape == (120, 160, 3)
