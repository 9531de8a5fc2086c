"""The reconnect schedule: 1 s doubling to 30 s, with jitter, reset after a stable minute."""

from __future__ import annotations

import random

import pytest

from streams import BackoffPolicy
from streams.backoff import Backoff


def test_delays_double_up_to_the_maximum() -> None:
    policy = BackoffPolicy(jitter=0.0)
    assert [policy.delay(n, 0.5) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


@pytest.mark.parametrize("failures", [1, 3, 5, 9])
def test_jitter_spreads_each_delay_within_its_bounds(failures: int) -> None:
    policy = BackoffPolicy(jitter=0.2)
    nominal = min(30.0, 2.0 ** (failures - 1))
    low, high = policy.delay(failures, 0.0), policy.delay(failures, 0.999999)
    assert low == pytest.approx(nominal * 0.8)
    assert high <= 30.0
    assert high == pytest.approx(min(30.0, nominal * 1.2), rel=1e-4)


def test_jittered_delays_differ_between_cameras() -> None:
    delays = {Backoff(BackoffPolicy(), random.Random(seed)).failed(0.0) for seed in range(20)}
    assert len(delays) > 10


def test_failures_in_a_row_grow_the_delay() -> None:
    backoff = Backoff(BackoffPolicy(jitter=0.0))
    assert [backoff.failed(t) for t in (0.0, 1.0, 3.0, 7.0)] == [1, 2, 4, 8]


def test_a_stable_minute_resets_the_schedule() -> None:
    backoff = Backoff(BackoffPolicy(jitter=0.0))
    for t in range(5):
        backoff.failed(float(t))
    backoff.connected(100.0)
    assert backoff.failed(160.0) == 1.0


def test_a_short_connection_does_not_reset_the_schedule() -> None:
    backoff = Backoff(BackoffPolicy(jitter=0.0))
    for t in range(3):
        backoff.failed(float(t))
    backoff.connected(100.0)
    assert backoff.failed(110.0) == 8.0


def test_nonsense_policies_are_rejected() -> None:
    with pytest.raises(ValueError):
        BackoffPolicy(initial=0)
    with pytest.raises(ValueError):
        BackoffPolicy(initial=5, maximum=1)
    with pytest.raises(ValueError):
        BackoffPolicy(jitter=1.5)


def test_a_failed_source_is_retried_up_to_the_longer_failed_maximum() -> None:
    policy = BackoffPolicy(jitter=0.0, failed_maximum=120.0)
    assert policy.delay(8, 0.5) == 30.0
    assert policy.delay(8, 0.5, failed=True) == 120.0
    assert policy.delay(100_000, 0.5, failed=True) == 120.0  # days of failures, no overflow
