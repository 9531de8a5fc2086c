"""The object event history: the display's own at /display/object-events/, any display's for
staff at /displays/{id}/object-events/; cursor-paginated like detections, filtered by type."""

from __future__ import annotations

import pytest

from cms.api.serializers import ObjectEventSerializer
from tests.api.conftest import token_client, user_client
from tests.factories import make_detection, make_object_event

pytestmark = pytest.mark.django_db

MINE = "/api/v1/display/object-events/"


def staff_url(display_id):
    return f"/api/v1/displays/{display_id}/object-events/"


def three_kinds(display):
    enter = make_object_event(display)
    leave = make_object_event(
        display,
        type="leave",
        key=enter.key.replace(":enter:", ":leave:"),
        track_id=enter.track_id,
        dwell_s=4.25,
    )
    cross = make_object_event(
        display, type="cross", key=f"cross-{enter.pk}", zone="", line="door", direction="in"
    )
    return enter, leave, cross


def test_each_type_carries_its_own_fields(display_a):
    display, token = display_a
    enter, leave, _ = three_kinds(display)

    body = token_client(token).get(MINE, {"after": 0}).json()

    common = {"id", "type", "track_id", "class_id", "class_name", "time", "box"}
    by_type = {item["type"]: item for item in body["results"]}
    assert set(by_type["enter"]) == common | {"zone"}
    assert set(by_type["leave"]) == common | {"zone", "dwell_s"}
    assert set(by_type["cross"]) == common | {"line", "direction"}
    assert by_type["leave"] == {
        "id": leave.id,
        "type": "leave",
        "track_id": enter.track_id,
        "class_id": 2,
        "class_name": "car",
        "time": leave.time.isoformat().replace("+00:00", "Z"),
        "box": [10.0, 20.0, 110.0, 220.0],
        "zone": "lane",
        "dwell_s": 4.25,
    }
    assert (by_type["cross"]["line"], by_type["cross"]["direction"]) == ("door", "in")
    assert by_type["enter"] == ObjectEventSerializer(enter).data  # one shape


def test_pages_forward_with_a_cursor_and_without_one_are_the_newest(display_a):
    display, token = display_a
    rows = [make_object_event(display) for _ in range(5)]
    client = token_client(token)

    first = client.get(MINE, {"after": 0, "limit": 2}).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()

    assert [e["id"] for e in first["results"]] == [rows[0].id, rows[1].id]
    assert [e["id"] for e in second["results"]] == [rows[2].id, rows[3].id]
    assert [e["id"] for e in third["results"]] == [rows[4].id] and third["next"] is None
    newest = client.get(MINE, {"limit": 3}).json()
    assert [e["id"] for e in newest["results"]] == [r.id for r in rows[2:]]
    assert newest["next"] is None


def test_the_type_filter_keeps_one_type_and_pages_within_it(display_a):
    display, token = display_a
    events = [e for _ in range(3) for e in three_kinds(display)]
    client = token_client(token)

    leaves = client.get(MINE, {"after": 0, "type": "leave", "limit": 2}).json()
    rest = client.get(leaves["next"]).json()

    expected = [e.id for e in events if e.type == "leave"]
    assert [e["id"] for e in leaves["results"] + rest["results"]] == expected
    assert "type=leave" in leaves["next"]
    assert {e["type"] for e in client.get(MINE, {"type": "cross"}).json()["results"]} == {"cross"}


def test_ids_are_in_one_sequence_with_detections(display_a):
    display, _ = display_a
    rows = [make_detection(display), make_object_event(display), make_detection(display)]
    rows.append(make_object_event(display))

    ids = [row.id for row in rows]
    assert ids == sorted(ids) and len(set(ids)) == 4


@pytest.mark.parametrize(
    "query, field",
    [
        ({"type": "park"}, "type"),
        ({"after": "x"}, "after"),
        ({"after": "-1"}, "after"),
        ({"after": str(2**64)}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
    ],
)
def test_bad_parameters_are_400_naming_them(display_a, operator, query, field):
    display, token = display_a

    for response in (
        token_client(token).get(MINE, query),
        operator.get(staff_url(display.id), query),
    ):
        assert response.status_code == 400
        assert list(response.json()) == [field]


def test_a_display_never_sees_another_displays_events(display_a, display_b):
    a, token_a = display_a
    b, token_b = display_b
    mine = make_object_event(a)
    theirs = make_object_event(b)

    for token, expected in ((token_a, mine), (token_b, theirs)):
        body = token_client(token).get(MINE, {"after": 0}).json()
        assert [e["id"] for e in body["results"]] == [expected.id]
    # The staff endpoint does not take display tokens.
    assert token_client(token_a).get(staff_url(b.id)).status_code == 401


def test_staff_read_any_displays_events_with_view_permission(display_a, display_b, make_user):
    a, _ = display_a
    b, _ = display_b
    make_object_event(a)
    theirs = [make_object_event(b) for _ in range(3)]
    viewer = user_client(make_user(perms=("cms.view_display",)))

    body = viewer.get(staff_url(b.id), {"after": 0, "limit": 2}).json()
    rest = viewer.get(body["next"]).json()

    assert [e["id"] for e in body["results"] + rest["results"]] == [e.id for e in theirs]
    assert viewer.get(staff_url(999_999)).status_code == 404
    assert viewer.get("/api/v1/displays/x/object-events/").status_code == 404
    no_rights = user_client(make_user())
    assert no_rights.get(staff_url(b.id)).status_code == 403
    assert token_client("not-a-token").get(MINE).status_code == 401
