"""Desired state read from the database: only enabled cameras, displays and models count."""

from __future__ import annotations

import pytest

from cms.farm.desired import LineSpec, ZoneSpec
from cms.farm.reconcile import load_desired
from cms.models import Display
from tests.factories import make_camera, make_display, make_model

pytestmark = pytest.mark.django_db


def test_desired_state_needs_enabled_camera_display_and_model() -> None:
    wanted = make_display()
    make_display(camera=make_camera(enabled=False))
    make_display(enabled=False)
    make_display(model=make_model(enabled=False))
    make_display(camera=wanted.camera, model=make_model(enabled=False))  # same camera

    desired = load_desired()

    assert set(desired) == {wanted.camera_id}
    assert [d.id for d in desired[wanted.camera_id].displays] == [wanted.id]


def test_desired_state_of_some_cameras_only() -> None:
    first, second = make_display(), make_display()
    assert set(load_desired([second.camera_id])) == {second.camera_id}
    assert set(load_desired()) == {first.camera_id, second.camera_id}


def test_desired_state_carries_zones_lines_and_tracking() -> None:
    display = make_display(
        zones=[{"name": "lane", "polygon": [[0, 0], [10, 0], [10, 10]]}],
        lines=[{"name": "door", "points": [[5, 0], [5, 10]]}],
        tracking=False,
        min_seen_s=1.5,
        max_lost_s=4,
    )

    [spec] = load_desired()[display.camera_id].displays

    assert spec.zones == (ZoneSpec("lane", ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0))),)
    assert spec.lines == (LineSpec("door", ((5.0, 0.0), (5.0, 10.0))),)
    assert (spec.tracking, spec.min_seen_s, spec.max_lost_s) == (False, 1.5, 4.0)


def test_zones_written_around_clean_that_do_not_parse_are_left_out(caplog) -> None:
    display = make_display()
    Display.objects.filter(pk=display.pk).update(zones={"lane": "oops"})

    [spec] = load_desired()[display.camera_id].displays

    assert (spec.zones, spec.lines) == ((), ())
    assert f"display {display.pk}: zones or lines ignored" in caplog.text


def test_unchanged_rows_give_the_last_loads_specs_and_every_change_a_new_one(caplog) -> None:
    kept, edited, deleted = make_display(), make_display(), make_display()
    model = make_model()
    retargeted = make_display(model=model)
    Display.objects.filter(pk=kept.pk).update(zones={"lane": "oops"})
    first = load_desired()

    again = load_desired()
    assert again == first
    assert all(again[c] is first[c] for c in first)  # nothing decoded or hashed again
    assert caplog.text.count(f"display {kept.pk}: zones or lines ignored") == 2  # every load

    Display.objects.filter(pk=edited.pk).update(policy_interval_ms=5000)
    Display.objects.filter(pk=deleted.pk).delete()
    changed = load_desired()
    assert changed[kept.camera_id] is first[kept.camera_id]
    assert changed[edited.camera_id].displays[0].policy_interval_ms == 5000
    assert changed[edited.camera_id].spec_hash != first[edited.camera_id].spec_hash
    assert deleted.camera_id not in changed

    model.confidence = 0.9
    model.save()
    new_model = load_desired()
    assert new_model[retargeted.camera_id].displays[0].model.confidence == 0.9
    assert new_model[kept.camera_id] == changed[kept.camera_id]


def test_another_secret_key_gives_other_source_hashes_not_the_last_loads(settings) -> None:
    display = make_display()
    before = load_desired()[display.camera_id]

    settings.SECRET_KEY = "another-secret-key-for-this-test-0123456789"
    after = load_desired()[display.camera_id]

    assert after.source_hash != before.source_hash
