from __future__ import annotations

import pytest

from cms.models import Display
from cms.results.policy import PolicyState, should_deliver

Policy = Display.Policy

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
    assert decide(Policy.CHANGE, None, ONE, 0)


def test_every_delivers_repeats():
    assert decide(Policy.EVERY, PolicyState(ONE, 0), ONE, 0.1)


def test_change_delivers_only_changes_until_the_beat():
    last = PolicyState(ONE, 100)
    assert not decide(Policy.CHANGE, last, ONE, 105)
    assert decide(Policy.CHANGE, last, TWO, 101)
    assert decide(Policy.CHANGE, last, ONE, 110)


def test_interval_spaces_results():
    last = PolicyState(ONE, 100)
    assert not decide(Policy.INTERVAL, last, TWO, 100.5)
    assert decide(Policy.INTERVAL, last, TWO, 101.0)


def test_a_policy_that_is_not_a_member_is_an_error():
    with pytest.raises(ValueError):
        decide("sometimes", PolicyState(ONE, 0), ONE, 1)
