"""The event timeline: its filters, cursor, merge and row texts (pure), and its pages over
real rows: order, filters, messages for bad values, permissions, pictures and the detail."""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from cms import thumbnails
from cms.api.serializers import DetectionSerializer, ObjectEventSerializer
from cms.models import Display
from cms.timeline import (
    Entry,
    TimelineFilter,
    attributes_text,
    counts_text,
    decode_cursor,
    dwell_text,
    encode_cursor,
    event_what,
    nearest,
    newest_first,
    parse_filter,
    percent,
)
from tests.factories import make_camera, make_detection, make_display, make_object_event

SECRET = "s3cret-camera-pass"
T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
CHANGE = Display.Policy.CHANGE


def parse(query: dict[str, str], cameras=(1, 2), displays=(7,)):
    return parse_filter(query, cameras=set(cameras), displays=set(displays), zone=UTC)


# --- pure ---------------------------------------------------------------------------------


def test_a_full_filter_is_read_and_kept_for_links():
    chosen, errors = parse(
        {
            "camera": "2",
            "display": "7",
            "zone": "door",
            "class": "person",
            "type": "leave",
            "from": "2026-12-01T12:00",
            "to": "2026-12-01T12:30:15",
        }
    )
    assert errors == []
    assert (chosen.camera, chosen.display, chosen.zone, chosen.class_name, chosen.type) == (
        2,
        7,
        "door",
        "person",
        "leave",
    )
    assert chosen.since == T0
    assert chosen.until == T0 + timedelta(minutes=30, seconds=16)  # the whole second
    assert chosen.value("to") == "2026-12-01T12:30:15"
    assert chosen.kinds == ("event",)


def test_to_a_minute_includes_that_minute_and_a_date_its_day():
    assert parse({"to": "2026-12-01T12:30"})[0].until == T0 + timedelta(minutes=31)
    assert parse({"to": "2026-12-01"})[0].until == datetime(2026, 12, 2, tzinfo=UTC)


def test_times_are_in_the_given_zone_and_the_calendars_edges_bound_nothing():
    berlin = ZoneInfo("Europe/Berlin")
    chosen, _ = parse_filter({"from": "2026-12-01T13:00"}, cameras=(), displays=(), zone=berlin)
    assert chosen.since == T0
    edges = {"from": "0001-01-01T00:00", "to": "9999-12-31T23:59"}
    chosen, errors = parse_filter(edges, cameras=(), displays=(), zone=berlin)
    assert (chosen.since, chosen.until, errors) == (None, None, [])
    assert chosen.value("from") == "0001-01-01T00:00"  # kept in the form as typed


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "garbage"}, "from: not a date"),
        ({"to": "2026-13-45T99:99"}, "to: not a date"),
        ({"from": "9" * 500}, "from: not a date"),
        ({"camera": "abc"}, "camera: not an id"),
        ({"camera": "9" * 40}, "camera: not an id"),
        ({"camera": "\u0663"}, "camera: not an id"),  # a digit, but not an ASCII one
        ({"camera": "3"}, "camera: no camera 3"),
        ({"display": "-1"}, "display: not an id"),
        ({"type": "explode"}, "type: not one of enter, leave, cross, detection"),
        ({"from": "2026-12-01T12:00", "to": "2026-12-01T11:00"}, "to: not after from"),
    ],
)
def test_a_value_it_cannot_use_is_left_out_and_said_so(query, message):
    chosen, errors = parse(query)
    assert errors == [message]
    assert chosen.camera is None and chosen.display is None and chosen.type == ""
    assert chosen.until is None
    assert all(name not in dict(chosen.params) or name == "from" for name in query)


def test_zone_or_class_select_object_events_only():
    assert TimelineFilter().kinds == ("event", "detection")
    assert TimelineFilter(type="detection").kinds == ("detection",)
    assert TimelineFilter(zone="door").kinds == ("event",)
    assert TimelineFilter(class_name="car", type="detection").kinds == ()


def test_the_cursor_round_trips_to_the_microsecond_and_refuses_anything_else():
    position = (datetime(2026, 12, 1, 12, 0, 0, 123457, tzinfo=UTC), 42)
    assert decode_cursor(encode_cursor(position)) == position
    bad = ["", "garbage", "1_", "_1", "1.5_2", "9" * 30 + "_1", "1_-2", "\u0661_1", "1_\u0661"]
    for text in bad:
        assert decode_cursor(text) is None, text


def entry(kind: str, pk: int, second: int) -> Entry:
    return Entry(kind, pk, T0 + timedelta(seconds=second))


def test_the_merge_takes_the_newest_of_both_kinds_and_says_whether_more_follow():
    events = [entry("event", 9, 50), entry("event", 5, 20), entry("event", 2, 10)]
    detections = [entry("detection", 8, 40), entry("detection", 7, 20)]
    page, more = newest_first([events, detections], limit=3)
    assert [(e.kind, e.pk) for e in page] == [("event", 9), ("detection", 8), ("detection", 7)]
    assert more
    page, more = newest_first([events, detections], limit=5)
    assert [e.pk for e in page] == [9, 8, 7, 5, 2] and not more  # same second: higher id first


def test_the_nearest_neighbour_of_each_side():
    newer = [entry("event", 12, 30), entry("detection", 11, 25)]
    assert nearest(newer, newer=True) == entry("detection", 11, 25)
    assert nearest(newer, newer=False) == entry("event", 12, 30)
    assert nearest([], newer=True) is None


def test_row_texts():
    assert dwell_text(4.25) == "4.2 s" and dwell_text(None) == ""
    assert percent(0.974) == "97%" and percent(0.004) == "<1%"
    assert attributes_text({"shade": {"label": "dark", "confidence": 0.97}}) == "shade: dark 97%"
    assert attributes_text({"a": "junk", "b": {"label": "x"}}) == "b: x"
    assert attributes_text(["not", "a", "dict"]) == "" and attributes_text(None) == ""
    objects = [{"class_name": "car"}, {"class_name": "person"}, {"class_name": "person"}]
    assert counts_text(objects) == "person 2 · car 1"
    assert counts_text([]) == "nothing"
    assert event_what("cross", "in") == "cross in" and event_what("enter", "") == "enter"


# --- the pages ----------------------------------------------------------------------------

_users = itertools.count(1)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    # Thumbnails (cms.thumbnails, under SIGHTLINE_THUMBNAIL_DIR) and uploads in this test's folder.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SIGHTLINE_THUMBNAIL_DIR = tmp_path / "thumbnails"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def staff(django_user_model, *perms: str):
    user = django_user_model.objects.create_user(f"staff{next(_users)}", "", "pass-123456")
    user.is_staff = True
    user.save()
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def operator(client, django_user_model):
    client.force_login(staff(django_user_model, "view_detection", "view_objectevent"))
    return client


@pytest.fixture
def scene():
    """Two cameras; a change-policy display with a zone and a line, an every-policy one."""
    lobby = make_camera(name="Lobby", password=SECRET, username="admin")
    yard = make_camera(name="Yard")
    door = make_display(
        name="Door",
        camera=lobby,
        policy=CHANGE,
        zones=[{"name": "door", "polygon": [[0, 0], [100, 0], [100, 100]]}],
        lines=[{"name": "gate", "points": [[0, 50], [100, 50]]}],
    )
    gate = make_display(name="Gate", camera=yard)  # policy "every": its detections stay out
    rows = {
        "enter": make_object_event(door, zone="door", time=T0, class_name="person"),
        "change": make_detection(door, frame_time=T0 + timedelta(seconds=5)),
        "every": make_detection(gate, frame_time=T0 + timedelta(seconds=6)),
        "leave": make_object_event(
            door,
            type="leave",
            zone="door",
            dwell_s=4.2,
            class_name="person",
            time=T0 + timedelta(seconds=10),
            attributes={"shade": {"label": "dark", "confidence": 0.97}},
            session_id="visit-1",
        ),
        "cross": make_object_event(
            gate,
            type="cross",
            zone="",
            line="gate",
            direction="in",
            time=T0 + timedelta(seconds=20),
        ),
    }
    return {"lobby": lobby, "yard": yard, "door": door, "gate": gate, **rows}


def listed(response) -> list[tuple[str, int]]:
    assert response.status_code == 200
    return [(row["kind"], row["pk"]) for row in response.context["rows"]]


def key(row) -> tuple[str, int]:
    return ("event" if hasattr(row, "type") else "detection", row.pk)


def timeline(client, **query):
    return client.get(reverse("admin-timeline"), query)


def test_newest_first_across_both_kinds_with_only_change_policy_detections(operator, scene):
    response = timeline(operator)
    assert listed(response) == [
        key(scene["cross"]),
        key(scene["leave"]),
        key(scene["change"]),
        key(scene["enter"]),
    ]
    html = response.content.decode()
    assert "2026-12-01 12:00:10" in html  # to the second
    assert "4.2 s" in html and "shade: dark 97%" in html and "visit-1" in html
    assert "person 1" in html  # the detection's counts
    assert "cross in" in html and "gate" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"camera": "yard"}, ["cross"]),
        ({"display": "door"}, ["leave", "change", "enter"]),
        ({"zone": "door"}, ["leave", "enter"]),
        ({"zone": "gate"}, ["cross"]),  # a line's crossings
        ({"class": "person"}, ["leave", "enter"]),
        ({"type": "detection"}, ["change"]),
        ({"type": "enter"}, ["enter"]),
        ({"from": "2026-12-01T12:00:05", "to": "2026-12-01T12:00:10"}, ["leave", "change"]),
        ({"to": "2026-12-01T12:00:04"}, ["enter"]),
        ({"class": "person", "type": "detection"}, []),
    ],
)
def test_each_filter_narrows_the_timeline(operator, scene, query, expected):
    ids = {"camera": {"yard": scene["yard"].pk}, "display": {"door": scene["door"].pk}}
    query = {name: str(ids.get(name, {}).get(value, value)) for name, value in query.items()}
    response = timeline(operator, **query)
    assert listed(response) == [key(scene[name]) for name in expected]
    assert response.context["errors"] == []
    # the detail links carry the filter
    for row in response.context["rows"]:
        assert all(f"{name}=" in row["detail_url"] for name in query)


def test_bad_filter_values_give_a_message_not_a_500(operator, scene):
    response = timeline(
        operator,
        **{"from": "garbage", "camera": "99999", "type": "x", "display": "1e9", "before": "?"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    for message in ["from: not a date", "camera: no camera 99999", "type: not one of"]:
        assert message in html
    assert "display: not an id" in html and "before: not a position" in html
    assert len(listed(response)) == 4  # the bad values are left out: everything shows
    response = timeline(operator, **{"from": "0001-01-01T00:00", "to": "9999-12-31T23:59"})
    assert len(listed(response)) == 4
    # an unknown zone or class filters to nothing, and stays selected in its select
    response = timeline(operator, zone="<b>nowhere</b>")
    assert listed(response) == []
    assert '<option value="&lt;b&gt;nowhere&lt;/b&gt;" selected>' in response.content.decode()


def test_a_page_costs_the_same_few_queries_however_many_rows(
    operator, scene, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8) as few:
        listed(timeline(operator))
    for _ in range(60):
        make_object_event(scene["door"])
        make_detection(scene["door"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(listed(timeline(operator))) == 50


def test_older_pages_by_cursor_without_gaps_or_repeats(operator, scene, settings):
    display = scene["door"]
    for _ in range(55):  # many in one second: the id breaks the tie
        make_object_event(display, time=T0 + timedelta(minutes=5))
    first = timeline(operator)
    older_url = first.context["older_url"]
    assert len(listed(first)) == 50 and older_url
    second = operator.get(older_url)
    assert len(listed(second)) == 9 and not second.context["older_url"]
    pks = [pk for _, pk in listed(first) + listed(second)]
    assert len(set(pks)) == 59
    assert "newest" in second.content.decode()


def test_permissions(client, django_user_model, scene):
    url = reverse("admin-timeline")
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(staff(django_user_model))
    assert client.get(url).status_code == 403
    detail = reverse("admin-timeline-detail", args=["event", scene["enter"].pk])
    assert client.get(detail).status_code == 403
    # a user who may view detections but not object events sees only detections
    client.force_login(staff(django_user_model, "view_detection"))
    assert listed(client.get(url)) == [key(scene["change"])]
    assert client.get(detail).status_code == 403
    client.force_login(staff(django_user_model, "view_objectevent"))
    assert [kind for kind, _ in listed(client.get(url))] == ["event"] * 3
    assert "detection" not in [o for o in client.get(url).context["types"]]


def jpeg() -> bytes:
    picture = np.zeros((90, 120, 3), np.uint8)
    cv2.rectangle(picture, (10, 10), (60, 80), (0, 0, 255), 2)
    ok, encoded = cv2.imencode(".jpg", picture)
    assert ok
    return encoded.tobytes()


def test_a_thumbnail_is_served_cacheable_and_a_missing_one_is_a_404(operator, scene):
    event = scene["leave"]
    picture = jpeg()
    # saved today: a store that drops old days keeps it, whenever the suite runs
    thumbnails.save("event", event.key, picture, when=timezone.now())
    url = reverse("admin-timeline-frame", args=["event", event.pk])
    response = operator.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response.content == picture
    assert "no-store" not in response["Cache-Control"]
    decoded = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (90, 120, 3)
    again = operator.get(url, headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304 and again.content == b""
    # no thumbnail, no such entry, no such kind: 404
    assert operator.get(reverse("admin-timeline-frame", args=["event", 123456])).status_code == 404
    other = reverse("admin-timeline-frame", args=["detection", scene["change"].pk])
    assert operator.get(other).status_code == 404
    assert operator.get(f"/admin/timeline/sneaky/{event.pk}/frame.jpg").status_code == 404


def test_the_detail_shows_the_api_json_neighbours_and_no_secrets(operator, scene):
    token = scene["door"].rotate_token()
    scene["door"].save(update_fields=["token_hash"])
    leave = scene["leave"]
    response = operator.get(
        reverse("admin-timeline-detail", args=["event", leave.pk]), {"display": scene["door"].pk}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert json.loads(response.context["document"]) == ObjectEventSerializer(leave).data
    # neighbours under the same filter: the Gate's crossing is not the newer one
    assert response.context["newer_url"] is None
    assert response.context["older_url"].startswith(
        reverse("admin-timeline-detail", args=["detection", scene["change"].pk])
    )
    assert f"display={scene['door'].pk}" in response.context["older_url"]
    assert reverse("admin:cms_camera_change", args=[scene["lobby"].pk]) in html
    assert reverse("admin:cms_display_change", args=[scene["door"].pk]) in html
    for secret in [SECRET, token, scene["lobby"].url, leave.key]:
        assert secret not in html
    detection = scene["change"]
    response = operator.get(reverse("admin-timeline-detail", args=["detection", detection.pk]))
    assert json.loads(response.context["document"]) == DetectionSerializer(detection).data
    assert response.context["newer_url"].startswith(
        reverse("admin-timeline-detail", args=["event", leave.pk])
    )
    assert re.search(r"person 1", response.content.decode())
    assert operator.get("/admin/timeline/event/999999/").status_code == 404
    assert operator.get(f"/admin/timeline/nope/{leave.pk}/").status_code == 404


def test_the_admin_index_links_the_timeline(operator):
    assert reverse("admin-timeline") in operator.get(reverse("admin:index")).content.decode()
