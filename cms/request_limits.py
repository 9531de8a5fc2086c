"""Refuse oversized and anonymous uploads before their body is read (ASGI middleware).

Django's ASGI handler reads a whole request body (spooling it to a temporary file) before
any middleware or view runs, so a size limit or a 401 from a view comes after the cost. This
middleware, outside Django, decides from the request line and headers alone:

- a weights upload (POST, PUT or PATCH under the API's or the admin's model pages) from a
  caller who is not an active staff user: 401 (no credentials) or 403, body unread;
- a body announced (``Content-Length``) larger than the route's limit: 413, body unread;
- a streamed (chunked) body that grows past the limit: 413 as soon as it does; Django then
  sees a disconnect, drops what it had spooled and runs nothing.

Limits: ``SIGHTLINE_MAX_UPLOAD_MB`` for weights uploads, ``SIGHTLINE_MAX_REQUEST_KB`` for
everything else (docs/configuration.md). The decisions are pure functions, tested as such.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings

Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UPLOAD_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Where model weights are uploaded: the API's models and the admin's model pages.
UPLOAD_PREFIXES = ("/api/v1/models/", "/admin/cms/detectionmodel/")


@dataclass(frozen=True)
class Limits:
    request_bytes: int
    upload_bytes: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            request_bytes=settings.SIGHTLINE_MAX_REQUEST_KB * 1024,
            upload_bytes=settings.SIGHTLINE_MAX_UPLOAD_MB * 1024 * 1024,
        )


@dataclass(frozen=True)
class Refusal:
    status: int
    detail: str


def is_upload(method: str, path: str) -> bool:
    """Whether the request may carry model weights (and so a large body)."""
    return method in UPLOAD_METHODS and path.startswith(UPLOAD_PREFIXES)


def body_limit(method: str, path: str, limits: Limits) -> int:
    return limits.upload_bytes if is_upload(method, path) else limits.request_bytes


def announced_length(headers: Iterable[tuple[bytes, bytes]]) -> int | None:
    """The ``Content-Length`` header as a number; None when absent (chunked, or no body).

    The ASGI server has already refused a malformed one.
    """
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def too_large(length: int, limit: int) -> Refusal | None:
    if length <= limit:
        return None
    return Refusal(413, f"The request body is larger than this server accepts ({limit} bytes).")


def caller_refusal(*, authenticated: bool, staff: bool) -> Refusal | None:
    """Only active staff upload weights: 401 without credentials, 403 without the right."""
    if not authenticated:
        return Refusal(401, "Authentication credentials were not provided or are not valid.")
    if not staff:
        return Refusal(403, "You do not have permission to perform this action.")
    return None


def credentials(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str, str]:
    """The DRF token (``Authorization: Token <key>``) and the session cookie, "" when absent."""
    from django.http.cookie import parse_cookie

    token = session = ""
    for name, value in headers:
        name = name.lower()
        if name == b"authorization":
            keyword, _, key = value.decode("latin-1").partition(" ")
            if keyword.lower() == "token":
                token = key.strip()
        elif name == b"cookie":
            cookies = parse_cookie(value.decode("latin-1"))
            session = cookies.get(settings.SESSION_COOKIE_NAME, session)
    return token, session


def _caller(token: str, session_key: str) -> tuple[bool, bool]:
    """(authenticated, active staff) for these credentials, read from the database."""
    from django.contrib import auth
    from django.db import close_old_connections, connection
    from rest_framework.authtoken.models import Token

    close_old_connections()
    try:
        user: Any = None
        if token:
            found = Token.objects.select_related("user").filter(key=token).first()
            user = found.user if found else None
        elif session_key:
            store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
            user = auth.get_user(_SessionOnly(store))  # type: ignore[arg-type]  # .session only
        if user is None or not user.is_authenticated or not user.is_active:
            return False, False
        return True, bool(user.is_staff)
    finally:
        # Outside Django's request cycle nobody else closes this thread's connection.
        connection.close()


class _SessionOnly:
    """What ``auth.get_user`` reads of a request: its session."""

    def __init__(self, session: Any) -> None:
        self.session = session


class RequestLimits:
    """ASGI middleware around the whole application (see the module doc)."""

    def __init__(self, app: ASGIApp, limits: Limits | None = None) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits = self.limits or Limits.from_settings()
        method, path, headers = scope["method"], scope["path"], scope["headers"]
        limit = body_limit(method, path, limits)
        refusal = None
        if is_upload(method, path):
            authenticated, staff = await sync_to_async(_caller)(*credentials(headers))
            refusal = caller_refusal(authenticated=authenticated, staff=staff)
        length = announced_length(headers)
        if refusal is None and length is not None:
            refusal = too_large(length, limit)
        if refusal is not None:
            await respond(send, refusal)
            return
        await self.app(scope, _CappedReceive(receive, send, limit), send)


class _CappedReceive:
    """``receive`` that answers 413 once the body passes ``limit`` and then says disconnect.

    Django's handler reads the whole body before it runs anything, so no response has
    started when the cap is hit; on the disconnect it closes its spool file and returns.
    """

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self.receive, self.send, self.limit = receive, send, limit
        self.received = 0
        self.refused = False

    async def __call__(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self.receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            refusal = too_large(self.received, self.limit)
            if refusal is not None:
                self.refused = True
                await respond(self.send, refusal)
                return {"type": "http.disconnect"}
        return message


async def respond(send: Send, refusal: Refusal) -> None:
    """The refusal as the API's error shape, ``{"detail": ...}``; the connection closes."""
    body = json.dumps({"detail": refusal.detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if refusal.status == 401:
        headers.append((b"www-authenticate", b"Token"))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
