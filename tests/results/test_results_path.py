"""Detections through the real Redis Stream into the real database, at least once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from django.db import OperationalError

from cms import live, redis_connection
from cms.api.serializers import DetectionSerializer
from cms.farm import farm_keys
from cms.farm.commands import Assignment
from cms.models import Camera, Detection, DetectionModel, Display
from cms.results import results_stream
from cms.results.result_message import ResultMessage
from cms.signals import detection_received
from tests.factories import make_display
from tests.results.conftest import drain, person
from tests.support.workers import REPO, child_env

pytestmark = pytest.mark.django_db(transaction=True)


def test_results_are_stored_and_receivers_get_typed_arguments(publish, consumer, display):
    received = []

    def user_receiver(sender, **kwargs):
        received.append(kwargs)

    detection_received.connect(user_receiver)
    try:
        for seq in range(5):
            publish(seq)
        drain(consumer, lambda: Detection.objects.count() == 5)
    finally:
        detection_received.disconnect(user_receiver)
    assert len(received) == 5
    first = received[0]
    assert isinstance(first["display"], Display) and first["display"].pk == display.pk
    assert isinstance(first["camera"], Camera) and isinstance(first["model"], DetectionModel)
    assert isinstance(first["result"], ResultMessage)
    assert isinstance(first["detection"], Detection)
    result = first["result"]
    assert result.objects == [person()]
    assert (result.display_id, result.frame_seq, result.generation) == (display.id, 0, 1)
    assert result.frame_time == 1_700_000_000.0  # Unix seconds, as the worker sent it
    assert first["detection"].detected_objects == [person()]
    assert first["detection"].frame_time.timestamp() == result.frame_time


def test_a_redelivered_message_is_not_a_duplicate_row(publish, consumer):
    publish(1)
    publish(1)  # the same result again (same key), as after a retried XADD
    drain(consumer, lambda: not consumer.step() and Detection.objects.exists())
    assert Detection.objects.count() == 1


def test_consumer_killed_mid_batch_loses_nothing_and_duplicates_nothing(
    publish, consumer, redis_client, tmp_path
):
    total = 60
    for seq in range(total):
        publish(seq)
    log = (tmp_path / "results.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "results", "--name", "doomed"],
        cwd=REPO,
        env=child_env(
            SIGHTLINE_EXTRA_APPS="tests.testapp",
            TESTAPP_RECEIVER_DELAY_S="0.05",
            SIGHTLINE_RESULTS_BATCH="20",
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while Detection.objects.count() < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    stored_before = Detection.objects.count()
    assert 0 < stored_before < total, (tmp_path / "results.log").read_text()
    pending = redis_client.xpending(results_stream.results_stream(), results_stream.GROUP)[
        "pending"
    ]
    assert pending > 0  # the dead consumer held an unacknowledged batch

    drain(consumer, lambda: Detection.objects.count() == total)
    keys = list(Detection.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys)) == total
    drain(
        consumer,
        lambda: (
            redis_client.xpending(results_stream.results_stream(), results_stream.GROUP)["pending"]
            == 0
        ),
    )


def test_a_poison_message_is_dead_lettered_while_others_flow(
    publish, consumer, redis_client, settings
):
    settings.SIGHTLINE_RESULTS_MAX_DELIVERIES = 3
    consumer.max_deliveries = 3

    def poison(sender, *, result, **kwargs):
        if result.frame_seq == 4:
            raise RuntimeError("receiver cannot handle frame 4")

    detection_received.connect(poison)
    try:
        for seq in range(10):
            publish(seq)
        drain(consumer, lambda: redis_client.xlen(results_stream.dead_letter_stream()) == 1)
    finally:
        detection_received.disconnect(poison)
    [dead] = results_stream.dead_letters(redis_client)
    assert "receiver cannot handle frame 4" in dead["error"]
    assert int(dead["deliveries"]) >= 3
    assert set(Detection.objects.values_list("frame_seq", flat=True)) >= set(range(10)) - {4}
    assert results_stream.counters(redis_client)["delivered"] == 9

    # Replayed once the receiver is fixed, it is delivered.
    assert results_stream.replay_dead_letters(redis_client, [dead["id"]]) == 1
    drain(consumer, lambda: results_stream.counters(redis_client)["delivered"] == 10)
    assert redis_client.xlen(results_stream.dead_letter_stream()) == 0


def test_a_receiver_meeting_a_database_outage_holds_the_batch_without_failing_it(
    publish, consumer, redis_client, settings
):
    settings.SIGHTLINE_RESULTS_MAX_DELIVERIES = 1
    consumer.max_deliveries = 1
    database_down = True

    def needs_the_database(sender, *, result, **kwargs):
        if database_down:
            raise OperationalError("connection to server failed: Connection refused")

    detection_received.connect(needs_the_database)
    try:
        for seq in range(3):
            publish(seq)
        for _ in range(3):  # retried as often as the outage lasts, never dead-lettered
            with pytest.raises(OperationalError):
                consumer.step()
        database_down = False
        assert consumer.step() == 3  # the same entries, taken from the hand
    finally:
        detection_received.disconnect(needs_the_database)
    assert redis_client.xlen(results_stream.dead_letter_stream()) == 0
    counters = results_stream.counters(redis_client)
    assert counters["delivered"] == 3 and "failed" not in counters
    assert Detection.objects.count() == 3
    pending = redis_client.xpending(results_stream.results_stream(), results_stream.GROUP)
    assert pending["pending"] == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"r": "not json"},
        {"x": "no result field"},
        {"r": json.dumps({"display_id": "1"})},
        {"r": json.dumps([1, 2])},
    ],
)
def test_malformed_messages_go_to_dead_letters(fields, publish, consumer, redis_client):
    redis_client.xadd(results_stream.results_stream(), fields)
    publish(1)
    drain(consumer, lambda: Detection.objects.count() == 1)
    [dead] = results_stream.dead_letters(redis_client)
    assert dead["error"]


def test_an_entry_in_the_former_format_is_still_delivered(consumer, redis_client, display):
    # As written before the names were unified: a dead letter replayed after the upgrade.
    old = {
        "display": display.id, "camera": display.camera_id, "model": display.model_id,
        "generation": 1, "seq": 9, "time": 1_700_000_009.5, "objects": [person()], "key": "old-9",
    }  # fmt: skip
    redis_client.xadd(results_stream.results_stream(), {"r": json.dumps(old)})
    drain(consumer, lambda: Detection.objects.exists())
    detection = Detection.objects.get()
    assert (detection.frame_seq, detection.key) == (9, "old-9")
    assert detection.frame_time.timestamp() == 1_700_000_009.5
    assert detection.detected_objects == [person()]


def test_stale_generation_is_dropped_and_counted(publish, consumer, redis_client, display):
    farm_keys.publish_assignments(redis_client, [Assignment(display.camera_id, "w", 5)])
    publish(1, generation=4)
    publish(2, generation=5)
    drain(consumer, lambda: results_stream.counters(redis_client).get("stale_dropped") == 1)
    assert list(Detection.objects.values_list("generation", flat=True)) == [5]


def test_on_change_policy_suppresses_repeats_but_beats(publish, consumer, display, settings):
    settings.SIGHTLINE_RESULTS_BEAT_S = 10
    Display.objects.filter(pk=display.pk).update(policy="change")
    two = [person(1), person(50)]
    publish(1, objects=[person()], at=1000.0)
    publish(2, objects=[person(12)], at=1001.0)  # same classes and counts: suppressed
    publish(3, objects=two, at=1002.0)  # one more person: delivered
    publish(4, objects=two, at=1003.0)  # suppressed
    publish(5, objects=two, at=1013.5)  # unchanged for over 10 s: the beat delivers it
    drain(consumer, lambda: not consumer.step() and Detection.objects.count() >= 3)
    assert list(Detection.objects.values_list("frame_seq", flat=True)) == [1, 3, 5]


def test_interval_policy_delivers_at_most_one_per_interval(publish, consumer, display):
    Display.objects.filter(pk=display.pk).update(policy="interval", policy_interval_ms=1000)
    for i in range(10):
        publish(i, objects=[person(i)], at=2000.0 + i * 0.25)
    drain(consumer, lambda: not consumer.step() and Detection.objects.count() >= 3)
    assert list(Detection.objects.values_list("frame_seq", flat=True)) == [0, 4, 8]


def test_order_per_display_is_preserved(publish, consumer, display):
    other = make_display()
    for seq in range(40):
        publish(seq)
        publish(seq, target=other)
    drain(consumer, lambda: Detection.objects.count() == 80)
    for target in (display, other):
        seqs = list(
            Detection.objects.filter(display=target)
            .order_by("id")
            .values_list("frame_seq", flat=True)
        )
        assert seqs == list(range(40))


def test_latest_state_and_live_event_carry_the_stored_id(publish, consumer, display, redis_client):
    pubsub = redis_client.pubsub()
    pubsub.subscribe(live.events_channel(display.id))
    pubsub.get_message(timeout=1)  # the subscription confirmation
    publish(7)
    drain(consumer, lambda: Detection.objects.exists())
    detection = Detection.objects.get()
    message = pubsub.get_message(timeout=5)
    pubsub.close()
    [event] = json.loads(message["data"])
    assert event["id"] == detection.id and event["frame_seq"] == 7
    assert event == DetectionSerializer(detection).data  # one shape
    latest = live.read_latest(redis_client, display.id)
    assert latest == event


def test_several_consumers_side_by_side_store_each_result_once(publish, consumer, redis_client):
    from cms.results.consumer import ResultsConsumer

    for seq in range(300):
        publish(seq)
    other = ResultsConsumer(redis_connection.client(), "test-consumer-2")
    consumer.batch_size = other.batch_size = 25
    other.block_ms = consumer.block_ms
    deadline = time.monotonic() + 60
    handled = {"test-consumer": 0, "test-consumer-2": 0}
    while Detection.objects.count() < 300 and time.monotonic() < deadline:
        for each in (consumer, other):
            handled[each.name] += each.step()
    assert Detection.objects.count() == 300
    assert all(count > 0 for count in handled.values())
    assert len(set(Detection.objects.values_list("key", flat=True))) == 300
