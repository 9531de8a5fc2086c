"""How long to wait before the next attempt to open a source."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class BackoffPolicy:
    """Exponential backoff with jitter: 1 s doubling to 30 s, reset after a stable minute.

    A source shown FAILED (failing for long) is retried up to `failed_maximum` apart.

    Each delay is spread over ±`jitter` of its nominal value, so cameras that failed
    together (a switch rebooting) do not all retry in the same instant.
    """

    initial: float = 1.0
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2
    stable_after: float = 60.0
    failed_maximum: float = 120.0

    def __post_init__(self) -> None:
        if not (0 < self.initial <= self.maximum <= self.failed_maximum and self.factor >= 1):
            raise ValueError("need 0 < initial <= maximum <= failed_maximum and factor >= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter is a fraction in [0, 1)")

    def delay(self, failures: int, rand: float, *, failed: bool = False) -> float:
        """Seconds to wait after the `failures`-th failure in a row (1-based); rand in [0, 1).

        `failed`: the source is shown FAILED, so the longer `failed_maximum` caps the delay.
        """
        cap = self.failed_maximum if failed else self.maximum
        # min() before the power: a camera down for days must not overflow the float.
        nominal = min(cap, self.initial * self.factor ** min(max(0, failures - 1), 64))
        spread = 1.0 + self.jitter * (2.0 * rand - 1.0)
        return min(cap, nominal * spread)


class Backoff:
    """Counts failures in a row and turns them into delays; a stable connection resets it."""

    def __init__(self, policy: BackoffPolicy, rand: random.Random | None = None) -> None:
        self.policy = policy
        self.failures = 0
        self._online_since: float | None = None
        self._rand = rand or random.Random()

    def connected(self, now: float) -> None:
        """The source delivers frames again (monotonic `now`)."""
        self._online_since = now

    def failed(self, now: float, *, slowly: bool = False) -> float:
        """Record a failure or a loss at monotonic `now`; return the delay before retrying
        (capped by the policy's `failed_maximum` when `slowly`)."""
        if self._online_since is not None and now - self._online_since >= self.policy.stable_after:
            self.failures = 0
        self._online_since = None
        self.failures += 1
        return self.policy.delay(self.failures, self._rand.random(), failed=slowly)
