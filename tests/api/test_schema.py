"""The OpenAPI schema and Swagger UI render; malformed ids are JSON 404s.

tests/api/test_schemathesis.py holds the API to the schema.
"""

from __future__ import annotations

from dataclasses import MISSING, fields

import pytest
import yaml

from cms.api.serializers import DetectedObjectSerializer
from inference import DetectedObject
from tests.api.conftest import token_client
from tests.factories import PERSON

pytestmark = pytest.mark.django_db

PUBLIC_PATHS = {
    "/api/v1/display/",
    "/api/v1/display/state/",
    "/api/v1/display/detections/",
    "/api/v1/display/events/",
    "/api/v1/display/object-events/",
    "/api/v1/display/heartbeat/",
    "/api/v1/display/session/",
    "/api/v1/display/sessions/",
    "/api/v1/cameras/",
    "/api/v1/cameras/{id}/",
    "/api/v1/cameras/{id}/snapshot.jpg",
    "/api/v1/models/",
    "/api/v1/models/{id}/",
    "/api/v1/displays/",
    "/api/v1/displays/{id}/",
    "/api/v1/displays/{id}/rotate-token/",
    "/api/v1/displays/{id}/object-events/",
    "/api/v1/displays/{id}/session/",
    "/api/v1/displays/{id}/sessions/",
    "/api/v1/cluster/",
    "/api/v1/reconcile/",
}


def test_schema_describes_every_endpoint(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= PUBLIC_PATHS
    schemes = schema["components"]["securitySchemes"]
    assert {"displayToken", "tokenAuth", "cookieAuth"} <= set(schemes)
    camera_request = schema["components"]["schemas"]["CameraRequest"]["properties"]
    camera_response = schema["components"]["schemas"]["Camera"]["properties"]
    assert "password" in camera_request and "password" not in camera_response


def test_schema_as_json(client):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert "/api/v1/display/events/" in response.json()["paths"]


def test_swagger_ui_renders(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"/api/schema/" in response.content
    # served from this installation's static files, so it works without internet
    assert b"drf_spectacular_sidecar" in response.content
    assert b"cdn." not in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cameras/abc/",
        "/api/v1/cameras/-1/",
        "/api/v1/cameras/1.5/",
        "/api/v1/models/%00/",
        "/api/v1/displays/99999999999999999999999/",
        "/api/v1/displays/x/rotate-token/",
        "/api/v1/displays/x/object-events/",
        "/api/v1/displays/x/session/",
        "/api/v1/displays/99999999999999999999999/sessions/",
        "/api/v1/cameras/1e3/snapshot.jpg",
    ],
)
def test_malformed_ids_are_json_404s(operator, path):
    method = operator.post if path.endswith("rotate-token/") else operator.get

    response = method(path)

    assert response.status_code == 404
    assert "detail" in response.json()


def test_malformed_detection_id_is_a_json_404(display_a):
    response = token_client(display_a[1]).get("/api/v1/display/detections/x1/")

    assert response.status_code == 404
    assert "detail" in response.json()


def test_the_schema_of_a_detected_object_is_the_dataclass():
    serializer_fields = DetectedObjectSerializer().fields
    assert list(serializer_fields) == [f.name for f in fields(DetectedObject)]
    # A field with a default (a tracked object's) is optional in the schema too.
    assert {name: field.required for name, field in serializer_fields.items()} == {
        f.name: f.default is MISSING for f in fields(DetectedObject)
    }
    DetectedObject.check_dict(PERSON)
    serializer = DetectedObjectSerializer(data=PERSON)
    assert serializer.is_valid(), serializer.errors
    tracked = {**PERSON, "track_id": 7, "first_seen": "2025-01-01T12:00:00Z", "zones": ["lane"]}
    serializer = DetectedObjectSerializer(data=tracked)
    assert serializer.is_valid(), serializer.errors
