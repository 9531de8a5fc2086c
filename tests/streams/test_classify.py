"""Turning what servers and sockets say into a StreamReason."""

from __future__ import annotations

import errno
import socket
import ssl

import pytest

from streams import StreamReason
from streams.classify import (
    HTTP_MJPEG,
    HTTP_PLAYLIST,
    HTTP_SNAPSHOT,
    HTTP_VIDEO,
    http_kind,
    multipart_boundary,
    reason_for_os_error,
    reason_for_status,
)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (200, None),
        (401, StreamReason.AUTH),
        (403, StreamReason.AUTH),
        (404, StreamReason.NOT_FOUND),
        (454, StreamReason.NOT_FOUND),
        (408, StreamReason.TIMEOUT),
        (453, StreamReason.UNAVAILABLE),
        (503, StreamReason.UNAVAILABLE),
        (400, StreamReason.UNSUPPORTED),
        (461, StreamReason.UNSUPPORTED),
    ],
)
def test_status_codes(code: int, reason: StreamReason | None) -> None:
    assert reason_for_status(code) is reason


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (TimeoutError("timed out"), StreamReason.TIMEOUT),
        (OSError(errno.ETIMEDOUT, "timed out"), StreamReason.TIMEOUT),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), StreamReason.UNREACHABLE),
        (OSError(errno.EHOSTUNREACH, "no route"), StreamReason.UNREACHABLE),
        (socket.gaierror(-2, "Name or service not known"), StreamReason.UNREACHABLE),
        (ssl.SSLError("wrong version number"), StreamReason.UNSUPPORTED),
    ],
)
def test_socket_errors(error: BaseException, reason: StreamReason) -> None:
    assert reason_for_os_error(error) is reason


@pytest.mark.parametrize(
    ("content_type", "body", "kind"),
    [
        ("multipart/x-mixed-replace; boundary=frame", b"", HTTP_MJPEG),
        ("image/jpeg", b"", HTTP_SNAPSHOT),
        ("application/vnd.apple.mpegurl", b"", HTTP_PLAYLIST),
        ("application/octet-stream", b"#EXTM3U\n", HTTP_PLAYLIST),
        ("video/mp4", b"", HTTP_VIDEO),
        ("", b"", HTTP_VIDEO),
        ("text/html; charset=utf-8", b"", None),
        ("application/json", b"", None),
    ],
)
def test_http_kinds(content_type: str, body: bytes, kind: str | None) -> None:
    assert http_kind(content_type, body) == kind


def test_multipart_boundaries() -> None:
    assert multipart_boundary("multipart/x-mixed-replace; boundary=frame") == "frame"
    assert multipart_boundary('multipart/x-mixed-replace;boundary="--my b"') == "--my b"
    assert multipart_boundary("multipart/x-mixed-replace") is None
