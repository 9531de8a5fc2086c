"""What an ingest worker learns reaches the database through Redis and the control side."""

from __future__ import annotations

import logging

import pytest

from cms.farm import farm_keys, worker_reports
from cms.farm.report_sink import drain_worker_reports
from cms.farm.worker_reports import FrameSize, ModelRead
from cms.models import Camera, DetectionModel
from tests.factories import make_camera, make_model


@pytest.mark.parametrize(
    "report", [ModelRead(3, {"0": "person", "1": "car"}, "detect"), FrameSize(4, 640, 480)]
)
def test_a_report_reads_back_as_written(report) -> None:
    assert worker_reports.from_bytes(worker_reports.to_bytes(report)) == report


@pytest.mark.parametrize(
    "raw",
    [b"", b"[]", b'{"kind": "nope"}', b'{"kind": "frame_size", "camera_id": 1, "width": "640"}',
     b'{"kind": "model_read", "model_id": 1, "class_names": {"0": 5}, "task": "detect"}'],
)  # fmt: skip
def test_anything_else_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        worker_reports.from_bytes(raw)


@pytest.mark.django_db
def test_drained_reports_are_recorded_once_and_a_bad_one_is_dropped(redis_client, caplog):
    model, camera = make_model(), make_camera()
    read = ModelRead(model.pk, {"0": "person"}, "detect")
    for report in (read, FrameSize(camera.pk, 320, 240), read):  # twice: idempotent
        farm_keys.push_worker_report(redis_client, worker_reports.to_bytes(report))
    farm_keys.push_worker_report(redis_client, b"garbage")
    farm_keys.push_worker_report(redis_client, worker_reports.to_bytes(FrameSize(camera.pk, 0, 1)))

    with caplog.at_level(logging.WARNING):
        assert drain_worker_reports(redis_client) == 3

    model.refresh_from_db()
    assert (model.class_names, model.task) == ({"0": "person"}, "detect")
    assert Camera.objects.get(pk=camera.pk).frame_width == 320
    assert caplog.text.count("worker report dropped") == 2
    assert redis_client.llen(farm_keys.WORKER_REPORTS) == 0
    assert drain_worker_reports(redis_client) == 0
    assert DetectionModel.objects.get(pk=model.pk).validation_state == "valid"
