"""Ask an RTSP server for the stream's description before FFmpeg opens it.

OpenCV opens a stream in one call that cannot be interrupted and that says only
"failed". A DESCRIBE of our own, first, is bounded by open_timeout, is cut short by
stop(), and tells why a camera cannot be opened: nothing listening, wrong credentials,
no such stream, or not an RTSP server at all.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from streams.auth import Authorizer, parse_challenges
from streams.classify import describe_os_error, reason_for_os_error, reason_for_status
from streams.entities import StreamReason
from streams.errors import SourceConnectionError
from streams.net import Interrupter, connect, wrap_tls

MAX_LINE = 8192
MAX_HEADERS = 100
MAX_BODY = 256 * 1024


class _Answer:
    def __init__(self, status_line: str, headers: list[tuple[str, str]]) -> None:
        self.status_line = status_line
        self.headers = headers
        parts = status_line.split(" ", 2)
        self.is_rtsp = parts[0].startswith("RTSP/")
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        self.text = parts[2].strip() if len(parts) > 2 else ""

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


def probe_rtsp(
    url: str, username: str, password: str, *, timeout: float, stop: Interrupter
) -> None:
    """Return when the server describes the stream; else raise SourceConnectionError.

    `url` carries no credentials. An authentication scheme we cannot answer is left to
    FFmpeg (no error), so the probe never refuses a camera FFmpeg could open.
    """
    try:
        _describe(url, Authorizer(username, password), timeout, stop)
    except (OSError, ValueError) as error:
        stop.check()
        raise SourceConnectionError(
            reason_for_os_error(error), f"{describe_os_error(error)}"
        ) from None


def _describe(url: str, authorizer: Authorizer, timeout: float, stop: Interrupter) -> None:
    parts = urlsplit(url)
    secure = parts.scheme.lower() == "rtsps"
    host, port = parts.hostname or "", parts.port or (322 if secure else 554)
    for cseq in (1, 2):
        sock = connect(host, port, timeout=timeout, stop=stop)
        if secure:
            sock = wrap_tls(sock, host)
        with stop.watching(sock):
            answer = _exchange(sock, url, cseq, authorizer)
        if not answer.is_rtsp:
            what = "a web server" if answer.status_line.startswith("HTTP/") else "something else"
            raise SourceConnectionError(
                StreamReason.UNSUPPORTED, f"not an RTSP server (it answered like {what})"
            )
        if (
            answer.status == 401
            and cseq == 1
            and authorizer.accept(parse_challenges(answer.values("WWW-Authenticate")))
        ):
            continue  # again, with credentials
        if answer.status == 401 and not authorizer.username:
            raise SourceConnectionError(StreamReason.AUTH, "the camera wants credentials")
        if answer.status == 401 and cseq == 1:
            return  # an authentication scheme we do not speak: let FFmpeg try
        reason = reason_for_status(answer.status)
        if reason is not None:
            raise SourceConnectionError(
                reason, f"the camera answered {answer.status} {answer.text}".rstrip()
            )
        return


def _exchange(sock: socket.socket, url: str, cseq: int, authorizer: Authorizer) -> _Answer:
    lines = [
        f"DESCRIBE {url} RTSP/1.0",
        f"CSeq: {cseq}",
        "Accept: application/sdp",
        "User-Agent: Sightline/0.1",
    ]
    if authorizer.ready:
        lines.append(f"Authorization: {authorizer.header('DESCRIBE', url)}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
    reader = sock.makefile("rb")
    try:
        status_line = reader.readline(MAX_LINE).decode("latin-1").strip()
        if not status_line:
            raise ConnectionResetError("the server closed the connection without answering")
        headers: list[tuple[str, str]] = []
        for _ in range(MAX_HEADERS):
            line = reader.readline(MAX_LINE).decode("latin-1").rstrip("\r\n")
            if not line:
                break
            key, _, value = line.partition(":")
            headers.append((key.strip(), value.strip()))
        return _Answer(status_line, headers)
    finally:
        reader.close()
