"""The display sessions of one batch of the results consumer (cms.results.processing).

Called inside the batch's transaction, after its event ids were taken (which orders the
writers, so two consumers never patch one summary at once): one query loads the sessions
the batch's results and events can be in, each one is tagged with the session its frame was
in, and the summaries of the open sessions are patched with every fresh result (also those
the event policy did not deliver: a track is seen while the scene does not change too).

A result (frame_time) or object event (time) is in a session when it is at or after the
session's start and the session is open when the batch is processed or ended after it. A
late result of a session that has ended is tagged but no longer changes its summary, which
is final when the session closes (its closing signal carried it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from django.db.models import Q

from cms.display_sessions.summary import merge_results, normalised
from cms.models import Display, DisplaySession
from cms.results.result_message import ResultMessage


class BatchSessions:
    """The sessions a batch's messages can be in, by display."""

    def __init__(self, sessions: Iterable[DisplaySession]) -> None:
        self._by_display: dict[int, list[DisplaySession]] = defaultdict(list)
        for session in sessions:
            self._by_display[session.display_id].append(session)

    @classmethod
    def load(
        cls, displays: dict[int, Display], moments: Iterable[tuple[int, float]]
    ) -> BatchSessions:
        """The sessions that (display id, Unix time) pairs can be in: one query, the rows
        locked until the transaction ends (SELECT ... FOR UPDATE on PostgreSQL)."""
        moments = list(moments)
        if not moments:
            return cls([])
        earliest = _time(min(t for _, t in moments))
        latest = _time(max(t for _, t in moments))
        rows = DisplaySession.objects.select_for_update().filter(
            Q(ended__isnull=True) | Q(ended__gt=earliest),
            display_id__in={d for d, _ in moments},
            started__lte=latest,
        )
        sessions = list(rows.order_by("started"))
        for session in sessions:
            session.display = displays[session.display_id]  # no query per session
        return cls(sessions)

    def session_of(self, display_id: int, at: float) -> DisplaySession | None:
        """The session of the display that Unix time ``at`` is in, if any."""
        when = _time(at)
        for session in reversed(self._by_display.get(display_id, ())):
            if session.started <= when and (session.ended is None or when < session.ended):
                return session
        return None

    def session_id_of(self, display_id: int, at: float) -> str:
        """The stored form: the session's id, or "" outside any session."""
        session = self.session_of(display_id, at)
        return session.session_id if session is not None else ""

    def patch_summaries(self, results: Iterable[ResultMessage]) -> list[DisplaySession]:
        """Merge each result into its open session's summary and store the changed ones;
        the sessions whose summary changed."""
        grouped: dict[int, tuple[DisplaySession, list[tuple[float, list]]]] = {}
        for result in results:
            session = self.session_of(result.display_id, result.frame_time)
            if session is None or session.ended is not None:
                continue
            entry = grouped.setdefault(session.pk, (session, []))
            entry[1].append((result.frame_time, result.objects))
        changed = []
        for session, frames in grouped.values():
            session.summary = normalised(session.summary)
            if merge_results(session.summary, frames):
                changed.append(session)
        if changed:
            DisplaySession.objects.bulk_update(changed, ["summary"])
        return changed


def _time(unix_seconds: float) -> datetime:
    return datetime.fromtimestamp(unix_seconds, UTC)
