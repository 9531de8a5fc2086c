"""Desired state read from the database: only enabled cameras, displays and models count."""

from __future__ import annotations

import pytest

from cms.farm.reconcile import load_desired
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
