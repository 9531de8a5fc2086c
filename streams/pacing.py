"""Play media positions at wall-clock speed (files, and HTTP video that is not live)."""

from __future__ import annotations

from streams.net import Interrupter

MAX_AHEAD = 5.0  # a jump further ahead than this is a discontinuity, not a reason to sleep
MAX_BEHIND = 1.0  # further behind (a slow machine): start over from here instead of rushing


class Pacer:
    """How long to wait before showing the frame at `position` seconds into the media."""

    def __init__(self) -> None:
        self._anchor: tuple[float, float] | None = None  # (monotonic time, position)

    def delay(self, position: float, now: float) -> float:
        if self._anchor is None:
            self._anchor = (now, position)
        started, origin = self._anchor
        delay = started + (position - origin) - now
        if delay > MAX_AHEAD or delay < -MAX_BEHIND:
            self._anchor = (now, position)
            return 0.0
        return max(0.0, delay)

    def wait(self, position: float, now: float, stop: Interrupter) -> None:
        delay = self.delay(position, now)
        if delay > 0:
            stop.wait(delay)
