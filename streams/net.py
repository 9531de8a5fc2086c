"""Socket plumbing the sources share: connects and reads another thread can cut short.

Every socket a source opens is registered with the reader's `Interrupter`; stop()
shuts those sockets down, which wakes any thread blocked on them at once. (DNS look-ups
cannot be interrupted; they are bounded by the system resolver's own timeouts.)
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from streams.errors import Interrupted

_POLL = 0.1  # seconds between looks at the stop flag while connecting


class Interrupter:
    """A stop flag that also unblocks socket I/O of the thread it belongs to."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds; True if stopped meanwhile."""
        return self._event.wait(timeout)

    def check(self) -> None:
        if self._event.is_set():
            raise Interrupted("stopped")

    def set(self) -> None:
        self._event.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    @contextmanager
    def watching(self, sock: socket.socket) -> Iterator[socket.socket]:
        """While inside, set() shuts `sock` down; the socket is closed on exit."""
        with self._lock:
            self._sockets.add(sock)
        try:
            if self._event.is_set():
                _shutdown(sock)
            yield sock
        finally:
            with self._lock:
                self._sockets.discard(sock)
            sock.close()

    def register(self, sock: socket.socket) -> None:
        """Like watching(), for a socket that outlives one block; see unregister()."""
        with self._lock:
            self._sockets.add(sock)
        if self._event.is_set():
            _shutdown(sock)

    def unregister(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not connected (yet), or already closed
        sock.shutdown(socket.SHUT_RDWR)


def connect(host: str, port: int, *, timeout: float, stop: Interrupter) -> socket.socket:
    """A TCP connection to host:port within `timeout` seconds, abandoned as soon as `stop`.

    The returned socket is blocking with `timeout` as its I/O timeout. Raises OSError
    (TimeoutError when nothing answered) or Interrupted.
    """
    deadline = time.monotonic() + timeout
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    last_error: OSError = OSError(errno.EADDRNOTAVAIL, "no address")
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            _connect_one(sock, address, deadline, stop)
        except OSError as error:
            sock.close()
            last_error = error
            if isinstance(error, TimeoutError):
                break
            continue
        except BaseException:
            sock.close()
            raise
        sock.settimeout(timeout)
        return sock
    raise last_error


def _connect_one(
    sock: socket.socket, address: tuple[object, ...], deadline: float, stop: Interrupter
) -> None:
    sock.setblocking(False)
    code = sock.connect_ex(address)
    if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
        raise OSError(code, os.strerror(code))
    while code != 0:
        stop.check()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("connect timed out")
        _, writable, _ = select.select([], [sock], [], min(remaining, _POLL))
        if writable:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                raise OSError(code, os.strerror(code))
            return


def client_tls_context() -> ssl.SSLContext:
    """TLS for rtsps/https cameras. Certificates are not verified: cameras ship
    self-signed ones, and FFmpeg (which reads the same URLs) does not verify either."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def wrap_tls(sock: socket.socket, host: str) -> socket.socket:
    return client_tls_context().wrap_socket(sock, server_hostname=host)
