"""The display page edits the display's secondary models; problems are errors on that field."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from cms.models import DetectionModel, Display
from tests.cms.test_admin import display_change
from tests.factories import make_display, make_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("operator", "", "operator-pass-123")
    client.force_login(user)
    return client


def read_as(task: str) -> DetectionModel:
    """A model whose weights were read as ``task`` (a save would forget what was read)."""
    model = make_model()
    DetectionModel.objects.filter(pk=model.pk).update(task=task, validation_state="valid")
    return model


def test_display_page_edits_the_secondary_models(staff_client):
    display, colour = make_display(), read_as("classify")
    page = staff_client.get(reverse("admin:cms_display_change", args=[display.pk])).content
    assert b'name="secondary"' in page and b"every_s" in page  # the help text says the shape

    response = display_change(
        staff_client, display, secondary=json.dumps([{"model": colour.id, "classes": [0]}])
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    display.refresh_from_db()
    assert display.secondary == [
        {"model": colour.id, "classes": [0], "min_size": 32, "every_s": 2.0}
    ]
    assert display_change(staff_client, display, secondary="").status_code == 302
    display.refresh_from_db()
    assert display.secondary == []


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"model": 1}', "secondary: must be a list, got an object"),
        ('[{"model": "CLS", "every_s": -2}]', "secondary[0].every_s: must be greater than 0"),
        ('[{"model": "CLS", "min_size": 0}]', "secondary[0].min_size: must be an integer"),
        ('[{"model": "CLS", "size": 3}]', "unknown key(s) 'size'"),
        ('[{"model": 999999}]', "secondary[0].model: unknown model 999999"),
        ('[{"model": "DETECT"}]', "it is a 'detect' model, not a classify model"),
        ("[{", "Not valid JSON"),
    ],
)
def test_bad_secondary_models_are_errors_on_their_field(staff_client, text, message):
    display = make_display()
    ids = {'"CLS"': read_as("classify").id, '"DETECT"': read_as("detect").id}
    for name, model_id in ids.items():
        text = text.replace(name, str(model_id))

    response = display_change(staff_client, display, secondary=text)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["secondary"]
    assert any(message in m for m in errors["secondary"]), errors["secondary"]
    display.refresh_from_db()
    assert display.secondary == []


def options_on_the_page(staff_client, display) -> dict:  # type: ignore[type-arg]
    """The secondary editor's choices, as the display page hands them to its script."""
    page = staff_client.get(reverse("admin:cms_display_change", args=[display.pk]))
    field = page.context["adminform"].form.fields["secondary"]
    assert b"cms/secondary_editor.js" in page.content
    assert b"data-secondary-options=" in page.content
    return json.loads(field.widget.attrs["data-secondary-options"])


def test_the_editor_offers_classify_models_and_the_primary_models_classes_by_name(staff_client):
    display = make_display()
    DetectionModel.objects.filter(pk=display.model_id).update(
        class_names={"0": "person", "1": "bicycle", "2": "car"}
    )
    colour = read_as("classify")
    unread = make_model(name="zz-unread")  # weights not read yet: may be a classify model
    read_as("detect")  # a detection model is not offered
    off = read_as("classify")
    DetectionModel.objects.filter(pk=off.pk).update(enabled=False)
    display.refresh_from_db()

    options = options_on_the_page(staff_client, display)

    assert options["models"] == [
        {"id": colour.id, "label": f"{colour.name} {colour.version}"},
        {"id": unread.id, "label": f"zz-unread {unread.version} (weights not read yet)"},
    ]
    assert options["classes"] == [
        {"id": 0, "label": "0: person"},
        {"id": 1, "label": "1: bicycle"},
        {"id": 2, "label": "2: car"},
    ]
    assert options["defaults"] == {"min_size": 32, "every_s": 2.0}
    assert options["max_items"] == 4


def test_models_and_classes_the_display_names_stay_offered_labelled(staff_client):
    display = make_display()
    DetectionModel.objects.filter(pk=display.model_id).update(class_names={"0": "person"})
    off = read_as("classify")
    Display.objects.filter(pk=display.pk).update(
        secondary=[{"model": off.id, "classes": [0, 7], "min_size": 32, "every_s": 2.0}]
    )
    DetectionModel.objects.filter(pk=off.pk).update(enabled=False)
    display.refresh_from_db()

    options = options_on_the_page(staff_client, display)

    assert {"id": off.id, "label": f"{off.name} {off.version} (disabled)"} in options["models"]
    assert options["classes"][-1] == {"id": 7, "label": "7: (not a class of this model)"}


def test_without_known_classes_the_editor_offers_none_and_the_json_still_saves(staff_client):
    display, colour = make_display(), read_as("classify")
    assert options_on_the_page(staff_client, display)["classes"] == []

    # What the editor writes when a class is ticked by name: the same JSON as ever.
    posted = [{"model": colour.id, "classes": [2], "min_size": 48, "every_s": 1.5}]
    response = display_change(staff_client, display, secondary=json.dumps(posted))

    assert response.status_code == 302
    display.refresh_from_db()
    assert display.secondary == posted
