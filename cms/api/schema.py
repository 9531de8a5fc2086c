"""OpenAPI details drf-spectacular cannot infer: the display token scheme, error responses,
and the event stream (a plain async Django view, invisible to DRF)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from cms.api.serializers import DetailSerializer

EVENTS_PATH = "/api/v1/display/events/"

_ERRORS = {
    400: ("Invalid input: a message per field, or a detail.", OpenApiTypes.OBJECT),
    401: ("Missing or wrong credentials.", DetailSerializer),
    403: ("Authenticated, but not allowed.", DetailSerializer),
    404: ("Not found (another display's data is not found either).", DetailSerializer),
    409: ("Conflicts with the current state (a model still in use).", DetailSerializer),
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
