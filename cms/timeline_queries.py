"""The event timeline's reads: the filters' options, a page of entries, an entry's
neighbours. Each kind is one query of at most ``size + 1`` rows, merged by cms.timeline.

Detections are listed only for displays whose policy is ``change``: there a detection is a
change of what is seen, an event; under ``every`` it is each frame's result, noise here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from cms.display_geometry import RESERVED_ZONE
from cms.models import Camera, Detection, Display, ObjectEvent
from cms.timeline import DETECTION, EVENT, Entry, TimelineFilter, nearest, newest_first

# The time each kind is ordered by, and filtered on.
_TIME = {EVENT: "time", DETECTION: "frame_time"}


@dataclass(frozen=True)
class Choices:
    """The filters' options: (id, label) for cameras and displays, names for the rest."""

    cameras: list[tuple[int, str]]
    displays: list[tuple[int, str]]
    zones: list[str]
    classes: list[str]


def filter_choices() -> Choices:
    """Every camera and display; the zones and lines the displays have (and ``view``); the
    class names of the displays' models. From the configuration, never a scan of the events."""
    cameras = list(Camera.objects.order_by("name", "id").values_list("id", "name"))
    displays = Display.objects.select_related("model").order_by("name", "id")
    zones = {RESERVED_ZONE}
    classes: set[str] = set()
    labels = []
    for display in displays.only("id", "name", "zones", "lines", "policy", "model__class_names"):
        labels.append((display.id, f"{display.name} ({display.policy})"))
        for shape in [*(display.zones or []), *(display.lines or [])]:
            if isinstance(shape, dict) and isinstance(shape.get("name"), str):
                zones.add(shape["name"])
        names = display.model.class_names or {}
        classes.update(str(name) for name in names.values())
    return Choices(cameras, labels, sorted(zones), sorted(classes))


def event_rows(chosen: TimelineFilter) -> QuerySet[ObjectEvent]:
    rows = ObjectEvent.objects.select_related("camera", "display")
    if chosen.camera is not None:
        rows = rows.filter(camera_id=chosen.camera)
    if chosen.display is not None:
        rows = rows.filter(display_id=chosen.display)
    if chosen.zone:
        # One "zone" filter for both: a zone's enters and leaves, a line's crossings.
        rows = rows.filter(Q(zone=chosen.zone) | Q(line=chosen.zone))
    if chosen.class_name:
        rows = rows.filter(class_name=chosen.class_name)
    if chosen.type:
        rows = rows.filter(type=chosen.type)
    return _in_range(rows, "time", chosen)


def detection_rows(chosen: TimelineFilter) -> QuerySet[Detection]:
    rows = Detection.objects.select_related("camera", "display").filter(
        display__policy=Display.Policy.CHANGE
    )
    if chosen.camera is not None:
        rows = rows.filter(camera_id=chosen.camera)
    if chosen.display is not None:
        rows = rows.filter(display_id=chosen.display)
    return _in_range(rows, "frame_time", chosen)


def _in_range(rows: QuerySet, time: str, chosen: TimelineFilter) -> QuerySet:
    if chosen.since is not None:
        rows = rows.filter(**{f"{time}__gte": chosen.since})
    if chosen.until is not None:
        rows = rows.filter(**{f"{time}__lt": chosen.until})
    return rows


def _rows(kind: str, chosen: TimelineFilter) -> QuerySet:
    return event_rows(chosen) if kind == EVENT else detection_rows(chosen)


def _entries(kind: str, rows: QuerySet) -> list[Entry]:
    time = _TIME[kind]
    return [Entry(kind, row.pk, getattr(row, time), row) for row in rows]


def _beyond(kind: str, position: tuple[object, int], *, newer: bool) -> Q:
    """Rows after (newer) or before a position in the timeline's (time, id) order."""
    moment, pk = position
    time = _TIME[kind]
    op = "gt" if newer else "lt"
    return Q(**{f"{time}__{op}": moment}) | Q(**{time: moment, f"id__{op}": pk})


def timeline_page(
    chosen: TimelineFilter,
    *,
    kinds: tuple[str, ...],
    before: tuple[object, int] | None,
    size: int,
) -> tuple[list[Entry], bool]:
    """The newest ``size`` entries of ``kinds`` older than ``before`` (None: the newest), and
    whether older ones follow."""
    runs = []
    for kind in kinds:
        rows = _rows(kind, chosen)
        if before is not None:
            rows = rows.filter(_beyond(kind, before, newer=False))
        time = _TIME[kind]
        runs.append(_entries(kind, rows.order_by(f"-{time}", "-id")[: size + 1]))
    return newest_first(runs, limit=size)


def neighbours(
    chosen: TimelineFilter, entry: Entry, *, kinds: tuple[str, ...]
) -> tuple[Entry | None, Entry | None]:
    """The entries just newer and just older than ``entry`` under the same filter."""
    found = []
    for newer in (True, False):
        next_ones = []
        for kind in kinds:
            time = _TIME[kind]
            order = (time, "id") if newer else (f"-{time}", "-id")
            rows = _rows(kind, chosen).filter(_beyond(kind, entry.position, newer=newer))
            next_ones += _entries(kind, rows.order_by(*order)[:1])
        found.append(nearest(next_ones, newer=newer))
    return found[0], found[1]


def find_entry(kind: str, pk: int) -> Entry | None:
    """One entry by kind and id (any detection: its display's policy may have changed)."""
    row: ObjectEvent | Detection | None
    if kind == EVENT:
        row = ObjectEvent.objects.select_related("camera", "display").filter(pk=pk).first()
    else:
        row = Detection.objects.select_related("camera", "display", "model").filter(pk=pk).first()
    return None if row is None else Entry(kind, row.pk, getattr(row, _TIME[kind]), row)
