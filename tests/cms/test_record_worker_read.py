"""What a worker's load of a model records on its row (a hub model is read nowhere else)."""

from __future__ import annotations

import pytest

from cms.model_validation import record_worker_read
from cms.models import CLASSIFY_TASK, DETECTION_TASK, DetectionModel

pytestmark = pytest.mark.django_db


def hub_model(**fields):
    return DetectionModel.objects.create(name="hub", hub_name="yolo11n-cls.pt", **fields)


def test_a_secondary_load_records_a_classify_model_with_its_class_names():
    model = hub_model()

    record_worker_read(model.pk, {0: "dark", 1: "light"}, task=CLASSIFY_TASK)

    model.refresh_from_db()
    assert model.task == CLASSIFY_TASK
    assert model.class_names == {"0": "dark", "1": "light"}
    assert model.validation_state == DetectionModel.Validation.VALID
    assert model.secondary_unusable_reason == ""


def test_what_was_read_already_is_kept():
    model = hub_model()
    DetectionModel.objects.filter(pk=model.pk).update(task=DETECTION_TASK, class_names={"0": "a"})

    record_worker_read(model.pk, {0: "dark"}, task=CLASSIFY_TASK)

    model.refresh_from_db()
    assert model.task == DETECTION_TASK
    assert model.class_names == {"0": "a"}


def test_a_model_deleted_meanwhile_is_ignored():
    record_worker_read(10**9, {0: "x"}, task=DETECTION_TASK)

    assert not DetectionModel.objects.exists()
