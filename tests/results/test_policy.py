from __future__ import annotations

import pytest

from cms.results.policy import PolicyState, should_deliver

ONE = (("person", 1),)
TWO = (("person", 2),)


def decide(policy, last, signature, at, interval_ms=1000, beat_s=10.0):
    return should_deliver(
        policy,
        interval_ms=interval_ms,
        beat_s=beat_s,
        last=last,
        signature=signature,
        frame_time=at,
    )


def test_first_result_is_always_delivered():
    assert decide("change", None, ONE, 0)


def test_every_delivers_repeats():
    assert decide("every", PolicyState(ONE, 0), ONE, 0.1)


def test_change_delivers_only_changes_until_the_beat():
    last = PolicyState(ONE, 100)
    assert not decide("change", last, ONE, 105)
    assert decide("change", last, TWO, 101)
    assert decide("change", last, ONE, 110)


def test_interval_spaces_results():
    last = PolicyState(ONE, 100)
    assert not decide("interval", last, TWO, 100.5)
    assert decide("interval", last, TWO, 101.0)


def test_unknown_policy_is_an_error():
    with pytest.raises(ValueError):
        decide("sometimes", PolicyState(ONE, 0), ONE, 1)
