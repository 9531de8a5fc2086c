"""The stale rule of the Farm page's displays, directly (cms.display_staleness)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cms.display_staleness import Stale, stale_reasons
from cms.farm.heartbeats import error_since

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def stale(**given):  # type: ignore[no-untyped-def]
    values = {
        "client_online": True,
        "client_last_seen": NOW - timedelta(seconds=5),
        "results_expected": True,
        "newest_result": NOW - timedelta(seconds=1),
        "running_since": NOW - timedelta(hours=1),
        "no_results_after_s": 60.0,
        "now": NOW,
    }
    return stale_reasons(**{**values, **given})


def test_an_online_client_with_fresh_results_is_not_stale():
    assert stale() == []


def test_an_offline_client_is_stale_since_its_last_heartbeat():
    seen = NOW - timedelta(minutes=3)
    assert stale(client_online=False, client_last_seen=seen) == [
        Stale("client", seen, "client offline")
    ]


def test_a_client_never_seen_is_stale():
    assert stale(client_online=False, client_last_seen=None) == [
        Stale("client", None, "client never seen")
    ]


def test_no_result_newer_than_the_threshold_while_running_is_stale():
    newest = NOW - timedelta(seconds=61)
    assert stale(newest_result=newest) == [Stale("results", newest, "no results")]
    assert stale(newest_result=NOW - timedelta(seconds=59)) == []


def test_results_are_not_expected_when_the_camera_does_not_run_or_the_display_is_pending():
    assert stale(results_expected=False, newest_result=None, running_since=None) == []
    assert stale(results_expected=False, newest_result=NOW - timedelta(days=1)) == []


def test_the_age_counts_from_the_cameras_start_when_that_is_newer():
    # A result of an earlier run does not make a camera that just started stale...
    assert (
        stale(newest_result=NOW - timedelta(hours=2), running_since=NOW - timedelta(seconds=5))
        == []
    )
    # ...nor does having no result yet, until the threshold passed since the start.
    assert stale(newest_result=None, running_since=NOW - timedelta(seconds=5)) == []
    started = NOW - timedelta(minutes=2)
    assert stale(newest_result=None, running_since=started) == [
        Stale("results", started, "no results yet")
    ]
    # Nothing known (no result, no start): not flagged on missing data.
    assert stale(newest_result=None, running_since=None) == []


def test_both_reasons_at_once():
    kinds = [s.kind for s in stale(client_online=False, newest_result=NOW - timedelta(hours=1))]
    assert kinds == ["client", "results"]


def test_an_error_keeps_the_time_it_was_first_reported_until_it_changes():
    assert error_since(("", 0.0), "", 10.0) == ("", 0.0)
    first = error_since(("", 0.0), "Connection refused", 10.0)
    assert first == ("Connection refused", 10.0)
    assert error_since(first, "Connection refused", 20.0) == ("Connection refused", 10.0)
    assert error_since(first, "timeout", 30.0) == ("timeout", 30.0)
    assert error_since(first, "", 40.0) == ("", 0.0)
