from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cms.housekeeping import purge_detections
from cms.models import Detection

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
