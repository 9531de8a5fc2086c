"""The admin renders for staff, shows form errors instead of 500s, and never shows secrets."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo
from cms.models import Camera, Display, hash_token
from tests.factories import make_camera, make_display, make_model

pytestmark = pytest.mark.django_db

MODELS = ["camera", "detectionmodel", "display", "detection"]


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("operator", "", "operator-pass-123")
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_changelist_renders(staff_client, model):
    make_display()
    response = staff_client.get(reverse(f"admin:cms_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", ["camera", "detectionmodel", "display"])
def test_add_form_renders(staff_client, model):
    assert staff_client.get(reverse(f"admin:cms_{model}_add")).status_code == 200


def test_change_forms_render(staff_client):
    display = make_display()
    for name, pk in [
        ("camera", display.camera_id),
        ("detectionmodel", display.model_id),
        ("display", display.pk),
    ]:
        assert staff_client.get(reverse(f"admin:cms_{name}_change", args=[pk])).status_code == 200


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("admin:cms_camera_changelist"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_camera_password_never_rendered(staff_client):
    camera = make_camera(username="viewer", password="hunter2-secret")
    pages = [
        staff_client.get(reverse("admin:cms_camera_changelist")),
        staff_client.get(reverse("admin:cms_camera_change", args=[camera.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        assert b"hunter2-secret" not in page.content


def camera_form(**overrides):
    data = {
        "name": "Lobby",
        "identifier": "lobby",
        "url": "rtsp://cam.example.com/live",
        "username": "",
        "password": "",
        "snapshot_url": "",
        "snapshot_interval": "1.0",
        "fps": "5",
        "enabled": "on",
    }
    data.update(overrides)
    return data


def test_blank_password_keeps_the_stored_one(staff_client):
    camera = make_camera(username="viewer", password="kept-secret")
    url = reverse("admin:cms_camera_change", args=[camera.pk])
    response = staff_client.post(url, camera_form(identifier=camera.identifier, username="viewer"))
    assert response.status_code == 302
    camera.refresh_from_db()
    assert camera.password == "kept-secret"


def test_password_can_be_cleared(staff_client):
    camera = make_camera(username="viewer", password="old-secret")
    url = reverse("admin:cms_camera_change", args=[camera.pk])
    form = camera_form(identifier=camera.identifier, clear_password="on")
    assert staff_client.post(url, form).status_code == 302
    camera.refresh_from_db()
    assert camera.password == ""


def test_bad_url_is_a_form_error_not_a_500(staff_client):
    response = staff_client.post(
        reverse("admin:cms_camera_add"), camera_form(url="concat:/etc/passwd")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"]
    assert not Camera.objects.exists()


def test_bad_crop_is_a_form_error_not_a_500(staff_client):
    display = make_display()
    data = {
        "name": display.name,
        "identifier": display.identifier,
        "camera": display.camera_id,
        "model": display.model_id,
        "enabled": "on",
        "crop_x1": "50",
        "crop_y1": "0",
        "crop_x2": "10",
        "crop_y2": "10",
        "policy": "every",
        "policy_interval_ms": "1000",
    }
    response = staff_client.post(reverse("admin:cms_display_change", args=[display.pk]), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors


def test_new_display_token_is_shown_once_and_works(staff_client):
    display = make_display()
    data = {
        "name": "Entrance",
        "identifier": "entrance",
        "camera": display.camera_id,
        "model": display.model_id,
        "enabled": "on",
        "policy": "every",
        "policy_interval_ms": "1000",
    }
    response = staff_client.post(reverse("admin:cms_display_add"), data, follow=True)
    assert response.status_code == 200
    [message] = [str(m) for m in response.context["messages"] if "<code>" in str(m)]
    token = message.split("<code>")[1].split("</code>")[0]
    created = Display.objects.get(identifier="entrance")
    assert created.token_hash == hash_token(token)
    # Not shown again on the next page.
    again = staff_client.get(reverse("admin:cms_display_change", args=[created.pk]))
    assert token.encode() not in again.content


def test_rotate_token_action_revokes_the_old_token(staff_client):
    display = make_display()
    old_hash = display.token_hash
    response = staff_client.post(
        reverse("admin:cms_display_changelist"),
        {"action": "rotate_tokens", "_selected_action": [display.pk]},
        follow=True,
    )
    assert response.status_code == 200
    display.refresh_from_db()
    assert display.token_hash != old_hash


def test_a_display_that_cannot_run_shows_pending_with_why(staff_client, redis_client):
    make_display(name="Hall", model=make_model(enabled=False))
    broken = make_display(name="Dock")
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            broken.camera_id, "w1", 1, "s", "online",
            display_errors=((broken.id, "model m 1: not a checkpoint"),),
        ),
    )  # fmt: skip

    listing = staff_client.get(reverse("admin:cms_display_changelist")).content.decode()
    page = staff_client.get(reverse("admin:cms_display_change", args=[broken.pk]))

    assert "pending: its model is disabled" in listing
    assert "pending: its model failed to load: model m 1: not a checkpoint" in listing
    assert "pending: its model failed to load" in page.content.decode()
