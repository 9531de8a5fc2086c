"""Why a source failed, from what the server or the operating system said. Pure functions."""

from __future__ import annotations

import errno
import socket
import ssl

from streams.entities import StreamReason


def reason_for_status(code: int) -> StreamReason | None:
    """The reason behind an RTSP or HTTP status code; None for success (2xx)."""
    if 200 <= code < 300:
        return None
    if code in (401, 403, 407):
        return StreamReason.AUTH
    if code in (404, 410, 454):  # 454: RTSP Session Not Found
        return StreamReason.NOT_FOUND
    if code in (408, 504):
        return StreamReason.TIMEOUT
    if code in (453, 503):  # 453: RTSP Not Enough Bandwidth; 503: Service Unavailable
        return StreamReason.UNAVAILABLE
    if code >= 500:  # other server trouble
        return StreamReason.UNREACHABLE
    return StreamReason.UNSUPPORTED


def reason_for_os_error(error: BaseException) -> StreamReason:
    """The reason behind a failed connect, send or receive."""
    if isinstance(error, TimeoutError):
        return StreamReason.TIMEOUT
    if isinstance(error, socket.gaierror):
        return StreamReason.UNREACHABLE
    if isinstance(error, ssl.SSLError):
        return StreamReason.UNSUPPORTED  # it answered, but not with TLS we can use
    if isinstance(error, OSError) and error.errno == errno.ETIMEDOUT:
        return StreamReason.TIMEOUT
    # Refused, reset, no route, closed mid-answer: the camera cannot be reached now.
    return StreamReason.UNREACHABLE


def describe_os_error(error: BaseException) -> str:
    """A short human phrase for a network error (no addresses, no credentials)."""
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(error, OSError) and error.errno is not None:
        return error.strerror or str(error)
    return str(error) or type(error).__name__


# What an HTTP answer's Content-Type says about how to read it.
HTTP_MJPEG = "mjpeg"
HTTP_SNAPSHOT = "snapshot"
HTTP_PLAYLIST = "playlist"
HTTP_VIDEO = "video"

_PLAYLIST_TYPES = frozenset(
    {"application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl", "audio/x-mpegurl"}
)
_NOT_VIDEO_PREFIXES = ("text/", "application/json", "application/xml", "application/xhtml")


def http_kind(content_type: str, body_start: bytes = b"") -> str | None:
    """How to read an HTTP answer: mjpeg, snapshot, playlist, video; None for a web page
    or other content that is not video. `body_start` is the first bytes, if read."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if body_start.lstrip().startswith(b"#EXTM3U") or media_type in _PLAYLIST_TYPES:
        return HTTP_PLAYLIST
    if media_type.startswith("multipart/x-mixed-replace"):
        return HTTP_MJPEG
    if media_type.startswith("image/"):
        return HTTP_SNAPSHOT
    if media_type.startswith(_NOT_VIDEO_PREFIXES):
        return None
    return HTTP_VIDEO  # video/*, octet-stream, or unlabelled: FFmpeg decides


def multipart_boundary(content_type: str) -> str | None:
    """The boundary parameter of a multipart Content-Type, without quotes."""
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "boundary" and value.strip():
            return value.strip().strip('"')
    return None
