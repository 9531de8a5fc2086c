"""A display's tracking settings, zones and lines through the API: round trips and 400s."""

from __future__ import annotations

import json

import pytest

from cms.frame_size import record_frame_size
from cms.models import Display
from tests.api.conftest import token_client
from tests.factories import make_camera, make_display, make_model

pytestmark = pytest.mark.django_db

LANE = {"name": "lane", "polygon": [[0, 400], [640, 400], [640, 480], [0, 480]]}
DOOR = {"name": "door", "points": [[320, 0], [320, 480]]}


def url(display: Display) -> str:
    return f"/api/v1/displays/{display.id}/"


def test_a_new_display_tracks_with_no_zones_or_lines(operator):
    camera, model = make_camera(), make_model()

    response = operator.post(
        "/api/v1/displays/",
        {"name": "D", "identifier": "d", "camera": camera.id, "model": model.id},
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tracking"] is True
    assert (body["zones"], body["lines"]) == ([], [])
    assert (body["min_seen_s"], body["max_lost_s"]) == (0.5, 2.0)


def test_create_with_zones_and_lines(operator):
    camera, model = make_camera(), make_model()
    fields = {"zones": [LANE], "lines": [DOOR], "min_seen_s": 1.5, "max_lost_s": 30}

    response = operator.post(
        "/api/v1/displays/",
        {"name": "D", "identifier": "d", "camera": camera.id, "model": model.id, **fields},
    )

    assert response.status_code == 201, response.json()
    display = Display.objects.get(pk=response.json()["id"])
    assert (display.zones, display.lines) == ([LANE], [DOOR])
    assert (display.min_seen_s, display.max_lost_s) == (1.5, 30.0)


def test_patch_zones_round_trips_and_leaves_the_rest(operator):
    display = make_display(lines=[DOOR])
    zones = [LANE, {"name": "kerb 2", "polygon": [[0.5, 0.25], [10, 0], [10, 10.75]]}]

    response = operator.patch(url(display), {"zones": zones})

    assert response.status_code == 200, response.json()
    assert response.json()["zones"] == zones
    assert operator.get(url(display)).json()["zones"] == zones
    display.refresh_from_db()
    assert display.zones == zones
    assert display.lines == [DOOR]  # not sent, kept
    # Clearing them is an empty list.
    assert operator.patch(url(display), {"zones": []}).json()["zones"] == []


def test_patch_tracking_off_and_debounce(operator):
    display = make_display()

    response = operator.patch(url(display), {"tracking": False, "min_seen_s": 0.1})

    assert response.status_code == 200, response.json()
    display.refresh_from_db()
    assert (display.tracking, display.min_seen_s) == (False, 0.1)


SQUARE = [[0, 0], [10, 0], [10, 10]]


@pytest.mark.parametrize(
    "body, field, message",
    [
        (
            {"zones": [LANE, {"name": "b", "polygon": [[0, 0], [1, 1]]}]},
            "zones",
            "zones[1].polygon: needs 3 to 64 points, got 2",
        ),
        ({"zones": [{"name": "b", "polygon": [[1, 1]] * 65}]}, "zones", "got 65"),
        ({"zones": [LANE, LANE]}, "zones", "zones[1].name: 'lane' is already the name of zones[0]"),
        ({"zones": [{"name": "view", "polygon": SQUARE}]}, "zones", "'view' is reserved"),
        ({"zones": [{"name": "a", "polygon": [[0, 0], [1, 1], [True, 1]]}]}, "zones", "boolean"),
        ({"zones": [{"name": "a", "polygon": [[0, 0], [1, 1], ["1", 1]]}]}, "zones", "string"),
        ({"zones": [{"name": "a", "polygon": [[0, 0], [1, 1], [-5, 1]]}]}, "zones", ">= 0"),
        ({"zones": [{"name": "a", "polygon": [[0, 0], [1, 1], [1e300, 1]]}]}, "zones", "at most"),
        ({"zones": [{"name": "a", "polygon": [[0, 0], [1, 1], [10**300, 1]]}]}, "zones", "at most"),
        ({"zones": [{**LANE, "colour": "red"}]}, "zones", "zones[0]: unknown key(s) 'colour'"),
        (
            {"zones": [{"name": True, "polygon": SQUARE}]},
            "zones",
            "zones[0].name: must be a string",
        ),
        ({"zones": "lane"}, "zones", "zones: must be a list, got a string"),
        ({"zones": {"lane": SQUARE}}, "zones", "zones: must be a list, got an object"),
        ({"zones": [None]}, "zones", "zones[0]: must be an object"),
        ({"zones": None}, "zones", "may not be null"),
        ({"lines": [{"name": "door", "points": [[5, 5], [5, 5]]}]}, "lines", "must differ"),
        ({"lines": [{"name": "door", "points": [[5, 5]]}]}, "lines", "exactly 2 points, got 1"),
        ({"lines": [DOOR, DOOR]}, "lines", "lines[1].name: 'door' is already the name"),
        ({"lines": [{**DOOR, "direction": "in"}]}, "lines", "unknown key(s) 'direction'"),
        ({"lines": [{"name": "door", "points": [[0, False], [1, 1]]}]}, "lines", "boolean"),
        ({"min_seen_s": 0}, "min_seen_s", "greater than 0"),
        ({"min_seen_s": 61}, "min_seen_s", "60"),
        ({"max_lost_s": -1}, "max_lost_s", "greater than 0"),
        ({"max_lost_s": 601}, "max_lost_s", "600"),
        ({"max_lost_s": "soon"}, "max_lost_s", "number"),
        ({"tracking": "maybe"}, "tracking", "boolean"),
    ],
)
def test_bad_objects_input_is_a_400_naming_the_field(operator, body, field, message):
    display = make_display(zones=[LANE])

    response = operator.patch(url(display), body)

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert any(message in m for m in errors[field]), errors
    display.refresh_from_db()
    assert display.zones == [LANE]


@pytest.mark.parametrize(
    "raw",
    [
        '{"zones": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"zones": [{"name": "a", "polygon": ' + "[" * 900 + "]" * 900 + "}]}",
        '{"zones": [{"name": "a", "polygon": [[0, 0], [1, 1], [NaN, 1]]}]}',
        '{"zones": [{"name": "a", "polygon": [[0, 0], [1, 1], [1e999, 1]]}]}',
        '{"zones": [{"name": "a", "polygon": [[0, 0], [1, 1], [' + "9" * 5000 + ", 1]]}]}",
        '{"lines": [{"name": "door", "points": [[0, 0], [Infinity, 1]]}]}',
        '{"zones": [{"name": "\\u0000", "polygon": [[0, 0], [1, 1], [2, 2]]}]}',
        '{"min_seen_s": NaN}',
    ],
)
def test_garbage_json_is_a_400_never_a_500(operator, raw):
    display = make_display()

    response = operator.patch(url(display), raw, content_type="application/json")

    assert response.status_code == 400, response.content


def test_zones_in_form_data_are_json_text(operator):
    display = make_display()

    good = operator.patch(url(display), {"zones": json.dumps([LANE])}, format="multipart")
    bad = operator.patch(url(display), {"zones": "[[[" * 3000}, format="multipart")

    assert good.status_code == 200, good.json()
    assert good.json()["zones"] == [LANE]
    assert bad.status_code == 400 and "zones" in bad.json()


def test_points_outside_the_cameras_frame_are_a_400_once_it_is_known(operator):
    display = make_display()
    wide = {"name": "wide", "polygon": [[0, 0], [1280, 0], [1280, 720]]}
    assert operator.patch(url(display), {"zones": [wide]}).status_code == 200
    record_frame_size(display.camera_id, 640, 480)

    response = operator.patch(url(display), {"zones": [wide]})

    assert response.status_code == 400
    assert response.json()["zones"] == [
        "zones[0].polygon[1]: [1280, 0] is outside the camera's 640x480 frame",
        "zones[0].polygon[2]: [1280, 720] is outside the camera's 640x480 frame",
    ]


def test_camera_frame_size_is_shown_and_read_only(operator):
    camera = make_camera()
    assert operator.get(f"/api/v1/cameras/{camera.id}/").json()["frame_width"] is None
    record_frame_size(camera.id, 1920, 1080)

    response = operator.patch(
        f"/api/v1/cameras/{camera.id}/", {"frame_width": 10, "frame_height": 10, "fps": 2}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["frame_width"], body["frame_height"], body["fps"]) == (1920, 1080, 2.0)


def test_display_client_sees_its_zones_and_lines(display_a):
    display, token = display_a
    display.zones, display.lines = [LANE], [DOOR]
    display.save()
    client = token_client(token)

    state = client.get("/api/v1/display/state/").json()
    config = client.get("/api/v1/display/").json()

    assert (state["zones"], state["lines"]) == ([LANE], [DOOR])
    assert (config["zones"], config["lines"], config["tracking"]) == ([LANE], [DOOR], True)
    assert (config["min_seen_s"], config["max_lost_s"]) == (0.5, 2.0)


def test_schema_describes_zones_and_lines_as_components(client):
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    components = schema["components"]["schemas"]

    zones = components["DisplayRequest"]["properties"]["zones"]
    assert zones["items"] == {"$ref": "#/components/schemas/Zone"}
    zone = components["Zone"]
    assert zone["additionalProperties"] is False
    assert zone["properties"]["name"]["maxLength"] == 50
    polygon = zone["properties"]["polygon"]
    assert (polygon["minItems"], polygon["maxItems"]) == (3, 64)
    points = components["Line"]["properties"]["points"]
    assert (points["minItems"], points["maxItems"]) == (2, 2)
    assert components["PixelPoint"]["items"]["minimum"] == 0
    seen = components["DisplayRequest"]["properties"]["min_seen_s"]
    assert (seen["exclusiveMinimum"], seen["maximum"]) == (True, 60)
    assert components["Camera"]["properties"]["frame_width"]["readOnly"] is True
