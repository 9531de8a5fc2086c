"""OpenAPI details drf-spectacular cannot infer: the display token scheme, error responses,
and the event stream (a plain async Django view, invisible to DRF)."""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from cms.api.serializers import DetailSerializer

EVENTS_PATH = "/api/v1/display/events/"

_ERRORS = {
    400: (
        "Invalid input: a message per field (`non_field_errors` for a rule across fields), or "
        "a detail. Besides what the request schema states, a 400 names the field for the rules "
        "no schema can state: an `identifier` another row already has, a `camera` or `model` "
        "id that names no row, a crop without x1 < x2 and y1 < y2, an `audience_zone` that is "
        "not one of the display's zones, a model that cannot run a display, a `secondary` item "
        "whose model names no row, is not a classify model or is named twice, weights whose "
        "bytes are not a model, a camera host outside the allowed camera networks.",
        OpenApiTypes.OBJECT,
    ),
    401: ("Missing or wrong credentials.", DetailSerializer),
    403: ("Authenticated, but not allowed.", DetailSerializer),
    404: ("Not found (another display's data is not found either).", DetailSerializer),
    409: ("Conflicts with the current state (a model still in use).", DetailSerializer),
    415: (
        "The body's Content-Type is none of application/json, multipart/form-data and "
        "application/x-www-form-urlencoded (or names none of them clearly).",
        DetailSerializer,
    ),
    429: (
        "Too many requests from this display token, or too many failed tokens from this "
        "address (a lockout); see Retry-After.",
        DetailSerializer,
    ),
    503: ("The live state store (Redis) is unavailable.", DetailSerializer),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Documented error responses, so the schema lists every status the API answers.

    Where credentials are checked (401), a lockout for failed tokens can answer 429.
    """
    if 401 in codes and 429 not in codes:
        codes = (*codes, 429)
    return {
        code: OpenApiResponse(response=_ERRORS[code][1], description=_ERRORS[code][0])
        for code in codes
    }


class SchemaExtraExtension(OpenApiSerializerFieldExtension):
    """Merge a field's ``schema_extra`` (cms.api.fields.SchemaExtra) into its schema."""

    target_class = "cms.api.fields.SchemaExtra"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        extra = dict(self.target.schema_extra)
        if direction == "response":
            extra.update(self.target.response_extra)
        return {**schema, **extra}


class DisplayTokenScheme(OpenApiAuthenticationExtension):
    target_class = "cms.api.auth.DisplayTokenAuthentication"
    name = "displayToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A display's client token: `Authorization: Token <display token>`.",
        }


def add_event_stream(
    result: dict[str, Any], generator: Any, request: Any, public: bool, **kwargs: Any
) -> dict[str, Any]:
    """Postprocessing hook: describe the Server-Sent Events endpoint."""
    detail = {"$ref": "#/components/schemas/Detail"}
    result.setdefault("components", {}).setdefault("schemas", {}).setdefault(
        "Detail",
        {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]},
    )
    result.setdefault("paths", {})[EVENTS_PATH] = {
        "get": {
            "operationId": "display_events",
            "summary": "Live detections and object events of the display (Server-Sent Events)",
            "description": (
                "A `text/event-stream`: one `detection` event per delivered result "
                "(`data` = JSON like a /display/detections/ item) and one `object` event "
                "per object event (enter, leave, cross; `data` = JSON like a "
                "/display/object-events/ item). `id` = the detection's or object event's id, "
                "one sequence for both. "
                "Reconnect with `Last-Event-ID` to receive the missed events of both kinds "
                "first. "
                "A `: keepalive` comment is sent every 15 s of silence."
            ),
            "tags": ["display client"],
            "security": [{"displayToken": []}],
            "parameters": [
                {
                    "in": "header",
                    "name": "Last-Event-ID",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 0},
                    "description": "The id of the last event received: resume after it.",
                }
            ],
            "responses": {
                "200": {
                    "description": "The event stream.",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                **{
                    str(code): {
                        "description": _ERRORS[code][0],
                        "content": {"application/json": {"schema": detail}},
                    }
                    for code in (400, 401, 429, 503)
                },
            },
        }
    }
    return result


# --- a model's source: exactly one of `weights` and `hub_name` ----------------------------------

MODELS_PATH = "/api/v1/models/"
MODEL_PATH = "/api/v1/models/{id}/"
_UPLOAD_TYPE = "multipart/form-data"


def _non_blank(field: dict[str, Any]) -> dict[str, Any]:
    """A string property without its blank alternative (drf-spectacular's ``oneOf``)."""
    branches = [b for b in field.get("oneOf", [field]) if b.get("maxLength") != 0]
    rest = {k: v for k, v in field.items() if k != "oneOf"}
    return {**rest, **branches[0], "minLength": 1}


def _without_weights(component: dict[str, Any], *, hub_required: bool) -> dict[str, Any]:
    """The body where no file can travel (JSON, urlencoded): a hub_name or no source at all."""
    schema = copy.deepcopy(component)
    schema["properties"].pop("weights")
    schema["properties"]["hub_name"] = _non_blank(schema["properties"]["hub_name"])
    required = set(schema.get("required", [])) | ({"hub_name"} if hub_required else set())
    if required:
        schema["required"] = sorted(required)
    # A `weights` key here is not a file: say so instead of leaving extra keys open.
    schema["additionalProperties"] = False
    return schema


def _one_source(component: dict[str, Any], *, hub_required: bool) -> dict[str, Any]:
    """The multipart body: weights (with no or an empty hub_name), or a hub_name (no weights).

    On a create one of them is required; on an update neither keeps the stored source, and
    the one given replaces it. The branches exclude each other, so exactly one matches.
    """
    schema = copy.deepcopy(component)
    hub: dict[str, Any] = {"properties": {"hub_name": {"minLength": 1}, "weights": {"not": {}}}}
    if hub_required:
        hub["required"] = ["hub_name"]
    upload = {"required": ["weights"], "properties": {"hub_name": {"maxLength": 0}}}
    schema["oneOf"] = [upload, hub]
    return schema


def state_model_sources(
    result: dict[str, Any], generator: Any, request: Any, public: bool, **kwargs: Any
) -> dict[str, Any]:
    """Postprocessing hook: state the one-of rule of DetectionModelSerializer.validate().

    drf-spectacular gives the create, replace and update bodies one component for every
    content type; here each gets its own, by whether a file can travel in it.
    """
    schemas = result.get("components", {}).get("schemas", {})
    full, patched = (
        schemas.get("DetectionModelRequest"),
        schemas.get("PatchedDetectionModelRequest"),
    )
    if full is None or patched is None:
        return result
    variants = {
        "DetectionModelCreateRequest": _one_source(full, hub_required=True),
        "DetectionModelCreateFormRequest": _without_weights(full, hub_required=True),
        "DetectionModelReplaceRequest": _one_source(full, hub_required=False),
        "DetectionModelReplaceFormRequest": _without_weights(full, hub_required=False),
        "PatchedDetectionModelRequest": _one_source(patched, hub_required=False),
        "PatchedDetectionModelFormRequest": _without_weights(patched, hub_required=False),
    }
    schemas.pop("DetectionModelRequest")
    schemas.update(variants)
    bodies = {
        (MODELS_PATH, "post"): "DetectionModelCreate",
        (MODEL_PATH, "put"): "DetectionModelReplace",
        (MODEL_PATH, "patch"): "PatchedDetectionModel",
    }
    for (path, method), name in bodies.items():
        content = result["paths"][path][method]["requestBody"]["content"]
        for media_type in content:
            suffix = "Request" if media_type == _UPLOAD_TYPE else "FormRequest"
            content[media_type]["schema"] = {"$ref": f"#/components/schemas/{name}{suffix}"}
    return result


# --- form bodies carry text: no null ----------------------------------------------------------

_FORM_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def state_form_bodies(
    result: dict[str, Any], generator: Any, request: Any, public: bool, **kwargs: Any
) -> dict[str, Any]:
    """Postprocessing hook: a form body's fields are text, so none of them can be null.

    A JSON body may send ``"crop": null``; a form can only send the text ``null``, which
    is not a list of integers. Form bodies get components without ``nullable``.
    """
    schemas = result.get("components", {}).get("schemas", {})
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            for media_type in _FORM_MEDIA_TYPES:
                ref = content.get(media_type, {}).get("schema", {}).get("$ref", "")
                name = ref.rpartition("/")[2]
                component = schemas.get(name)
                if component is None or not _has_nullable(component):
                    continue
                form_name = f"{name}Form"
                if form_name not in schemas:
                    schemas[form_name] = _without_null(component)
                content[media_type]["schema"] = {"$ref": f"#/components/schemas/{form_name}"}
    return result


def _has_nullable(component: dict[str, Any]) -> bool:
    return any(p.get("nullable") for p in component.get("properties", {}).values())


def _without_null(component: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(component)
    for prop in schema.get("properties", {}).values():
        prop.pop("nullable", None)
    return schema
