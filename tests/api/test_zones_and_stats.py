"""Zone counts now (/display/zones/) and zone stats per minute or hour (/display/stats/), for
the display client and for staff (/displays/{id}/zones/, /displays/{id}/stats/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from cms import live
from cms.api.services import MAX_STATS_BUCKETS
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo
from cms.models import Display, ZoneMinute
from streams import StreamState
from tests.api.conftest import display_with_token, token_client, user_client
from tests.factories import make_detection

pytestmark = pytest.mark.django_db

ZONES = "/api/v1/display/zones/"
STATS = "/api/v1/display/stats/"
SQUARE = [[0, 0], [100, 0], [100, 100], [0, 100]]
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def lanes():
    zones = [{"name": "lane", "polygon": SQUARE}, {"name": "kerb", "polygon": SQUARE}]
    return display_with_token(name="Car park", zones=zones)


def tracked(track, class_name, *zones):
    return {
        "class_id": {"car": 2, "person": 0}[class_name],
        "class_name": class_name,
        "confidence": 0.9,
        "box": [1.0, 2.0, 30.0, 40.0],
        "track_id": track,
        "first_seen": 1_700_000_000.0,
        "zones": ["view", *zones],
    }


def stream_online(redis_client, display, state=StreamState.ONLINE):
    info = StreamInfo(
        camera_id=display.camera_id, worker="w1", generation=1, spec_hash="x", state=state
    )
    farm_keys.write_stream(redis_client, info)


def latest(redis_client, display, objects, age_s=0.5):
    frame_time = timezone.now() - timedelta(seconds=age_s)
    detection = make_detection(display, frame_time=frame_time, detected_objects=objects)
    live.push_delivered(redis_client, [detection])


SCENE = [tracked(1, "car", "lane"), tracked(2, "car", "lane"), tracked(3, "person", "kerb")]


def test_counts_per_zone_now_every_zone_listed_view_first(lanes, redis_client):
    display, token = lanes
    stream_online(redis_client, display)
    latest(redis_client, display, [*SCENE[:2], tracked(3, "person")])

    body = token_client(token).get(ZONES).json()

    assert body["live"] is True and body["reason"] is None
    assert 0 <= body["age_s"] < 30
    assert body["zones"] == [
        {"zone": "view", "count": 3, "by_class": {"car": 2, "person": 1}},
        {"zone": "lane", "count": 2, "by_class": {"car": 2}},
        {"zone": "kerb", "count": 0, "by_class": {}},
    ]


def test_counts_are_zero_and_say_why_when_not_live(lanes, redis_client):
    display, token = lanes
    client = token_client(token)

    def answer():
        body = client.get(ZONES).json()
        assert [z["count"] for z in body["zones"]] == [0, 0, 0]
        assert body["live"] is False
        return body["reason"]

    latest(redis_client, display, SCENE)
    assert "no ingest task runs its camera" in answer()
    stream_online(redis_client, display, StreamState.RECOVERING)
    assert "stream is recovering" in answer()
    stream_online(redis_client, display)
    latest(redis_client, display, SCENE, age_s=display.max_lost_s + 1)  # every: max_lost_s
    assert "s old (more than 2 s)" in answer()
    Display.objects.filter(pk=display.pk).update(tracking=False)
    assert answer() == "the display does not track objects (tracking is off)"


def test_under_the_change_policy_a_result_is_fresh_for_max_lost_s_plus_the_beat(
    lanes, redis_client, settings
):
    display, token = lanes
    Display.objects.filter(pk=display.pk).update(policy=Display.Policy.CHANGE)
    settings.SIGHTLINE_RESULTS_BEAT_S = 10.0
    stream_online(redis_client, display)
    latest(redis_client, display, SCENE, age_s=8)  # a parked scene: only the beat delivers

    body = token_client(token).get(ZONES).json()

    assert body["live"] is True
    assert [z["count"] for z in body["zones"]] == [3, 2, 1]


def test_staff_read_any_displays_zones_and_a_client_only_its_own(
    lanes, display_a, redis_client, make_user
):
    display, _ = lanes
    other, other_token = display_a
    stream_online(redis_client, display)
    latest(redis_client, display, SCENE)
    viewer = user_client(make_user(perms=("cms.view_display",)))

    staff = viewer.get(f"/api/v1/displays/{display.id}/zones/").json()
    theirs = token_client(other_token).get(ZONES).json()

    assert [z["count"] for z in staff["zones"]] == [3, 2, 1]
    assert theirs["zones"] == [{"zone": "view", "count": 0, "by_class": {}}]
    assert viewer.get("/api/v1/displays/999999/zones/").status_code == 404
    assert user_client(make_user()).get(f"/api/v1/displays/{other.id}/zones/").status_code == 403
    assert token_client("not-a-token").get(ZONES).status_code == 401


# --- stats --------------------------------------------------------------------------------


def minute(display, at, zone="lane", **counts):
    return ZoneMinute.objects.create(display=display, zone=zone, minute=at, **counts)


def iso(value):
    return value.isoformat().replace("+00:00", "Z")


def test_minute_buckets_name_their_zone_and_show_mean_and_max_dwell(lanes):
    display, token = lanes
    minute(display, T0, entered=2, left=2, dwell_sum_s=9.0, dwell_max_s=6.0, max_count=2)
    minute(display, T0, zone="view", entered=0, max_count=3)
    minute(display, T0 + timedelta(minutes=1), entered=1, max_count=1)
    minute(display, T0 + timedelta(minutes=5))  # outside "to"

    body = token_client(token).get(
        STATS, {"from": iso(T0 + timedelta(seconds=30)), "to": iso(T0 + timedelta(minutes=5))}
    )

    assert body.status_code == 200, body.json()
    body = body.json()
    assert (body["bucket"], body["from"], body["to"]) == (
        "minute", iso(T0), iso(T0 + timedelta(minutes=5)),
    )  # fmt: skip
    assert body["results"] == [
        {"zone": "lane", "start": iso(T0), "entered": 2, "left": 2,
         "mean_dwell_s": 4.5, "max_dwell_s": 6.0, "max_count": 2},
        {"zone": "view", "start": iso(T0), "entered": 0, "left": 0,
         "mean_dwell_s": None, "max_dwell_s": None, "max_count": 3},
        {"zone": "lane", "start": iso(T0 + timedelta(minutes=1)), "entered": 1, "left": 0,
         "mean_dwell_s": None, "max_dwell_s": None, "max_count": 1},
    ]  # fmt: skip


def test_hour_buckets_sum_weight_the_mean_dwell_and_take_the_max(lanes):
    display, token = lanes
    minute(display, T0, entered=3, left=1, dwell_sum_s=10.0, dwell_max_s=10.0, max_count=4)
    minute(display, T0 + timedelta(minutes=59), left=3, dwell_sum_s=6.0, dwell_max_s=3.0)
    minute(display, T0 + timedelta(hours=1), entered=1, max_count=1)
    minute(display, T0, zone="kerb", entered=5)

    query = {"zone": "lane", "bucket": "hour", "from": iso(T0), "to": iso(T0 + timedelta(hours=2))}
    body = token_client(token).get(STATS, query).json()

    assert body["results"] == [
        {"zone": "lane", "start": iso(T0), "entered": 3, "left": 4,
         "mean_dwell_s": 4.0, "max_dwell_s": 10.0, "max_count": 4},
        {"zone": "lane", "start": iso(T0 + timedelta(hours=1)), "entered": 1, "left": 0,
         "mean_dwell_s": None, "max_dwell_s": None, "max_count": 1},
    ]  # fmt: skip


def test_the_default_range_is_the_last_hour(lanes):
    display, token = lanes
    now = timezone.now().replace(second=0, microsecond=0)
    minute(display, now - timedelta(minutes=10), entered=1)
    minute(display, now - timedelta(minutes=90), entered=7)

    body = token_client(token).get(STATS).json()

    assert [row["entered"] for row in body["results"]] == [1]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2025-13-01T00:00:00Z"}, "to"),
        ({"bucket": "day"}, "bucket"),
        ({"zone": "z" * 101}, "zone"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(lanes, query, field):
    _, token = lanes

    response = token_client(token).get(STATS, query)

    assert response.status_code == 400
    assert field in response.json(), response.json()


@pytest.mark.parametrize(
    ("query", "covered"),
    [
        # more than a day of minutes: cut at a day after `from`
        (
            {"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:01Z"},
            ("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"),
        ),
        # more than 1440 hours
        (
            {"from": "2025-01-01T00:00:00Z", "to": "2025-03-05T00:00:00Z", "bucket": "hour"},
            ("2025-01-01T00:00:00Z", "2025-03-02T00:00:00Z"),
        ),
        # `to` before `from`: nothing
        (
            {"from": "2025-01-01T12:00:00Z", "to": "2025-01-01T11:00:00Z"},
            ("2025-01-01T12:00:00Z", "2025-01-01T12:00:00Z"),
        ),
        # the default `from` would be before year 1: from the earliest bucket
        ({"to": "0001-01-01T00:30:00Z"}, ("0001-01-02T00:00:00Z", "0001-01-02T00:00:00Z")),
    ],
)
def test_every_range_has_an_answer_that_says_what_it_covers(lanes, query, covered):
    _, token = lanes

    response = token_client(token).get(STATS, query)

    assert response.status_code == 200, response.json()
    assert (response.json()["from"], response.json()["to"]) == covered


def test_a_day_of_minutes_is_the_most_one_answer_covers(lanes):
    display, token = lanes
    start = T0 - timedelta(hours=12)
    for offset in range(0, MAX_STATS_BUCKETS, 60):
        minute(display, start + timedelta(minutes=offset), entered=1)

    body = (
        token_client(token)
        .get(STATS, {"from": iso(start), "to": iso(start + timedelta(days=1))})
        .json()
    )

    assert len(body["results"]) == MAX_STATS_BUCKETS // 60 == 24


def test_stats_are_the_displays_own_and_staff_read_any(lanes, display_a, make_user):
    display, token = lanes
    other, other_token = display_a
    minute(display, T0, entered=2)
    minute(other, T0, entered=9)
    query = {"from": iso(T0), "to": iso(T0 + timedelta(minutes=1))}
    viewer = user_client(make_user(perms=("cms.view_display",)))

    mine = token_client(token).get(STATS, query).json()["results"]
    theirs = token_client(other_token).get(STATS, query).json()["results"]
    staff = viewer.get(f"/api/v1/displays/{other.id}/stats/", query).json()["results"]

    assert [r["entered"] for r in mine] == [2]
    assert [r["entered"] for r in theirs] == [r["entered"] for r in staff] == [9]
    assert viewer.get("/api/v1/displays/999999/stats/").status_code == 404
    assert viewer.get(f"/api/v1/displays/{other.id}/stats/", {"bucket": "x"}).status_code == 400
    assert user_client(make_user()).get(f"/api/v1/displays/{other.id}/stats/").status_code == 403
    assert token_client("not-a-token").get(STATS).status_code == 401
