"""Debounced presence and line crossings (inference/objects/presence.py), on known paths.

The objects here come with perfect track ids (scenes.tracked_frames); the same scenes through
the real tracker are in test_tracker.py.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from inference.entities import DetectedObject
from inference.objects.entities import PresenceEvent, TrackedObject, leave_key_for
from inference.objects.geometry import Line, Zone, view_zone
from inference.objects.presence import (
    IN_ZONE,
    ZONE_TRANSITIONS,
    DisplayPresence,
    LineCrossing,
    ZonePresence,
    ZoneState,
)
from tests.inference.objects.scenes import T0, Path, tracked_frames

FRAME = (640, 480)
LANE = Zone("lane", ((200, 100), (400, 100), (400, 300), (200, 300)))
DOOR = Line("door", ((0, 240), (640, 240)))  # left of it is above (y < 240), right below
CAR = DetectedObject(2, "car", 0.9, (0.0, 0.0, 10.0, 10.0))

# Anchor at 100 px/s along y = 200: in the lane (x 200..400) from t = 1 s to t = 3 s.
ACROSS_LANE = Path(a=(100, 200), b=(540, 200), start=0.0, end=4.4)


def display(**kw: float) -> DisplayPresence:
    return DisplayPresence([LANE], [DOOR], view_zone(None, FRAME), **kw)


def run(
    presence: DisplayPresence, paths: list[Path], *, fps: float, duration: float, noise: float = 0
) -> list[PresenceEvent]:
    events: list[PresenceEvent] = []
    for t, objects in tracked_frames(paths, fps=fps, duration=duration, noise=noise):
        events += presence.update(objects, t).events
    return events


# --- the zone state machine, directly ------------------------------------------------------


def test_zone_presence_goes_outside_pending_present_leaving_outside() -> None:
    zp = ZonePresence("lane", 1, min_seen_s=0.5, max_lost_s=2.0)
    assert zp.state is ZoneState.OUTSIDE
    assert zp.observe(True, 10.0, CAR) is None
    assert zp.state is ZoneState.PENDING
    assert zp.observe(True, 10.4, CAR) is None
    enter = zp.observe(True, 10.5, CAR)
    assert enter is not None and zp.state is ZoneState.PRESENT
    assert (enter.type, enter.time, enter.key, enter.zone) == (
        "enter",
        10.0,
        "enter:lane:1:10000",
        "lane",
    )
    assert zp.observe(False, 11.0, CAR) is None
    assert zp.state is ZoneState.LEAVING
    assert zp.observe(True, 11.5, CAR) is None  # back in: no leave, no second enter
    assert zp.state is ZoneState.PRESENT
    assert zp.absent(12.0) is None  # the track was not seen
    assert zp.state is ZoneState.LEAVING
    assert zp.absent(13.4) is None  # 1.9 s since it was last in the zone
    leave = zp.absent(13.5)
    assert leave is not None and zp.state is ZoneState.OUTSIDE
    assert (leave.type, leave.time, leave.dwell_s, leave.key) == (
        "leave",
        11.5,
        1.5,
        leave_key_for(enter.key),
    )


def test_a_pending_presence_is_dropped_when_seen_outside() -> None:
    zp = ZonePresence("lane", 1, min_seen_s=0.5, max_lost_s=2.0)
    zp.observe(True, 0.0, CAR)
    assert zp.observe(False, 0.3, CAR) is None
    assert zp.state is ZoneState.OUTSIDE
    zp.observe(True, 0.4, CAR)
    assert zp.observe(True, 0.8, CAR) is None  # pending restarted at 0.4
    enter = zp.observe(True, 0.9, CAR)
    assert enter is not None and enter.time == 0.4


def test_a_pending_presence_survives_a_short_gap_but_not_a_long_one() -> None:
    zp = ZonePresence("lane", 1, min_seen_s=0.5, max_lost_s=2.0)
    zp.observe(True, 0.0, CAR)
    assert zp.absent(0.2) is None and zp.state is ZoneState.PENDING
    assert zp.observe(True, 0.6, CAR) is not None  # seen 0 .. 0.6, one frame missing
    other = ZonePresence("lane", 2, min_seen_s=0.5, max_lost_s=2.0)
    other.observe(True, 0.0, CAR)
    other.absent(2.1)
    assert other.state is ZoneState.OUTSIDE


def test_only_the_written_down_transitions_happen() -> None:
    assert set(ZONE_TRANSITIONS) == set(ZoneState)
    zp = ZonePresence("lane", 1, min_seen_s=0.5, max_lost_s=2.0)
    with pytest.raises(RuntimeError, match="outside -> present"):
        zp._go(ZoneState.PRESENT)


def test_random_walks_follow_the_transitions_and_every_enter_gets_one_leave() -> None:
    rng = random.Random(13)
    for walk in range(200):
        zp = ZonePresence("z", walk, min_seen_s=rng.choice([0.0, 0.3, 0.5]), max_lost_s=1.0)
        t, enters, leaves = 0.0, [], []
        for _ in range(100):
            t += rng.choice([0.033, 0.2, 0.5, 1.5])
            # ZonePresence._go raises on a transition not in ZONE_TRANSITIONS: a walk that runs
            # through only took written-down ones.
            step = rng.random()
            event = zp.observe(step < 0.6, t, CAR) if step < 0.9 else zp.absent(t)
            if event is not None:
                (enters if event.type == "enter" else leaves).append(event)
            # In the zone exactly while an enter is open.
            assert (zp.state in IN_ZONE) == (len(enters) - len(leaves) == 1)
        if (last := zp.close(None)) is not None:
            leaves.append(last)
        assert [leave_key_for(e.key) for e in enters] == [e.key for e in leaves]
        assert all(leave.dwell_s is not None and leave.dwell_s >= 0 for leave in leaves)


# --- a display over known paths ------------------------------------------------------------


@pytest.mark.parametrize("fps", [5, 10, 30])
def test_an_object_crossing_a_zone_enters_and_leaves_at_the_right_times(fps: int) -> None:
    presence = display()
    events = run(presence, [ACROSS_LANE], fps=fps, duration=8.0)
    lane = [e for e in events if e.zone == "lane"]
    assert [e.type for e in lane] == ["enter", "leave"]
    enter, leave = lane
    frame = 1 / fps
    assert enter.time - T0 == pytest.approx(1.0, abs=frame + 1e-6)
    assert leave.time - T0 == pytest.approx(3.0, abs=frame + 1e-6)
    assert leave.dwell_s == pytest.approx(2.0, abs=2 * frame)
    assert leave.key == leave_key_for(enter.key)
    # The implicit zone "view" (the whole frame): entered at the start, left at the end.
    view = [e for e in events if e.zone == "view"]
    assert [e.type for e in view] == ["enter", "leave"]
    assert view[0].time == T0 and view[1].time - T0 == pytest.approx(4.4, abs=frame)


def test_zones_and_counts_follow_the_debounce() -> None:
    presence = display()
    seen: dict[float, tuple[tuple[str, ...], dict[str, dict[str, int]]]] = {}
    for t, objects in tracked_frames([ACROSS_LANE], fps=10, duration=7.0):
        update = presence.update(objects, t)
        zones = update.objects[0].zones if update.objects else ()
        seen[round(t - T0, 1)] = (zones, presence.counts())
    assert seen[0.3] == ((), {"view": {}, "lane": {}})  # not seen for 0.5 s yet
    assert seen[0.5] == (("view",), {"view": {"car": 1}, "lane": {}})
    assert seen[1.2] == (("view",), {"view": {"car": 1}, "lane": {}})
    assert seen[1.6] == (("view", "lane"), {"view": {"car": 1}, "lane": {"car": 1}})
    assert seen[4.0] == (("view", "lane"), {"view": {"car": 1}, "lane": {"car": 1}})  # leaving
    assert seen[4.9] == ((), {"view": {"car": 1}, "lane": {"car": 1}})  # gone at 4.4
    assert seen[5.0] == ((), {"view": {"car": 1}, "lane": {}})  # left the lane: last in at 3.0
    assert seen[6.5] == ((), {"view": {}, "lane": {}})  # left the view: last seen at 4.4


def test_a_box_jittering_on_a_zone_edge_does_not_enter_and_leave_again() -> None:
    # Anchor on the lane's left edge (x = 200) with +-6 px of noise: in and out every few frames.
    on_edge = Path(a=(200, 200), b=(200, 200), start=0.0, end=30.0)
    inside_first = Path(a=(300, 150), b=(200, 150), start=0.0, end=2.0)
    then_edge = Path(a=(200, 150), b=(200, 150), start=2.0, end=30.0)
    presence = display()
    events = run(presence, [on_edge], fps=30, duration=30.0, noise=6.0)
    lane = [e.type for e in events if e.zone == "lane"]
    assert lane.count("enter") <= 1 and lane.count("leave") == 0
    # An object that entered and then jitters on the edge stays in: one enter, no leave.
    presence = DisplayPresence([LANE], [], view_zone(None, FRAME))
    events = []
    for t, objects in tracked_frames([inside_first], fps=30, duration=2.0):
        events += presence.update(objects, t).events
    for t, objects in tracked_frames([then_edge], fps=30, duration=30.0, noise=6.0):
        if t - T0 >= 2.0:
            events += presence.update(objects, t).events
    assert [e.type for e in events if e.zone == "lane"] == ["enter"]
    assert presence.counts()["lane"] == {"car": 1}


def test_a_stationary_noisy_box_enters_once_and_makes_nothing_else() -> None:
    parked = Path(a=(300, 200), b=(300, 200), start=0.0, end=60.0)
    presence = display()
    events = run(presence, [parked], fps=15, duration=60.0, noise=3.0)
    assert sorted((e.type, e.zone) for e in events) == [("enter", "lane"), ("enter", "view")]


def test_a_vanished_track_leaves_after_max_lost_s_at_its_last_sighting() -> None:
    short = Path(a=(300, 200), b=(300, 200), start=0.0, end=3.0)
    presence = display(max_lost_s=1.0)
    events = run(presence, [short], fps=10, duration=3.9)
    assert [e.type for e in events if e.zone == "lane"] == ["enter"]
    events = presence.update([], T0 + 4.0).events
    lane = [e for e in events if e.zone == "lane"]
    assert [e.type for e in lane] == ["leave"]
    assert lane[0].time == pytest.approx(T0 + 3.0) and lane[0].dwell_s == pytest.approx(3.0)


# --- lines -----------------------------------------------------------------------------------


def test_crossing_a_line_downwards_is_in_at_the_crossing_moment() -> None:
    down = Path(a=(100, 140), b=(100, 440), start=0.0, end=3.0)  # y = 240 at t = 1.0
    up = Path(a=(500, 340), b=(500, 140), start=0.0, end=2.0)
    events = [e for e in run(display(), [down, up], fps=10, duration=4.0) if e.type == "cross"]
    assert [(e.track_id, e.line, e.direction) for e in events] == [
        (1, "door", "in"),
        (2, "door", "out"),
    ]
    for e in events:
        assert e.time - T0 == pytest.approx(1.0, abs=1e-6)  # interpolated between frames
        assert e.key == f"cross:door:{e.track_id}:{round(e.time * 1000)}"


def test_jitter_on_a_line_makes_no_crossing() -> None:
    on_line = Path(a=(100, 240), b=(100, 240), start=0.0, end=30.0)
    events = run(display(), [on_line], fps=30, duration=30.0, noise=5.0)
    assert [e for e in events if e.type == "cross"] == []


def test_a_crossing_is_confirmed_only_after_min_seen_s_on_the_new_side() -> None:
    crossing = LineCrossing(DOOR, 1, min_seen_s=0.5)
    assert crossing.observe((100, 230), 0.0, CAR) is None
    assert crossing.observe((100, 250), 0.2, CAR) is None  # crossed at 0.1, pending
    assert crossing.observe((100, 240), 0.3, CAR) is None  # on the line: skipped
    assert crossing.observe((100, 245), 0.5, CAR) is None
    event = crossing.observe((100, 260), 0.6, CAR)
    assert event is not None and event.time == pytest.approx(0.1) and event.direction == "in"
    # Across and back within min_seen_s: nothing.
    assert crossing.observe((100, 230), 1.0, CAR) is None
    assert crossing.observe((100, 250), 1.2, CAR) is None


def test_going_around_the_end_of_a_line_is_no_crossing() -> None:
    short = Line("gate", ((200, 240), (300, 240)))
    crossing = LineCrossing(short, 1, min_seen_s=0.0)
    assert crossing.observe((100, 200), 0.0, CAR) is None
    assert crossing.observe((100, 300), 1.0, CAR) is None  # x = 100: past the segment's end
    assert crossing.settled == 1
    assert crossing.observe((250, 300), 1.5, CAR) is None
    event = crossing.observe((250, 200), 2.0, CAR)  # now across the segment
    assert event is not None and event.direction == "out"


# --- close, checkpoints, fps -----------------------------------------------------------------


def test_close_leaves_every_open_presence_at_its_last_sighting() -> None:
    parked = Path(a=(300, 200), b=(300, 200), start=0.0, end=60.0)
    arriving = Path(a=(300, 150), b=(300, 150), start=4.8, end=60.0)  # still pending at 5 s
    presence = display()
    enters = run(presence, [parked, arriving], fps=10, duration=5.0)
    assert sorted((e.track_id, e.zone) for e in enters) == [(1, "lane"), (1, "view")]
    snapshot = presence.open_presences()
    assert sorted((p.track_id, p.zone, p.last_seen - T0) for p in snapshot) == [
        (1, "lane", 5.0),
        (1, "view", 5.0),
    ]
    leaves = presence.close(at=T0 + 4.5)
    assert sorted(e.key for e in leaves) == sorted(leave_key_for(e.key) for e in enters)
    assert all(e.time == T0 + 4.5 and e.dwell_s == pytest.approx(4.5) for e in leaves)
    # The checkpoint closes them the same way (what the farm does after a crash).
    assert sorted(p.leave_event().key for p in snapshot) == sorted(e.key for e in leaves)
    assert presence.close() == [] and presence.open_presences() == []
    assert presence.counts() == {"view": {}, "lane": {}}


def test_every_enter_gets_exactly_one_leave_in_a_busy_scene() -> None:
    rng = random.Random(7)
    paths = [
        Path(
            a=(rng.uniform(0, 640), rng.uniform(80, 480)),
            b=(rng.uniform(0, 640), rng.uniform(80, 480)),
            start=(s := rng.uniform(0, 20)),
            end=s + rng.uniform(0.2, 10),
        )
        for _ in range(40)
    ]
    presence = display()
    events = run(presence, paths, fps=15, duration=25.0, noise=4.0)
    events += presence.close()
    enters = Counter(leave_key_for(e.key) for e in events if e.type == "enter")
    leaves = Counter(e.key for e in events if e.type == "leave")
    assert enters and enters == leaves
    assert max(leaves.values()) == 1
    assert len({e.key for e in events}) == len(events)


def signature(events: list[PresenceEvent]) -> list[tuple[str, int, str | None, str | None]]:
    return sorted((e.type, e.track_id, e.zone, e.direction) for e in events)


def test_the_same_scene_at_5_and_30_fps_gives_the_same_events() -> None:
    paths = [
        ACROSS_LANE,
        Path(a=(100, 140), b=(100, 440), start=1.0, end=4.0),
        Path(a=(300, 200), b=(300, 200), start=0.0, end=9.0),
        Path(a=(450, 460), b=(250, 150), start=2.0, end=3.0),  # fast: 360 px/s
    ]
    slow = run(display(), paths, fps=5, duration=12.0)
    fast = run(display(), paths, fps=30, duration=12.0)
    assert signature(slow) == signature(fast)
    for a, b in zip(
        sorted(slow, key=lambda e: (e.type, e.track_id, e.zone or "")),
        sorted(fast, key=lambda e: (e.type, e.track_id, e.zone or "")),
        strict=True,
    ):
        assert a.time == pytest.approx(b.time, abs=0.2)
        if a.dwell_s is not None:
            assert a.dwell_s == pytest.approx(b.dwell_s, abs=0.4)


def test_objects_out_of_a_frame_keep_their_zones_in_display_order() -> None:
    presence = DisplayPresence(
        [Zone("b", LANE.polygon), Zone("a", LANE.polygon)], [], view_zone(None, FRAME), min_seen_s=0
    )
    obj = TrackedObject(DetectedObject(0, "car", 0.9, (270, 120, 330, 200)), 1, T0)
    update = presence.update([obj], T0)
    assert update.objects[0].zones == ("view", "b", "a")
    assert all(s in IN_ZONE for s in (ZoneState.PRESENT, ZoneState.LEAVING))


def test_an_update_without_objects_lets_presences_run_out_while_a_stream_is_down() -> None:
    parked = Path(a=(300, 200), b=(300, 200), start=0.0, end=60.0)
    presence = display()
    enters = run(presence, [parked], fps=10, duration=2.0)
    assert len(enters) == 2
    assert presence.update([], T0 + 3.9).events == []
    leaves = presence.update([], T0 + 4.0).events  # 2 s after the last frame with the car
    assert sorted(e.key for e in leaves) == sorted(leave_key_for(e.key) for e in enters)
    assert all(e.time == T0 + 2.0 for e in leaves)


def test_objects_and_events_carry_the_tracks_attributes() -> None:
    from inference.entities import Classification

    shade = {"shade": Classification(0, "light", 0.9)}
    presence = display(min_seen_s=0.0, max_lost_s=0.5)
    events: list[PresenceEvent] = []
    down = Path(a=(300, 150), b=(300, 400), start=0.0, end=2.0)  # through the lane and the door
    for t, objects in tracked_frames([down], fps=10, duration=4.0):
        tracked = [TrackedObject(o.detection, o.track_id, o.first_seen, (), shade) for o in objects]
        update = presence.update(tracked, t)
        assert all(o.attributes == shade for o in update.objects)
        events += update.events

    assert {e.type for e in events} == {"enter", "leave", "cross"}
    assert all(e.attributes == shade for e in events)
    assert all(p.attributes == shade for p in presence.open_presences())
