"""Secondary models in desired state: read from the database, left out when they cannot run,
part of the spec (hash, model keys, placement) but not of the inference groups."""

from __future__ import annotations

import dataclasses

import pytest

from cms.farm import farm_keys
from cms.farm.desired import SecondarySpec, inference_groups
from cms.farm.planner import PlanSettings, plan
from cms.farm.reconcile import load_desired, model_spec
from cms.models import DetectionModel, Display
from tests.cms.farm.test_planner import NOW, worker
from tests.factories import make_display, make_model

pytestmark = pytest.mark.django_db


def classify_model(**values) -> DetectionModel:
    """A model whose weights were read as a classify model (a save would forget the task)."""
    model = make_model(**values)
    DetectionModel.objects.filter(pk=model.pk).update(task="classify", validation_state="valid")
    model.refresh_from_db()
    return model


def test_desired_state_carries_the_secondary_models_in_order() -> None:
    colour, make = classify_model(name="colour", confidence=0.5), classify_model(name="make")
    display = make_display(
        secondary=[
            {"model": make.id, "classes": [2, 7], "min_size": 48, "every_s": 0.5},
            {"model": colour.id},
        ]
    )

    [spec] = load_desired()[display.camera_id].displays

    assert spec.secondary == (
        SecondarySpec(model_spec(make), classes=(2, 7), min_size=48, every_s=0.5),
        SecondarySpec(model_spec(colour), classes=None, min_size=32, every_s=2.0),
    )
    assert spec.secondary[1].model.confidence == 0.5  # the model's own settings, as a primary's
    assert spec.model == model_spec(display.model)


def test_a_secondary_model_that_cannot_run_is_left_out_and_the_display_runs() -> None:
    kept, disabled, invalid, detect, gone = (classify_model() for _ in range(5))
    display = make_display(secondary=[{"model": m.id} for m in (disabled, kept, invalid, detect)])
    DetectionModel.objects.filter(pk=disabled.pk).update(enabled=False)
    DetectionModel.objects.filter(pk=invalid.pk).update(validation_state="invalid")
    DetectionModel.objects.filter(pk=detect.pk).update(task="detect")
    other = make_display(camera=display.camera, secondary=[{"model": gone.id}, {"model": kept.id}])
    gone.delete()  # deleted after it was chosen: the display's JSON still names it

    specs = load_desired()[display.camera_id].displays

    assert [d.id for d in specs] == [display.id, other.id]
    assert [[s.model.id for s in d.secondary] for d in specs] == [[kept.id], [kept.id]]


def test_a_model_not_read_yet_can_be_a_secondary_model() -> None:
    pending = make_model()  # a hub model: its task is read by the first worker that loads it
    display = make_display(secondary=[{"model": pending.id, "classes": []}])

    [spec] = load_desired()[display.camera_id].displays

    assert [(s.model.id, s.classes) for s in spec.secondary] == [(pending.id, None)]


def test_secondary_written_around_clean_that_does_not_pass_is_ignored(caplog) -> None:
    display = make_display()
    Display.objects.filter(pk=display.pk).update(secondary=[{"model": "x", "every_s": -1}])

    [spec] = load_desired()[display.camera_id].displays

    assert spec.secondary == ()
    assert f"display {display.pk}: secondary models ignored" in caplog.text


def test_editing_secondary_models_changes_the_spec_but_not_the_inference_groups() -> None:
    colour = classify_model()
    display = make_display()
    before = load_desired()[display.camera_id]

    display.secondary = [{"model": colour.id, "every_s": 1}]
    display.full_clean()
    display.save()
    after = load_desired()[display.camera_id]

    assert after.spec_hash != before.spec_hash
    assert inference_groups(after) == inference_groups(before)
    assert after.model_keys == before.model_keys | {f"{colour.id}:{colour.sha256}"}


def test_placement_prefers_a_worker_that_holds_a_secondary_model() -> None:
    colour = classify_model()
    display = make_display(secondary=[{"model": colour.id}])
    desired = load_desired()
    holds = dataclasses.replace(worker("b"), models=(f"{colour.id}:{colour.sha256}",))

    result = plan(
        desired,
        {},
        {},
        {"a": worker("a"), "b": holds},
        now=NOW,
        missing_since={},
        trust_worker_absence=True,
        settings=PlanSettings(),
    )

    assert [(c.camera_id, c.worker) for c in result.commands] == [(display.camera_id, "b")]


def test_saving_a_model_used_as_a_secondary_model_requests_a_reconcile(
    redis_client, django_capture_on_commit_callbacks
) -> None:
    colour = classify_model()
    make_display(secondary=[{"model": colour.id}])
    redis_client.delete(farm_keys.RECONCILE_DIRTY, farm_keys.RECONCILE_SCHEDULED)

    with django_capture_on_commit_callbacks(execute=True):
        colour.confidence = 0.4
        colour.save()

    assert redis_client.get(farm_keys.RECONCILE_DIRTY) == b"1"
    assert (
        f"DetectionModel {colour.pk} changed"
        in redis_client.get(farm_keys.RECONCILE_SCHEDULED).decode()
    )
