"""Secondary models on a real farm: the trained shapes detector and the trained shade
classifier, a real Celery ingest worker, the real results consumer.

Parked shapes of known shades: the results and the object events of a display with the shade
classifier as its secondary model carry each object's shade; a second display on the same
camera without it gets the same objects without attributes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files import File

from cms.models import Detection, DetectionModel, Display, ObjectEvent
from inference.synthetic.video import Scene, stationary_path, write_video
from tests.farm.conftest import wait_for
from tests.farm.test_objects import consume_until, consumer, parked_display, shapes_model

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
__all__ = ["consumer"]  # the fixture, imported for this module's tests

SHADED = Scene(
    paths=(
        stationary_path(1, "square", at=(80, 120), t0=0.0, t1=20.0, jitter_px=2, shade="dark"),
        stationary_path(2, "circle", at=(240, 120), t0=0.0, t1=20.0, jitter_px=2, shade="light"),
    ),
    duration_s=20.0,
    fps=10.0,
    seed=3,
)
SHADE_OF = {"square": "dark", "circle": "light"}


@pytest.fixture(scope="module")
def shaded_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("shaded") / "shaded.mp4"
    write_video(SHADED, path)
    return path


def classifier_model(weights: Path) -> DetectionModel:
    model = DetectionModel(name="shade", version="trained", task="classify")
    with weights.open("rb") as handle:
        model.weights.save("shade.pt", File(handle), save=False)
    model.save()
    return model


def test_results_and_object_events_carry_the_secondary_models_labels(
    farm_factory, consumer, shaded_video, trained_detector_path, trained_classifier_path
):
    farm = farm_factory()
    farm.control()
    worker = farm.ingest(capacity=2)
    shade = classifier_model(trained_classifier_path)
    secondary = [{"model": shade.pk, "classes": None, "min_size": 16, "every_s": 1.0}]
    display = parked_display(
        "shaded", shaded_video, shapes_model(trained_detector_path),
        secondary=secondary, policy=Display.Policy.EVERY,
    )  # fmt: skip
    plain = Display.objects.create(
        name="plain", identifier="plain", camera=display.camera, model=display.model,
        policy=Display.Policy.EVERY,
    )  # fmt: skip
    wait_for(lambda: farm.running_on(display.camera) == worker.name, 120, "the camera to run")

    # enters of both shapes into "view", after their first classification
    consume_until(
        consumer,
        lambda: display.object_events.filter(type="enter", zone="view").count() >= 2,
        90,
        "both shapes' enters",
    )
    for event in display.object_events.filter(type="enter", zone="view"):
        assert event.attributes["shade"]["label"] == SHADE_OF[event.class_name], event.attributes
    consume_until(
        consumer,
        lambda: Detection.objects.filter(display=plain).exists(),
        60,
        "the plain display's results",
    )
    newest = Detection.objects.filter(display=display).order_by("-id").first()
    labels = {o["class_name"]: o["attributes"]["shade"]["label"] for o in newest.detected_objects}
    assert labels == SHADE_OF
    plain_newest = Detection.objects.filter(display=plain).order_by("-id").first()
    assert plain_newest.detected_objects
    assert not any("attributes" in o for o in plain_newest.detected_objects)
    assert not ObjectEvent.objects.filter(display=plain).exclude(attributes={}).exists()
    stream = farm.streams()[display.camera_id]
    assert not stream.display_errors and not stream.last_error


def test_a_secondary_model_that_fails_on_the_worker_leaves_primary_results_and_shows_in_status(
    farm_factory, consumer, shaded_video, trained_detector_path, trained_classifier_path
):
    farm = farm_factory()
    farm.control()
    worker = farm.ingest(capacity=2)
    shade = classifier_model(trained_classifier_path)
    wait_for(
        lambda: (
            DetectionModel.objects.get(pk=shade.pk).validation_state
            == DetectionModel.Validation.VALID
        ),
        90,
        "the classifier's validation",
    )
    # Given: its file goes bad after validation (a disk, a botched copy): the worker cannot load it
    Path(shade.weights.path).write_bytes(b"not the weights any more")
    secondary = [{"model": shade.pk, "classes": None, "min_size": 16, "every_s": 1.0}]
    display = parked_display(
        "broken", shaded_video, shapes_model(trained_detector_path),
        secondary=secondary, policy=Display.Policy.EVERY,
    )  # fmt: skip
    wait_for(lambda: farm.running_on(display.camera) == worker.name, 120, "the camera to run")

    # Then: primary results keep coming, without attributes
    consume_until(
        consumer,
        lambda: Detection.objects.filter(display=display).count() >= 5,
        60,
        "the display's results",
    )
    newest = Detection.objects.filter(display=display).order_by("-id").first()
    assert {o["class_name"] for o in newest.detected_objects} == set(SHADE_OF)
    assert not any("attributes" in o for o in newest.detected_objects)
    # and the stream's status names the display and the failing secondary model
    stream = wait_for(
        lambda: (s := farm.streams().get(display.camera_id)) and s.display_errors and s,
        30,
        "status",
    )
    [(display_id, error)] = [tuple(e) for e in stream.display_errors]
    assert display_id == display.id and error.startswith("secondary model shade trained: ")
    assert (
        stream.secondary_errors(display.id) == [error] and stream.primary_error(display.id) is None
    )
    assert stream.last_error == error
    # since when it shows: the first heartbeat that reported it, not each one since
    assert 0 < stream.last_error_at <= stream.updated
