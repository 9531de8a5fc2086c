"""The play transitions of a heartbeat (cms.audience.plays), as plain data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cms.audience.plays import NO_CHANGE, OpenPlay, PlayChange, offline_end, on_heartbeat

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
TIMEOUT = 90.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def beat(open_play, showing, now, last_seen):
    return on_heartbeat(
        open_play=open_play, showing=showing, now=now, last_seen=last_seen, timeout_s=TIMEOUT
    )


def test_a_first_heartbeat_showing_something_starts_a_play():
    assert beat(None, "promo", at(0), None) == PlayChange(start="promo")


def test_nothing_shown_and_nothing_playing_changes_nothing():
    assert beat(None, "", at(0), at(-10)) == NO_CHANGE
    assert not NO_CHANGE.changes_anything


def test_the_same_content_while_online_keeps_the_play():
    assert beat(OpenPlay("promo", at(0)), "promo", at(30), at(0)) == NO_CHANGE


def test_other_content_ends_the_play_at_this_heartbeat_and_starts_the_new_one():
    change = beat(OpenPlay("promo", at(0)), "menu", at(45), at(30))
    assert change == PlayChange(end_at=at(45), start="menu")


def test_an_empty_showing_ends_the_play_and_starts_none():
    assert beat(OpenPlay("promo", at(0)), "", at(45), at(30)) == PlayChange(end_at=at(45))


def test_a_heartbeat_after_offline_ends_the_play_at_the_last_one_and_starts_anew():
    # Same content: still a new play, the old one ended when the client went away.
    change = beat(OpenPlay("promo", at(0)), "promo", at(500), at(60))
    assert change == PlayChange(end_at=at(60), start="promo")


def test_online_means_the_previous_heartbeat_is_younger_than_the_timeout():
    playing = OpenPlay("promo", at(0))
    assert beat(playing, "promo", at(89.9), at(0)) == NO_CHANGE
    assert beat(playing, "promo", at(90), at(0)) == PlayChange(end_at=at(0), start="promo")


def test_offline_end_is_the_last_heartbeat_once_the_client_is_offline():
    playing = OpenPlay("promo", at(0))
    assert offline_end(open_play=playing, last_seen=at(50), now=at(100), timeout_s=TIMEOUT) is None
    assert offline_end(open_play=playing, last_seen=at(50), now=at(140), timeout_s=TIMEOUT) == at(
        50
    )
    assert offline_end(open_play=playing, last_seen=None, now=at(1), timeout_s=TIMEOUT) == at(0)
