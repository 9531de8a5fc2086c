"""Admin login lockout (django-axes): per (username, client address), with its cool-off and reset.

Real login view, real database; the cool-off is shortened so the tests can wait it out.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
PASSWORD = "right-pass-123"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("admin", "", PASSWORD)


def login(address: str, password: str, username: str = "admin") -> tuple[int, Client]:
    """POST the admin login form from ``address``: (status, the client, logged in or not)."""
    client = Client(REMOTE_ADDR=address)
    response = client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})
    return response.status_code, client


def logged_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_twenty_wrong_passwords_lock_that_username_out_from_that_address(admin_user, settings):
    statuses = [login(ATTACKER, f"guess-{n}")[0] for n in range(20)]

    limit = settings.SIGHTLINE_LOGIN_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, with its error
    assert set(statuses[limit - 1 :]) == {429}
    status, client = login(ATTACKER, PASSWORD)
    assert status == 429  # the right password too
    assert not logged_in(client)


def test_the_lockout_page_says_how_long_and_how_to_unlock(admin_user, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    for n in range(settings.SIGHTLINE_LOGIN_FAILURE_LIMIT):
        response = Client(REMOTE_ADDR=ATTACKER).post(
            LOGIN, {"username": "admin", "password": f"guess-{n}"}
        )

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= settings.SIGHTLINE_LOCKOUT_S
    page = response.content.decode()
    assert "Try again in 15 minutes" in page
    assert "axes_reset_ip_username" in page


def test_the_lockout_does_not_apply_to_another_address_or_username(
    admin_user, django_user_model, settings
):
    django_user_model.objects.create_superuser("other", "", PASSWORD)
    for n in range(settings.SIGHTLINE_LOGIN_FAILURE_LIMIT):
        login(ATTACKER, f"guess-{n}")

    status, client = login(ELSEWHERE, PASSWORD)
    assert status == 302 and logged_in(client)
    status, client = login(ATTACKER, PASSWORD, username="other")
    assert status == 302 and logged_in(client)


def test_the_lock_ends_after_the_cool_off(admin_user, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=2)
    for n in range(settings.SIGHTLINE_LOGIN_FAILURE_LIMIT):
        login(ATTACKER, f"guess-{n}")
    assert login(ATTACKER, PASSWORD)[0] == 429

    deadline = time.monotonic() + 20
    while (status := login(ATTACKER, PASSWORD))[0] == 429 and time.monotonic() < deadline:
        time.sleep(0.2)  # attempts during the lockout do not extend it
    assert status[0] == 302 and logged_in(status[1])


@pytest.mark.parametrize(
    "command",
    [("axes_reset",), ("axes_reset_ip", ATTACKER), ("axes_reset_ip_username", ATTACKER, "admin")],
)
def test_a_reset_command_unlocks_at_once(admin_user, settings, command):
    for n in range(settings.SIGHTLINE_LOGIN_FAILURE_LIMIT):
        login(ATTACKER, f"guess-{n}")
    assert login(ATTACKER, PASSWORD)[0] == 429

    call_command(*command)

    status, client = login(ATTACKER, PASSWORD)
    assert status == 302 and logged_in(client)


def test_a_successful_login_resets_the_failure_count(admin_user, settings):
    almost = settings.SIGHTLINE_LOGIN_FAILURE_LIMIT - 1
    for n in range(almost):
        login(ATTACKER, f"guess-{n}")
    assert login(ATTACKER, PASSWORD)[0] == 302

    for n in range(almost):
        assert login(ATTACKER, f"again-{n}")[0] == 200
    status, client = login(ATTACKER, PASSWORD)
    assert status == 302 and logged_in(client)


def test_the_limit_is_a_setting(admin_user, settings):
    settings.SIGHTLINE_LOGIN_FAILURE_LIMIT = 2
    assert [login(ATTACKER, f"guess-{n}")[0] for n in range(3)] == [200, 429, 429]
