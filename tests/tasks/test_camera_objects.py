"""A camera's trackers and presences across frames and spec changes (real ultralytics tracker)."""

from __future__ import annotations

from dataclasses import replace

from cms.farm.desired import CameraSpec, DisplaySpec, ModelSpec, ZoneSpec, inference_groups
from tasks.camera_objects import CameraObjects
from tests.inference.objects.scenes import Path, frames

FRAME = (640, 480)
MODEL = ModelSpec(1, "m", "1", "0" * 64, 0.25, 0.7, 640, None)
# The left half of the frame; a car drives from the left edge to the right one.
LEFT = ZoneSpec("left", ((0.0, 0.0), (320.0, 0.0), (320.0, 480.0), (0.0, 480.0)))
CAR = Path(a=(40.0, 300.0), b=(600.0, 300.0), start=0.0, end=4.0)


def display(display_id: int, **fields: object) -> DisplaySpec:
    spec = DisplaySpec(display_id, MODEL, None, "every", 1000, zones=(LEFT,))
    return replace(spec, **fields)


def camera(*displays: DisplaySpec) -> CameraSpec:
    return CameraSpec(1, "source", displays)


def run(objects: CameraObjects, spec: CameraSpec, scene, display_ids=(1,)):
    """Feed frames; return per display the events and the track ids seen."""
    (group,) = inference_groups(spec)
    events: dict[int, list] = {d: [] for d in display_ids}
    ids: set[int] = set()
    for t, detections in scene:
        for display_id, made in objects.frame(FRAME).items():
            events[display_id] += made
        tracked = objects.track(group, detections, t)
        ids |= {o.track_id for o in tracked}
        for display_id in display_ids:
            events[display_id] += objects.present(display_id, tracked, t).events
    return events, ids


def test_a_car_crossing_the_zone_enters_and_leaves_once():
    spec = camera(display(1))
    objects = CameraObjects(generation=3)
    objects.apply(spec)

    events, ids = run(objects, spec, frames([CAR], fps=10, duration=8))

    assert len(ids) == 1 and next(iter(ids)) // 10**9 == 3
    assert [(e.type, e.zone) for e in events[1] if e.zone == "left"] == [
        ("enter", "left"),
        ("leave", "left"),
    ]


def test_adding_a_display_keeps_the_group_tracker_and_its_ids():
    objects = CameraObjects(generation=1)
    spec = camera(display(1))
    objects.apply(spec)
    scene = list(frames([Path(a=(100.0, 300.0), b=(101.0, 300.0), end=10.0)], fps=10, duration=4))
    _, before = run(objects, spec, scene[:20])

    grown = camera(display(1), display(2))
    assert objects.apply(grown) == {}  # nothing ended: display 1's presence goes on
    _, after = run(objects, grown, scene[20:], display_ids=(1, 2))

    assert before == after and len(after) == 1


def test_editing_a_display_zones_closes_its_presences():
    objects = CameraObjects(generation=1)
    spec = camera(display(1))
    objects.apply(spec)
    parked = Path(a=(100.0, 300.0), b=(100.0, 300.0), end=10.0)
    events, _ = run(objects, spec, frames([parked], fps=10, duration=2))
    assert ("enter", "left") in [(e.type, e.zone) for e in events[1]]

    closed = objects.apply(camera(display(1, zones=())))

    assert sorted((e.type, e.zone) for e in closed[1]) == [("leave", "left"), ("leave", "view")]


def test_closing_leaves_every_open_enter_and_the_checkpoint_has_them():
    objects = CameraObjects(generation=1)
    spec = camera(display(1))
    objects.apply(spec)
    parked = Path(a=(100.0, 300.0), b=(100.0, 300.0), end=10.0)
    run(objects, spec, frames([parked], fps=10, duration=2))
    opened = {p.key for p in objects.open_presences()[1]}

    closed = objects.close()

    assert {e.key.replace("leave:", "enter:", 1) for e in closed[1]} == opened
    assert objects.open_presences() == {}


def test_a_stalled_stream_lets_objects_leave_after_max_lost_s():
    objects = CameraObjects(generation=1)
    spec = camera(display(1, max_lost_s=1.0))
    objects.apply(spec)
    parked = Path(a=(100.0, 300.0), b=(100.0, 300.0), end=10.0)
    scene = list(frames([parked], fps=10, duration=2))
    run(objects, spec, scene)
    last = scene[-1][0]

    assert objects.tick(last + 0.5) == {}
    left = objects.tick(last + 1.5)

    assert sorted(e.zone for e in left[1]) == ["left", "view"]
    assert all(e.type == "leave" and e.time == last for e in left[1])


def test_a_display_without_tracking_has_no_tracker():
    objects = CameraObjects(generation=1)
    spec = camera(display(1, tracking=False))
    objects.apply(spec)
    objects.frame(FRAME)
    (group,) = inference_groups(spec)

    assert not objects.tracks(group) and not objects.tracking(1)


def test_two_cameras_keep_their_own_ids_when_one_restarts():
    spec = camera(display(1))
    first, second = CameraObjects(generation=1), CameraObjects(generation=1)
    first.apply(spec)
    second.apply(spec)
    (group,) = inference_groups(spec)
    scene = list(frames([CAR], fps=10, duration=3))
    ids_first: set[int] = set()
    for index, (t, detections) in enumerate(scene):
        first.frame(FRAME)
        second.frame(FRAME)
        ids_first |= {o.track_id for o in first.track(group, detections, t)}
        if index == 10:
            second.close()
            second = CameraObjects(generation=2)  # the other camera restarts
            second.apply(spec)
        second.track(group, detections, t)

    assert len(ids_first) == 1


def test_unusable_zones_leave_the_display_untracked_and_the_camera_running():
    objects = CameraObjects(generation=1)
    clash = ZoneSpec("view", LEFT.polygon)  # the implicit zone's name, saved behind clean()
    spec = camera(display(1, zones=(clash,)), display(2))
    objects.apply(spec)
    objects.frame(FRAME)

    assert not objects.tracking(1) and objects.tracking(2)
