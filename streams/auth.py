"""HTTP/RTSP Basic and Digest authorization headers (RFC 7617, RFC 7616). Pure."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field

_PARAM = re.compile(r'([A-Za-z0-9_\-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)')
_HASHES = {"MD5": "md5", "SHA-256": "sha256"}


@dataclass
class Challenge:
    """One WWW-Authenticate challenge: its scheme and parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


def parse_challenges(headers: list[str]) -> list[Challenge]:
    """The challenges in WWW-Authenticate header values (several per header allowed)."""
    challenges: list[Challenge] = []
    for header in headers:
        for match in re.finditer(r"(?:^|,)\s*(Basic|Digest)\b", header, flags=re.IGNORECASE):
            rest = header[match.end() :]
            next_scheme = re.search(r",\s*(Basic|Digest)\b", rest, flags=re.IGNORECASE)
            body = rest[: next_scheme.start()] if next_scheme else rest
            params = {
                m.group(1).lower(): (m.group(3) if m.group(3) is not None else m.group(2))
                for m in _PARAM.finditer(body)
            }
            challenges.append(Challenge(match.group(1).capitalize(), params))
    return challenges


class Authorizer:
    """Builds Authorization headers for one set of credentials, after a challenge."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self._challenge: Challenge | None = None
        self._count = 0

    def accept(self, challenges: list[Challenge]) -> bool:
        """Pick the strongest challenge we can answer; False if none (or no credentials)."""
        if not self.username:
            return False
        usable = [
            c
            for c in challenges
            if c.scheme == "Basic"
            or (c.scheme == "Digest" and _algorithm(c) in _HASHES and "nonce" in c.params)
        ]
        if not usable:
            return False
        self._challenge = max(usable, key=lambda c: c.scheme == "Digest")
        self._count = 0
        return True

    @property
    def ready(self) -> bool:
        return self._challenge is not None

    def header(self, method: str, uri: str) -> str:
        """The Authorization value for `method` on `uri` (the request-target as sent)."""
        challenge = self._challenge
        if challenge is None:
            raise RuntimeError("no challenge accepted yet")
        if challenge.scheme == "Basic":
            token = f"{self.username}:{self.password}".encode()
            return "Basic " + base64.b64encode(token).decode("ascii")
        self._count += 1
        return digest_header(
            challenge, self.username, self.password, method, uri, self._count, secrets.token_hex(8)
        )


def _algorithm(challenge: Challenge) -> str:
    algorithm = challenge.params.get("algorithm", "MD5").upper()
    return algorithm.removesuffix("-SESS")


def digest_header(
    challenge: Challenge,
    username: str,
    password: str,
    method: str,
    uri: str,
    count: int,
    cnonce: str,
) -> str:
    """A Digest Authorization value (RFC 7616), qop=auth when offered."""
    params = challenge.params
    algorithm = params.get("algorithm", "MD5")
    name = _HASHES[_algorithm(challenge)]

    def h(text: str) -> str:
        return hashlib.new(name, text.encode(), usedforsecurity=False).hexdigest()

    realm, nonce = params.get("realm", ""), params["nonce"]
    ha1 = h(f"{username}:{realm}:{password}")
    if algorithm.upper().endswith("-SESS"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    fields = [
        f'username="{_quote(username)}"',
        f'realm="{_quote(realm)}"',
        f'nonce="{_quote(nonce)}"',
        f'uri="{_quote(uri)}"',
    ]
    if "auth" in qops:
        nc = f"{count:08x}"
        response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields += [f'response="{response}"', "qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    else:
        fields.append(f'response="{h(f"{ha1}:{nonce}:{ha2}")}"')
    if "algorithm" in params:
        fields.append(f"algorithm={algorithm}")
    if "opaque" in params:
        fields.append(f'opaque="{_quote(params["opaque"])}"')
    return "Digest " + ", ".join(fields)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
