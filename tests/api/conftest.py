"""API fixtures: clients for operators, staff without rights, and display clients."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cms.models import Display
from tests.factories import make_display


@pytest.fixture(autouse=True)
def _empty_redis(redis_client):
    """Every API test starts with an empty Redis: no live state, no throttle counts."""
    return redis_client


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Users here log in by token or force_login: a slow password hash buys nothing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class TokenClient(APIClient):
    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token
        self.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    def credentials_key(self) -> str:
        return self._token


def token_client(token: str) -> TokenClient:
    return TokenClient(token)


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "", "root-pass-123")


@pytest.fixture
def operator(superuser) -> APIClient:
    """A superuser authenticated by a personal DRF token."""
    client = token_client(Token.objects.create(user=superuser).key)
    client.user = superuser
    return client


@pytest.fixture
def make_user(django_user_model) -> Callable[..., Any]:
    counter = itertools.count(1)

    def make(*, staff: bool = True, perms: tuple[str, ...] = ()) -> Any:
        n = next(counter)
        user = django_user_model.objects.create_user(f"user{n}", "", "user-pass-123")
        user.is_staff = staff
        user.save()
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return django_user_model.objects.get(pk=user.pk)  # fresh permission cache

    return make


def user_client(user: Any) -> APIClient:
    return token_client(Token.objects.create(user=user).key)


def display_with_token(**fields: Any) -> tuple[Display, str]:
    display = make_display(**fields)
    token = display.rotate_token()
    display.save(update_fields=["token_hash"])
    return display, token


@pytest.fixture
def display_a() -> tuple[Display, str]:
    return display_with_token(name="Lobby")


@pytest.fixture
def display_b() -> tuple[Display, str]:
    return display_with_token(name="Car park")
