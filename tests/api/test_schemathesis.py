"""Schemathesis over the whole schema: generated requests, valid and invalid, against the app.

Needs schemathesis (not in requirements.txt yet: skipped without it). Requests go
through the WSGI application in this process, inside the test's transaction.
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cms.wsgi import application  # noqa: E402
from tests.api.conftest import display_with_token, make_detection  # noqa: E402
from tests.factories import make_camera, make_model  # noqa: E402

pytestmark = pytest.mark.django_db

# Per operation and mode; raise it for a deeper run: SCHEMATHESIS_EXAMPLES=500 pytest ...
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def farm(superuser, redis_client):
    """Rows for generated requests to hit: ids, a staff token and a display token."""
    from rest_framework.authtoken.models import Token

    from cms.farm import farm_keys

    displays = [display_with_token()[0] for _ in range(3)]
    display, display_token = display_with_token()
    for _ in range(3):
        make_detection(display)
    cameras = [make_camera() for _ in range(3)] + [d.camera for d in displays]
    farm_keys.write_snapshot(redis_client, cameras[0].id, b"\xff\xd8\xff\xd9")
    return {
        "staff_token": Token.objects.create(user=superuser).key,
        "display_token": display_token,
        "ids": {
            "cameras": [c.id for c in cameras],
            "models": [make_model().id for _ in range(3)] + [d.model_id for d in displays],
            "displays": [d.id for d in displays],
            "detections": list(display.detections.values_list("id", flat=True)),
        },
    }


def schema_cases() -> list[tuple[str, str, str]]:
    """(method, path, mode) for every operation in the schema, the event stream aside.

    Each operation gets valid input ("positive") and, when it takes a query or a body,
    invalid input ("negative"; malformed path ids are tested by
    test_malformed_ids_are_json_404s). The stream never ends: tests/api/test_events.py
    covers it against a real server.
    """
    from drf_spectacular.generators import SchemaGenerator

    spec = SchemaGenerator().get_schema(request=None, public=True)
    cases = []
    for path, operations in spec["paths"].items():
        if path == "/api/v1/display/events/":
            continue
        for method, operation in operations.items():
            cases.append((method.upper(), path, "positive"))
            query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            if query or operation.get("requestBody"):
                cases.append((method.upper(), path, "negative"))
    return sorted(cases)


@pytest.fixture(scope="module")
def keep_test_connection():
    """Requests through the bare WSGI app must not close the test's database connection.

    Django's own test client does the same: a real server recycles connections around
    each request, which here would end the test's transaction.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def api_schema(keep_test_connection):
    return schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.mark.parametrize("method, path, mode", schema_cases())
def test_api_conforms_to_its_schema(api_schema, farm, method, path, mode):
    """Generated requests, valid and invalid, never get a 5xx or an undocumented answer."""
    operation = api_schema[path][method]
    is_display = path.startswith("/api/v1/display/")
    token = farm["display_token"] if is_display else farm["staff_token"]
    kind = "detections" if is_display else path.split("/")[3]

    @hypothesis.given(case=operation.as_strategy(schemathesis.GenerationMode(mode)))
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def check(case):
        case.headers = {**(case.headers or {}), "Authorization": f"Token {token}"}
        generated = (case.path_parameters or {}).get("id")
        if isinstance(generated, int) and generated % 3:
            # Most requests name a row that exists, so more than the 404 path runs.
            ids = farm["ids"][kind]
            case.path_parameters["id"] = ids[generated % len(ids)]
        case.call_and_validate(checks=CHECKS)

    check()
