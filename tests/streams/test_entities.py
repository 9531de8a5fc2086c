"""Specs, frames and the written-down state machine."""

from __future__ import annotations

import pytest

from streams import TRANSITIONS, SourceSpec, StreamState, can_transition


def test_every_state_but_stopped_can_be_stopped() -> None:
    for state in StreamState:
        if state is not StreamState.STOPPED:
            assert can_transition(state, StreamState.STOPPED)
    assert TRANSITIONS[StreamState.STOPPED] == frozenset()


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        (StreamState.CONNECTING, StreamState.ONLINE, True),
        (StreamState.CONNECTING, StreamState.RECOVERING, True),
        (StreamState.ONLINE, StreamState.RECOVERING, True),
        (StreamState.RECOVERING, StreamState.RECOVERING, True),  # a new reason
        (StreamState.RECOVERING, StreamState.ONLINE, True),
        (StreamState.ONLINE, StreamState.CONNECTING, False),
        (StreamState.FAILED, StreamState.ONLINE, True),  # frames again after failing for long
        (StreamState.FAILED, StreamState.RECOVERING, False),
        (StreamState.STOPPED, StreamState.CONNECTING, False),
    ],
)
def test_transitions(current: StreamState, new: StreamState, allowed: bool) -> None:
    assert can_transition(current, new) is allowed


def test_a_spec_never_shows_its_password() -> None:
    spec = SourceSpec("rtsp://admin:inurl@10.0.0.5/live", username="admin", password="s3cret")
    assert "s3cret" not in repr(spec)
    assert "inurl" not in repr(spec)
    assert "s3cret" not in str(spec)


@pytest.mark.parametrize(
    "options",
    [
        {"target_fps": 0},
        {"snapshot_interval": 0},
        {"transport": "sctp"},
        {"open_timeout": 0},
        {"read_timeout": -1},
    ],
)
def test_nonsense_specs_are_rejected(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SourceSpec("rtsp://10.0.0.5/live", **options)  # type: ignore[arg-type]
