"""The reconnect schedule: about every 2 s for a minute, then 1 s doubling to 30 s, with
jitter; a stable minute online starts it again."""

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


def test_failures_in_a_row_grow_the_delay_after_the_first_minute() -> None:
    backoff = Backoff(BackoffPolicy(jitter=0.0, quick_for=0.0))
    assert [backoff.failed(t) for t in (0.0, 1.0, 3.0, 7.0)] == [1, 2, 4, 8]


def test_the_first_minute_of_trouble_is_retried_every_2_s() -> None:
    backoff = Backoff(BackoffPolicy(jitter=0.0))
    delays = [backoff.failed(t) for t in (0.0, 1.0, 3.0, 5.0, 7.0, 59.0)]
    assert delays == [1, 2, 2, 2, 2, 2]


def test_after_the_first_minute_the_doubling_counts_every_failure_of_the_trouble() -> None:
    backoff = Backoff(BackoffPolicy(jitter=0.0))
    assert [backoff.failed(t) for t in (0.0, 1.0, 3.0)] == [1, 2, 2]
    assert backoff.failed(60.0) == 8  # the 4th failure, a minute in
    assert backoff.failed(68.0) == 16


def test_after_a_minute_of_quick_retries_the_doubling_is_at_its_cap() -> None:
    # As the old schedule was a minute into an outage (1, 3, 7, 15, 31, 61 s: then 30 s).
    backoff = Backoff(BackoffPolicy(jitter=0.0))
    for t in range(0, 60, 2):
        backoff.failed(float(t))
    assert backoff.failed(61.0) == 30


def test_quick_retries_are_spread_both_ways_around_2_s() -> None:
    policy = BackoffPolicy(jitter=0.2)
    low = policy.delay(5, 0.0, troubled_for=10.0)
    high = policy.delay(5, 0.999999, troubled_for=10.0)
    assert low == pytest.approx(1.6)
    assert high == pytest.approx(2.4, rel=1e-4)  # not clipped at 2 s: no common instant


def test_a_source_shown_failed_is_never_retried_quickly() -> None:
    policy = BackoffPolicy(jitter=0.0)
    assert policy.delay(5, 0.5, failed=True, troubled_for=10.0) == 16


def test_a_failure_not_to_retry_quickly_follows_the_doubling_from_the_start() -> None:
    backoff = Backoff(BackoffPolicy(jitter=0.0))
    assert [backoff.failed(t, quick=False) for t in (0.0, 1.0, 3.0, 7.0)] == [1, 2, 4, 8]


def test_a_new_trouble_after_a_stable_minute_is_retried_quickly_again() -> None:
    backoff = Backoff(BackoffPolicy(jitter=0.0))
    for t in range(0, 120, 5):
        backoff.failed(float(t))
    backoff.connected(200.0)
    assert [backoff.failed(t) for t in (300.0, 301.0, 303.0)] == [1, 2, 2]


def test_a_short_connection_does_not_start_a_new_quick_minute() -> None:
    # A camera that flaps (frames for a few seconds, then lost) keeps the backoff.
    backoff = Backoff(BackoffPolicy(jitter=0.0))
    for t in range(0, 70, 2):
        backoff.failed(float(t))
    backoff.connected(75.0)
    assert backoff.failed(80.0) == 30


def test_quick_retries_never_exceed_the_maximum() -> None:
    policy = BackoffPolicy(initial=0.2, maximum=1.0, jitter=0.0)  # the tests' fast policy
    assert [policy.delay(n, 0.5, troubled_for=1.0) for n in (1, 2, 3, 4)] == [0.2, 0.4, 0.8, 1.0]


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
    with pytest.raises(ValueError):
        BackoffPolicy(quick_maximum=0)
    with pytest.raises(ValueError):
        BackoffPolicy(quick_for=-1)


def test_a_failed_source_is_retried_up_to_the_longer_failed_maximum() -> None:
    policy = BackoffPolicy(jitter=0.0, failed_maximum=120.0)
    assert policy.delay(8, 0.5) == 30.0
    assert policy.delay(8, 0.5, failed=True) == 120.0
    assert policy.delay(100_000, 0.5, failed=True) == 120.0  # days of failures, no overflow
