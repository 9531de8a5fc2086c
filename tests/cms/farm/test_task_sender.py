"""The batch sender's messages are the ones Celery's send_task sends (real Redis broker)."""

from __future__ import annotations

from datetime import datetime

import pytest
from celery.utils import worker_direct

from cms.farm.task_sender import START_CAMERAS, send_to_workers, sender
from tests.support.broker import queued

# Differ between any two messages: ids, and times taken when each was built.
PER_MESSAGE = {("headers", "id"), ("headers", "root_id"), ("headers", "expires")}
PER_MESSAGE |= {("properties", "correlation_id"), ("properties", "delivery_tag")}


def comparable(message: dict) -> dict:
    return {
        part: {k: v for k, v in fields.items() if (part, k) not in PER_MESSAGE}
        if isinstance(fields, dict)
        else fields
        for part, fields in message.items()
    }


@pytest.mark.parametrize("worker", ["gpu-1@rack", "w 2@host"])
def test_batch_sends_what_send_task_sends_to_each_workers_direct_queue(redis_client, worker):
    with sender.producer_or_acquire() as producer:
        sender.send_task(
            START_CAMERAS,
            args=[[[7, 3], [9, 2]]],
            queue=worker_direct(worker),
            producer=producer,
            expires=60,
        )
    send_to_workers(
        START_CAMERAS, [(worker, [[[7, 3], [9, 2]]]), ("other@host", [[[8, 1]]])], expires_s=60
    )

    by_send_task, batched = queued(redis_client, worker)
    assert comparable(batched) == comparable(by_send_task)
    assert batched["body"][0] == [[[7, 3], [9, 2]]]
    assert batched["headers"]["id"] != by_send_task["headers"]["id"]
    assert batched["headers"]["root_id"] == batched["headers"]["id"]
    assert batched["properties"]["correlation_id"] == batched["headers"]["id"]
    sent_at = datetime.fromisoformat(by_send_task["headers"]["expires"])
    expires = datetime.fromisoformat(batched["headers"]["expires"])
    assert 0 <= (expires - sent_at).total_seconds() < 5
    assert [m["body"][0] for m in queued(redis_client, "other@host")] == [[[[8, 1]]]]


def test_nothing_to_send_opens_no_connection(redis_client):
    send_to_workers(START_CAMERAS, [], expires_s=60)
    assert not redis_client.keys("*dq2*")
