"""The one shape of a delivered event, and its times formatted exactly as DRF formats them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone
from rest_framework.fields import DateTimeField

from cms import live
from cms.models import Detection

OBJECTS = [{"class_id": 0, "class_name": "person", "confidence": 0.9, "box": [1, 2, 3, 4]}]


def detection(frame_time: datetime) -> Detection:
    return Detection(
        id=7, display_id=1, frame_seq=3, frame_time=frame_time, generation=2,
        detected_objects=OBJECTS,
    )  # fmt: skip


def test_a_delivered_event_has_the_fields_of_a_detections_item():
    [event] = live.delivered_events([detection(datetime(2025, 1, 1, 12, 0, 0, 951358, UTC))])

    assert event == {
        "id": 7,
        "frame_seq": 3,
        "frame_time": "2025-01-01T12:00:00.951358Z",
        "generation": 2,
        "objects": OBJECTS,
    }


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/New_York"])
@pytest.mark.parametrize(
    "moment", [datetime(2025, 1, 1, 12, 0, 0, 951358, UTC), datetime(2025, 7, 1, 0, 0, tzinfo=UTC)]
)
def test_event_times_are_formatted_as_drf_formats_them(zone, moment):
    with timezone.override(zone):
        [event] = live.delivered_events([detection(moment)])
        assert event["frame_time"] == DateTimeField().to_representation(moment)


def test_a_tracked_objects_first_seen_is_an_iso_time_like_the_frame_time():
    tracked = {**OBJECTS[0], "track_id": 9, "first_seen": 1_735_732_800.5, "zones": ["lane"]}
    row = detection(datetime(2025, 1, 1, 12, 0, 1, tzinfo=UTC))
    row.detected_objects = [tracked, OBJECTS[0]]

    with timezone.override("Europe/Paris"):
        [event] = live.delivered_events([row])

    moment = datetime(2025, 1, 1, 12, 0, 0, 500000, UTC)
    with timezone.override("Europe/Paris"):
        expected = DateTimeField().to_representation(moment)
    assert event["objects"] == [{**tracked, "first_seen": expected}, OBJECTS[0]]
    assert row.detected_objects[0]["first_seen"] == 1_735_732_800.5  # the row is not changed
