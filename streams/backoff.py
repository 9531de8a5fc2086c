"""How long to wait before the next attempt to open a source."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class BackoffPolicy:
    """When to retry a source: quickly at first, then 1 s doubling to 30 s.

    A trouble (failures in a row, ended only by `stable_after` seconds online) is
    retried with the delay doubling but capped at `quick_maximum` for its first
    `quick_for` seconds: most outages are short (a camera or a switch rebooting, a media
    server restarted), and a camera that comes back should be used within seconds, not
    after a doubled delay. After that the delay is `initial` doubling to `maximum`,
    counted over every failure of the trouble: a minute in, that is the cap, as the
    plain doubling was, so a camera down for long (or flapping) is left alone as much
    as before. A source shown FAILED (failing for long) is retried up to
    `failed_maximum` apart, never quickly.

    Each delay is spread over ±`jitter` of its nominal value, so cameras that failed
    together (a switch rebooting) do not all retry in the same instant.
    """

    initial: float = 1.0
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2
    stable_after: float = 60.0
    failed_maximum: float = 120.0
    quick_for: float = 60.0
    quick_maximum: float = 2.0

    def __post_init__(self) -> None:
        if not (0 < self.initial <= self.maximum <= self.failed_maximum and self.factor >= 1):
            raise ValueError("need 0 < initial <= maximum <= failed_maximum and factor >= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter is a fraction in [0, 1)")
        if not (self.quick_for >= 0 and self.quick_maximum > 0):
            raise ValueError("need quick_for >= 0 and quick_maximum > 0")

    def delay(
        self, failures: int, rand: float, *, failed: bool = False, troubled_for: float = math.inf
    ) -> float:
        """Seconds to wait after the `failures`-th failure in a row (1-based); rand in [0, 1).

        `troubled_for`: seconds since the first of those failures (infinite: not a
        trouble to retry quickly). `failed`: the source is shown FAILED, so the longer
        `failed_maximum` caps the delay and there is no quick retry.
        """
        # min() before the power: a camera down for days must not overflow the float.
        nominal = self.initial * self.factor ** min(max(0, failures - 1), 64)
        spread = 1.0 + self.jitter * (2.0 * rand - 1.0)
        if not failed and troubled_for < self.quick_for:
            # Spread around the quick cap, not clipped at it: clipping would send half
            # the cameras that failed together back at the same instant, every time.
            return min(self.quick_maximum, self.maximum, nominal) * spread
        cap = self.failed_maximum if failed else self.maximum
        return min(cap, min(cap, nominal) * spread)


class Backoff:
    """Counts failures in a row and turns them into delays; a stable connection resets it."""

    def __init__(self, policy: BackoffPolicy, rand: random.Random | None = None) -> None:
        self.policy = policy
        self.failures = 0
        self._online_since: float | None = None
        self._trouble_since = 0.0  # monotonic time of the first failure in a row
        self._rand = rand or random.Random()

    def connected(self, now: float) -> None:
        """The source delivers frames again (monotonic `now`)."""
        self._online_since = now

    def failed(self, now: float, *, slowly: bool = False, quick: bool = True) -> float:
        """Record a failure or a loss at monotonic `now`; return the delay before retrying.

        `slowly`: capped by the policy's `failed_maximum`. `quick`: False for a failure
        that retrying within seconds will not mend (wrong credentials), which then
        follows the doubling from the start.
        """
        if self._online_since is not None and now - self._online_since >= self.policy.stable_after:
            self.failures = 0
        self._online_since = None
        if self.failures == 0:
            self._trouble_since = now
        self.failures += 1
        troubled_for = now - self._trouble_since if quick else math.inf
        return self.policy.delay(
            self.failures, self._rand.random(), failed=slowly, troubled_for=troubled_for
        )
