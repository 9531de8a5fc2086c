"""How many objects are in each zone now, from one result's objects (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cms.display_geometry import RESERVED_ZONE


def zone_counts(
    objects: Iterable[dict[str, Any]], zones: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """``[{"zone": "lane", "count": 2, "by_class": {"car": 2}}]`` from the objects' ``zones``.

    With ``zones``: exactly those, in that order, a zone without objects at count 0 (names
    the objects carry that are not in ``zones`` are left out). Without: the zones the
    objects are in, "view" first, then in the order they first appear.
    """
    by_zone: dict[str, dict[str, int]] = {}
    for obj in objects:
        names = obj.get("zones") or ()
        for name in dict.fromkeys(names):  # an object counts once per zone
            classes = by_zone.setdefault(name, {})
            class_name = str(obj.get("class_name", ""))
            classes[class_name] = classes.get(class_name, 0) + 1
    if zones is None:
        zones = sorted(by_zone, key=lambda name: name != RESERVED_ZONE)  # stable: view first
    return [
        {
            "zone": name,
            "count": sum(by_zone.get(name, {}).values()),
            "by_class": dict(by_zone.get(name, {})),
        }
        for name in zones
    ]
