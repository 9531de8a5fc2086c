"""Zone minutes through the real Redis Stream and the real consumer into the real database:
enters, leaves, dwell and the most objects per display, zone and minute; a redelivered event
never counts twice; every fresh result counts towards max_count, also one the change policy
does not store; old minutes are purged with detection history."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from cms import redis_connection
from cms.housekeeping import purge_zone_minutes
from cms.models import Display, ObjectEvent, ZoneMinute
from cms.results import results_stream, zone_minutes
from cms.results.consumer import ResultsConsumer
from cms.signals import object_event
from inference.objects import PresenceEvent, enter_key
from tasks.publisher import ResultPublisher
from tests.factories import make_display
from tests.results.conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)

T0 = 1_700_000_040.0  # a minute's start
LANE = [{"name": "lane", "polygon": [[0, 0], [100, 0], [100, 100], [0, 100]]}]


@pytest.fixture
def display(db):
    return make_display(zones=LANE)


def car(track, *zones):
    return {
        "class_id": 2,
        "class_name": "car",
        "confidence": 0.9,
        "box": [1.0, 2.0, 30.0, 40.0],
        "track_id": track,
        "first_seen": T0,
        "zones": ["view", *zones],
    }


def enter(track, at, zone="lane"):
    return PresenceEvent(
        "enter", enter_key(zone, track, at), track, 2, "car", at, (1.0, 2.0, 3.0, 4.0), zone=zone
    )


def leave(track, entered, dwell, zone="lane"):
    key = f"leave:{zone}:{track}:{int(entered * 1000)}"
    return PresenceEvent(
        "leave", key, track, 2, "car", entered + dwell, (1.0, 2.0, 3.0, 4.0), zone=zone,
        dwell_s=dwell,
    )  # fmt: skip


@pytest.fixture
def publish_events(redis_client, display):
    def _publish(*events, target=None):
        target = target or display
        publisher = ResultPublisher(redis_client, camera_id=target.camera_id, generation=1)
        assert publisher.publish_events({target.id: list(events)})

    return _publish


def minutes(display=None):
    """{(zone, minute offset from T0): (entered, left, dwell_sum_s, dwell_max_s, max_count)}"""
    rows = ZoneMinute.objects.filter(display=display) if display else ZoneMinute.objects.all()
    return {
        (row.zone, int(row.minute.timestamp() - T0) // 60): (
            row.entered, row.left, row.dwell_sum_s, row.dwell_max_s, row.max_count,
        )
        for row in rows
    }  # fmt: skip


def settle(consumer, until):
    drain(consumer, lambda: not consumer.step() and until())


def test_enters_leaves_dwell_and_max_count_land_in_their_minutes(
    publish, publish_events, consumer, display
):
    # Given: two cars enter the lane; a third object only in view; one leaves a minute later
    publish(1, objects=[car(1, "lane"), car(2, "lane")], at=T0 + 1)
    publish(2, objects=[car(1, "lane"), car(2), car(3)], at=T0 + 2)
    publish(3, objects=[car(2, "lane")], at=T0 + 61)
    publish_events(enter(1, T0 + 1), enter(2, T0 + 1), leave(1, T0 + 1, 30.0))
    publish_events(leave(2, T0 + 1, 65.5))

    # When: the consumer takes it all
    settle(consumer, lambda: ObjectEvent.objects.count() == 4 and len(minutes()) == 4)

    # Then
    assert minutes() == {
        ("lane", 0): (2, 1, 30.0, 30.0, 2),
        ("view", 0): (0, 0, 0.0, 0.0, 3),
        ("lane", 1): (0, 1, 65.5, 65.5, 1),
        ("view", 1): (0, 0, 0.0, 0.0, 1),
    }


def test_redelivered_events_do_not_count_twice(publish_events, consumer, display, redis_client):
    # A retried XADD (the same keys twice, in one batch and in the next)
    publish_events(enter(1, T0), enter(1, T0), leave(1, T0, 5.0))
    settle(consumer, lambda: ObjectEvent.objects.count() == 2)
    publish_events(enter(1, T0), leave(1, T0, 5.0))
    settle(consumer, lambda: results_stream.counters(redis_client)["object_events_delivered"] == 5)

    assert minutes() == {("lane", 0): (1, 1, 5.0, 5.0, 0)}


def test_an_event_retried_after_a_failing_receiver_counts_once(
    publish_events, consumer, display, redis_client
):
    failures = []

    def flaky(sender, *, event, **kwargs):
        if not failures:  # the first delivery fails after the batch was stored
            failures.append(event.key)
            raise RuntimeError("not yet")

    object_event.connect(flaky)
    try:
        publish_events(enter(7, T0 + 3))
        settle(
            consumer,
            lambda: results_stream.counters(redis_client).get("object_events_delivered") == 1,
        )
    finally:
        object_event.disconnect(flaky)

    assert failures and ObjectEvent.objects.count() == 1
    assert minutes() == {("lane", 0): (1, 0, 0.0, 0.0, 0)}


def test_max_count_sees_results_the_change_policy_does_not_store(
    publish, consumer, display, redis_client
):
    Display.objects.filter(pk=display.pk).update(policy=Display.Policy.CHANGE)
    # The same two cars at the end of minute 0 and the start of minute 1: the second result
    # shows nothing new, so it is not stored; minute 1 still had two cars in the lane.
    publish(1, objects=[car(1, "lane"), car(2, "lane")], at=T0 + 59)
    publish(2, objects=[car(1, "lane"), car(2, "lane")], at=T0 + 61)
    settle(consumer, lambda: results_stream.counters(redis_client).get("suppressed") == 1)

    assert display.detections.count() == 1
    assert minutes() == {
        ("lane", 0): (0, 0, 0.0, 0.0, 2),
        ("view", 0): (0, 0, 0.0, 0.0, 2),
        ("lane", 1): (0, 0, 0.0, 0.0, 2),
        ("view", 1): (0, 0, 0.0, 0.0, 2),
    }


def test_a_redelivered_result_does_not_raise_max_count_or_another_displays(
    publish, consumer, display
):
    other = make_display(camera=display.camera, zones=LANE)
    publish(1, objects=[car(1, "lane")], at=T0 + 5)
    publish(1, objects=[car(1, "lane")], at=T0 + 5)  # a retried XADD
    publish(2, objects=[car(1, "lane"), car(2, "lane"), car(3, "lane")], at=T0 + 6, target=other)
    settle(consumer, lambda: ZoneMinute.objects.count() == 4)

    assert minutes(display) == {("lane", 0): (0, 0, 0.0, 0.0, 1), ("view", 0): (0, 0, 0.0, 0.0, 1)}
    assert minutes(other) == {("lane", 0): (0, 0, 0.0, 0.0, 3), ("view", 0): (0, 0, 0.0, 0.0, 3)}


def test_old_zone_minutes_are_purged_with_the_retention_cutoff(display, settings):
    from tasks.control import purge_detections

    now = timezone.now()
    for days in (10, 9, 8, 1):
        ZoneMinute.objects.create(
            display=display, zone="lane", minute=now - timedelta(days=days), entered=1
        )
    settings.SIGHTLINE_DETECTION_RETENTION_DAYS = 7

    assert purge_zone_minutes(before=now - timedelta(days=9, hours=12), batch_size=1) == 1
    assert purge_detections() == 2
    [kept] = ZoneMinute.objects.all()
    assert kept.minute > now - timedelta(days=2)


def test_a_zone_minute_is_unique_per_display_zone_and_minute(display):
    minute = datetime.fromtimestamp(T0, UTC)
    ZoneMinute.objects.create(display=display, zone="lane", minute=minute)
    with pytest.raises(Exception, match=r"UNIQUE|unique"):
        ZoneMinute.objects.create(display=display, zone="lane", minute=minute)


def test_two_consumers_side_by_side_count_every_event_once(
    publish, publish_events, consumer, display
):
    for track in range(40):
        publish(track, objects=[car(track, "lane")], at=T0 + 1)
        publish_events(enter(track, T0 + 1), leave(track, T0 + 1, 2.0))
    publish_events(*(enter(track, T0 + 1) for track in range(40)))  # all again
    other = ResultsConsumer(redis_connection.client(), "test-consumer-2")
    consumer.batch_size = other.batch_size = 15
    other.block_ms = consumer.block_ms

    drain(consumer, lambda: other.step() >= 0 and not consumer.step() and not other.step()
          and ObjectEvent.objects.count() == 80)  # fmt: skip

    assert minutes()[("lane", 0)] == (40, 40, 80.0, 2.0, 1)


def test_concurrent_writers_lose_no_increment(display):
    from django.db import connection, transaction

    key = (display.id, "lane", int(T0))
    errors = []

    def writer(dwell):
        try:
            for _ in range(20):
                with transaction.atomic():
                    zone_minutes.add({key: zone_minutes.Tally(1, 1, dwell, dwell, int(dwell))})
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(d,)) for d in (1.0, 2.0, 3.0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not errors
    assert minutes() == {("lane", 0): (60, 60, 120.0, 3.0, 3)}


def test_a_batch_costs_the_same_few_queries_however_many_minutes_it_adds_to(display):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    def queries(count):
        tallies = {
            (display.id, f"zone{i % 3}", int(T0) + 60 * i): zone_minutes.Tally(entered=1)
            for i in range(count)
        }
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            zone_minutes.add(tallies)  # in the batch's transaction, as processing calls it
        return len(captured)

    assert queries(3) == queries(60) == 3  # create the missing, read and lock, update
    # The first three minutes were added to twice, the other 57 once.
    assert sorted(ZoneMinute.objects.values_list("entered", flat=True)) == [1] * 57 + [2] * 3
