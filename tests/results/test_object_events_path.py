"""Object events through the real Redis Stream into the real database: at least once, stored
once, fenced by generation (a leave that closes a stored enter is never lost), signalled, and
in the one id sequence they share with detections."""

from __future__ import annotations

import json
import threading

import pytest

from cms import live, redis_connection
from cms.farm import farm_keys
from cms.farm.commands import Assignment
from cms.models import Camera, Detection, Display, EventSequence, ObjectEvent, take_event_ids
from cms.results import object_event_message, results_stream
from cms.results.consumer import ResultsConsumer
from cms.results.object_event_message import ObjectEventMessage, event_key
from cms.signals import object_event
from inference.objects import PresenceEvent
from tasks.publisher import ResultPublisher
from tests.factories import make_display
from tests.results.conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)


def presence_event(type, key, track, **fields):
    """A PresenceEvent as the camera's DisplayPresence makes it, with a car's defaults."""
    fields = {
        "class_id": 2,
        "class_name": "car",
        "time": 1_700_000_000.0,
        "box": (10.0, 20.0, 110.0, 220.0),
    } | fields
    return PresenceEvent(type=type, key=key, track_id=track, **fields)


def enter(track, zone="lane", at=1_700_000_000.0):
    return presence_event(
        "enter", f"enter:{zone}:{track}:{int(at * 1000)}", track, zone=zone, time=at
    )


def leave(track, zone="lane", entered=1_700_000_000.0, dwell=3.5):
    key = f"leave:{zone}:{track}:{int(entered * 1000)}"
    return presence_event("leave", key, track, zone=zone, dwell_s=dwell, time=entered + dwell)


def cross(track, line="door", direction="in", at=1_700_000_001.0):
    key = f"cross:{line}:{track}:{int(at * 1000)}"
    return presence_event("cross", key, track, line=line, direction=direction, time=at)


@pytest.fixture
def publish_events(redis_client, display):
    def _publish(*events, generation=1, target=None):
        target = target or display
        publisher = ResultPublisher(redis_client, camera_id=target.camera_id, generation=generation)
        assert publisher.publish_events({target.id: list(events)})

    return _publish


def stored():
    return list(ObjectEvent.objects.order_by("id").values_list("type", "track_id", "zone"))


def test_events_are_stored_once_even_when_delivered_twice(publish_events, consumer, display):
    events = (enter(1), cross(1), leave(1))
    publish_events(*events)
    publish_events(*events)  # a retried XADD: the same keys again

    drain(consumer, lambda: not consumer.step() and ObjectEvent.objects.count() >= 3)

    assert stored() == [("enter", 1, "lane"), ("cross", 1, ""), ("leave", 1, "lane")]
    leave_row = ObjectEvent.objects.get(type="leave")
    assert leave_row.key == event_key(display.camera_id, display.id, "leave:lane:1:1700000000000")
    assert leave_row.dwell_s == 3.5 and leave_row.time.timestamp() == 1_700_000_003.5
    crossing = ObjectEvent.objects.get(type="cross")
    assert (crossing.line, crossing.direction, crossing.box) == ("door", "in", [10, 20, 110, 220])
    assert results_stream.counters(consumer.client)["object_events_delivered"] == 6


def test_the_same_event_key_of_two_displays_is_two_events(publish_events, consumer, display):
    other = make_display(camera=display.camera)
    publish_events(enter(1))
    publish_events(enter(1), target=other)

    drain(consumer, lambda: ObjectEvent.objects.count() == 2)

    assert set(ObjectEvent.objects.values_list("display_id", flat=True)) == {display.id, other.id}


def test_receivers_get_the_stored_event_and_the_message(publish_events, consumer, display):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    object_event.connect(receiver)
    try:
        publish_events(enter(5), leave(5, dwell=2.0))
        drain(consumer, lambda: len(received) == 2)
    finally:
        object_event.disconnect(receiver)

    first, second = received
    assert set(first) == {"signal", "display", "camera", "event", "message"}
    assert isinstance(first["display"], Display) and first["display"].pk == display.pk
    assert isinstance(first["camera"], Camera) and first["camera"].pk == display.camera_id
    assert isinstance(first["event"], ObjectEvent) and first["event"].pk is not None
    assert isinstance(first["message"], ObjectEventMessage)
    assert (first["event"].type, first["message"].zone) == ("enter", "lane")
    assert second["event"].dwell_s == second["message"].dwell_s == 2.0
    assert first["event"].id < second["event"].id


def test_a_failing_receiver_retries_then_dead_letters_only_its_event(
    publish_events, consumer, redis_client, settings
):
    consumer.max_deliveries = 2

    def picky(sender, *, event, **kwargs):
        if event.track_id == 2:
            raise RuntimeError("cannot handle track 2")

    object_event.connect(picky)
    try:
        publish_events(enter(1), enter(2), enter(3))
        drain(consumer, lambda: redis_client.xlen(results_stream.dead_letter_stream()) == 1)
    finally:
        object_event.disconnect(picky)
    [dead] = results_stream.dead_letters(redis_client)
    assert "cannot handle track 2" in dead["error"]
    assert results_stream.counters(redis_client)["object_events_delivered"] == 2


@pytest.mark.parametrize(
    "change",
    [
        {"type": "park"},
        {"zone": None},  # an enter without its zone
        {"dwell_s": 1.0},  # dwell only on a leave
        {"track_id": "7"},
        {"box": [1, 2, 3]},
    ],
)
def test_a_malformed_event_is_dead_lettered_and_nothing_else_is_lost(
    change, publish_events, consumer, redis_client, display
):
    good = ObjectEventMessage(
        display_id=display.id, camera_id=display.camera_id, generation=1, key="bad-1",
        type="enter", track_id=7, class_id=2, class_name="car", time=1_700_000_000.0,
        box=(1.0, 2.0, 3.0, 4.0), zone="lane",
    )  # fmt: skip
    wire = {**json.loads(good.to_bytes()), **change}
    redis_client.xadd(
        results_stream.results_stream(), {object_event_message.ENTRY_FIELD: json.dumps(wire)}
    )
    publish_events(enter(1), cross(1))

    drain(consumer, lambda: ObjectEvent.objects.count() == 2)
    drain(consumer, lambda: redis_client.xlen(results_stream.dead_letter_stream()) == 1)

    [dead] = results_stream.dead_letters(redis_client)
    assert dead["error"] and "bad-1" in dead["fields"]
    assert stored() == [("enter", 1, "lane"), ("cross", 1, "")]


def test_stale_events_are_dropped_except_a_leave_that_closes_a_stored_enter(
    publish_events, consumer, redis_client, display
):
    # Generation 4 delivered an enter for track 1 before the camera moved on to 5.
    publish_events(enter(1), generation=4)
    drain(consumer, lambda: ObjectEvent.objects.count() == 1)
    farm_keys.publish_assignments(redis_client, [Assignment(display.camera_id, "w", 5)])

    publish_events(leave(1), enter(2), leave(2), cross(1), generation=4)  # all stale
    publish_events(enter(3), generation=5)
    drain(consumer, lambda: ObjectEvent.objects.filter(track_id=3).exists())
    drain(consumer, lambda: not consumer.step())

    # Track 1's leave closes its stored enter; track 2 never entered here, so neither counts.
    assert stored() == [("enter", 1, "lane"), ("leave", 1, "lane"), ("enter", 3, "lane")]
    assert results_stream.counters(redis_client)["stale_dropped"] == 3


def test_a_stale_leave_of_another_zone_or_generation_is_still_dropped(
    publish_events, consumer, redis_client, display
):
    publish_events(enter(1, zone="lane"), generation=3)
    drain(consumer, lambda: ObjectEvent.objects.count() == 1)
    farm_keys.publish_assignments(redis_client, [Assignment(display.camera_id, "w", 5)])

    publish_events(leave(1, zone="door"), generation=3)
    publish_events(leave(1, zone="lane"), generation=4)
    drain(consumer, lambda: results_stream.counters(redis_client).get("stale_dropped") == 2)

    assert stored() == [("enter", 1, "lane")]


def test_results_and_events_share_one_id_sequence_in_stream_order(
    publish, publish_events, consumer, display, redis_client
):
    pubsub = redis_client.pubsub()
    pubsub.subscribe(live.events_channel(display.id))
    pubsub.get_message(timeout=1)
    for seq in range(3):
        publish(seq)
        publish_events(enter(seq), cross(seq))

    drain(consumer, lambda: ObjectEvent.objects.count() == 6 and Detection.objects.count() == 3)

    rows = [("d", d.id, d.frame_seq) for d in Detection.objects.all()]
    rows += [("e", e.id, e.track_id) for e in ObjectEvent.objects.all()]
    kinds = [(kind, n) for kind, _, n in sorted(rows, key=lambda row: row[1])]
    assert kinds == [(kind, seq) for seq in range(3) for kind in ("d", "e", "e")]
    pushed = []
    while (message := pubsub.get_message(timeout=1)) is not None:
        pushed += json.loads(message["data"])
    pubsub.close()
    assert [e["id"] for e in pushed] == sorted(row[1] for row in rows)
    assert [live.event_kind(e) for e in pushed][:3] == ["detection", "object", "object"]
    # The display's state stays its newest detection.
    assert live.read_latest(redis_client, display.id)["frame_seq"] == 2


def test_concurrent_writers_take_distinct_ids_in_commit_order(display):
    taken: list[list[int]] = []
    errors = []

    def writer():
        from django.db import connection, transaction

        try:
            for _ in range(20):
                with transaction.atomic():
                    taken.append(list(take_event_ids(3)))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not errors
    ids = [i for batch in taken for i in batch]
    assert len(ids) == len(set(ids)) == 180
    assert ids == sorted(ids)  # appended while each writer held the counter: in id order


def test_the_sequence_continues_above_every_stored_id_when_its_row_is_gone(display):
    detection = Detection.objects.create(
        display=display, camera=display.camera, model=display.model, generation=1,
        frame_seq=1, frame_time="2025-01-01T00:00:00Z", key="k1",
    )  # fmt: skip
    Detection.objects.filter(pk=detection.pk).update(id=10_000)
    EventSequence.objects.all().delete()

    assert list(take_event_ids(2)) == [10_001, 10_002]
    assert list(take_event_ids(1)) == [10_003]


def test_two_consumers_side_by_side_store_each_event_once(publish, publish_events, consumer):
    for track in range(60):
        publish(track)
        publish_events(enter(track), leave(track))
    other = ResultsConsumer(redis_connection.client(), "test-consumer-2")
    consumer.batch_size = other.batch_size = 15
    other.block_ms = consumer.block_ms

    drain(
        consumer,
        lambda: other.step() >= 0 and ObjectEvent.objects.count() == 120,
    )

    ids = list(ObjectEvent.objects.values_list("id", flat=True))
    ids += list(Detection.objects.values_list("id", flat=True))
    assert len(ids) == len(set(ids)) == 180
