"""Passwords in camera URLs, messages and log lines: split out, put back, masked.

The one place that knows how a secret can appear in text: the camera's own password
(plain or percent-encoded), a URL's userinfo, secret-looking query and key=value
values, Authorization headers. Django-free, so the streams package, the web side
(admin, API, logs) and the health check all mask the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit, urlunsplit

MASK = "***"
SECRET_QUERY_KEYS = frozenset(
    {"password", "passwd", "pass", "pwd", "psw", "token", "secret", "key", "auth", "signature"}
)

# scheme://user:password@host -> scheme://user:***@host (the user stays: it helps and is no secret).
# Greedy up to the last "@" of the run, so a raw "@" inside the password is masked too.
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:@/\s]*:)[^\s/]+(?=@)")
# password=..., ?token=..., display_token=..., api_key=... (query strings, DSNs, key=value text).
# Short or ambiguous names (key, auth, pass) only as query parameters.
_SENSITIVE_NAME = (
    r"[A-Za-z0-9_\-]*(?:password|passwd|passphrase|pwd|secret|token|api_?key|signature|basic_auth)"
)
_SECRET_VALUE = re.compile(
    rf"(?i)(?P<head>(?:{_SENSITIVE_NAME}|(?<=[?&;])(?:key|auth|pass|psw|sig))=)"
    r"(?P<value>[^\s&;,'\"#)\]}\\]+)"
)
# {'password': 'x'}, "cookie_secret": "x" (reprs of dicts, JSON).
_SECRET_ITEM = re.compile(
    rf"(?i)(?P<head>['\"]{_SENSITIVE_NAME}['\"]\s*:\s*['\"])(?P<value>[^'\"\\]+)"
)
# Authorization: Basic abc / 'Authorization': 'Token abc' / authorization=Bearer abc
_AUTHORIZATION = re.compile(
    r"(?i)(?P<head>(?:proxy-)?authorization['\"]?\s*[:=]\s*['\"]?(?:[A-Za-z]+\s+)?)"
    r"(?P<value>[^\s'\",}\]]+)"
)


# --- credentials in a URL -------------------------------------------------------------------


def split_credentials(url: str) -> tuple[str, str, str]:
    """(url without userinfo, username, password) from a URL that may carry them.

    The user name and password come back percent-decoded; the host and port stay as
    written (IPv6 literals keep their brackets). A URL without userinfo comes back
    unchanged with empty credentials. Raises ValueError for a URL that cannot be parsed
    (an unclosed IPv6 bracket).
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, "", ""
    hostport = parts.netloc.rpartition("@")[2]
    bare = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return bare, unquote(parts.username or ""), unquote(parts.password or "")


def with_credentials(url: str, username: str, password: str) -> str:
    """`url` (without credentials) with these in its authority, percent-encoded, for FFmpeg."""
    if not username:
        return url
    parts = urlsplit(url)
    hostport = parts.netloc.rpartition("@")[2]
    userinfo = quote(username, safe="")
    if password:
        userinfo += ":" + quote(password, safe="")
    return urlunsplit((parts.scheme, f"{userinfo}@{hostport}", parts.path, parts.query, ""))


# --- masking ------------------------------------------------------------------------------------


def redact_url(url: str) -> str:
    """`url` with any password (and secret-looking query values) replaced by '***'."""
    if not url or url.startswith("/"):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//([^/@:]*):[^/@]*@", rf"//\1:{MASK}@", url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{hostport}" if has_password else f"{user}@{hostport}"
    query = "&".join(_redact_query_item(item) for item in parts.query.split("&"))
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _redact_query_item(item: str) -> str:
    key, has_value, _ = item.partition("=")
    if has_value and key.lower() in SECRET_QUERY_KEYS:
        return f"{key}={MASK}"
    return item


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of each secret (plain or percent-encoded) masked."""
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret, safe="")}:
                text = text.replace(form, MASK)
    return text


def mask_secrets(text: str) -> str:
    """`text` with URL passwords, secret key=value values and Authorization credentials masked.

    For free text whose secrets are not known in advance (log lines, error messages); add
    `redact_text` for a known password that may appear on its own.
    """
    if not text:
        return text
    text = _URL_PASSWORD.sub(rf"\g<head>{MASK}", text)
    text = _SECRET_VALUE.sub(rf"\g<head>{MASK}", text)
    text = _SECRET_ITEM.sub(rf"\g<head>{MASK}", text)
    return _AUTHORIZATION.sub(rf"\g<head>{MASK}", text)
