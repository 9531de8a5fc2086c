"""Which camera URLs may be opened (how they are shown without passwords: streams.redaction).

FFmpeg accepts far more than network cameras: ``file:``, ``concat:``, ``subfile:``,
``pipe:``, ``data:`` and friends read local files, other processes or inline data.
Everything here is decided before FFmpeg sees a URL; FFmpeg is also given a protocol
whitelist (streams/sources/ffmpeg.py) as a second line.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

from streams.errors import UnsafeURLError
from streams.redaction import redact_url

NETWORK_SCHEMES = ("rtsp", "rtsps", "http", "https")
MAX_URL_LENGTH = 2048
# Schemes FFmpeg (or a URL parser) treats as a way to reach something other than a
# camera on the network; named in the error so an operator learns why.
PSEUDO_PROTOCOLS = frozenset(
    {
        "file", "concat", "concatf", "subfile", "pipe", "fd", "data", "cache", "async",
        "crypto", "tee", "hls", "gopher", "gophers", "unix", "udp", "tcp", "rtp", "srtp",
        "udplite", "sctp", "tls", "srt", "ftp", "sftp", "smb", "md5", "ipfs", "ipns",
        "android_content", "zmq", "rtmp", "rtmps", "rtmpt", "rtmpe", "mmsh", "mmst",
    }
)  # fmt: skip
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_HOST_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-_.]*[A-Za-z0-9])?$")

Networks = Iterable[str | ipaddress.IPv4Network | ipaddress.IPv6Network]


def validate_stream_url(
    url: str,
    *,
    allow_files: bool = False,
    allowed_networks: Networks = (),
    denied_networks: Networks = (),
) -> None:
    """Raise UnsafeURLError (with a message for the operator) unless `url` may be opened.

    Accepted: rtsp, rtsps, http and https URLs naming a host, and absolute local paths
    when `allow_files`. With `allowed_networks`/`denied_networks` (CIDR strings), the
    host must resolve into an allowed network and into no denied one; a host name is
    resolved for this (so run it again just before opening).
    """
    if not isinstance(url, str) or not url:
        raise UnsafeURLError("The URL is empty.")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURLError(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise UnsafeURLError("The URL must not contain spaces or control characters.")
    if url.startswith("/"):
        _validate_local_path(url, allow_files)
        return
    match = _SCHEME.match(url)
    if not match:
        raise UnsafeURLError(
            "Not a camera URL: give an rtsp://, rtsps://, http:// or https:// address"
            + (", or an absolute path to a video file." if allow_files else ".")
        )
    scheme = match.group(1).lower()
    if scheme not in NETWORK_SCHEMES:
        raise UnsafeURLError(_refused_scheme_message(scheme, allow_files))
    _validate_network_url(url, scheme, list(allowed_networks), list(denied_networks))


def _refused_scheme_message(scheme: str, allow_files: bool) -> str:
    allowed = "Only rtsp://, rtsps://, http:// and https:// are accepted"
    if scheme == "file":
        hint = " (local files are given as an absolute path)" if allow_files else ""
        return f"file: URLs are refused. {allowed}{hint}."
    if scheme in PSEUDO_PROTOCOLS or "+" in scheme:
        return (
            f"'{scheme}:' is refused: FFmpeg would use it to read local files, other "
            f"programs or other protocols instead of a camera. {allowed}."
        )
    return f"The scheme '{scheme}:' is not supported. {allowed}."


def _validate_local_path(url: str, allow_files: bool) -> None:
    if not allow_files:
        raise UnsafeURLError(
            "Local files are not allowed as camera sources on this installation "
            "(SIGHTLINE_ALLOW_FILE_SOURCES is off)."
        )
    if "\x00" in url or ".." in PurePosixPath(url).parts:
        raise UnsafeURLError("A local video path must be absolute and must not contain '..'.")


def _validate_network_url(
    url: str, scheme: str, allowed: list[object], denied: list[object]
) -> None:
    parts = urlsplit(url)
    if not url[len(scheme) + 1 :].startswith("//"):
        raise UnsafeURLError(f"A {scheme}:// URL needs a host: {scheme}://host/path.")
    host = parts.hostname or ""
    if not host:
        raise UnsafeURLError(f"The URL names no host: {scheme}://host/path.")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise UnsafeURLError("The URL's port is not a number between 0 and 65535.") from None
    if not (_is_ip_literal(host) or _HOST_NAME.match(host)):
        raise UnsafeURLError(f"'{host}' is not a valid host name.")
    if allowed or denied:
        _check_networks(host, _networks(allowed), _networks(denied))


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _networks(values: list[object]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """CIDR strings to networks; a bad one is a configuration error (plain ValueError)."""
    return [ipaddress.ip_network(str(value).strip(), strict=False) for value in values]


def host_addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address `host` resolves to (an IP literal is its own only address)."""
    if _is_ip_literal(host):
        return [ipaddress.ip_address(host)]
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _check_networks(
    host: str,
    allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
    denied: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> None:
    try:
        addresses = host_addresses(host)
    except OSError:
        if allowed:
            raise UnsafeURLError(
                f"'{host}' does not resolve, so it cannot be checked against the allowed "
                "camera networks."
            ) from None
        return  # nothing to connect to, so nothing denied to reach
    for address in addresses:
        mapped = getattr(address, "ipv4_mapped", None) or address
        if any(mapped in network for network in denied if network.version == mapped.version):
            raise UnsafeURLError(f"'{host}' ({address}) is in a denied camera network.")
        if allowed and not any(
            mapped in network for network in allowed if network.version == mapped.version
        ):
            raise UnsafeURLError(f"'{host}' ({address}) is outside the allowed camera networks.")


def check_playlist(text: str, base_url: str) -> None:
    """Raise UnsafeURLError if an HLS playlist points anywhere but http(s).

    Relative entries (even ``/etc/passwd``) resolve against `base_url` to the same
    web server; absolute ones with another scheme (``file:``, ``data:``) are what
    escapes. URIs inside tags (keys, init sections, renditions) count too.
    """
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        targets = re.findall(r'URI="([^"]*)"', line) if line.startswith("#") else [line]
        for target in targets:
            resolved = urljoin(base_url, target)
            scheme = urlsplit(resolved).scheme.lower()
            if scheme not in ("http", "https"):
                raise UnsafeURLError(
                    f"The playlist refers to '{redact_url(target)}', which is not an "
                    "http(s) address; playlists may not point at local files or other "
                    "protocols."
                )
