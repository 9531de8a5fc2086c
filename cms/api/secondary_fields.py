"""The API field for a display's secondary models, and its OpenAPI schema.

The rules are cms.display_secondary's: the field checks the shape before anything else
touches the value (a 400 naming ``secondary``, in the model's words); which models exist and
what they are, Display.clean() checks (also a 400 naming ``secondary``).

In a form body (multipart or urlencoded) the list is either one field holding the whole list
as JSON, or one field per item, each an item's JSON (how OpenAPI's form style sends an array).
"""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html

from cms import display_secondary as rules


class _FormValues(list[str]):
    """Every value a form sent for the field (a list is more than one value there)."""


class SecondaryField(serializers.JSONField):
    """A display's secondary models: a list of ``{"model", "classes", "min_size", "every_s"}``."""

    def get_value(self, dictionary: Any) -> Any:
        if html.is_html_input(dictionary):
            if self.field_name not in dictionary:
                return empty
            return _FormValues(dictionary.getlist(self.field_name))
        return dictionary.get(self.field_name, empty)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, _FormValues):
            data = self._from_form(data)
        # Parsed JSON already (the JSON parser refuses what nests too deep).
        errors = rules.shape_errors(data)
        if errors:
            raise serializers.ValidationError(errors)
        return rules.with_defaults(data)

    def _from_form(self, values: list[str]) -> Any:
        try:
            parsed = [json.loads(value) for value in values if value != ""]
        except (ValueError, RecursionError):
            self.fail("invalid")
        if len(parsed) == 1 and isinstance(parsed[0], list):
            return parsed[0]
        return parsed


# --- schema -----------------------------------------------------------------------------------

_PROPERTIES: dict[str, Any] = {
    "model": {
        "type": "integer",
        "minimum": 1,
        "maximum": rules.MAX_MODEL_ID,
        "description": "A classify model's id (its task is classify, or not read yet), at most "
        "once per display. An id that names no model, or a model of another task, is a 400 "
        "naming secondary.",
    },
    "classes": {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": rules.MAX_CLASS_ID},
        "maxItems": rules.MAX_CLASSES,
        "nullable": True,
        "description": "The primary model's class ids whose objects are classified; null: all.",
    },
    "min_size": {
        "type": "integer",
        "minimum": 1,
        "maximum": rules.MIN_SIZE_MAX,
        "description": "Pixels: only objects whose box is at least this on its shorter side "
        f"(default {rules.MIN_SIZE_DEFAULT}).",
    },
    "every_s": {
        "type": "number",
        "format": "double",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": rules.EVERY_S_MAX,
        "description": "Seconds: an object is classified when its track starts, then at most "
        f"once per every_s (default {rules.EVERY_S_DEFAULT:g}).",
    },
}
REQUEST_SCHEMA = {
    "type": "object",
    "description": "A classify model run on the crops of the display's tracked objects.",
    "properties": _PROPERTIES,
    "required": list(rules.REQUIRED_KEYS),
    "additionalProperties": False,
}
# Answers carry every key, the defaults filled in.
RESPONSE_SCHEMA = {**REQUEST_SCHEMA, "required": list(rules.KEYS)}


class SecondaryFieldSchema(OpenApiSerializerFieldExtension):
    target_class = SecondaryField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        name, schema = (
            ("SecondaryModelRequest", REQUEST_SCHEMA)
            if direction == "request"
            else ("SecondaryModel", RESPONSE_SCHEMA)
        )
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        auto_schema.registry.register_on_missing(component)
        return {"type": "array", "items": component.ref, "maxItems": rules.MAX_ITEMS}
