"""The display page edits the display's secondary models; problems are errors on that field."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from cms.models import DetectionModel
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
