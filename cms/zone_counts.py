"""How many objects are in each of a display's zones now, from one result's objects.

Pure: the staff admin's live panel and ``GET /api/v1/display/zones/`` both answer with
``zone_counts``. An object names the zones it is in (``"zones": ["lane"]``, set by the
tracker); the implicit zone ``view`` (the display's crop, or the whole frame) holds every
object, whether or not the object names it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from cms.display_geometry import RESERVED_ZONE as VIEW

UNKNOWN_CLASS = "unknown"


def zone_counts(
    objects: Iterable[Mapping[str, Any]], zone_names: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """``[{"zone": name, "count": n, "by_class": {class_name: n}}]``: ``view`` first, then
    each of ``zone_names`` in order (0 when empty), then other zones the objects name, sorted.

    A malformed object (no ``zones`` list, no class name) still counts in ``view``; its class
    is its ``class_id`` as text, or "unknown".
    """
    by_zone: dict[str, Counter[str]] = {VIEW: Counter()}
    for name in zone_names:
        by_zone.setdefault(name, Counter())
    others: dict[str, Counter[str]] = {}
    for obj in objects:
        if not isinstance(obj, Mapping):
            continue
        label = _class_name(obj)
        by_zone[VIEW][label] += 1
        zones = obj.get("zones")
        if not isinstance(zones, list):
            continue
        for zone in set(z for z in zones if isinstance(z, str) and z != VIEW):
            (by_zone[zone] if zone in by_zone else others.setdefault(zone, Counter()))[label] += 1
    ordered = [*by_zone.items(), *sorted(others.items())]
    return [
        {"zone": zone, "count": sum(classes.values()), "by_class": dict(sorted(classes.items()))}
        for zone, classes in ordered
    ]


def _class_name(obj: Mapping[str, Any]) -> str:
    name = obj.get("class_name")
    if isinstance(name, str) and name:
        return name
    class_id = obj.get("class_id")
    if isinstance(class_id, int) and not isinstance(class_id, bool):
        return str(class_id)
    return UNKNOWN_CLASS
