"""The link to Redis cut after a batch was handled, before the consumer finished writing it back.

The consumer talks to the suite's Redis through a link (tests.support.cut_link) that is cut
the moment the reply to its dead letter has reached it: the dead letter is in Redis, and the
consumer's next command meets the cut. Once the link is back, it finishes the same batch:
the result is stored and its receivers called once, the malformed entry dead-lettered once,
and every count is made once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from cms.models import Detection
from cms.results import results_stream
from cms.results.consumer import ResultsConsumer
from cms.signals import detection_received
from tests.results.conftest import drain
from tests.support.cut_link import CutLink

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def link(redis_client) -> Iterator[CutLink]:
    where = redis_client.connection_pool.connection_kwargs
    cut_link = CutLink(where["path"] if "path" in where else (where["host"], where["port"]))
    yield cut_link
    cut_link.close()


@pytest.fixture
def consumer_via_link(link, redis_client, settings) -> ResultsConsumer:
    settings.SIGHTLINE_RESULTS_BLOCK_MS = 50
    settings.SIGHTLINE_RESULTS_CLAIM_IDLE_MS = 100
    where = redis_client.connection_pool.connection_kwargs
    client = redis.Redis(
        host="127.0.0.1",
        port=link.port,
        db=where.get("db", 0),
        password=where.get("password"),
        socket_timeout=2,
    )
    results_stream.ensure_group(client)
    return ResultsConsumer(client, "consumer-behind-a-link")


def test_a_batch_cut_off_from_redis_is_finished_once(
    link, consumer_via_link, publish, redis_client
):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    detection_received.connect(receiver)
    try:
        finish_a_cut_batch(link, consumer_via_link, publish, redis_client)
    finally:
        detection_received.disconnect(receiver)
    assert redis_client.xlen(results_stream.dead_letter_stream()) == 1
    assert Detection.objects.count() == 1
    assert len(received) == 1
    counters = results_stream.counters(redis_client)
    assert (counters.get("dead_lettered"), counters.get("delivered")) == (1, 1)


def finish_a_cut_batch(link, consumer, publish, redis_client) -> None:
    """A malformed entry and a result in one batch; the link cut after the dead letter."""
    redis_client.xadd(results_stream.results_stream(), {"r": "{not json"})
    publish(1)
    link.cut_after_reply_to(results_stream.dead_letter_stream().encode())

    with pytest.raises(redis.ConnectionError):
        consumer.step()
    assert link.cut.is_set()
    assert redis_client.xlen(results_stream.dead_letter_stream()) == 1  # done before the cut

    link.restore()
    stream = results_stream.results_stream()
    drain(consumer, lambda: not redis_client.xpending(stream, results_stream.GROUP)["pending"])
