"""Sending ``cms.signals.session_updated``: at most once a second per session while its
summary changes, and once when it closes.

The throttle is a Redis key per session, ``sightline:session:<pk>:signalled``, set with NX and
a one-second expiry by whoever sends: while it exists, changes are not signalled (the next
change after it expired is, with the whole summary; so are the last changes, at the close).
It works across results consumers and sleeps nowhere.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import redis

from cms import redis_connection
from cms.display_sessions.summary import view
from cms.models import DisplaySession
from cms.signals import session_updated

log = logging.getLogger(__name__)

PREFIX = f"{redis_connection.PREFIX}:session"
SIGNAL_INTERVAL_MS = 1000


def signalled_key(session_pk: int) -> str:
    return f"{PREFIX}:{session_pk}:signalled"


def send_changes(client: redis.Redis, sessions: Sequence[DisplaySession]) -> int:
    """Signal the changed open sessions whose last signal is a second old or more; how many."""
    if not sessions:
        return 0
    pipe = client.pipeline(transaction=False)
    for session in sessions:
        pipe.set(signalled_key(session.pk), b"1", nx=True, px=SIGNAL_INTERVAL_MS)
    due = [s for s, taken in zip(sessions, pipe.execute(), strict=True) if taken]
    for session in due:
        _send(session, closed=False)
    return len(due)


def send_closed(session: DisplaySession) -> None:
    """Signal a session's close (once: only the caller that closed it calls this)."""
    _send(session, closed=True)


def _send(session: DisplaySession, *, closed: bool) -> None:
    responses = session_updated.send_robust(
        sender=DisplaySession,
        display=session.display,
        session=session,
        summary=view(session.summary),
        closed=closed,
    )
    for receiver, error in responses:
        if error is not None:  # not retried: the summary is sent again on its next change
            log.error(
                "session_updated receiver %s failed: %r",
                getattr(receiver, "__name__", receiver),
                error,
                exc_info=error,
            )
