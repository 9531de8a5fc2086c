"""Display sessions on the results path, through the real Redis Stream and consumer into the
real database: results and object events inside a session carry its session_id (stored, in
the API, the live push and the state), those outside do not; the summary follows the tracks;
session_updated fires at most once a second while it changes and once at the close."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime

import orjson
import pytest

from cms import live
from cms.display_sessions.services import end_session, start_session
from cms.models import Detection, DisplaySession, ObjectEvent
from cms.signals import session_updated
from inference.objects import PresenceEvent
from tasks.publisher import ResultPublisher
from tests.api.conftest import display_with_token, token_client
from tests.results.conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)


def when(unix_seconds):
    return datetime.fromtimestamp(unix_seconds, UTC)


def tracked(track_id, class_name="car", zones=("view",), confidence=0.8, attributes=None):
    obj = {
        "class_id": {"car": 2, "person": 0}[class_name],
        "class_name": class_name,
        "confidence": confidence,
        "box": [10.0, 20.0, 110.0, 220.0],
        "track_id": track_id,
        "first_seen": 1_700_000_000.0,
        "zones": list(zones),
    }
    if attributes:
        obj["attributes"] = attributes
    return obj


def enter(track_id, at, zone="lane"):
    return PresenceEvent(
        type="enter",
        key=f"enter:{zone}:{track_id}:{int(at * 1000)}",
        track_id=track_id,
        class_id=2,
        class_name="car",
        time=at,
        box=(10.0, 20.0, 110.0, 220.0),
        zone=zone,
    )


@pytest.fixture
def screen(db):
    return display_with_token()


@pytest.fixture
def publish_events(redis_client, screen):
    display = screen[0]

    def _publish(*events):
        publisher = ResultPublisher(redis_client, camera_id=display.camera_id, generation=1)
        assert publisher.publish_events({display.id: list(events)})

    return _publish


@pytest.fixture
def publish_at(publish, screen):
    def _publish(seq, at, objects):
        publish(seq, at=at, objects=objects, target=screen[0])

    return _publish


@pytest.fixture
def sent():
    """session_updated as received: (session_id, closed, summary, monotonic time)."""
    received = []
    lock = threading.Lock()

    def receiver(sender, *, display, session, summary, closed, **kwargs):
        with lock:
            received.append((session.session_id, closed, summary, time.monotonic()))

    session_updated.connect(receiver)
    yield received
    session_updated.disconnect(receiver)


def by_seq():
    return dict(Detection.objects.values_list("frame_seq", "session_id"))


def test_results_inside_a_session_carry_its_id_and_results_outside_do_not(
    screen, publish_at, consumer, redis_client
):
    display, token = screen
    t0 = time.time()
    start_session(display=display, session_id="visit-7", now=when(t0))
    listener = redis_client.pubsub()
    listener.subscribe(live.events_channel(display.id))
    publish_at(1, t0 - 5, [tracked(1)])  # before the session started
    publish_at(2, t0 + 1, [tracked(1)])
    publish_at(3, t0 + 2, [tracked(1), tracked(2, "person")])

    drain(consumer, lambda: Detection.objects.count() == 3)

    assert by_seq() == {1: "", 2: "visit-7", 3: "visit-7"}
    # The API: history, one detection and the state carry it; outside a session it is absent.
    client = token_client(token)
    history = client.get("/api/v1/display/detections/", {"after": 0}).json()["results"]
    assert [item.get("session_id") for item in history] == [None, "visit-7", "visit-7"]
    assert "session_id" not in history[0]
    state = client.get("/api/v1/display/state/").json()
    assert state["frame_seq"] == 3 and state["session_id"] == "visit-7"
    pushed = [orjson.loads(m["data"]) for m in _messages(listener, 1)]
    assert [e.get("session_id") for batch in pushed for e in batch] == [None, "visit-7", "visit-7"]

    end_session(display=display, reason=DisplaySession.EndReason.CLIENT, now=when(t0 + 3))
    publish_at(5, t0 + 2.5, [tracked(1)])  # late, but its frame was inside
    publish_at(4, t0 + 4, [tracked(1)])  # after it ended

    drain(consumer, lambda: Detection.objects.count() == 5)

    assert by_seq() == {1: "", 2: "visit-7", 3: "visit-7", 4: "", 5: "visit-7"}
    state = client.get("/api/v1/display/state/").json()
    assert state["frame_seq"] == 4 and "session_id" not in state
    listener.close()


def _messages(listener, count, timeout=10.0):
    deadline, messages = time.monotonic() + timeout, []
    while time.monotonic() < deadline and len(messages) < count:
        message = listener.get_message(timeout=0.1)
        if message and message["type"] == "message":
            messages.append(message)
    return messages


def test_object_events_inside_a_session_carry_its_id(screen, publish_events, consumer):
    display, token = screen
    t0 = time.time()
    publish_events(enter(1, t0 - 1))
    drain(consumer, lambda: ObjectEvent.objects.count() == 1)
    start_session(display=display, session_id="s1", now=when(t0))
    publish_events(enter(2, t0 + 0.5))
    drain(consumer, lambda: ObjectEvent.objects.count() == 2)
    end_session(display=display, reason=DisplaySession.EndReason.CLIENT, now=when(t0 + 1))
    publish_events(enter(3, t0 + 2))

    drain(consumer, lambda: ObjectEvent.objects.count() == 3)

    stored = dict(ObjectEvent.objects.values_list("track_id", "session_id"))
    assert stored == {1: "", 2: "s1", 3: ""}
    items = token_client(token).get("/api/v1/display/object-events/", {"after": 0}).json()
    assert [e.get("session_id") for e in items["results"]] == [None, "s1", None]


def test_the_summary_lists_each_track_with_class_dwell_zones_and_best_label(
    screen, publish_at, consumer, sent
):
    display, token = screen
    t0 = time.time()
    start_session(display=display, session_id="visit", now=when(t0))
    red = {"colour": {"label": "red", "confidence": 0.6}}
    blue = {"colour": {"label": "blue", "confidence": 0.95}}
    frames = [
        (1, t0 + 1.0, [tracked(1, attributes=red), tracked(5, "person")]),
        (2, t0 + 2.0, [tracked(1, zones=("view", "lane"), attributes=blue)]),
        (3, t0 + 3.5, [tracked(1, attributes=red), tracked(5, "person")]),
        (4, t0 + 4.0, [tracked(5, "person", zones=("view", "door"))]),
    ]
    for seq, at, objects in frames:
        publish_at(seq, at, objects)
    drain(consumer, lambda: Detection.objects.count() == 4)

    ended = token_client(token).delete("/api/v1/display/session/").json()

    tracks = {t["track_id"]: t for t in ended["summary"]["tracks"]}
    assert set(tracks) == {1, 5}
    assert (tracks[1]["class_name"], tracks[1]["dwell_s"]) == ("car", 2.5)
    assert tracks[1]["zones"] == ["lane", "view"]
    assert tracks[1]["attributes"] == blue
    assert (tracks[5]["class_name"], tracks[5]["dwell_s"]) == ("person", 3.0)
    assert tracks[5]["zones"] == ["door", "view"]
    assert ended["summary"]["counts"] == {"car": 1, "person": 1}
    # The closing signal carries the same, final summary, once.
    closing = [s for s in sent if s[1]]
    assert len(closing) == 1
    assert {t["track_id"]: t["dwell_s"] for t in closing[0][2]["tracks"]} == {1: 2.5, 5: 3.0}


def test_results_after_the_close_do_not_change_the_final_summary(screen, publish_at, consumer):
    display = screen[0]
    t0 = time.time()
    start_session(display=display, session_id="v", now=when(t0))
    publish_at(1, t0 + 1, [tracked(1)])
    drain(consumer, lambda: Detection.objects.count() == 1)
    end_session(display=display, reason=DisplaySession.EndReason.CLIENT, now=when(t0 + 3))
    final = DisplaySession.objects.get().summary

    publish_at(2, t0 + 2, [tracked(1), tracked(2)])  # late, inside: tagged, not summarised
    drain(consumer, lambda: Detection.objects.count() == 2)

    assert by_seq() == {1: "v", 2: "v"}
    assert DisplaySession.objects.get().summary == final


def test_untracked_objects_count_by_class_only(consumer, publish, settings):
    display, _ = display_with_token(tracking=False)
    t0 = time.time()
    start_session(display=display, session_id="v", now=when(t0))
    person = {"class_id": 0, "class_name": "person", "confidence": 0.9, "box": [0, 0, 5, 5]}
    publish(1, at=t0 + 1, objects=[person, person], target=display)
    publish(2, at=t0 + 2, objects=[person], target=display)

    drain(consumer, lambda: Detection.objects.count() == 2)

    summary = DisplaySession.objects.get().summary
    assert summary["untracked"] == {"person": 2} and summary["tracks"] == {}


def test_session_updated_fires_at_most_once_a_second_and_once_at_the_close(
    screen, publish_at, consumer, sent
):
    display = screen[0]
    t0 = time.time()
    start_session(display=display, session_id="busy", now=when(t0))
    seq = 0
    deadline = time.monotonic() + 2.6
    while time.monotonic() < deadline:  # a change in every batch: a new track each time
        seq += 1
        publish_at(seq, t0 + seq * 0.01, [tracked(seq)])
        drain(consumer, lambda n=seq: Detection.objects.count() == n)
    updates = [s for s in sent if not s[1]]

    assert seq > 10  # many batches, each changing the summary
    assert 2 <= len(updates) <= 3
    gaps = [b[3] - a[3] for a, b in itertools.pairwise(updates)]
    assert all(gap >= 0.95 for gap in gaps), gaps
    assert len(updates[-1][2]["tracks"]) < seq or len(updates) == 1  # not every change sent

    end_session(display=display, reason=DisplaySession.EndReason.CLIENT)
    end_session(display=display, reason=DisplaySession.EndReason.CLIENT)  # nothing to end

    closing = [s for s in sent if s[1]]
    assert len(closing) == 1
    assert len(closing[0][2]["tracks"]) == seq  # the final summary has every track


def test_an_unchanged_summary_sends_nothing(screen, publish_at, consumer, sent, redis_client):
    display = screen[0]
    t0 = time.time()
    start_session(display=display, session_id="calm", now=when(t0))
    publish_at(1, t0 + 1, [tracked(1)])
    drain(consumer, lambda: Detection.objects.count() == 1)
    assert [s[1] for s in sent] == [False]
    redis_client.delete(*redis_client.keys("sightline:session:*"))  # the throttle is over

    publish_at(2, t0 + 1, [tracked(1)])  # a different frame with the same time and track
    drain(consumer, lambda: Detection.objects.count() == 2)

    assert [s[1] for s in sent] == [False]
