"""Schemathesis over the whole schema: generated requests, valid and invalid, against the app.

Besides "no 5xx" and "every answer documented", the schema must say what the API takes:
valid data is accepted (positive_data_acceptance: not a 400) and invalid data refused
(negative_data_rejection), with a display token on the display client's endpoints and a
staff token on the operators'. A few rules depend on rows, which no schema can state; for
those requests (`unstatable_rules`) the test checks the documented 400 naming the field
instead of positive_data_acceptance, and nothing else is relaxed.

Needs schemathesis (not in requirements.txt yet: skipped without it). Requests go
through the WSGI application in this process, inside the test's transaction.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.core.jsonschema import make_validator  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.transport.wsgi import WSGI_TRANSPORT  # noqa: E402

from cms.models import Camera, DetectionModel, Display  # noqa: E402
from cms.wsgi import application  # noqa: E402
from tests.api.conftest import display_with_token  # noqa: E402
from tests.factories import (  # noqa: E402
    make_camera,
    make_detection,
    make_model,
)
from tests.support.models import torch_archive_bytes  # noqa: E402

pytestmark = pytest.mark.django_db

# Per operation and mode; raise it for a deeper run: SCHEMATHESIS_EXAMPLES=500 pytest ...
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Valid data is accepted: every request unless it breaks a rule no schema can state.
ALL_CHECKS = [*CHECKS, positive_data_acceptance]
TABLES = {"cameras": Camera, "models": DetectionModel, "displays": Display}
UNIQUE_IDENTIFIER = ("cameras", "displays")


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


@pytest.mark.parametrize("token_kind", ["staff", "display"])
@pytest.mark.parametrize("method, path, mode", schema_cases())
def test_api_conforms_to_its_schema(api_schema, farm, method, path, mode, token_kind):
    """Generated requests, valid and invalid, never get a 5xx or an undocumented answer, valid
    ones are accepted and invalid ones refused, with either kind of token.

    The token an endpoint is for (display token on /display/, staff token elsewhere) reaches
    the serializers; the other kind is a documented 401 or 403 (then the lockout's 429), which
    both data checks allow.
    """
    operation = api_schema[path][method]
    is_display = path.startswith("/api/v1/display/")
    token = farm[f"{token_kind}_token"]
    # The other kind never reaches a serializer (a 401 or 403; after a few, the failed-token
    # lockout's 429), so the row-dependent rules below cannot apply to it.
    own_token = token_kind == ("display" if is_display else "staff")
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
        if mode == "negative":
            lost = negation_lost_on_the_wire(case)
            case.call_and_validate(checks=[c for c in CHECKS if not lost or c in STILL_CHECKED])
            return
        name_existing_rows(case, farm["ids"])
        rules = unstatable_rules(case, kind) if own_token else set()
        kwargs = with_real_weights(case)
        if not rules:
            valid = generated_body_is_valid(case)
            case.call_and_validate(checks=ALL_CHECKS if valid else CHECKS, **kwargs)
            return
        response = case.call(**kwargs)
        assert response.status_code == 400, (rules, response.text)
        # A request may break several such rules; the 400 names at least one of them.
        assert rules & set(response.json()), (rules, response.text)
        case.validate_response(response, checks=CHECKS)

    check()


URLENCODED = "application/x-www-form-urlencoded"
FORM_TYPES = ("multipart/form-data", URLENCODED)
STILL_CHECKED = [c for c in CHECKS if c is not negative_data_rejection]


def negation_lost_on_the_wire(case: Any) -> bool:
    """Whether a negative form body is valid as the server reads it.

    A form carries every value as text, and a field of a form is one value (the last sent) or,
    for an array, every value sent (an object, urlencoded, becomes fields named by its keys):
    `notes=-27254`, `notes=null` or `name={}` arrive as the strings they are, which the schema
    allows. schemathesis allows for this itself, but not in
    a body with an array (it reads one value of a repeated field), so the body is read here
    the way DRF reads it and validated against the schema; only when that reading is valid is
    negative_data_rejection skipped (the other checks still run).
    """
    if case.media_type not in FORM_TYPES:
        return False
    if not isinstance(case.body, dict):
        # A form is fields: a body that is not an object cannot be sent as one, and what
        # arrives is a form with no fields (valid wherever no field is required).
        return _no_field_required(case)
    body = case.operation.get_body_for_media_type(case.media_type)
    properties = body.form_properties
    read: dict[str, Any] = {}
    for name, value in case.body.items():
        prop = properties.get(name)
        if prop is None:
            continue  # a field the serializer does not know is ignored
        if isinstance(value, dict) and case.media_type == URLENCODED:
            continue  # form style explodes an object into fields of its own keys
        if _schema_type(prop) == "array":
            items = value if isinstance(value, list) else [value]
            read[name] = [
                _read_text(_as_text(item), _schema_type(prop.get("items", {}))) for item in items
            ]
        elif _is_file(value):
            read[name] = value  # a file part: not a form text
        else:
            if isinstance(value, list):
                if not value:
                    continue  # an empty list sends nothing
                value = value[-1]
            read[name] = _read_text(_as_text(value), _schema_type(prop))
    validator_cls = case.operation.schema.adapter.jsonschema_validator_cls
    try:
        return make_validator(body.optimized_schema, validator_cls).is_valid(read)
    except (ValueError, TypeError):
        return False  # e.g. file bytes the JSON Schema validator cannot take


def _no_field_required(case: Any) -> bool:
    body = case.operation.get_body_for_media_type(case.media_type)
    schema = body.optimized_schema if body is not None else {}
    return isinstance(schema, dict) and not schema.get("required")


def _schema_type(schema: dict[str, Any]) -> str | None:
    for branch in [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]:
        if "type" in branch:
            return branch["type"]
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)  # how schemathesis writes a non-string form value


def _read_text(text: str, kind: str | None) -> Any:
    """A form text as DRF's strict fields read it for a property of this type."""
    if kind in ("integer", "number"):
        try:
            number = json.loads(text)
        except ValueError:
            return text
        return number if isinstance(number, int | float) and not isinstance(number, bool) else text
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    return text


def generated_body_is_valid(case: Any) -> bool:
    """Whether a positive case's body is valid against its own schema.

    schemathesis 4.32 occasionally draws a multipart body that breaks the body's `oneOf`
    (weights and a non-empty hub_name together); such a case is not valid data, so it skips
    positive_data_acceptance (the other checks still run). File parts are validated as the
    strings the schema types them as.
    """
    if not isinstance(case.body, dict) or case.media_type is None:
        return True
    body = case.operation.get_body_for_media_type(case.media_type)
    instance = {k: "" if _is_file(v) else v for k, v in case.body.items()}
    validator_cls = case.operation.schema.adapter.jsonschema_validator_cls
    try:
        return make_validator(body.optimized_schema, validator_cls).is_valid(instance)
    except (ValueError, TypeError):
        return True  # a value the validator cannot take: leave the check on


def _is_file(value: Any) -> bool:
    return isinstance(value, bytes) or type(value).__name__ == "Binary"


def name_existing_rows(case: Any, ids: dict[str, list[int]]) -> None:
    """Like path ids: most generated camera and model ids in a body become rows that exist
    (a display's secondary models' too)."""
    if not isinstance(case.body, dict):
        return
    for field, kind in (("camera", "cameras"), ("model", "models")):
        value = case.body.get(field)
        if _is_int(value) and value % 3:
            case.body[field] = ids[kind][value % len(ids[kind])]
    secondary = case.body.get("secondary")
    for item in secondary if isinstance(secondary, list) else []:
        value = item.get("model") if isinstance(item, dict) else None
        if _is_int(value) and value % 3:
            item["model"] = ids["models"][value % len(ids["models"])]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def unstatable_rules(case: Any, kind: str) -> set[str]:
    """The fields a valid request breaks a row-dependent rule of (documented as 400s).

    - an `identifier` another row already has (unique; examples of one test share its
      transaction, so a generated identifier is often taken by an earlier example);
    - a `camera` or `model` id that names no row;
    - a crop without x1 < x2 and y1 < y2 (JSON Schema cannot compare two items);
    - an `audience_zone` that is neither "view" nor one of the display's zones;
    - a `secondary` item whose model names no row or cannot be a secondary model, or two
      items naming the same model (JSON Schema cannot say a key is unique across items).
    """
    body = case.body if isinstance(case.body, dict) else {}
    table = TABLES.get(kind)
    if table is None:
        return set()
    own = (case.path_parameters or {}).get("id")
    if own is not None and not (isinstance(own, int) and table.objects.filter(pk=own).exists()):
        return set()  # a 404 comes first, and positive data may get one
    broken: set[str] = set()
    identifier = body.get("identifier")
    if (
        kind in UNIQUE_IDENTIFIER
        and isinstance(identifier, str)
        and table.objects.filter(identifier=identifier).exclude(pk=own).exists()
    ):
        broken.add("identifier")
    for field, model in (("camera", Camera), ("model", DetectionModel)):
        value = body.get(field)
        if value is not None and not model.objects.filter(pk=value).exists():
            broken.add(field)
    crop = body.get("crop")
    if isinstance(crop, list) and len(crop) == 4 and not (crop[0] < crop[2] and crop[1] < crop[3]):
        broken.add("crop")
    if kind == "displays" and not _audience_zone_is_a_zone(body, own):
        broken.add("audience_zone")
    secondary = body.get("secondary")
    if isinstance(secondary, list) and _secondary_rule_broken(secondary):
        broken.add("secondary")
    return broken


def _audience_zone_is_a_zone(body: dict[str, Any], own: Any) -> bool:
    """Whether the display's audience_zone, as the request leaves it, is "view" or one of the
    zones the request leaves it (either may come from the stored row)."""
    stored = Display.objects.filter(pk=own).first() if own is not None else None
    zone = body.get("audience_zone", stored.audience_zone if stored else "view")
    zones = body.get("zones", stored.zones if stored else [])
    names = (
        {z.get("name") for z in zones if isinstance(z, dict)} if isinstance(zones, list) else set()
    )
    return zone == "view" or zone in names


def _secondary_rule_broken(items: list[Any]) -> bool:
    wanted = [item.get("model") for item in items if isinstance(item, dict)]
    if not all(_is_int(model_id) for model_id in wanted):
        return False  # not valid data: the schema refuses it
    if len(set(wanted)) < len(wanted):
        return True
    models = DetectionModel.objects.in_bulk(wanted)
    return any(m not in models or models[m].secondary_unusable_reason for m in wanted)


def with_real_weights(case: Any) -> dict[str, Any]:
    """Transport kwargs that upload a torch archive named .pt where the case uploads weights.

    Which bytes are a model, and which file names it takes, is no schema's to say: the
    generated bytes would always be refused (a 400 on `weights`), so valid cases send a file
    that passes the upload check, and the rest of the generated body as generated.
    """
    from werkzeug.datastructures import FileStorage

    if case.media_type != "multipart/form-data" or not isinstance(case.body, dict):
        return {}
    if "weights" not in case.body:
        return {}
    parts = WSGI_TRANSPORT.serialize_case(case)["data"]
    parts["weights"] = [FileStorage(io.BytesIO(WEIGHTS), "weights.pt", "weights")]
    return {"data": parts}


WEIGHTS = torch_archive_bytes()
