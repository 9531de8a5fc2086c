"""Reconcile reads desired state from the database after a noted change, and periodically.

cms.farm.reconcile.current_desired: a reconcile with nothing noted reuses what the last one
read (at 20,000 cameras that read is most of its time); every save through the ORM notes a
change after commit, and a write around the signals is seen by the periodic read.
"""

from __future__ import annotations

import pytest

from cms.farm import farm_keys
from cms.farm.reconcile import reconcile_once, request_reconcile
from cms.models import Camera
from tests.factories import make_display

pytestmark = pytest.mark.django_db


def wanted_after_reconcile(redis_client) -> tuple[int, bool]:
    """(cameras wanted, whether desired state was read from the database) of one run."""
    report = reconcile_once(redis_client)
    return report["desired"], report["desired_read"]


def test_with_no_change_noted_reconcile_reuses_what_it_read(redis_client) -> None:
    camera = make_display().camera
    assert wanted_after_reconcile(redis_client) == (1, True)
    Camera.objects.filter(pk=camera.pk).update(enabled=False)  # around the signals

    assert wanted_after_reconcile(redis_client) == (1, False)

    farm_keys.note_desired_change(redis_client)
    assert wanted_after_reconcile(redis_client) == (0, True)
    assert wanted_after_reconcile(redis_client) == (0, False)


def test_a_save_notes_the_change_when_it_commits(
    redis_client, django_capture_on_commit_callbacks
) -> None:
    camera = make_display().camera
    assert wanted_after_reconcile(redis_client) == (1, True)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        camera.enabled = False
        camera.save()

    assert callbacks  # the signal's request_reconcile ran at commit
    assert wanted_after_reconcile(redis_client) == (0, True)


def test_a_change_of_workers_only_does_not_read_the_database_again(redis_client) -> None:
    make_display()
    assert wanted_after_reconcile(redis_client) == (1, True)

    request_reconcile("workers offline: ['gpu-1']", desired_changed=False)
    assert wanted_after_reconcile(redis_client) == (1, False)

    request_reconcile("requested by an operator")
    assert wanted_after_reconcile(redis_client) == (1, True)


def test_the_periodic_read_sees_a_write_around_the_signals(redis_client, settings) -> None:
    camera = make_display().camera
    assert wanted_after_reconcile(redis_client) == (1, True)
    Camera.objects.filter(pk=camera.pk).update(enabled=False)

    settings.SIGHTLINE_DESIRED_RELOAD_S = 0  # the period has passed
    assert wanted_after_reconcile(redis_client) == (0, True)


def test_a_redis_that_lost_the_version_makes_reconcile_read_again(redis_client) -> None:
    camera = make_display().camera
    assert wanted_after_reconcile(redis_client) == (1, True)
    Camera.objects.filter(pk=camera.pk).update(enabled=False)

    redis_client.flushdb()  # a restart without persistence
    assert wanted_after_reconcile(redis_client) == (0, True)
    assert wanted_after_reconcile(redis_client) == (0, False)
