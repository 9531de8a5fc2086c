from __future__ import annotations

import time

import numpy as np
import pytest

from cms import redis_connection
from cms.results import results_stream
from cms.results.consumer import ResultsConsumer
from streams import Frame
from tasks.publisher import ResultPublisher
from tests.factories import make_display


@pytest.fixture
def display(db):
    return make_display()


@pytest.fixture
def publish(redis_client, display):
    """publish(seq, objects=..., generation=..., at=...) -> XADDs a result like an ingest task."""

    def _publish(seq, *, objects=None, generation=1, at=None, target=None):
        target = target or display
        frame = Frame(np.zeros((2, 2, 3), np.uint8), seq, at or 1_700_000_000 + seq, 0.0)
        ResultPublisher(redis_client, camera_id=target.camera_id, generation=generation).publish(
            display_id=target.id,
            model_id=target.model_id,
            frame=frame,
            objects=objects if objects is not None else [person()],
        )

    return _publish


def person(x=10.0):
    return {"class_id": 0, "class_name": "person", "confidence": 0.9, "box": [x, 1.0, 20.0, 30.0]}


@pytest.fixture
def consumer(redis_client, settings):
    settings.SIGHTLINE_RESULTS_BLOCK_MS = 50
    settings.SIGHTLINE_RESULTS_CLAIM_IDLE_MS = 100
    results_stream.ensure_group(redis_client)
    return ResultsConsumer(redis_connection.client(), "test-consumer")


def drain(consumer, until, timeout=30.0):
    """Run consumer steps until ``until()`` is true (polling with a deadline)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        consumer.step()
        if until():
            return
    raise AssertionError("condition not reached before the deadline")


def dead_letter_one(client, fields: dict[bytes, bytes], error: str, deliveries: int) -> None:
    """Read `fields` off the results stream as a consumer would, and dead-letter them."""
    stream = results_stream.results_stream()
    results_stream.ensure_group(client)
    entry_id = client.xadd(stream, fields).decode()
    client.xreadgroup(results_stream.GROUP, "tests", {stream: ">"})
    assert results_stream.dead_letter(client, entry_id, fields, error, deliveries)
