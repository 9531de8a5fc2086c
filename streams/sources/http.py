"""A small HTTP client for cameras: GET with Basic/Digest auth, timeouts and stop().

http.client does the protocol; this module connects (interruptibly), answers an
authentication challenge once, and turns failures into SourceConnectionError.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
from urllib.parse import urlsplit

from streams.auth import Authorizer, parse_challenges
from streams.classify import describe_os_error, reason_for_os_error, reason_for_status
from streams.entities import StreamReason
from streams.errors import SourceConnectionError
from streams.net import Interrupter, connect, wrap_tls

USER_AGENT = "Sightline/0.1"
MAX_DRAIN = 64 * 1024  # bytes read from an error answer before giving up on the connection


class HttpCamera:
    """GET requests to one camera URL over a kept-alive connection.

    `url` carries no credentials (they come separately and go only into the
    Authorization header). Sockets are registered with `stop`, so stop() unblocks a read.
    """

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        open_timeout: float,
        read_timeout: float,
        stop: Interrupter,
    ) -> None:
        parts = urlsplit(url)
        self.url = url
        self._https = parts.scheme.lower() == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._authorizer = Authorizer(username, password)
        self._open_timeout = open_timeout
        self._read_timeout = read_timeout
        self._stop = stop
        self._conn: http.client.HTTPConnection | None = None
        self._sock: socket.socket | None = None

    def get(self) -> http.client.HTTPResponse:
        """A 2xx answer whose headers are read; its body is the caller's to read.

        Raises SourceConnectionError with the reason for anything else.
        """
        try:
            response = self._request()
            if response.status == 401 and self._authorizer.accept(
                parse_challenges(response.headers.get_all("WWW-Authenticate") or [])
            ):
                self._finish(response)
                response = self._request()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            self._stop.check()
            raise SourceConnectionError(
                reason_for_os_error(error), f"{describe_os_error(error)}"
            ) from None
        reason = reason_for_status(response.status)
        if reason is not None:
            self._finish(response)
            raise SourceConnectionError(
                reason, f"the server answered {response.status} {response.reason}"
            )
        self._sock_timeout(self._read_timeout)
        return response

    def _request(self) -> http.client.HTTPResponse:
        if self._conn is None or self._conn.sock is None:
            self._connect()
        assert self._conn is not None
        headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
        if self._authorizer.ready:
            headers["Authorization"] = self._authorizer.header("GET", self._target)
        self._sock_timeout(self._open_timeout)
        self._conn.request("GET", self._target, headers=headers)
        return self._conn.getresponse()

    def _connect(self) -> None:
        self.close()
        sock = connect(self._host, self._port, timeout=self._open_timeout, stop=self._stop)
        self._stop.register(sock)
        try:
            if self._https:
                self._stop.unregister(sock)
                sock = wrap_tls(sock, self._host)
                self._stop.register(sock)
        except BaseException:
            self._stop.unregister(sock)
            sock.close()
            raise
        conn_class = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = conn_class(self._host, self._port, timeout=self._open_timeout)
        conn.sock = sock  # already connected (and registered): http.client will not connect
        self._conn, self._sock = conn, sock

    def _sock_timeout(self, seconds: float) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # closed under us (stop): the read reports it
                self._sock.settimeout(seconds)

    def _finish(self, response: http.client.HTTPResponse) -> None:
        """Read the rest of a short answer so the connection can be reused, or drop it."""
        try:
            length = response.length
            if length is not None and length <= MAX_DRAIN:
                response.read()
            else:
                self.close()
        except (OSError, http.client.HTTPException):
            self.close()
        response.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._sock is not None:
            self._stop.unregister(self._sock)
            self._sock.close()
            self._sock = None


def read_body(response: http.client.HTTPResponse, limit: int, stop: Interrupter) -> bytes:
    """The whole body of a short answer (a snapshot, a playlist), at most `limit` bytes."""
    try:
        body = response.read(limit + 1)
    except (OSError, http.client.HTTPException) as error:
        stop.check()
        raise SourceConnectionError(
            reason_for_os_error(error), f"{describe_os_error(error)}"
        ) from None
    if len(body) > limit:
        raise SourceConnectionError(
            StreamReason.UNSUPPORTED, f"the answer is larger than {limit} bytes"
        )
    if response.length is not None and response.length > 0:
        stop.check()
        raise SourceConnectionError(StreamReason.ENDED, "the answer was cut short")
    return body
