"""The admin's event timeline, its pure part: filters from a query string, the page cursor,
the newest-first merge of object events and detections, and the text of each row.

Nothing here touches the database (cms/timeline_queries.py does); everything is tested
directly in tests/cms/test_timeline.py.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from cms.live_wall import class_counts

# The entry kinds, as cms.thumbnails names them (and the timeline's URLs).
EVENT = "event"
DETECTION = "detection"
KINDS = (EVENT, DETECTION)
# The type filter: an object event's type, or "detection" for a change-policy detection.
TYPES = ("enter", "leave", "cross", DETECTION)
PAGE_SIZE = 50
# A name filter (zone, class) longer than any stored name cannot match: cut, not refused.
NAME_MAX = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class TimelineFilter:
    """What the timeline shows: query parameters, so a filtered timeline is a link.

    ``since`` is inclusive and ``until`` exclusive (``to`` names its whole minute or second).
    """

    camera: int | None = None
    display: int | None = None
    zone: str = ""
    class_name: str = ""
    type: str = ""
    since: datetime | None = None
    until: datetime | None = None
    # The query values as given (valid ones only), for the form and the links.
    params: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The entry kinds it can match. A zone or a class selects object events only: a
        detection is a whole frame's result, with objects of several classes and zones."""
        if self.type == DETECTION:
            return () if self.zone or self.class_name else (DETECTION,)
        if self.type or self.zone or self.class_name:
            return (EVENT,)
        return KINDS

    def value(self, name: str) -> str:
        return dict(self.params).get(name, "")


def parse_filter(
    query: Mapping[str, str],
    *,
    cameras: Collection[int],
    displays: Collection[int],
    zone: tzinfo,
) -> tuple[TimelineFilter, list[str]]:
    """The filter of a query string, and a message per value it could not use.

    A value it cannot use is left out (the timeline is shown as if it were not given) and
    said so ("from: not a date"): a mistyped link still shows something, never a 500.
    ``from`` and ``to`` are datetime-local values in the time zone ``zone``.
    """
    errors: list[str] = []
    params: list[tuple[str, str]] = []

    def given(name: str) -> str:
        return str(query.get(name, "")).strip()

    def row_id(name: str, known: Collection[int]) -> int | None:
        text = given(name)
        if not text:
            return None
        if not (text.isdecimal() and text.isascii() and len(text) < 19):
            errors.append(f"{name}: not an id")
            return None
        if int(text) not in known:
            errors.append(f"{name}: no {name} {text}")
            return None
        params.append((name, text))
        return int(text)

    def name_of(name: str) -> str:
        text = given(name)[:NAME_MAX]
        if text:
            params.append((name, text))
        return text

    camera = row_id("camera", cameras)
    display = row_id("display", displays)
    zone_name = name_of("zone")
    class_name = name_of("class")
    kind = given("type")
    if kind and kind not in TYPES:
        errors.append(f"type: not one of {', '.join(TYPES)}")
        kind = ""
    elif kind:
        params.append(("type", kind))
    since = _moment(given("from"), zone, "from", errors, params, end=False)
    until = _moment(given("to"), zone, "to", errors, params, end=True)
    if since is not None and until is not None and until <= since:
        errors.append("to: not after from")
        params.remove(("to", given("to")))
        until = None
    chosen = TimelineFilter(
        camera=camera,
        display=display,
        zone=zone_name,
        class_name=class_name,
        type=kind,
        since=since,
        until=until,
        params=tuple(params),
    )
    return chosen, errors


def _moment(
    text: str,
    zone: tzinfo,
    name: str,
    errors: list[str],
    params: list[tuple[str, str]],
    *,
    end: bool,
) -> datetime | None:
    """A datetime-local value ("2026-12-01T22:10" or with seconds) as an aware time; as an
    end, the end of the minute or second it names."""
    if not text:
        return None
    try:
        # A datetime-local value is 16 or 19 characters; longer text is not one.
        moment = datetime.fromisoformat(text) if len(text) <= 32 else None
    except ValueError:
        moment = None
    if moment is None:
        errors.append(f"{name}: not a date")
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    params.append((name, text))
    try:
        if end:
            moment += _named_span(text)
        # In UTC now: the database converts to UTC, and must not overflow doing it.
        return moment.astimezone(UTC)
    except OverflowError:
        return None  # a time at the calendar's edge bounds nothing


def _named_span(text: str) -> timedelta:
    """How long the time ``text`` names: to=12:30 includes 12:30:59, to=12:30:15 includes
    12:30:15.9, to=2026-12-01 the whole day."""
    _, sep, clock = text.replace(" ", "T", 1).partition("T")
    if not sep:
        return timedelta(days=1)
    if "." in clock:
        return _MICROSECOND
    return timedelta(seconds=1 if clock.count(":") >= 2 else 60)


# --- the cursor and the merge ----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One row of the timeline. Ids are unique across both kinds (Detection and ObjectEvent
    ids come from one sequence), so (time, pk) orders the rows totally."""

    kind: str
    pk: int
    time: datetime
    row: Any = field(default=None, compare=False)

    @property
    def position(self) -> tuple[datetime, int]:
        return (self.time, self.pk)


def encode_cursor(position: tuple[datetime, int]) -> str:
    """A row's position as the ``before`` query value: "<microseconds since 1970>_<id>"."""
    moment, pk = position
    return f"{(moment - _EPOCH) // _MICROSECOND}_{pk}"


def decode_cursor(text: str) -> tuple[datetime, int] | None:
    """The position ``encode_cursor`` wrote, or None for anything else."""
    head, _, tail = text.partition("_")
    if not (head.lstrip("-").isdecimal() and tail.isdecimal() and (head + tail).isascii()):
        return None
    if len(head) > 18 or len(tail) > 18:
        return None
    try:
        return (_EPOCH + int(head) * _MICROSECOND, int(tail))
    except OverflowError:
        return None


def newest_first(runs: Iterable[Iterable[Entry]], *, limit: int) -> tuple[list[Entry], bool]:
    """The newest ``limit`` entries of runs that are each newest first, and whether more
    follow. Each run needs only ``limit + 1`` entries: that keeps the queries bounded."""
    merged = heapq.merge(*runs, key=lambda entry: entry.position, reverse=True)
    taken = [entry for _, entry in zip(range(limit + 1), merged, strict=False)]
    return taken[:limit], len(taken) > limit


def nearest(entries: Iterable[Entry], *, newer: bool) -> Entry | None:
    """Of the first entry of each kind next to a row, the one next to it: the oldest of the
    newer ones, or the newest of the older ones."""
    candidates = list(entries)
    if not candidates:
        return None
    pick = min if newer else max
    return pick(candidates, key=lambda entry: entry.position)


# --- what a row says ---------------------------------------------------------------------------


def percent(confidence: float) -> str:
    """A confidence for people: "97%", and "<1%" under one percent (never a bare "0%")."""
    return "<1%" if confidence < 0.01 else f"{confidence * 100:.0f}%"


def dwell_text(dwell_s: float | None) -> str:
    """A leave's seconds in the zone: "4.2 s" ("" for other events)."""
    return "" if dwell_s is None else f"{dwell_s:.1f} s"


def attributes_text(attributes: Mapping[str, Any] | None) -> str:
    """Secondary models' answers: "shade: dark 97% · size: big 80%"."""
    if not isinstance(attributes, Mapping):
        return ""
    parts = []
    for model, answer in attributes.items():
        if not isinstance(answer, Mapping):
            continue
        confidence = answer.get("confidence")
        shown = f" {percent(confidence)}" if isinstance(confidence, int | float) else ""
        parts.append(f"{model}: {answer.get('label', '?')}{shown}")
    return " · ".join(parts)


def counts_text(objects: Iterable[Mapping[str, Any]]) -> str:
    """A detection's objects by class, most first: "person 2 · car 1" ("nothing": none)."""
    counts = class_counts(objects)
    return " · ".join(f"{name} {count}" for name, count in counts.items()) or "nothing"


def event_what(event_type: str, direction: str) -> str:
    """ "enter", "leave", or a crossing with its direction: "cross in"."""
    return f"{event_type} {direction}" if event_type == "cross" and direction else event_type


def event_where(zone: str, line: str) -> str:
    """The zone of an enter or leave, the line of a crossing."""
    return zone or line
