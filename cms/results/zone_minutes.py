"""Per display, zone and minute aggregates (ZoneMinute) from a batch of the results path.

``tally`` is pure: it folds a batch's fresh results (every one received, before the event
policy drops any, so ``max_count`` sees them all) and its newly stored enter and leave
events (a redelivered event is not new, so it never counts twice) into one Tally per
(display, zone, minute). ``add`` writes the tallies in a few queries, whatever their
number: create the missing rows (conflict-safe), read and lock them, and one UPDATE of
increments (F expressions) and maxima, so concurrent consumers lose nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import F, FloatField, PositiveIntegerField, Value
from django.db.models.functions import Greatest

from cms.models import ZoneMinute
from cms.results.object_event_message import MAX_NAME, ObjectEventMessage
from cms.results.result_message import ResultMessage

Key = tuple[int, str, int]  # (display id, zone, the minute's start in Unix seconds)


@dataclass
class Tally:
    entered: int = 0
    left: int = 0
    dwell_sum_s: float = 0.0
    dwell_max_s: float = 0.0
    max_count: int = 0


def minute_of(unix_seconds: float) -> int:
    """The start of the minute a time falls in, in Unix seconds."""
    return int(unix_seconds // 60) * 60


def tally(
    results: Iterable[ResultMessage], new_events: Iterable[ObjectEventMessage]
) -> dict[Key, Tally]:
    """The batch's additions per (display, zone, minute); see the module doc."""
    tallies: dict[Key, Tally] = {}
    for result in results:
        counts: dict[str, int] = {}
        for obj in result.objects:
            for zone in set(obj.get("zones") or ()):
                counts[zone] = counts.get(zone, 0) + 1
        minute = minute_of(result.frame_time)
        for zone, count in counts.items():
            if type(zone) is str and 0 < len(zone) <= MAX_NAME:
                entry = tallies.setdefault((result.display_id, zone, minute), Tally())
                entry.max_count = max(entry.max_count, count)
    for event in new_events:
        if event.type not in ("enter", "leave") or event.zone is None:
            continue  # a crossing belongs to a line, not a zone
        entry = tallies.setdefault((event.display_id, event.zone, minute_of(event.time)), Tally())
        if event.type == "enter":
            entry.entered += 1
        else:
            dwell = event.dwell_s or 0.0
            entry.left += 1
            entry.dwell_sum_s += dwell
            entry.dwell_max_s = max(entry.dwell_max_s, dwell)
    return tallies


def add(tallies: dict[Key, Tally]) -> None:
    """Add the tallies to the stored rows, in the caller's transaction (or one of its own).

    Rows are created and locked in one order (by key, then by id) so that two consumers
    adding to the same rows wait for each other instead of deadlocking (PostgreSQL).
    """
    if not tallies:
        return
    keys = sorted(tallies)
    minutes = {key: datetime.fromtimestamp(key[2], UTC) for key in keys}
    with transaction.atomic(savepoint=False):
        ZoneMinute.objects.bulk_create(
            [ZoneMinute(display_id=d, zone=z, minute=minutes[(d, z, m)]) for d, z, m in keys],
            ignore_conflicts=True,  # another consumer made it first: add to that row
            batch_size=500,
        )
        rows = (
            ZoneMinute.objects.filter(
                display_id__in={d for d, _, _ in keys},
                zone__in={z for _, z, _ in keys},
                minute__in=set(minutes.values()),
            )
            .only("id", "display_id", "zone", "minute")
            .order_by("id")
            .select_for_update()
        )
        changed = [row for row in rows if _add_to(row, tallies)]
        ZoneMinute.objects.bulk_update(
            changed, ["entered", "left", "dwell_sum_s", "dwell_max_s", "max_count"], batch_size=500
        )


def _add_to(row: ZoneMinute, tallies: dict[Key, Tally]) -> bool:
    """Set the row's fields to expressions that add its tally; False when it has none (the
    query's product of displays, zones and minutes also finds rows of other keys)."""
    entry = tallies.get((row.display_id, row.zone, int(row.minute.timestamp())))
    if entry is None:
        return False
    row.entered = F("entered") + entry.entered
    row.left = F("left") + entry.left
    row.dwell_sum_s = F("dwell_sum_s") + entry.dwell_sum_s
    row.dwell_max_s = Greatest(
        F("dwell_max_s"), Value(entry.dwell_max_s), output_field=FloatField()
    )
    row.max_count = Greatest(
        F("max_count"), Value(entry.max_count), output_field=PositiveIntegerField()
    )
    return True
