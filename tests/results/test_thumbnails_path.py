"""Event thumbnails from the publisher through the real Redis and the real results consumer to
disk: taken once saved, idempotent under redelivery, only for change-policy results, and never
at an event's or a result's expense when Redis refuses them."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

import numpy as np
import pytest
import redis
from django.conf import settings as django_settings

from cms import thumbnails
from cms.models import Detection, Display, ObjectEvent
from cms.results import results_stream
from cms.results.object_event_message import event_key
from streams import Frame
from tasks.publisher import ResultPublisher, result_key
from tests.factories import make_display
from tests.results.conftest import drain, person
from tests.results.test_object_events_path import enter

pytestmark = pytest.mark.django_db(transaction=True)

AT = float(int(time.time()))  # now: a store keeps only recent days


@pytest.fixture(autouse=True)
def store(settings, tmp_path):
    settings.SIGHTLINE_THUMBNAIL_DIR = tmp_path / "thumbnails"
    settings.SIGHTLINE_THUMBNAIL_DAYS = 2
    return settings.SIGHTLINE_THUMBNAIL_DIR


def frame(seq: int) -> Frame:
    return Frame(np.zeros((4, 4, 3), np.uint8), seq, AT + seq, 0.0)


def publisher_for(client: redis.Redis, display: Display) -> ResultPublisher:
    return ResultPublisher(client, camera_id=display.camera_id, generation=1)


def thumbnail_keys(client: redis.Redis) -> list[bytes]:
    return sorted(client.scan_iter(match=results_stream.thumbnail_key("*", "*")))


def test_an_events_thumbnail_is_saved_by_its_key_and_taken_from_redis(redis_client, consumer):
    display = make_display()
    event = enter(1, at=AT)
    assert publisher_for(redis_client, display).publish_events(
        {display.id: [event]}, {(display.id, event.key): b"jpeg of the enter"}
    )

    drain(consumer, lambda: ObjectEvent.objects.exists())

    row = ObjectEvent.objects.get()
    assert row.key == event_key(display.camera_id, display.id, event.key)
    assert thumbnails.load("event", row.key) == b"jpeg of the enter"
    assert thumbnail_keys(redis_client) == []
    day = datetime.fromtimestamp(AT, UTC).date().isoformat()
    assert [
        p.parent.parent.name for p in django_settings.SIGHTLINE_THUMBNAIL_DIR.rglob("*.jpg")
    ] == [day]


def test_a_redelivered_event_keeps_one_thumbnail(redis_client, consumer):
    display = make_display()
    event = enter(1, at=AT)
    publisher = publisher_for(redis_client, display)
    for _ in range(2):  # a retried publish: the same key and its thumbnail again
        assert publisher.publish_events({display.id: [event]}, {(display.id, event.key): b"j"})

    drain(consumer, lambda: not consumer.step() and ObjectEvent.objects.exists())

    assert ObjectEvent.objects.count() == 1
    assert len(list(django_settings.SIGHTLINE_THUMBNAIL_DIR.rglob("*.jpg"))) == 1
    assert thumbnails.load("event", ObjectEvent.objects.get().key) == b"j"


def test_an_event_without_a_thumbnail_is_stored_without_one(redis_client, consumer):
    display = make_display()
    assert publisher_for(redis_client, display).publish_events({display.id: [enter(1, at=AT)]})

    drain(consumer, lambda: ObjectEvent.objects.exists())

    assert thumbnails.load("event", ObjectEvent.objects.get().key) is None


def test_only_a_change_policy_displays_delivered_results_keep_theirs(redis_client, consumer):
    on_change = make_display(policy=Display.Policy.CHANGE)
    every = make_display(policy=Display.Policy.EVERY)
    for display in (on_change, every):
        publisher_for(redis_client, display).publish(
            display_id=display.id,
            model_id=display.model_id,
            frame=frame(1),
            objects=[person()],
            thumbnail=f"jpeg of {display.policy}".encode(),
        )

    drain(consumer, lambda: Detection.objects.count() == 2)

    changed = Detection.objects.get(display=on_change)
    assert changed.key == result_key(on_change.camera_id, 1, on_change.id, frame(1))
    assert thumbnails.load("detection", changed.key) == b"jpeg of change"
    assert thumbnails.load("detection", Detection.objects.get(display=every).key) is None
    # the other is left to expire in Redis
    [left] = thumbnail_keys(redis_client)
    assert 0 < redis_client.ttl(left) <= results_stream.THUMBNAIL_TTL_S


def test_no_thumbnail_is_saved_when_they_are_off(redis_client, consumer, settings):
    settings.SIGHTLINE_THUMBNAIL_DAYS = 0
    display = make_display()
    event = enter(1, at=AT)
    publisher_for(redis_client, display).publish_events(
        {display.id: [event]}, {(display.id, event.key): b"j"}
    )

    drain(consumer, lambda: ObjectEvent.objects.exists())

    assert not settings.SIGHTLINE_THUMBNAIL_DIR.exists()


@pytest.fixture
def client_that_may_not_set(redis_client):
    """A real client of the same Redis under an ACL user who may XADD but not SET: the
    thumbnails' writes fail inside the very pipeline that carries the events."""
    name, password = f"no-set-{secrets.token_hex(4)}", secrets.token_hex(8)
    redis_client.acl_setuser(
        name, enabled=True, passwords=[f"+{password}"], keys=["*"], commands=["+@all", "-set"]
    )
    client = redis.Redis.from_url(django_settings.REDIS_URL, username=name, password=password)
    yield client
    client.close()
    redis_client.acl_deluser(name)


def test_an_event_whose_thumbnail_redis_refuses_is_still_published(
    client_that_may_not_set, redis_client, consumer, caplog
):
    display = make_display(policy=Display.Policy.CHANGE)
    publisher = publisher_for(client_that_may_not_set, display)
    event = enter(1, at=AT)

    assert publisher.publish_events({display.id: [event]}, {(display.id, event.key): b"j"})
    publisher.publish(
        display_id=display.id,
        model_id=display.model_id,
        frame=frame(1),
        objects=[person()],
        thumbnail=b"j",
    )
    drain(consumer, lambda: ObjectEvent.objects.exists() and Detection.objects.exists())

    assert thumbnails.load("event", ObjectEvent.objects.get().key) is None
    assert thumbnails.load("detection", Detection.objects.get().key) is None
    assert "event thumbnails refused by Redis" in caplog.text
    assert "a result's thumbnail refused by Redis" in caplog.text


def test_an_unreachable_redis_keeps_the_events_for_a_retry(tmp_path):
    display = make_display()
    gone = redis.Redis(unix_socket_path=str(tmp_path / "no-redis.sock"), socket_timeout=1)
    publisher = publisher_for(gone, display)
    event = enter(1, at=AT)

    # False: the runner keeps the events and sends them again; nothing raises
    assert publisher.publish_events({display.id: [event]}, {(display.id, event.key): b"j"}) is False
    publisher.publish(
        display_id=display.id,
        model_id=display.model_id,
        frame=frame(1),
        objects=[],
        thumbnail=b"j",
    )
