"""API fields for a display's zones and lines, and their OpenAPI schema.

The rules are cms.display_geometry's (Display.clean() applies them again with the camera's
frame size). The field checks the shape before anything else touches the value, so garbage
JSON is a 400 naming the field, in the same words as the model's messages.
"""

from __future__ import annotations

import json
import math
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

from cms import display_geometry as geometry


class GeometryField(serializers.JSONField):
    """A list of named shapes, checked by ``check_items`` (validate_zones or validate_lines)."""

    check_items = staticmethod(geometry.validate_zones)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and getattr(data, "is_json_string", False):  # form input
            try:
                data = json.loads(data)
            except (ValueError, RecursionError):
                self.fail("invalid")
        # Parsed JSON already (the JSON parser refuses what nests too deep): not re-encoded
        # here, so nothing recurses before the shape is known.
        errors = self.check_items(data)
        if errors:
            raise serializers.ValidationError(errors)
        return data


class ZonesField(GeometryField):
    check_items = staticmethod(geometry.validate_zones)


class LinesField(GeometryField):
    check_items = staticmethod(geometry.validate_lines)


class SecondsField(serializers.FloatField):
    """Seconds in (0, max_value]: finite, greater than 0 (the schema says exclusiveMinimum)."""

    def to_internal_value(self, data: Any) -> float:
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        # Not min_value=0: that lets 0 in, and drf-spectacular then drops exclusiveMinimum.
        if value <= 0:
            raise serializers.ValidationError("Must be greater than 0.")
        return value


# --- schema -----------------------------------------------------------------------------------

NAME_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": geometry.NAME_MAX_LENGTH,
    "pattern": geometry.NAME_PATTERN,
}
POINT_SCHEMA = {
    "type": "array",
    "description": "[x, y] in source pixels (the camera's full frame), inside the frame once "
    "its size is known (the camera's frame_width and frame_height).",
    "items": {"type": "number", "minimum": 0, "maximum": geometry.MAX_COORDINATE},
    "minItems": 2,
    "maxItems": 2,
}
POINT_REF = {"$ref": "#/components/schemas/PixelPoint"}
ZONE_SCHEMA = {
    "type": "object",
    "description": "An area. An object is in it when the bottom-centre of its box is.",
    "properties": {
        "name": {
            **NAME_SCHEMA,
            "description": f"Unique among the display's zones; {geometry.RESERVED_ZONE!r} is "
            "reserved (the implicit zone: the display's crop or whole frame).",
        },
        "polygon": {
            "type": "array",
            "items": POINT_REF,
            "minItems": geometry.POLYGON_MIN_POINTS,
            "maxItems": geometry.POLYGON_MAX_POINTS,
        },
    },
    "required": list(geometry.ZONE_KEYS),
    "additionalProperties": False,
}
LINE_SCHEMA = {
    "type": "object",
    "description": "A line whose crossings are counted, from points[0] to points[1].",
    "properties": {
        "name": {**NAME_SCHEMA, "description": "Unique among the display's lines."},
        "points": {
            "type": "array",
            "description": "Two distinct points.",
            "items": POINT_REF,
            "minItems": 2,
            "maxItems": 2,
        },
    },
    "required": list(geometry.LINE_KEYS),
    "additionalProperties": False,
}
COMPONENTS = {"PixelPoint": POINT_SCHEMA, "Zone": ZONE_SCHEMA, "Line": LINE_SCHEMA}


def _register(auto_schema: Any, name: str) -> dict[str, str]:
    component = ResolvedComponent(
        name=name, type=ResolvedComponent.SCHEMA, object=name, schema=COMPONENTS[name]
    )
    auto_schema.registry.register_on_missing(component)
    ref: dict[str, str] = component.ref
    return ref


class _GeometryFieldSchema(OpenApiSerializerFieldExtension):
    item = ""
    max_items = 0

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        _register(auto_schema, "PixelPoint")
        return {
            "type": "array",
            "items": _register(auto_schema, self.item),
            "maxItems": self.max_items,
        }


class ZonesFieldSchema(_GeometryFieldSchema):
    target_class = ZonesField
    item = "Zone"
    max_items = geometry.MAX_ZONES


class LinesFieldSchema(_GeometryFieldSchema):
    target_class = LinesField
    item = "Line"
    max_items = geometry.MAX_LINES


class SecondsFieldSchema(OpenApiSerializerFieldExtension):
    target_class = SecondsField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return {
            "type": "number",
            "format": "double",
            "minimum": 0,
            "exclusiveMinimum": True,
            "maximum": self.target.max_value,
        }
