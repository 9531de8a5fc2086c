"""Display sessions through the API: the client's own at /display/session(s)/, any display's
for staff at /displays/{id}/session(s)/; bad input is a 400 naming session_id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from cms.display_sessions.summary import empty, merge_results
from cms.models import DisplaySession
from cms.signals import session_updated
from tests.api.conftest import token_client, user_client

pytestmark = pytest.mark.django_db

SESSION = "/api/v1/display/session/"
SESSIONS = "/api/v1/display/sessions/"


def staff_session(display_id):
    return f"/api/v1/displays/{display_id}/session/"


def staff_sessions(display_id):
    return f"/api/v1/displays/{display_id}/sessions/"


@pytest.fixture
def signals():
    """Every session_updated sent, as (session_id, closed, end_reason)."""
    sent = []

    def receiver(sender, *, session, summary, closed, display, **kwargs):
        sent.append((session.session_id, closed, session.end_reason))

    session_updated.connect(receiver)
    yield sent
    session_updated.disconnect(receiver)


def test_a_client_starts_reads_and_ends_its_session(
    display_a, signals, django_capture_on_commit_callbacks
):
    display, token = display_a
    client = token_client(token)

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(SESSION, {"session_id": "visit-1"}, format="json")
    assert started.status_code == 201, started.content
    body = started.json()
    assert body["session_id"] == "visit-1" and body["display"] == display.id
    assert body["ended"] is None and body["end_reason"] is None
    assert body["summary"] == {"tracks": [], "counts": {}, "untracked": {}, "tracks_not_listed": 0}
    assert client.get(SESSION).json() == body

    with django_capture_on_commit_callbacks(execute=True):
        ended = client.delete(SESSION)

    assert ended.status_code == 200
    assert ended.json()["id"] == body["id"] and ended.json()["end_reason"] == "client"
    assert ended.json()["ended"] is not None
    assert client.get(SESSION).status_code == 404
    assert client.delete(SESSION).status_code == 404
    assert signals == [("visit-1", True, "client")]  # exactly once, at the close


def test_no_open_session_is_a_404_with_a_detail(display_a):
    response = token_client(display_a[1]).get(SESSION)

    assert response.status_code == 404
    assert response.json() == {"detail": "No session is open."}


def test_starting_a_new_session_ends_the_open_one_as_replaced(
    display_a, signals, django_capture_on_commit_callbacks
):
    display, token = display_a
    client = token_client(token)
    first = client.post(SESSION, {"session_id": "a"}, format="json").json()

    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(SESSION, {"session_id": "b"}, format="json")

    assert second.status_code == 201
    old = DisplaySession.objects.get(pk=first["id"])
    assert (
        old.end_reason == "replaced"
        and old.ended == DisplaySession.objects.get(pk=second.json()["id"]).started
    )
    assert DisplaySession.objects.filter(display=display, ended__isnull=True).count() == 1
    assert signals == [("a", True, "replaced")]


def test_repeating_the_start_of_the_open_session_keeps_it(display_a):
    client = token_client(display_a[1])
    first = client.post(SESSION, {"session_id": "same"}, format="json")

    again = client.post(SESSION, {"session_id": "same"}, format="json")

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["ended"] is None
    assert DisplaySession.objects.count() == 1


def test_a_form_body_starts_one_too(display_a):
    response = token_client(display_a[1]).post(SESSION, {"session_id": "kiosk"}, format="multipart")

    assert response.status_code == 201
    assert response.json()["session_id"] == "kiosk"


@pytest.mark.parametrize(
    "body",
    [
        {"session_id": "x" * 65},
        {"session_id": "é" * 65},
        {"session_id": ""},
        {"session_id": 5},
        {"session_id": None},
        {"session_id": ["a"]},
        {"session_id": {"a": 1}},
        {"session_id": True},
        {"session_id": "a\x00b"},
        {},
    ],
    ids=repr,
)
def test_a_bad_session_id_is_a_400_naming_it(display_a, operator, body):
    display, token = display_a

    for client, url in ((token_client(token), SESSION), (operator, staff_session(display.id))):
        response = client.post(url, body, format="json")

        assert response.status_code == 400, response.content
        assert "session_id" in response.json()
    assert not DisplaySession.objects.exists()


def test_64_characters_are_accepted_as_sent(display_a):
    client = token_client(display_a[1])

    response = client.post(SESSION, {"session_id": " é" * 32}, format="json")

    assert response.status_code == 201
    assert response.json()["session_id"] == " é" * 32  # not trimmed


def test_a_body_that_is_not_an_object_is_a_400(display_a):
    client = token_client(display_a[1])

    response = client.post(SESSION, '"visit"', content_type="application/json")

    assert response.status_code == 400


def close_sessions(display, count):
    """``count`` sessions of the display, each ended by the next start; the last one open."""
    from cms.display_sessions.services import start_session

    return [start_session(display=display, session_id=f"s{n}")[0] for n in range(count)]


def test_ended_sessions_page_oldest_first_with_a_cursor(display_a):
    display, token = display_a
    rows = close_sessions(display, 6)  # five ended, the sixth open
    client = token_client(token)

    first = client.get(SESSIONS, {"after": 0, "limit": 2}).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()

    assert [s["id"] for s in first["results"]] == [rows[0].id, rows[1].id]
    assert [s["id"] for s in second["results"]] == [rows[2].id, rows[3].id]
    assert [s["id"] for s in third["results"]] == [rows[4].id] and third["next"] is None
    assert all(s["end_reason"] == "replaced" for s in first["results"])
    newest = client.get(SESSIONS, {"limit": 2}).json()
    assert [s["id"] for s in newest["results"]] == [rows[3].id, rows[4].id]
    # The open session is not listed until it ends; then it follows the cursor.
    client.delete(SESSION)
    after = client.get(SESSIONS, {"after": rows[4].id}).json()
    assert [s["id"] for s in after["results"]] == [rows[5].id]


@pytest.mark.parametrize("query", [{"after": -1}, {"after": "x"}, {"limit": 0}, {"limit": 1001}])
def test_a_bad_cursor_or_limit_is_a_400_naming_it(display_a, query):
    response = token_client(display_a[1]).get(SESSIONS, query)

    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_the_summary_is_shown_with_iso_times_and_dwell(display_a):
    display, token = display_a
    summary = empty()
    start = datetime(2025, 1, 1, 12, 0, tzinfo=UTC).timestamp()
    tracked = {
        "class_id": 2,
        "class_name": "car",
        "confidence": 0.9,
        "box": [0.0, 0.0, 1.0, 1.0],
        "track_id": 70000000012,
        "zones": ["view", "lane"],
        "attributes": {"colour": {"label": "red", "confidence": 0.8}},
    }
    untracked = {"class_id": 0, "class_name": "person", "confidence": 0.5, "box": [0, 0, 1, 1]}
    merge_results(summary, [(start, [tracked]), (start + 4.5, [tracked, untracked])])
    DisplaySession.objects.create(display=display, session_id="v", summary=summary)

    body = token_client(token).get(SESSION).json()

    assert body["summary"] == {
        "tracks": [
            {
                "track_id": 70000000012,
                "class_id": 2,
                "class_name": "car",
                "confidence": 0.9,
                "first_seen": "2025-01-01T12:00:00Z",
                "last_seen": "2025-01-01T12:00:04.500000Z",
                "dwell_s": 4.5,
                "zones": ["lane", "view"],
                "attributes": {"colour": {"label": "red", "confidence": 0.8}},
            }
        ],
        "counts": {"car": 1},
        "untracked": {"person": 1},
        "tracks_not_listed": 0,
    }


def test_without_a_token_every_endpoint_is_a_401(client, display_a):
    display = display_a[0]
    for method, url in (
        ("get", SESSION),
        ("post", SESSION),
        ("delete", SESSION),
        ("get", SESSIONS),
        ("get", staff_session(display.id)),
        ("post", staff_session(display.id)),
        ("delete", staff_session(display.id)),
        ("get", staff_sessions(display.id)),
    ):
        body = {"session_id": "x"}
        response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 401, (method, url)


def test_each_kind_of_token_is_refused_on_the_others_endpoints(display_a, operator):
    display, token = display_a

    assert token_client(token).get(staff_session(display.id)).status_code == 401
    assert operator.get(SESSION).status_code == 401


def test_a_display_cannot_see_or_end_another_displays_session(display_a, display_b):
    token_a, (b, token_b) = display_a[1], display_b
    token_client(token_b).post(SESSION, {"session_id": "b-visit"}, format="json")
    close_sessions(b, 2)
    client_a = token_client(token_a)

    assert client_a.get(SESSION).status_code == 404
    assert client_a.delete(SESSION).status_code == 404
    assert client_a.get(SESSIONS, {"after": 0}).json() == {"results": [], "next": None}
    assert DisplaySession.objects.filter(display=b, ended__isnull=True).count() == 1
    # a's own session does not touch b's
    client_a.post(SESSION, {"session_id": "a-visit"}, format="json")
    assert DisplaySession.objects.filter(display=b, ended__isnull=True).get().session_id == "s1"


def test_staff_start_read_and_end_any_displays_session(
    display_a, operator, signals, django_capture_on_commit_callbacks
):
    display, token = display_a

    started = operator.post(staff_session(display.id), {"session_id": "staff-1"}, format="json")
    assert started.status_code == 201
    # The display's client sees it as its own.
    assert token_client(token).get(SESSION).json()["session_id"] == "staff-1"
    assert operator.get(staff_session(display.id)).json()["id"] == started.json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        ended = operator.delete(staff_session(display.id))

    assert ended.json()["end_reason"] == "staff"
    assert operator.get(staff_session(display.id)).status_code == 404
    listed = operator.get(staff_sessions(display.id)).json()
    assert [s["id"] for s in listed["results"]] == [started.json()["id"]]
    assert signals == [("staff-1", True, "staff")]


@pytest.mark.parametrize("path", ["9999999/session/", "x/session/", "9999999/sessions/"])
def test_staff_ask_about_a_display_that_does_not_exist(operator, path):
    url = f"/api/v1/displays/{path}"
    response = (
        operator.post(url, {"session_id": "x"}, format="json")
        if path.endswith("session/")
        else operator.get(url)
    )

    assert response.status_code == 404
    assert "detail" in response.json()


def test_staff_need_view_to_read_and_change_to_start_or_end(display_a, make_user):
    display = display_a[0]
    viewer = user_client(make_user(perms=("cms.view_display",)))
    nobody = user_client(make_user())
    editor = user_client(make_user(perms=("cms.change_display",)))

    assert nobody.get(staff_session(display.id)).status_code == 403
    assert viewer.get(staff_session(display.id)).status_code == 404  # allowed: none open
    assert viewer.get(staff_sessions(display.id)).status_code == 200
    start = {"session_id": "x"}
    assert viewer.post(staff_session(display.id), start, format="json").status_code == 403
    assert viewer.delete(staff_session(display.id)).status_code == 403
    assert editor.post(staff_session(display.id), start, format="json").status_code == 201
    assert editor.delete(staff_session(display.id)).status_code == 200


def test_the_database_keeps_one_open_session_per_display(display_a, display_b):
    display = display_a[0]
    DisplaySession.objects.create(display=display, session_id="one")
    DisplaySession.objects.create(display=display, session_id="old", ended=timezone.now())
    DisplaySession.objects.create(display=display_b[0], session_id="other display")

    with pytest.raises(IntegrityError), transaction.atomic():
        DisplaySession.objects.create(display=display, session_id="two")


def test_housekeeping_ends_sessions_open_too_long(
    display_a, display_b, settings, signals, django_capture_on_commit_callbacks
):
    from tasks.control import expire_sessions

    settings.SIGHTLINE_SESSION_MAX_S = 60
    old = DisplaySession.objects.create(
        display=display_a[0], session_id="old", started=timezone.now() - timedelta(seconds=61)
    )
    fresh = DisplaySession.objects.create(display=display_b[0], session_id="fresh")

    with django_capture_on_commit_callbacks(execute=True):
        assert expire_sessions() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_sessions() == 0  # closed once

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.end_reason == "expired" and old.ended is not None
    assert fresh.ended is None
    assert signals == [("old", True, "expired")]


def test_the_default_maximum_is_an_hour_and_beat_runs_the_expiry():
    from django.conf import settings

    assert settings.SIGHTLINE_SESSION_MAX_S == 3600
    entry = settings.CELERY_BEAT_SCHEDULE["expire-sessions"]
    assert entry["task"] == "tasks.control.expire_sessions" and entry["schedule"] <= 60
