"""A running results consumer whose stream and group went with a Redis restart (no persistence)."""

from __future__ import annotations

import threading
import time

import pytest

from cms.models import Detection
from cms.results import results_stream

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_consumer_creates_its_group_again_and_stores_what_comes_next(
    publish, consumer, redis_client, display
):
    stop = threading.Event()
    runner = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    runner.start()
    try:
        publish(1)
        deadline = time.monotonic() + 30
        while not Detection.objects.filter(display=display).exists():
            assert time.monotonic() < deadline, "the first result was not stored"
            time.sleep(0.05)

        redis_client.flushdb()  # what a restart without persistence leaves
        publish(2)
        deadline = time.monotonic() + 30
        while Detection.objects.filter(display=display).count() < 2:
            assert runner.is_alive(), "the consumer died with its group"
            assert time.monotonic() < deadline, "the result after the restart was not stored"
            time.sleep(0.05)
    finally:
        stop.set()
        runner.join(10)
    assert results_stream.figures(redis_client)["pending"] == 0
