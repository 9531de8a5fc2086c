"""A display's audience settings: which classes count and in which zone. Pure rules, shared by
Display.clean() (so the admin and the API), and the API's schema."""

from __future__ import annotations

from cms.display_geometry import RESERVED_ZONE

DEFAULT_CLASSES = ("person",)
DEFAULT_ZONE = RESERVED_ZONE
MAX_CLASSES = 100
CLASS_NAME_MAX_LENGTH = 100  # ObjectEvent.class_name's
ZONE_MAX_LENGTH = 50  # a zone name's (cms.display_geometry.NAME_MAX_LENGTH)


def default_audience_classes() -> list[str]:
    """The model field's default: a fresh list each time (a JSONField default must be)."""
    return list(DEFAULT_CLASSES)


def class_errors(value: object) -> list[str]:
    """Problems with ``value`` as ``audience_classes``: 1 to 100 class names of 1 to 100
    characters; ``[]`` when it is valid."""
    if not isinstance(value, list) or not value:
        return [f"A list of 1 to {MAX_CLASSES} class names."]
    if len(value) > MAX_CLASSES:
        return [f"At most {MAX_CLASSES} class names, got {len(value)}."]
    for i, name in enumerate(value):
        if not isinstance(name, str) or not 0 < len(name) <= CLASS_NAME_MAX_LENGTH:
            return [f"Item {i}: a class name of 1 to {CLASS_NAME_MAX_LENGTH} characters."]
    return []


def zone_errors(zone: object, zone_names: list[str]) -> list[str]:
    """Problems with ``zone`` as ``audience_zone`` of a display with these zones: it is
    "view" or one of them; ``[]`` when it is valid."""
    if zone == RESERVED_ZONE or zone in zone_names:
        return []
    choices = ", ".join(repr(n) for n in [RESERVED_ZONE, *zone_names][:20])
    return [f"Not one of the display's zones: choose one of {choices}."]
