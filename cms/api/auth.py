"""Display clients authenticate with their display's token: ``Authorization: Token <token>``.

Only a SHA-256 of each token is stored (Display.token_hash), so authenticating is a
hash lookup; the token itself is never logged or stored. Operators use DRF's own
TokenAuthentication and the admin session instead: the two token kinds are accepted by
different endpoints, so a display token never opens an operator endpoint and a staff
token is never taken for a display.

Failed tokens of either kind are counted per client address; an address that sent too many
gets 429 for further unknown tokens for a while (cms.lockout, docs/api.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from rest_framework.authentication import (
    BaseAuthentication,
    TokenAuthentication,
    get_authorization_header,
)
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request

from cms import lockout
from cms.models import Display, hash_token

KEYWORD = "token"
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True, eq=False)
class DisplayClient:
    """``request.user`` of an authenticated display client: never staff, holds no permission."""

    display: Display

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_perms(self, perm_list: Any, obj: Any = None) -> bool:
        return False

    def __str__(self) -> str:
        return f"display {self.display.identifier}"


def token_from_header(header: bytes) -> str | None:
    """The token of a ``Token <token>`` Authorization header; None for another scheme.

    Raises AuthenticationFailed for a malformed Token header.
    """
    parts = header.split()
    if not parts or parts[0].lower() != KEYWORD.encode():
        return None
    if len(parts) != 2 or len(parts[1]) > MAX_TOKEN_LENGTH:
        raise AuthenticationFailed("Invalid token header: use 'Authorization: Token <token>'.")
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        raise AuthenticationFailed("Invalid token header: the token is not ASCII.") from None


def display_for_token(token: str) -> Display:
    """The display a token belongs to, with its camera and model; AuthenticationFailed if none."""
    display = (
        Display.objects.select_related("camera", "model")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if display is None:
        raise AuthenticationFailed("Invalid or revoked display token.")
    return display


def authenticate_display(request: HttpRequest) -> Display | None:
    """The display of the request's Authorization header, None without a Token header.

    Raises AuthenticationFailed for a wrong or malformed token, Throttled (429) instead
    while the client's address is locked out for failed tokens.
    """
    try:
        # DRF's reader works on a Django request too: it reads only request.META.
        token = token_from_header(get_authorization_header(cast(Request, request)))
        return None if token is None else display_for_token(token)
    except AuthenticationFailed:
        refuse_locked_out(request, "display")
        raise


def refuse_locked_out(request: HttpRequest, kind: lockout.TokenKind) -> None:
    """Count a failed token; raise Throttled when its client's address is locked out."""
    seconds = lockout.failed_token(request, kind)
    if seconds is not None:
        raise Throttled(wait=seconds, detail=lockout.lockout_message(seconds))


class DisplayTokenAuthentication(BaseAuthentication):
    """DRF authentication for the display client endpoints (``/api/v1/display/...``)."""

    def authenticate(self, request: Request) -> tuple[DisplayClient, Display] | None:
        display = authenticate_display(request._request)
        return None if display is None else (DisplayClient(display), display)

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return 'Token realm="display"'


class StaffTokenAuthentication(TokenAuthentication):
    """DRF's token authentication for operators, with failed tokens counted like displays'."""

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, Token] | None:
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            refuse_locked_out(request._request, "staff")
            raise
