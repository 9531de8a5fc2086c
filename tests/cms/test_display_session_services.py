"""Starting and ending display sessions at the same time from several threads: one open
session per display, every other one ended once, each close signalled once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from cms.display_sessions.services import end_session, start_session
from cms.models import DisplaySession
from cms.signals import session_updated
from tests.factories import make_display

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads(count, work):
    """Run ``work(n)`` in ``count`` threads at once (each with its own connection)."""
    barrier = threading.Barrier(count)
    errors = []

    def run(n):
        try:
            barrier.wait(timeout=10)
            work(n)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def test_concurrent_starts_leave_one_open_session_and_end_the_others_as_replaced():
    display = make_display()
    signalled = []
    lock = threading.Lock()

    def receiver(sender, *, session, closed, **kwargs):
        if closed:
            with lock:
                signalled.append(session.session_id)

    session_updated.connect(receiver)
    try:
        in_threads(4, lambda n: start_session(display=display, session_id=f"s{n}"))
    finally:
        session_updated.disconnect(receiver)

    sessions = list(DisplaySession.objects.filter(display=display))
    assert len(sessions) == 4
    assert len([s for s in sessions if s.ended is None]) == 1
    assert sorted(s.end_reason for s in sessions if s.ended) == ["replaced"] * 3
    assert sorted(signalled) == sorted(s.session_id for s in sessions if s.ended)


def test_concurrent_ends_end_the_session_once():
    display = make_display()
    start_session(display=display, session_id="only")
    ended = []

    in_threads(
        4,
        lambda n: ended.append(end_session(display=display, reason=DisplaySession.EndReason.STAFF)),
    )

    assert len([e for e in ended if e is not None]) == 1
    assert DisplaySession.objects.get().end_reason == "staff"
