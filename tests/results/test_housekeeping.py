from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cms.housekeeping import purge_detections, purge_object_events
from cms.models import Detection, ObjectEvent

pytestmark = pytest.mark.django_db


def test_purge_deletes_only_old_history_in_batches(display):
    now = timezone.now()
    for i in range(7):
        Detection.objects.create(
            display=display,
            camera=display.camera,
            model=display.model,
            generation=1,
            frame_seq=i,
            frame_time=now,
            key=f"k{i}",
            created=now - timedelta(days=10 if i < 5 else 1),
        )
    assert purge_detections(before=now - timedelta(days=7), batch_size=2) == 5
    assert sorted(Detection.objects.values_list("frame_seq", flat=True)) == [5, 6]


def test_object_events_are_purged_with_the_same_cutoff(display):
    now = timezone.now()
    for i in range(4):
        ObjectEvent.objects.create(
            display=display, camera=display.camera, generation=1, key=f"e{i}", type="enter",
            track_id=i, class_id=0, class_name="person", time=now, box=[1, 2, 3, 4],
            zone="view", created=now - timedelta(days=10 if i < 3 else 1),
        )  # fmt: skip

    assert purge_object_events(before=now - timedelta(days=7), batch_size=2) == 3
    assert list(ObjectEvent.objects.values_list("track_id", flat=True)) == [3]


def test_the_beat_task_purges_both_histories(display, settings):
    from tasks.control import purge_detections as task

    settings.SIGHTLINE_DETECTION_RETENTION_DAYS = 7
    old = timezone.now() - timedelta(days=8)
    ObjectEvent.objects.create(
        display=display, camera=display.camera, generation=1, key="old", type="cross",
        track_id=1, class_id=0, class_name="person", time=old, box=[1, 2, 3, 4],
        line="door", direction="in", created=old,
    )  # fmt: skip
    Detection.objects.create(
        display=display, camera=display.camera, model=display.model, generation=1,
        frame_seq=1, frame_time=old, key="old", created=old,
    )  # fmt: skip

    assert task() == 2
    assert not ObjectEvent.objects.exists() and not Detection.objects.exists()


def test_ended_display_sessions_are_purged_with_the_history_and_open_ones_kept(display):
    from cms.housekeeping import purge_display_sessions
    from cms.models import DisplaySession

    now = timezone.now()
    long_ago = now - timedelta(days=10)
    DisplaySession.objects.create(
        display=display, session_id="old", started=long_ago, ended=long_ago
    )
    DisplaySession.objects.create(
        display=display, session_id="recent", started=long_ago, ended=now - timedelta(days=1)
    )
    DisplaySession.objects.create(display=display, session_id="open", started=long_ago)

    assert purge_display_sessions(before=now - timedelta(days=7)) == 1
    assert set(DisplaySession.objects.values_list("session_id", flat=True)) == {"recent", "open"}
