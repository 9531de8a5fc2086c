"""The farm closes the presences an ended generation left open: exactly one leave per enter,
at the last sighting the task checkpointed (real Redis, real database, the real consumer)."""

from __future__ import annotations

import pytest

from cms.farm import farm_keys
from cms.farm.presences import close_ended_presences
from cms.models import ObjectEvent, StreamAssignment
from inference.objects import OpenPresence, PresenceEvent, enter_key
from tasks.publisher import ResultPublisher
from tests.results.conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)

T0 = 1_700_000_000.0


def enter(track: int, zone: str = "lane", at: float = T0) -> PresenceEvent:
    return PresenceEvent(
        "enter", enter_key(zone, track, at), track, 2, "car", at, (1.0, 2.0, 3.0, 4.0), zone=zone
    )


def enter_events(redis_client, consumer, display, *events, generation):
    publisher = ResultPublisher(redis_client, camera_id=display.camera_id, generation=generation)
    assert publisher.publish_events({display.id: list(events)})
    count = ObjectEvent.objects.count() + len(events)
    drain(consumer, lambda: ObjectEvent.objects.count() == count)


def leaves():
    rows = ObjectEvent.objects.filter(type="leave").order_by("track_id")
    return [(e.track_id, e.zone, e.time.timestamp(), e.dwell_s) for e in rows]


def test_a_dead_generations_enters_leave_once_at_their_last_sighting(
    redis_client, consumer, display
):
    # Given: generation 1 made two enters, checkpointed track 1 as seen until T0 + 7, then died.
    enter_events(redis_client, consumer, display, enter(1), enter(2), generation=1)
    seen = OpenPresence(enter_key("lane", 1, T0), 1, "lane", T0, T0 + 7, 2, "car", (5, 6, 7, 8))
    farm_keys.write_presences(redis_client, display.camera_id, 1, {display.id: [seen]})
    StreamAssignment.objects.create(camera=display.camera, generation=2, worker="w2")

    # When: reconcile closes what ended, twice (the consumer is slow: same leaves again)
    assert close_ended_presences(redis_client) == 2
    assert close_ended_presences(redis_client) == 2
    drain(consumer, lambda: not consumer.step() and len(leaves()) == 2)

    # Then: one leave each; track 1 at its last sighting, track 2 (not checkpointed) at its enter
    assert leaves() == [(1, "lane", T0 + 7, 7.0), (2, "lane", T0, 0.0)]
    assert not ObjectEvent.objects.filter(open=True).exists()
    assert close_ended_presences(redis_client) == 0


def test_the_current_generations_presences_stay_open(redis_client, consumer, display):
    StreamAssignment.objects.create(camera=display.camera, generation=3, worker="w1")
    enter_events(redis_client, consumer, display, enter(1), generation=3)

    assert close_ended_presences(redis_client) == 0
    assert ObjectEvent.objects.get(type="enter").open


def test_a_stopped_camera_without_an_assignment_is_closed_too(redis_client, consumer, display):
    enter_events(redis_client, consumer, display, enter(4), generation=1)

    assert close_ended_presences(redis_client) == 1
    drain(consumer, lambda: len(leaves()) == 1)


def test_a_leave_the_task_sent_itself_closes_its_enter(redis_client, consumer, display):
    enter_events(redis_client, consumer, display, enter(1), generation=1)
    [opened] = ObjectEvent.objects.filter(type="enter")
    leave = PresenceEvent(
        "leave", opened.key.split(":", 2)[2].replace("enter:", "leave:", 1), 1, 2, "car",
        T0 + 2, (1.0, 2.0, 3.0, 4.0), zone="lane", dwell_s=2.0,
    )  # fmt: skip
    enter_events(redis_client, consumer, display, leave, generation=1)

    assert not ObjectEvent.objects.get(type="enter").open
    assert close_ended_presences(redis_client) == 0


def test_attributes_travel_with_the_events_and_the_farms_closing_leave(
    redis_client, consumer, display
):
    from inference.entities import Classification

    shade = {"shade": Classification(1, "dark", 0.875)}
    # Given: an enter with the object's attributes, and a checkpoint that has them
    with_attributes = PresenceEvent(
        "enter", enter_key("lane", 1, T0), 1, 2, "car", T0, (1.0, 2.0, 3.0, 4.0), zone="lane",
        attributes=shade,
    )  # fmt: skip
    enter_events(redis_client, consumer, display, with_attributes, generation=1)
    seen = OpenPresence(
        enter_key("lane", 1, T0), 1, "lane", T0, T0 + 3, 2, "car", (5, 6, 7, 8), shade
    )
    farm_keys.write_presences(redis_client, display.camera_id, 1, {display.id: [seen]})
    StreamAssignment.objects.create(camera=display.camera, generation=2, worker="w2")

    # When: the farm closes the dead generation's presence
    assert close_ended_presences(redis_client) == 1
    drain(consumer, lambda: len(leaves()) == 1)

    # Then: the enter and its leave both carry them
    expected = {"shade": {"label": "dark", "confidence": 0.875}}
    assert [e.attributes for e in ObjectEvent.objects.order_by("id")] == [expected, expected]
