"""Plays written from heartbeats and closed when clients go offline; audience reports read.

Writes take the display's row lock first (``select_for_update``; SQLite's IMMEDIATE
transactions serialise writers anyway), so two heartbeats of one display, or a heartbeat and
the housekeeping job, decide one after the other on what the other wrote. The partial unique
constraint ``play_one_open_per_display`` backs that up: never two open plays.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cms.audience import figures
from cms.audience.plays import OpenPlay, PlayChange, offline_end, on_heartbeat
from cms.models import Display, ObjectEvent, Play

# A presence that ended more than this after the report's range is not looked for: leaves are
# read by their time, and a stay in front of a display longer than a day is not an audience.
MAX_PRESENCE = timedelta(days=1)
MAX_RANGE = timedelta(days=31)
DEFAULT_RANGE = timedelta(days=1)
MAX_PLAYS = 5000


def timeout_s() -> float:
    return settings.SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S


def note_heartbeat(
    display_id: int, *, showing: str, now: datetime, last_seen: datetime | None
) -> PlayChange:
    """Apply a heartbeat at ``now`` to the display's plays (cms.audience.plays.on_heartbeat).

    Call it in the transaction that records the heartbeat, holding the display's row lock,
    with ``last_seen`` the previous heartbeat's time as read under that lock.
    """
    current = Play.objects.filter(display_id=display_id, ended__isnull=True).first()
    open_play = OpenPlay(current.content, current.started) if current is not None else None
    change = on_heartbeat(
        open_play=open_play, showing=showing, now=now, last_seen=last_seen, timeout_s=timeout_s()
    )
    _apply(display_id, current, change, now)
    return change


def _apply(display_id: int, current: Play | None, change: PlayChange, now: datetime) -> None:
    if change.end_at is not None and current is not None:
        ended = Play.objects.filter(pk=current.pk, ended__isnull=True).update(ended=change.end_at)
        if ended != 1:  # pragma: no cover  (the row lock makes this impossible)
            raise RuntimeError(f"play {current.pk} was ended by someone else")
    if change.start is not None:
        Play.objects.create(display_id=display_id, content=change.start, started=now)


def close_offline_plays(*, now: datetime | None = None) -> int:
    """End the open plays of displays whose client went offline, at its last heartbeat;
    returns how many ended. Run by the housekeeping beat (tasks.control.close_plays)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=timeout_s())
    candidates = (
        Play.objects.filter(ended__isnull=True)
        .filter(
            Q(display__client_last_seen__lte=cutoff) | Q(display__client_last_seen__isnull=True)
        )
        .values_list("display_id", flat=True)
    )
    closed = 0
    for display_id in list(candidates):
        with transaction.atomic():
            # Under the lock, read again: a heartbeat may have come since.
            seen = (
                Display.objects.select_for_update()
                .filter(pk=display_id)
                .values_list("client_last_seen", flat=True)
                .first()
            )
            current = Play.objects.filter(display_id=display_id, ended__isnull=True).first()
            if current is None:
                continue
            end = offline_end(
                open_play=OpenPlay(current.content, current.started),
                last_seen=seen,
                now=now,
                timeout_s=timeout_s(),
            )
            if end is not None:
                closed += Play.objects.filter(pk=current.pk, ended__isnull=True).update(ended=end)
    return closed


# --- reports ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    start: datetime
    end: datetime
    plays: list[dict[str, Any]]
    totals: list[dict[str, Any]]


def report_range(
    *, start: datetime | None, end: datetime | None, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """The (from, to) a report covers: ``to`` default now, ``from`` default a day before it,
    at most MAX_RANGE (a longer range is cut at its end); ``to`` not after ``from`` covers
    nothing (from, from)."""
    end = end or now or timezone.now()
    try:
        start = start or end - DEFAULT_RANGE
    except OverflowError:  # near year 1
        start = datetime.min.replace(tzinfo=end.tzinfo)
    if end <= start:
        return start, start
    with contextlib.suppress(OverflowError):  # near year 9999 the range ends at `to` anyway
        end = min(end, start + MAX_RANGE)
    return start, end


def audience_report(
    display: Display,
    *,
    start: datetime,
    end: datetime,
    content: str | None = None,
    now: datetime | None = None,
) -> Report:
    """The display's plays started in [start, end) (with ``content``: only that item's), oldest
    first, each with its figures (cms.audience.figures), and totals per content item. Past
    MAX_PLAYS plays the range is cut at the first one left out (the report's ``end`` says)."""
    now = now or timezone.now()
    rows = Play.objects.filter(display=display, started__gte=start, started__lt=end)
    if content is not None:
        rows = rows.filter(content=content)
    plays = list(rows.order_by("started", "id")[: MAX_PLAYS + 1])
    if len(plays) > MAX_PLAYS:
        end = plays[MAX_PLAYS].started
        plays = [p for p in plays[:MAX_PLAYS] if p.started < end]
    spans = [figures.PlaySpan(p.content, p.started, effective_end(display, p, now)) for p in plays]
    seen = figures.audience(
        _events(display, spans, now=now),
        classes=display.audience_classes or [],
        zone=display.audience_zone,
        now=now,
    )
    per_play = [(span, figures.play_figures(span, seen)) for span in spans]
    return Report(
        start=start,
        end=end,
        plays=[
            {
                "id": play.pk,
                "content": play.content,
                "started": play.started,
                "ended": play.ended if play.ended is not None else _offline_end(display, play, now),
                "duration_s": round((span.ended - span.started).total_seconds(), 3),
                "impressions": fig.impressions,
                "mean_dwell_s": fig.mean_dwell_s,
                "max_dwell_s": fig.max_dwell_s,
                "attributes": fig.attributes,
            }
            for play, (span, fig) in zip(plays, per_play, strict=True)
        ],
        totals=list(figures.totals(per_play).values()),
    )


def effective_end(display: Display, play: Play, now: datetime) -> datetime:
    """When the play ended: its ``ended``, else its client's last heartbeat if the client is
    offline (the housekeeping job has not closed it yet), else now (it plays)."""
    if play.ended is not None:
        return play.ended
    return _offline_end(display, play, now) or max(now, play.started)


def _offline_end(display: Display, play: Play, now: datetime) -> datetime | None:
    return offline_end(
        open_play=OpenPlay(play.content, play.started),
        last_seen=display.client_last_seen,
        now=now,
        timeout_s=timeout_s(),
    )


def _events(
    display: Display, spans: list[figures.PlaySpan], *, now: datetime
) -> list[figures.EventRow]:
    """The stored events the plays' presences come from: leaves from the first play's start
    (up to MAX_PRESENCE after the last play's end) and enters still open; then, for their
    labels, the closed enters of those presences (from the earliest presence's start)."""
    if not spans:
        return []
    first = min(s.started for s in spans)
    last = max(s.ended for s in spans)
    audience = ObjectEvent.objects.filter(
        display=display,
        zone=display.audience_zone,
        class_name__in=display.audience_classes or [],
    )
    rows = _rows(
        audience.filter(
            Q(type=ObjectEvent.Type.LEAVE, time__gte=first, time__lte=last + MAX_PRESENCE)
            | Q(type=ObjectEvent.Type.ENTER, open=True, time__lte=last)
        )
    )
    starts = [
        row.time - timedelta(seconds=max(row.dwell_s or 0.0, 0.0))
        for row in rows
        if row.type == ObjectEvent.Type.LEAVE
    ]
    if starts:
        enters = audience.filter(
            type=ObjectEvent.Type.ENTER, open=False, time__gte=min(starts), time__lte=last
        )
        rows += _rows(enters)
    return rows


_EVENT_FIELDS = (
    "type",
    "camera_id",
    "track_id",
    "class_name",
    "zone",
    "time",
    "dwell_s",
    "open",
    "attributes",
)


def _rows(events: QuerySet[ObjectEvent]) -> list[figures.EventRow]:
    return [
        figures.EventRow(**dict(zip(_EVENT_FIELDS, row, strict=True)))
        for row in events.order_by("time", "id").values_list(*_EVENT_FIELDS)
    ]
