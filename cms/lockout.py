"""Lockouts after repeated failed logins and failed API tokens, counted by django-axes.

- Admin login: failures per (username, client address). After
  ``SIGHTLINE_LOGIN_FAILURE_LIMIT`` of them that username is refused from that address,
  the right password too, for ``SIGHTLINE_LOCKOUT_S`` after the failure that locked it.
  The pair, not the username alone: an attacker elsewhere cannot lock the real admin out.
- API tokens (display and staff): failed tokens per client address, counted by axes under
  a marker username per token kind (``TOKEN_USERNAMES``; ``:`` is not allowed in Django
  usernames, so no account shares it). After ``SIGHTLINE_TOKEN_FAILURE_LIMIT`` of them,
  further unknown tokens from that address get 429 and are no longer counted; a valid
  token is never refused (see docs/api.md, "Failed tokens", for why).

Attempts live in axes' own tables (the web process's database, SQLite or PostgreSQL), are
shown in the admin (Axes > Access attempts) and reset with ``manage.py axes_reset*``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

TokenKind = Literal["display", "staff"]
TOKEN_USERNAMES: dict[TokenKind, str] = {"display": "token:display", "staff": "token:staff"}
LOCKOUT_TEMPLATE = "admin/lockout.html"


def failure_limit(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    """AXES_FAILURE_LIMIT: the token limit for the token markers, the login limit otherwise."""
    if get_client_username(request, credentials) in TOKEN_USERNAMES.values():
        return int(settings.SIGHTLINE_TOKEN_FAILURE_LIMIT)
    return int(settings.SIGHTLINE_LOGIN_FAILURE_LIMIT)


def seconds_left(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    """Seconds until the lock of this request's (username, address) ends; at least 1."""
    cool_off = get_cool_off(request)
    if cool_off is None:  # not configured: locked until reset
        return int(settings.SIGHTLINE_LOCKOUT_S)
    last = AccessAttempt.objects.filter(
        username=get_client_username(request, credentials),
        ip_address=getattr(request, "axes_ip_address", None),
    ).aggregate(last=Max("attempt_time"))["last"]
    if last is None:
        return max(1, math.ceil(cool_off.total_seconds()))
    return max(1, math.ceil((last + cool_off - timezone.now()).total_seconds()))


def lockout_message(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}" if seconds >= 60 else f"{seconds} s"
    return (
        f"Too many failed attempts from your address: locked out. Try again in {wait}, "
        "or ask an administrator to unlock it (docs/deploy.md, 'Lockouts')."
    )


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with Retry-After; JSON under /api/, a page elsewhere.

    axes' async middleware passes the credentials in ``original_response``'s place, so
    they are taken from the request, where axes keeps them.
    """
    credentials = getattr(request, "axes_credentials", None) or (
        credentials if isinstance(credentials, dict) else None
    )
    seconds = seconds_left(request, credentials)
    message = lockout_message(seconds)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429, headers={"Retry-After": str(seconds)})
    context = {
        "message": message,
        "username": get_client_username(request, credentials) or "",
        "seconds": seconds,
        "site_header": "Sightline",
        "site_title": "Sightline",
        "title": "Locked out",
    }
    response = render(request, LOCKOUT_TEMPLATE, context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def failed_token(request: HttpRequest, kind: TokenKind) -> int | None:
    """Count a failed token of ``kind`` from the request's client address.

    Returns the seconds the address stays locked out for when it is (then the failure is
    not counted: a flood during a lockout writes nothing), None when it is not.
    """
    credentials = {"username": TOKEN_USERNAMES[kind]}
    if not AxesProxyHandler.is_allowed(request, credentials):
        return seconds_left(request, credentials)
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if getattr(request, "axes_locked_out", False):
        return seconds_left(request, credentials)
    return None
