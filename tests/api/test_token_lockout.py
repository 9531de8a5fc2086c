"""Failed API tokens are counted per client address (cms.lockout, django-axes).

Past SIGHTLINE_TOKEN_FAILURE_LIMIT an address gets 429 with Retry-After for unknown
tokens; valid tokens from it keep working; other addresses are not affected.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
DISPLAY = "/api/v1/display/"
STAFF = "/api/v1/cameras/"
EVENTS = "/api/v1/display/events/"


def get(path: str, token: str, address: str = ATTACKER) -> object:
    return APIClient(REMOTE_ADDR=address).get(path, HTTP_AUTHORIZATION=f"Token {token}")


def fail_until_locked(path: str, settings) -> list[int]:
    return [
        get(path, f"wrong-{n}").status_code for n in range(settings.SIGHTLINE_TOKEN_FAILURE_LIMIT)
    ]


def test_too_many_wrong_display_tokens_lock_the_address_out(display_a, settings):
    statuses = fail_until_locked(DISPLAY, settings)

    assert statuses[:-1] == [401] * (len(statuses) - 1)
    assert statuses[-1] == 429
    response = get(DISPLAY, "wrong-again")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= settings.SIGHTLINE_LOCKOUT_S
    assert "locked out" in response.json()["detail"]


def test_a_valid_token_still_works_from_a_locked_out_address(display_a, settings):
    fail_until_locked(DISPLAY, settings)

    assert get(DISPLAY, display_a[1]).status_code == 200


def test_the_token_lockout_does_not_apply_to_another_address(display_a, settings):
    fail_until_locked(DISPLAY, settings)

    assert get(DISPLAY, "wrong", address=ELSEWHERE).status_code == 401


def test_staff_tokens_are_counted_too(superuser, settings):
    settings.SIGHTLINE_TOKEN_FAILURE_LIMIT = 3
    assert [get(STAFF, f"wrong-{n}").status_code for n in range(4)] == [401, 401, 429, 429]
    assert get(STAFF, Token.objects.create(user=superuser).key).status_code == 200


def test_the_event_stream_refuses_a_locked_out_address_with_429(display_a, settings):
    settings.SIGHTLINE_TOKEN_FAILURE_LIMIT = 2
    fail_until_locked(DISPLAY, settings)

    response = get(EVENTS, "wrong")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "locked out" in response.json()["detail"]


def test_requests_without_a_token_are_not_counted(settings):
    settings.SIGHTLINE_TOKEN_FAILURE_LIMIT = 2
    client = APIClient(REMOTE_ADDR=ATTACKER)
    assert {client.get(DISPLAY).status_code for _ in range(5)} == {401}


def test_axes_reset_ip_unlocks_the_address(display_a, settings):
    fail_until_locked(DISPLAY, settings)
    assert get(DISPLAY, "wrong").status_code == 429

    call_command("axes_reset_ip", ATTACKER)

    assert get(DISPLAY, "wrong").status_code == 401


def test_the_token_lock_ends_after_the_cool_off(display_a, settings):
    settings.SIGHTLINE_TOKEN_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(seconds=2)
    fail_until_locked(DISPLAY, settings)

    deadline = time.monotonic() + 20
    while (status := get(DISPLAY, "wrong").status_code) == 429 and time.monotonic() < deadline:
        time.sleep(0.2)  # refused attempts are not counted, so they do not extend the lock
    assert status == 401
