"""Typed readers for environment variables that fail loudly.

Every setting that comes from the environment goes through one of these, so a
bad value stops the process at start with a message naming the variable
instead of surfacing later as a confusing error (healthchecks' ``envbool``).
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
# The databases Sightline is tested on.
SUPPORTED_DATABASE_ENGINES = {"django.db.backends.sqlite3", "django.db.backends.postgresql"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str, environ_: Mapping[str, str] | None) -> str | None:
    return (os.environ if environ_ is None else environ_).get(name)


def env_str(name: str, default: str = "", *, environ_: Mapping[str, str] | None = None) -> str:
    """The variable's value, or ``default`` when it is unset."""
    value = _raw(name, environ_)
    return default if value is None else value


def env_choice(
    name: str,
    default: str,
    choices: tuple[str, ...],
    *,
    environ_: Mapping[str, str] | None = None,
) -> str:
    """One of ``choices`` (case and surrounding blanks ignored); anything else is an error."""
    value = _raw(name, environ_)
    if value is None or not value.strip():
        return default
    lowered = value.strip().lower()
    if lowered not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(choices)}")
    return lowered


def env_bool(name: str, default: bool, *, environ_: Mapping[str, str] | None = None) -> bool:
    """A boolean written as 1/0, true/false, yes/no or on/off; anything else is an error."""
    value = _raw(name, environ_)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use 1/0, true/false, yes/no")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    environ_: Mapping[str, str] | None = None,
) -> int:
    """An integer, at least ``minimum`` when given."""
    value = _raw(name, environ_)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}")
    return number


def env_float(
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    greater_than: float | None = None,
    environ_: Mapping[str, str] | None = None,
) -> float:
    """A number (not NaN), at least ``minimum`` and greater than ``greater_than`` when given.

    ``minimum`` is inclusive, as for env_int; ``greater_than`` is for a bound the value
    may not reach (a timeout of 0 s).
    """
    value = _raw(name, environ_)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None
    if math.isnan(number):
        raise ImproperlyConfigured(f"{name}={value!r} is not a number")
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r} must be at least {minimum}")
    if greater_than is not None and number <= greater_than:
        raise ImproperlyConfigured(f"{name}={value!r} must be greater than {greater_than}")
    return number


def env_list(
    name: str, default: list[str], *, environ_: Mapping[str, str] | None = None
) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    value = _raw(name, environ_)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str, *, environ_: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list of CIDR networks (10.0.0.0/8, fd00::/8)."""
    values = env_list(name, [], environ_=environ_)
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            message = f"{name}: {value!r} is not a network like 10.0.0.0/8"
            raise ImproperlyConfigured(message) from None
    return values


def env_database(
    name: str, default: str, *, environ_: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A Django DATABASES entry parsed from a URL (sqlite:///path, postgres://...)."""
    url = env_str(name, default, environ_=environ_)
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for a bad URL
        raise ImproperlyConfigured(f"{name} is not a database URL: {exc}") from None
    if config.get("ENGINE") not in SUPPORTED_DATABASE_ENGINES:
        raise ImproperlyConfigured(
            f"{name} must be a sqlite:/// or postgres:// URL (got scheme {url.split(':', 1)[0]!r})"
        )
    return config


def redis_broker_url(redis_url: str) -> str:
    """The kombu/Celery spelling of a redis-py URL (they differ only for Unix sockets)."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url
