"""What a heartbeat does to a display's plays: the pure decision, over plain data.

A play is one stretch of one content item (the heartbeat's ``showing``) on one display::

    no play   --heartbeat showing X (not empty)-----> playing X from now
    playing X --heartbeat showing X, online---------> (nothing: still X)
    playing X --heartbeat showing Y != X------------> X ends now; Y from now (none if Y is empty)
    playing X --client offline (timeout)------------> X ends at the last heartbeat
    playing X --heartbeat after offline-------------> X ends at the last heartbeat; a new play

"Online" is SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S's rule (Display.client_online_at): the previous
heartbeat is less than the timeout old. A play is as precise as the client's reports, which is
why clients send a heartbeat at once when what they show changes (docs/api.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OpenPlay:
    """The display's play that has not ended."""

    content: str
    started: datetime


@dataclass(frozen=True)
class PlayChange:
    """What to write: end the open play at ``end_at`` (None: leave it), then start a play of
    ``start`` at the heartbeat's time (None: start none)."""

    end_at: datetime | None = None
    start: str | None = None

    @property
    def changes_anything(self) -> bool:
        return self.end_at is not None or self.start is not None


NO_CHANGE = PlayChange()


def was_online(last_seen: datetime | None, now: datetime, timeout_s: float) -> bool:
    """Whether a client last heard from at ``last_seen`` still counts as online at ``now``."""
    return last_seen is not None and (now - last_seen).total_seconds() < timeout_s


def on_heartbeat(
    *,
    open_play: OpenPlay | None,
    showing: str,
    now: datetime,
    last_seen: datetime | None,
    timeout_s: float,
) -> PlayChange:
    """The change a heartbeat at ``now`` showing ``showing`` makes (see the module doc).

    ``last_seen`` is the previous heartbeat's time (before this one); ``showing`` what the
    client shows now ("" for nothing).
    """
    online = was_online(last_seen, now, timeout_s)
    start = showing or None
    if open_play is None:
        return PlayChange(start=start)
    if not online:
        # The client went away at its last heartbeat: the play ended there, not now.
        end = max(last_seen, open_play.started) if last_seen is not None else open_play.started
        return PlayChange(end_at=end, start=start)
    if showing != open_play.content:
        return PlayChange(end_at=max(now, open_play.started), start=start)
    return NO_CHANGE


def offline_end(
    *, open_play: OpenPlay, last_seen: datetime | None, now: datetime, timeout_s: float
) -> datetime | None:
    """When an open play ended because its client went offline (its last heartbeat), or None
    while the client is online."""
    if was_online(last_seen, now, timeout_s):
        return None
    return max(last_seen, open_play.started) if last_seen is not None else open_play.started
