"""When a display is stale, for the Farm page: its client is offline, or it gets no results
although its camera runs. Pure: the caller reads the rows and Redis and passes what they say.

- Client offline: the rule of the display list's "client" badge and filter
  (``Display.client_online_at``: no heartbeat within SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S), so
  the Farm page and the display list never disagree. A client never seen is stale too.
- No results: the camera's stream is running, nothing stops the display itself (it is not
  pending), and its newest result is older than it may be to be current (the rule of the
  zone counts and the live wall, ``cms.api.services.zones_fresh_s``), or than
  SIGHTLINE_DISPLAY_NO_RESULTS_S, whichever is longer: a camera polled every few seconds
  is not stale between its frames. The age counts from the camera's start when that is
  newer than the result, so a camera that just started is not stale for an earlier run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Stale:
    """Why a display is stale: ``kind`` "client" or "results", since when, and for people."""

    kind: str
    since: datetime | None
    text: str


def stale_reasons(
    *,
    client_online: bool,
    client_last_seen: datetime | None,
    results_expected: bool,
    newest_result: datetime | None,
    running_since: datetime | None,
    no_results_after_s: float,
    now: datetime,
) -> list[Stale]:
    """Every reason the display is stale ([] when it is not).

    ``client_online``: ``Display.client_online_at(now)``. ``results_expected``: its camera's
    stream runs and nothing stops the display. ``newest_result``: its newest result's frame
    time; ``running_since``: when the camera's current run was assigned (None: unknown).
    """
    reasons = []
    if not client_online:
        if client_last_seen is None:
            reasons.append(Stale("client", None, "client never seen"))
        else:
            reasons.append(Stale("client", client_last_seen, "client offline"))
    if results_expected:
        since = _latest(newest_result, running_since)
        age = None if since is None else (now - since).total_seconds()
        if age is not None and age > no_results_after_s:
            text = "no results" if newest_result is not None else "no results yet"
            reasons.append(Stale("results", since, text))
    return reasons


def _latest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None
