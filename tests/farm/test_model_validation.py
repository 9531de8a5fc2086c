"""Uploaded weights are checked by a real control worker, in a child process of its own."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from cms.farm.reconcile import load_desired
from cms.models import DetectionModel
from tests.farm.conftest import wait_for
from tests.support.models import torch_archive_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def checked(model: DetectionModel) -> DetectionModel | None:
    model.refresh_from_db()
    return model if model.validation_state != DetectionModel.Validation.PENDING else None


def test_the_control_worker_checks_each_uploaded_model(farm_factory):
    farm = farm_factory()
    farm.control()
    good = farm.model()  # a real yolov8n detection .pt, saved like an upload
    broken = DetectionModel(name="broken")
    broken.weights.save("broken.pt", ContentFile(torch_archive_bytes()), save=False)
    broken.save()
    camera = farm.camera("hall")
    farm.display("hall-good", camera, model=good)

    wait_for(lambda: checked(good), 60, f"the check of the good model\n{farm.logs()}")
    wait_for(lambda: checked(broken), 60, f"the check of the broken model\n{farm.logs()}")

    assert good.validation_state == "valid"
    assert good.task == "detect" and good.class_names["0"] == "person"
    assert broken.validation_state == "invalid" and broken.invalid_reason
    assert camera.id in load_desired()
