"""Audience figures per play (cms.audience.figures), over plain event rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cms.audience.figures import EventRow, PlaySpan, audience, play_figures, totals

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def stay(track, start, end, *, cls="person", zone="view", attributes=None, camera=1):
    """A closed presence: its leave event."""
    return EventRow(
        "leave", camera, track, cls, zone, at(end), dwell_s=end - start, attributes=attributes or {}
    )


def still_there(track, start, *, cls="person", zone="view", attributes=None):
    return EventRow("enter", 1, track, cls, zone, at(start), open=True, attributes=attributes or {})


def seen(events, *, classes=("person",), zone="view", now=T0 + timedelta(seconds=1000)):
    return audience(events, classes=classes, zone=zone, now=now)


PLAY_A = PlaySpan("a", at(0), at(60))
PLAY_B = PlaySpan("b", at(60), at(120))


def test_impressions_are_distinct_tracks_of_the_classes_in_the_zone_during_the_play():
    events = [
        stay(1, 10, 20),
        stay(1, 30, 40),  # the same track again: one impression, dwell 20
        stay(2, 50, 55),
        stay(3, 10, 20, cls="car"),  # not an audience class
        stay(4, 10, 20, zone="kerb"),  # another zone
        stay(5, 70, 80),  # during the next play only
    ]
    figures = play_figures(PLAY_A, seen(events))
    assert figures.impressions == 2
    assert figures.mean_dwell_s == 12.5
    assert figures.max_dwell_s == 20.0


def test_a_track_across_a_content_change_counts_in_both_plays_with_its_own_part_of_the_dwell():
    audience_ = seen([stay(1, 40, 100)])
    a, b = play_figures(PLAY_A, audience_), play_figures(PLAY_B, audience_)
    assert (a.impressions, a.max_dwell_s) == (1, 20.0)
    assert (b.impressions, b.max_dwell_s) == (1, 40.0)


def test_an_open_enter_lasts_until_now():
    figures = play_figures(PlaySpan("a", at(0), at(100)), seen([still_there(1, 70)], now=at(90)))
    assert (figures.impressions, figures.max_dwell_s) == (1, 20.0)


def test_a_presence_that_only_touches_the_play_does_not_count():
    assert play_figures(PLAY_B, seen([stay(1, 30, 60)])).impressions == 0
    assert play_figures(PLAY_A, seen([stay(1, 60, 90)])).impressions == 0


def test_no_impressions_means_no_dwell():
    figures = play_figures(PLAY_A, seen([]))
    assert (figures.impressions, figures.mean_dwell_s, figures.max_dwell_s) == (0, None, None)
    assert figures.attributes == {}


def test_each_track_gives_one_label_per_model_its_most_confident():
    colour = "colour"
    events = [
        stay(1, 0, 10, attributes={colour: {"label": "red", "confidence": 0.6}}),
        stay(1, 20, 30, attributes={colour: {"label": "blue", "confidence": 0.9}}),
        stay(2, 0, 10, attributes={colour: {"label": "blue", "confidence": 0.8}}),
        stay(
            3,
            0,
            10,
            attributes={
                colour: {"label": "red", "confidence": 0.7},
                "size": {"label": "big", "confidence": 0.5},
            },
        ),
        stay(4, 0, 10),  # never classified
        stay(5, 0, 10, attributes={colour: "junk"}),  # malformed: ignored
    ]
    figures = play_figures(PLAY_A, seen(events))
    assert figures.impressions == 5
    assert figures.attributes == {"colour": {"blue": 2, "red": 1}, "size": {"big": 1}}


def test_tracks_of_two_cameras_with_one_id_are_two_tracks():
    figures = play_figures(PLAY_A, seen([stay(1, 0, 10), stay(1, 0, 10, camera=2)]))
    assert figures.impressions == 2


def test_totals_per_content_sum_plays_and_weight_the_mean_dwell_by_impressions():
    audience_ = seen([stay(1, 0, 10), stay(2, 0, 30), stay(3, 130, 140)])
    plays = [PLAY_A, PLAY_B, PlaySpan("a", at(120), at(150))]
    answer = totals((p, play_figures(p, audience_)) for p in plays)
    assert list(answer) == ["a", "b"]
    assert answer["a"] == {
        "content": "a",
        "plays": 2,
        "played_s": 90.0,
        "impressions": 3,
        "mean_dwell_s": round(50 / 3, 3),
        "max_dwell_s": 30.0,
        "attributes": {},
    }
    assert answer["b"]["impressions"] == 0 and answer["b"]["mean_dwell_s"] is None


def test_a_closed_enter_gives_its_tracks_label_but_no_presence():
    red = {"colour": {"label": "red", "confidence": 0.7}}
    enter = EventRow("enter", 1, 1, "person", "view", at(10), attributes=red)
    lonely = EventRow("enter", 1, 2, "person", "view", at(10), attributes=red)  # no leave read
    figures = play_figures(PLAY_A, seen([enter, stay(1, 10, 20), lonely]))
    assert figures.impressions == 1
    assert figures.attributes == {"colour": {"red": 1}}
