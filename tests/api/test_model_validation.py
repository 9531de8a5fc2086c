"""Weights that are not a detection model: refused at upload where the bytes show it, else
found out by the check off the web process, and a display on them is pending with why."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cms.api.services import cluster_overview, display_state
from cms.farm.reconcile import load_desired
from cms.model_validation import validate_model
from cms.models import DetectionModel
from tests.api.conftest import display_with_token, token_client
from tests.factories import make_camera
from tests.support.models import (
    build_classifier_weights,
    build_detection_weights,
    torch_archive_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("validation-weights")


@pytest.fixture(scope="module")
def detection_pt(weights_dir: Path) -> bytes:
    return build_detection_weights(weights_dir / "det.pt").read_bytes()


@pytest.fixture(scope="module")
def classifier_pt(weights_dir: Path) -> bytes:
    return build_classifier_weights(weights_dir / "cls.pt").read_bytes()


def upload(client, name: str, content: bytes):
    return client.post(
        "/api/v1/models/",
        {"name": name, "weights": SimpleUploadedFile(name, content)},
        format="multipart",
    )


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("junk.pt", b"junk" + os.urandom(4092), "not a zip archive"),
        ("junk.onnx", os.urandom(4096), "Not an ONNX model"),
        ("junk.torchscript", b"junk" + os.urandom(4092), "not a zip archive"),
        ("legacy.pt", pickle.dumps({"model": None}, protocol=2), "legacy"),
        ("nopickle.pt", torch_archive_bytes(b"not a pickle"), "not a pickle"),
    ],
)
def test_weights_whose_bytes_are_not_a_model_are_refused_at_upload(operator, name, content, words):
    response = upload(operator, name, content)

    assert response.status_code == 400, response.json()
    assert words in " ".join(response.json()["weights"])
    assert not DetectionModel.objects.exists()


def test_a_detection_model_is_recorded_with_its_task_classes_and_input_size(operator, detection_pt):
    response = upload(operator, "people.pt", detection_pt)
    assert response.status_code == 201, response.json()
    assert response.json()["validation_state"] == "pending"

    assert validate_model(response.json()["id"]) == "valid"

    body = operator.get(f"/api/v1/models/{response.json()['id']}/").json()
    assert body["validation_state"] == "valid"
    assert body["task"] == "detect"
    assert body["input_size"] == 640
    assert body["invalid_reason"] == ""
    assert len(body["class_names"]) == 80 and body["class_names"]["0"] == "person"


def test_a_classify_model_is_recorded_and_no_display_runs_on_it(operator, classifier_pt):
    model_id = upload(operator, "cls.pt", classifier_pt).json()["id"]
    camera = make_camera()
    # a display made before the check found out
    display, token = display_with_token(
        camera=camera, model=DetectionModel.objects.get(pk=model_id)
    )

    assert validate_model(model_id) == "valid"
    assert operator.get(f"/api/v1/models/{model_id}/").json()["task"] == "classify"

    refused = operator.post(
        "/api/v1/displays/",
        {"name": "Hall", "identifier": "hall", "camera": camera.id, "model": model_id},
    )
    assert refused.status_code == 400
    assert "not a detection model" in " ".join(refused.json()["model"])
    reason = "its model is a 'classify' model, not a detection model"
    assert_pending_everywhere(display, token, reason)


def test_weights_that_only_fail_when_loaded_are_invalid_with_the_reason(operator):
    response = upload(operator, "broken.pt", torch_archive_bytes())
    assert response.status_code == 201, response.json()  # the bytes look like a torch archive
    model_id = response.json()["id"]
    display, token = display_with_token(model=DetectionModel.objects.get(pk=model_id))

    assert validate_model(model_id) == "invalid"

    body = operator.get(f"/api/v1/models/{model_id}/").json()
    assert body["validation_state"] == "invalid"
    assert body["invalid_reason"]  # what loading said
    assert_pending_everywhere(
        display, token, f"its model's weights do not load: {body['invalid_reason']}"
    )


def test_a_model_that_loads_too_slowly_is_invalid(operator, detection_pt):
    model_id = upload(operator, "slow.pt", detection_pt).json()["id"]

    assert validate_model(model_id, timeout=0.01) == "invalid"

    reason = DetectionModel.objects.get(pk=model_id).invalid_reason
    assert "took more than" in reason


def test_new_weights_are_checked_again(operator, detection_pt):
    model_id = upload(operator, "m.pt", torch_archive_bytes()).json()["id"]
    validate_model(model_id)
    assert DetectionModel.objects.get(pk=model_id).validation_state == "invalid"

    response = operator.patch(
        f"/api/v1/models/{model_id}/",
        {"weights": SimpleUploadedFile("m.pt", detection_pt)},
        format="multipart",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["validation_state"] == "pending"
    assert response.json()["invalid_reason"] == ""


def assert_pending_everywhere(display, token: str, reason: str) -> None:
    """Left out of desired state, and the reason in the cluster view and the display state."""
    from cms import redis_connection

    assert display.camera_id not in load_desired()
    r = redis_connection.client()
    pending = cluster_overview(r)["pending"]
    assert [p["reason"] for p in pending if p["display"] == display.id] == [reason]
    state = token_client(token).get("/api/v1/display/state/").json()
    assert state["running"] is False
    assert state["not_running_reason"] == reason
    display.refresh_from_db()
    assert display_state(display, r)["not_running_reason"] == reason
