"""Audience per content: plays from heartbeats, closed when the client goes offline, and
/api/v1/displays/{id}/audience/ (JSON and CSV) over stored plays and object events."""

from __future__ import annotations

import csv
import io
import itertools
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cms.audience.services import close_offline_plays
from cms.models import Display, Play
from tests.api.conftest import display_with_token, token_client, user_client
from tests.factories import make_object_event

pytestmark = pytest.mark.django_db

HEARTBEAT = "/api/v1/display/heartbeat/"
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def audience_url(display: Display) -> str:
    return f"/api/v1/displays/{display.pk}/audience/"


def beat(client, **body) -> datetime:
    response = client.post(HEARTBEAT, body)
    assert response.status_code == 200, response.content
    return parse_datetime(response.json()["client_last_seen"])


def plays(display: Display) -> list[tuple[str, datetime, datetime | None]]:
    return list(display.plays.order_by("started", "id").values_list("content", "started", "ended"))


# --- plays from heartbeats ----------------------------------------------------------------------


def test_heartbeats_with_showing_changes_record_plays(display_a):
    display, token = display_a
    client = token_client(token)

    t1 = beat(client, showing="promo")
    beat(client, showing="promo")
    beat(client, version="2.0")  # no showing: still what it said before
    t2 = beat(client, showing="menu")
    t3 = beat(client, showing="")

    assert plays(display) == [("promo", t1, t2), ("menu", t2, t3)]
    t4 = beat(client, showing="promo")
    assert plays(display)[-1] == ("promo", t4, None)


def test_offline_ends_the_play_at_the_last_heartbeat_by_housekeeping(display_a, settings):
    display, token = display_a
    client = token_client(token)
    started = beat(client, showing="promo")
    last = beat(client, showing="promo")

    timeout = settings.SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S
    assert close_offline_plays(now=last + timedelta(seconds=timeout / 2)) == 0
    assert plays(display) == [("promo", started, None)]
    assert close_offline_plays(now=last + timedelta(seconds=timeout + 1)) == 1
    assert plays(display) == [("promo", started, last)]
    assert close_offline_plays(now=last + timedelta(seconds=timeout + 2)) == 0


def test_the_housekeeping_task_closes_plays_too(display_a, settings):
    from tasks.control import close_plays

    display, token = display_a
    settings.SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S = 0.05
    last = beat(token_client(token), showing="promo")
    wait_offline(display)
    assert close_plays() == 1
    assert plays(display)[0][2] == last


def wait_offline(display: Display, deadline_s: float = 5.0) -> None:
    deadline = time.monotonic() + deadline_s
    while Display.objects.get(pk=display.pk).client_online_at(timezone.now()):
        assert time.monotonic() < deadline, "the client never went offline"
        time.sleep(0.01)


def test_a_heartbeat_after_offline_starts_a_new_play(display_a, settings):
    display, token = display_a
    client = token_client(token)
    settings.SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S = 0.05
    t1 = beat(client, showing="promo")
    wait_offline(display)
    t2 = beat(client, showing="promo")
    assert plays(display) == [("promo", t1, t1), ("promo", t2, None)]


@pytest.mark.django_db(transaction=True)
def test_racing_heartbeats_leave_one_open_play_and_plays_that_follow_each_other():
    display, token = display_with_token(name="Race")
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def send(contents: list[str]) -> None:
        try:
            client = token_client(token)
            start.wait(timeout=10)
            for showing in contents:
                assert client.post(HEARTBEAT, {"showing": showing}).status_code == 200
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=(["a", "b"] * 5,)),
        threading.Thread(target=send, args=(["c", "d"] * 5,)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    rows = plays(display)
    assert [ended for _, _, ended in rows].count(None) == 1
    for (_, _, ended), (_, next_start, _) in itertools.pairwise(rows):
        assert ended == next_start  # each change ended the previous play at its own time
    assert rows[-1][2] is None


# --- figures per play ---------------------------------------------------------------------------


@pytest.fixture
def shown(display_a):
    """Two plays of "a" around one of "b", a minute each, and the tracks that watched them."""
    display, _ = display_a
    for content, start in (("a", 0), ("b", 60), ("a", 120)):
        Play.objects.create(
            display=display, content=content, started=at(start), ended=at(start + 60)
        )

    def stay(track, start, end, cls="person", zone="view", **fields):
        make_object_event(
            display,
            type="leave",
            track_id=track,
            class_name=cls,
            zone=zone,
            time=at(end),
            dwell_s=end - start,
            **fields,
        )

    colour = lambda label, c: {"colour": {"label": label, "confidence": c}}  # noqa: E731
    stay(1, 10, 20, attributes=colour("red", 0.9))
    stay(1, 30, 50, attributes=colour("blue", 0.4))  # same track: red (more confident)
    stay(2, 40, 90, attributes=colour("blue", 0.8))  # across the change: in "a" and "b"
    stay(3, 65, 70, cls="car")  # not an audience class
    stay(4, 65, 70, zone="lane")  # not the audience zone
    stay(5, 130, 131)
    make_object_event(  # an enter whose leave is not stored: no presence by itself
        display, type="enter", track_id=1, class_name="person", zone="view", time=at(10)
    )
    return display


def test_impressions_dwell_and_labels_per_play(operator, shown):
    response = operator.get(
        audience_url(shown), {"from": at(0).isoformat(), "to": at(300).isoformat()}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["classes"], body["zone"]) == (["person"], "view")
    got = [
        (p["content"], p["impressions"], p["mean_dwell_s"], p["max_dwell_s"], p["attributes"])
        for p in body["plays"]
    ]
    assert got == [
        ("a", 2, 25.0, 30.0, {"colour": {"blue": 1, "red": 1}}),
        ("b", 1, 30.0, 30.0, {"colour": {"blue": 1}}),
        ("a", 1, 1.0, 1.0, {}),
    ]
    assert body["plays"][0]["ended"] == "2025-01-01T12:01:00Z"
    assert body["plays"][0]["duration_s"] == 60.0
    by_content = {t["content"]: t for t in body["totals"]}
    assert by_content["a"]["plays"] == 2 and by_content["a"]["impressions"] == 3
    assert by_content["a"]["mean_dwell_s"] == round(51 / 3, 3)
    assert by_content["b"]["attributes"] == {"colour": {"blue": 1}}


def test_labels_come_from_the_enter_too(operator, display_a):
    display, _ = display_a
    Play.objects.create(display=display, content="a", started=at(0), ended=at(60))
    common = {"track_id": 7, "class_name": "person", "zone": "view"}
    make_object_event(
        display,
        type="enter",
        time=at(5),
        attributes={"age": {"label": "adult", "confidence": 0.8}},
        **common,
    )
    make_object_event(display, type="leave", time=at(15), dwell_s=10.0, **common)

    [play] = operator.get(audience_url(display), {"from": at(0).isoformat()}).json()["plays"]

    assert (play["impressions"], play["attributes"]) == (1, {"age": {"adult": 1}})


def test_the_displays_classes_and_zone_choose_the_audience(operator, shown):
    shown.zones = [{"name": "lane", "polygon": [[0, 0], [100, 0], [100, 100]]}]
    shown.save()
    response = operator.patch(
        f"/api/v1/displays/{shown.pk}/",
        {"audience_classes": ["car", "person"], "audience_zone": "lane"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["audience_classes"] == ["car", "person"]

    body = operator.get(audience_url(shown), {"from": at(0).isoformat()}).json()

    assert [p["impressions"] for p in body["plays"]] == [0, 1, 0]


def test_an_open_presence_counts_until_now_and_an_open_play_until_now(operator, display_a):
    display, token = display_a
    now = beat(token_client(token), showing="live")
    make_object_event(
        display,
        type="enter",
        open=True,
        track_id=9,
        class_name="person",
        zone="view",
        time=now - timedelta(seconds=30),
    )
    body = operator.get(audience_url(display)).json()
    [play] = body["plays"]
    assert (play["content"], play["ended"], play["impressions"]) == ("live", None, 1)


def test_content_keeps_one_items_plays(operator, shown):
    body = operator.get(audience_url(shown), {"from": at(0).isoformat(), "content": "b"}).json()
    assert [p["content"] for p in body["plays"]] == ["b"]
    assert [t["content"] for t in body["totals"]] == ["b"]


def test_the_range_is_of_play_starts_and_bounded(operator, shown):
    body = operator.get(
        audience_url(shown), {"from": at(60).isoformat(), "to": at(120).isoformat()}
    ).json()
    assert [p["content"] for p in body["plays"]] == ["b"]
    far = operator.get(
        audience_url(shown), {"from": at(0).isoformat(), "to": at(86400 * 365).isoformat()}
    )
    assert parse_datetime(far.json()["to"]) == at(0) + timedelta(days=31)


def test_csv_has_a_row_per_play(operator, shown):
    response = operator.get(audience_url(shown), {"from": at(0).isoformat(), "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["content"], r["impressions"], r["colour:red"]) for r in rows] == [
        ("a", "2", "1"),
        ("b", "1", "0"),
        ("a", "1", "0"),
    ]
    assert rows[0]["started"] == "2025-01-01T12:00:00Z"


def test_the_format_parameter_decides_whatever_the_accept_header_says(operator, shown):
    url = audience_url(shown)
    csv_answer = operator.get(url, {"format": "csv"}, HTTP_ACCEPT="application/json")
    assert csv_answer["Content-Type"].startswith("text/csv")
    json_answer = operator.get(url, {"format": "json"}, HTTP_ACCEPT="text/csv")
    assert json_answer["Content-Type"] == "application/json"
    assert operator.get(url, HTTP_ACCEPT="text/html").json()["zone"] == "view"


@pytest.mark.parametrize(
    "query, field",
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2025-13-01"}, "to"),
        ({"content": "x" * 201}, "content"),
        ({"content": ""}, "content"),
        ({"format": "xml"}, "format"),
        ({"format": "csv", "from": "nope"}, "from"),
    ],
)
def test_bad_parameters_are_a_json_400_naming_them(operator, shown, query, field):
    response = operator.get(audience_url(shown), query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.json()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"audience_zone": "nowhere"}, "audience_zone"),
        ({"audience_classes": []}, "audience_classes"),
        ({"audience_classes": "person"}, "audience_classes"),
        ({"audience_classes": [""]}, "audience_classes"),
    ],
)
def test_bad_audience_settings_are_a_400_naming_them(operator, shown, body, field):
    response = operator.patch(f"/api/v1/displays/{shown.pk}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_staff_only_and_a_missing_display_is_404(operator, shown, make_user, display_a):
    _, token = display_a
    assert token_client(token).get(audience_url(shown)).status_code == 401
    assert user_client(make_user(staff=False)).get(audience_url(shown)).status_code == 403
    assert user_client(make_user(perms=())).get(audience_url(shown)).status_code == 403
    viewer = user_client(make_user(perms=("cms.view_display",)))
    assert viewer.get(audience_url(shown)).status_code == 200
    assert operator.get("/api/v1/displays/999999/audience/").status_code == 404
    assert operator.get("/api/v1/displays/x/audience/?format=csv").status_code == 404


def test_housekeeping_deletes_plays_as_old_as_the_object_events_it_deletes(display_a):
    from cms.housekeeping import purge_plays

    display, _ = display_a
    Play.objects.create(display=display, content="old", started=at(0), ended=at(60))
    Play.objects.create(display=display, content="new", started=at(100), ended=at(160))
    Play.objects.create(display=display, content="open", started=at(0))

    assert purge_plays(before=at(100)) == 1
    assert sorted(display.plays.values_list("content", flat=True)) == ["new", "open"]
