"""Starting, ending, reading and expiring display sessions.

At most one session per display is open: the database says so (a conditional unique
constraint, DisplaySession.Meta), and starting one ends the open one in the same
transaction. Starts and ends of one display take its row's lock first, so they run one after
the other (without it, two starts that both find no open session both insert, and one
fails on the constraint). A session's close is claimed by one conditional UPDATE, so however many
callers race to end it, one of them does, and only that one sends the closing
``session_updated`` (after its transaction commits).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cms.display_sessions.signalling import send_closed
from cms.models import Display, DisplaySession

Reason = DisplaySession.EndReason


def open_session(display: Display) -> DisplaySession | None:
    """The display's open session, if any."""
    return DisplaySession.objects.filter(display=display, ended__isnull=True).first()


def start_session(
    *, display: Display, session_id: str, now: datetime | None = None
) -> tuple[DisplaySession, bool]:
    """(the display's open session, whether it was started now).

    The open session is ended (reason ``replaced``) and a new one started, unless the open
    one has this ``session_id`` already: a client that repeats its start (a retry after a
    lost answer) keeps its session.
    """
    with transaction.atomic():
        return _start(display, session_id, now or timezone.now())


def _start(display: Display, session_id: str, now: datetime) -> tuple[DisplaySession, bool]:
    current = _lock_open(display)
    if current is not None and current.session_id == session_id:
        return current, False
    if current is not None:
        _close(current, Reason.REPLACED, now)
    session = DisplaySession.objects.create(display=display, session_id=session_id, started=now)
    return session, True


def end_session(
    *, display: Display, reason: DisplaySession.EndReason, now: datetime | None = None
) -> DisplaySession | None:
    """End the display's open session; the ended session, or None when none was open."""
    with transaction.atomic():
        current = _lock_open(display)
        if current is None or not _close(current, reason, now or timezone.now()):
            return None
    return current


def expire_sessions(*, now: datetime | None = None, max_s: float | None = None) -> int:
    """End the sessions open longer than ``max_s`` (SIGHTLINE_SESSION_MAX_S), reason
    ``expired``; how many. The farm's housekeeping runs this."""
    now = now or timezone.now()
    max_s = settings.SIGHTLINE_SESSION_MAX_S if max_s is None else max_s
    cutoff = now - timedelta(seconds=max_s)
    expired = 0
    overdue = DisplaySession.objects.filter(ended__isnull=True, started__lt=cutoff)
    for session in overdue.select_related("display").order_by("id"):
        with transaction.atomic():
            if _close(session, Reason.EXPIRED, now):
                expired += 1
    return expired


def _lock_open(display: Display) -> DisplaySession | None:
    """Lock the display's row until the transaction ends (PostgreSQL; SQLite serialises
    writers anyway), then read its open session."""
    Display.objects.select_for_update().filter(pk=display.pk).values_list("pk").first()
    session = DisplaySession.objects.filter(display=display, ended__isnull=True).first()
    if session is not None:
        session.display = display
    return session


def _close(session: DisplaySession, reason: DisplaySession.EndReason, now: datetime) -> bool:
    """Claim the close of an open session; whether this call closed it. The closing signal
    is sent once the transaction commits (a rolled-back close sends nothing)."""
    claimed = DisplaySession.objects.filter(pk=session.pk, ended__isnull=True).update(
        ended=now, end_reason=reason
    )
    if claimed != 1:
        return False
    # The summary as the results consumer last stored it: it no longer changes.
    session.summary = DisplaySession.objects.values_list("summary", flat=True).get(pk=session.pk)
    session.ended, session.end_reason = now, reason
    transaction.on_commit(lambda: send_closed(session))
    return True
