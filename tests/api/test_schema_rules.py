"""The schema states each rule the API enforces, and the API refuses what the schema forbids.

One test per rule (issue 12, "The schema says what the API enforces"); the generated run over
the whole schema is tests/api/test_schemathesis.py.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import modelform_factory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cms.admin import CameraForm
from cms.models import MAX_SNAPSHOT_INTERVAL_S, Camera, DetectionModel
from cms.validators import camera_url_pattern, snapshot_url_pattern
from tests.api.conftest import token_client
from tests.factories import make_camera, make_display, make_model
from tests.support.models import torch_archive_bytes

pytestmark = pytest.mark.django_db

CAMERA = {"name": "Gate", "identifier": "gate", "url": "rtsp://cam.example.com/live"}


@pytest.fixture
def schema(client):
    return yaml.safe_load(client.get("/api/schema/").content)


def component(schema, name):
    return schema["components"]["schemas"][name]


def request_schema(schema, path, method, media_type):
    ref = schema["paths"][path][method]["requestBody"]["content"][media_type]["schema"]["$ref"]
    return component(schema, ref.rpartition("/")[2])


def upload(name="x.pt"):
    return SimpleUploadedFile(name, torch_archive_bytes())


# --- thresholds: (0, 1] -----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["confidence", "iou"])
def test_the_schema_states_thresholds_are_above_0_and_at_most_1(schema, field):
    prop = request_schema(schema, "/api/v1/models/", "post", "application/json")["properties"]
    assert prop[field]["minimum"] == 0
    assert prop[field]["exclusiveMinimum"] is True
    assert prop[field]["maximum"] == 1


@pytest.mark.parametrize("field", ["confidence", "iou"])
@pytest.mark.parametrize(
    "value, status", [(0, 400), (-0.1, 400), (1.01, 400), (1, 201), (1e-4, 201)]
)
def test_thresholds_of_0_are_refused_and_up_to_1_accepted(operator, field, value, status):
    response = operator.post("/api/v1/models/", {"name": "m", "hub_name": "y.pt", field: value})

    assert response.status_code == status, response.json()
    if status == 400:
        assert field in response.json()


# --- a model's source: exactly one of weights and hub_name ------------------------------------


def test_the_schema_states_one_source_per_content_type(schema):
    upload_body = request_schema(schema, "/api/v1/models/", "post", "multipart/form-data")
    json_body = request_schema(schema, "/api/v1/models/", "post", "application/json")

    assert len(upload_body["oneOf"]) == 2
    assert "weights" not in json_body["properties"]
    assert "hub_name" in json_body["required"]
    assert json_body["additionalProperties"] is False


@pytest.mark.parametrize("data", [{}, {"hub_name": ""}], ids=["neither", "empty-hub-name"])
def test_a_model_without_a_source_is_refused(operator, data):
    response = operator.post("/api/v1/models/", {"name": "m", **data}, format="multipart")

    assert response.status_code == 400, response.json()
    assert not DetectionModel.objects.exists()


def test_a_model_with_both_sources_is_refused(operator):
    data = {"name": "m", "hub_name": "yolo11n.pt", "weights": upload()}

    response = operator.post("/api/v1/models/", data, format="multipart")

    assert response.status_code == 400
    assert "hub_name" in response.json()


def test_a_hub_name_given_on_update_replaces_the_weights(operator):
    model = make_model(weights=torch_archive_bytes())

    response = operator.patch(f"/api/v1/models/{model.id}/", {"hub_name": "yolo11n.pt"})

    assert response.status_code == 200, response.json()
    assert response.json()["weights"] is None
    model.refresh_from_db()
    assert (model.hub_name, model.weights.name, model.sha256) == ("yolo11n.pt", "", "")


def test_weights_uploaded_on_update_replace_the_hub_name(operator):
    model = make_model(hub_name="yolo11n.pt")

    response = operator.patch(
        f"/api/v1/models/{model.id}/", {"weights": upload()}, format="multipart"
    )

    assert response.status_code == 200, response.json()
    model.refresh_from_db()
    assert model.hub_name == ""
    assert model.weights.name.endswith(".pt")


def test_an_update_without_a_source_keeps_the_stored_one(operator):
    model = make_model(weights=torch_archive_bytes())

    response = operator.put(f"/api/v1/models/{model.id}/", {"name": "renamed"})

    assert response.status_code == 200, response.json()
    model.refresh_from_db()
    assert model.weights and not model.hub_name


def test_an_empty_hub_name_alone_is_refused_on_update_whatever_is_stored(operator):
    model = make_model(weights=torch_archive_bytes())

    response = operator.patch(f"/api/v1/models/{model.id}/", {"hub_name": ""})

    assert response.status_code == 400
    assert "hub_name" in response.json()


@pytest.mark.parametrize("hub_name", ["../../etc/passwd", "a/b.pt"])
def test_the_schema_and_the_api_refuse_a_hub_name_path(schema, operator, hub_name):
    pattern = request_schema(schema, "/api/v1/models/", "post", "application/json")["properties"][
        "hub_name"
    ]["pattern"]

    response = operator.post("/api/v1/models/", {"name": "m", "hub_name": hub_name})

    assert re.search(pattern, hub_name) is None
    assert response.status_code == 400
    assert "hub_name" in response.json()


# --- camera URLs ------------------------------------------------------------------------------


def test_the_schema_states_the_camera_url_patterns(schema, settings):
    props = component(schema, "CameraRequest")["properties"]
    snapshot = next(b for b in props["snapshot_url"]["oneOf"] if "pattern" in b)

    assert props["url"]["pattern"] == camera_url_pattern(
        allow_files=settings.SIGHTLINE_ALLOW_FILE_SOURCES
    )
    assert snapshot["pattern"] == snapshot_url_pattern()
    assert "networks" in props["url"]["description"]  # what the pattern cannot state


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_url_the_pattern_matches_is_accepted(data):
    """The pattern promises acceptance: a generated URL must pass every check of the model."""
    url = data.draw(st.from_regex(camera_url_pattern(allow_files=True), fullmatch=True))
    snapshot = data.draw(st.from_regex(snapshot_url_pattern(), fullmatch=True))
    camera = Camera(name="c", identifier="c", url=url, snapshot_url=snapshot)

    camera.clean_fields(exclude=["identifier", "name"])
    camera.clean()


@pytest.mark.parametrize(
    "url",
    [
        "box",
        "ftp://cam.example.com/live",
        "rtsp://cam.example.com:99999/live",
        "rtsp://cam.example.com:/live",
        "rtsp://câmera.example.com/live",
        "rtsp://cam.example.com/live now",
        "rtsp://[::1%eth0]/live",
        "//cam.example.com/live",
        "/videos/../secret.mp4",
    ],
)
def test_urls_the_pattern_refuses_are_refused(operator, settings, url):
    settings.SIGHTLINE_ALLOW_FILE_SOURCES = True
    pattern = camera_url_pattern(allow_files=True)

    response = operator.post("/api/v1/cameras/", {**CAMERA, "url": url})

    assert re.search(pattern, url) is None
    assert response.status_code == 400
    assert "url" in response.json()


@pytest.mark.parametrize(
    "url", ["rtsp://u:p%40ss@[2001:db8::1]:8554/live?x=1", "HTTPS://10.0.0.7/snap.jpg"]
)
def test_urls_the_pattern_matches_are_accepted(operator, url):
    response = operator.post("/api/v1/cameras/", {**CAMERA, "url": url})

    assert re.search(camera_url_pattern(allow_files=False), url)
    assert response.status_code == 201, response.json()


def test_local_paths_are_in_the_pattern_only_where_file_sources_are_allowed(operator, settings):
    settings.SIGHTLINE_ALLOW_FILE_SOURCES = False

    response = operator.post("/api/v1/cameras/", {**CAMERA, "url": "/videos/demo.mp4"})
    schema = yaml.safe_load(operator.get("/api/schema/").content)

    assert response.status_code == 400
    assert not re.search(component(schema, "CameraRequest")["properties"]["url"]["pattern"], "/a")


def test_the_admin_refuses_a_url_outside_the_pattern():
    form = CameraForm(
        data={**CAMERA, "url": "rtsp://câmera.example.com/", "fps": 5, "snapshot_interval": 1}
    )

    assert not form.is_valid()
    assert "url" in form.errors


# --- rows the schema cannot know: unique identifiers, related ids -----------------------------


def test_the_400_response_documents_what_the_schema_cannot_state(schema):
    description = schema["paths"]["/api/v1/displays/"]["post"]["responses"]["400"]["description"]

    assert "identifier" in description
    assert "names no row" in description


@pytest.mark.parametrize("kind", ["cameras", "displays"])
def test_a_duplicate_identifier_is_a_400_naming_it(operator, kind):
    taken = make_display(identifier="taken")
    make_camera(identifier="taken")
    data = {**CAMERA, "identifier": "taken"}
    if kind == "displays":
        data = {
            "name": "d",
            "identifier": "taken",
            "camera": taken.camera_id,
            "model": taken.model_id,
        }

    response = operator.post(f"/api/v1/{kind}/", data)

    assert response.status_code == 400
    assert "identifier" in response.json()


@pytest.mark.parametrize("field", ["camera", "model"])
def test_a_related_id_that_names_no_row_is_a_400_naming_it(operator, field):
    camera, model = make_camera(), make_model()
    data = {"name": "d", "identifier": "d", "camera": camera.id, "model": model.id, field: 999_999}

    response = operator.post("/api/v1/displays/", data)

    assert response.status_code == 400
    assert field in response.json()


# --- types: a number is not a string, a boolean not a number ----------------------------------


@pytest.fixture
def display_client():
    from tests.api.conftest import display_with_token

    return token_client(display_with_token()[1])


@pytest.mark.parametrize(
    "body",
    [{"showing": 0}, {"version": 1.5}, {"showing": True}, {"version": "v" * 101}],
    ids=["showing-number", "version-number", "showing-boolean", "version-101-chars"],
)
def test_a_heartbeat_the_schema_forbids_is_refused(display_client, body):
    response = display_client.post("/api/v1/display/heartbeat/", body, format="json")

    assert response.status_code == 400
    assert set(body) <= set(response.json())


def test_a_version_of_101_characters_is_refused_not_trimmed(display_client):
    response = display_client.post(
        "/api/v1/display/heartbeat/", {"version": "1" * 100 + " "}, format="json"
    )

    assert response.status_code == 400
    assert "version" in response.json()


def test_a_version_of_100_characters_is_accepted(display_client):
    response = display_client.post(
        "/api/v1/display/heartbeat/", {"version": "1" * 100, "showing": "0"}, format="json"
    )

    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("value", ["1", "0", "on", "yes", "maybe", ""])
def test_a_non_boolean_enabled_in_a_multipart_put_is_refused(operator, value):
    camera = make_camera()

    response = operator.put(
        f"/api/v1/cameras/{camera.id}/", {**CAMERA, "enabled": value}, format="multipart"
    )

    assert response.status_code == 400
    assert "enabled" in response.json()
    camera.refresh_from_db()
    assert camera.enabled is True


@pytest.mark.parametrize("value, stored", [("true", True), ("false", False), ("False", False)])
def test_true_and_false_in_a_multipart_put_are_booleans(operator, value, stored):
    camera = make_camera()

    response = operator.put(
        f"/api/v1/cameras/{camera.id}/", {**CAMERA, "enabled": value}, format="multipart"
    )

    assert response.status_code == 200, response.json()
    camera.refresh_from_db()
    assert camera.enabled is stored


@pytest.mark.parametrize(
    "kind, field, value",
    [
        ("cameras", "fps", True),
        ("cameras", "snapshot_interval", False),
        ("cameras", "fps", "5"),
        ("cameras", "enabled", 1),
        ("cameras", "name", 7),
        ("models", "confidence", True),
        ("models", "imgsz", True),
        ("models", "imgsz", "640"),
        ("displays", "policy_interval_ms", True),
        ("displays", "camera", True),
        ("displays", "camera", "1"),
        ("displays", "crop", [0, 0, True, 10]),
    ],
)
def test_json_values_of_the_wrong_type_are_refused(operator, kind, field, value):
    display = make_display()
    data = {
        "cameras": CAMERA,
        "models": {"name": "m", "hub_name": "y.pt"},
        "displays": {
            "name": "d",
            "identifier": "d",
            "camera": display.camera_id,
            "model": display.model_id,
        },
    }[kind]

    response = operator.post(f"/api/v1/{kind}/", {**data, field: value}, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()


def test_an_empty_cursor_is_refused(display_client):
    response = display_client.get("/api/v1/display/detections/", {"after": ""})

    assert response.status_code == 400
    assert "after" in response.json()


# --- bounds: snapshot interval, image size ----------------------------------------------------


def test_the_schema_states_the_snapshot_interval_and_image_size_rules(schema):
    camera = component(schema, "CameraRequest")["properties"]
    model = request_schema(schema, "/api/v1/models/", "post", "application/json")["properties"]

    assert camera["snapshot_interval"]["maximum"] == MAX_SNAPSHOT_INTERVAL_S == 86_400
    assert model["imgsz"]["multipleOf"] == 32


@pytest.mark.parametrize(
    "value, status", [(1e308, 400), (86_400.5, 400), (86_400, 201), (0.05, 201)]
)
def test_a_snapshot_interval_above_a_day_is_refused(operator, value, status):
    response = operator.post("/api/v1/cameras/", {**CAMERA, "snapshot_interval": value})

    assert response.status_code == status, response.json()
    if status == 400:
        assert "snapshot_interval" in response.json()


@pytest.mark.parametrize(
    "value, status", [(100, 400), (650, 400), (33, 400), (320, 201), (1280, 201)]
)
def test_an_image_size_must_be_a_multiple_of_32(operator, value, status):
    response = operator.post("/api/v1/models/", {"name": "m", "hub_name": "y.pt", "imgsz": value})

    assert response.status_code == status, response.json()
    if status == 400:
        assert "imgsz" in response.json()


def test_the_admin_forms_apply_the_same_bounds():
    camera = CameraForm(data={**CAMERA, "fps": 5, "snapshot_interval": 1e308})
    model_form = modelform_factory(DetectionModel, fields=["name", "version", "hub_name", "imgsz"])
    model = model_form(data={"name": "m", "version": "1", "hub_name": "y.pt", "imgsz": 100})

    assert not camera.is_valid() and "snapshot_interval" in camera.errors
    assert not model.is_valid() and "imgsz" in model.errors


@pytest.mark.parametrize("field", ["version", "name"])
def test_a_blank_form_value_where_blank_is_not_allowed_is_refused(operator, field):
    data = {"name": "m", "version": "2", "hub_name": "y.pt", field: ""}

    response = operator.generic(
        "POST", "/api/v1/models/", urlencode(data), "application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    assert field in response.json()


def test_an_unsupported_body_type_is_a_documented_415(schema, operator):
    response = operator.generic("POST", "/api/v1/cameras/", b"x", "text/plain")

    assert response.status_code == 415
    assert "415" in schema["paths"]["/api/v1/cameras/"]["post"]["responses"]


@pytest.mark.parametrize(
    "query",
    ["to=", "from=", "bucket=", "zone="],
)
def test_an_empty_query_value_is_refused_not_taken_as_left_out(display_client, query):
    """The schema says what each query value is (an ISO time, a choice, a name): "" is none."""
    response = display_client.get(f"/api/v1/display/stats/?{query}")

    assert response.status_code == 400
    assert query.rstrip("=") in response.json()


@pytest.mark.parametrize("query", ["after=", "limit=", "type="])
def test_an_empty_object_event_query_value_is_refused(display_client, query):
    response = display_client.get(f"/api/v1/display/object-events/?{query}")

    assert response.status_code == 400
    assert query.rstrip("=") in response.json()


@pytest.mark.parametrize("query", ["from=", "to=", "format="])
def test_an_empty_audience_query_value_is_refused(operator, query):
    display = make_display()

    response = operator.get(f"/api/v1/displays/{display.pk}/audience/?{query}")

    assert response.status_code == 400
    assert query.rstrip("=") in response.json()
