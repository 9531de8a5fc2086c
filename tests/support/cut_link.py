"""A network link to a server (the suite's Redis) that a test cuts at a chosen reply.

Clients connect to ``127.0.0.1:<port>``; each connection is relayed to the server (a Unix
socket path, or a (host, port)). After
``cut_after_reply_to(marker)``, the first successful reply (not an error reply, which starts
with ``-``) to a request containing ``marker`` reaches the client, and then every connection
is closed and new ones are refused until ``restore()``: the server did the work, the client
saw it done, and its next command finds the link down, as when a network cable is pulled
between two round trips.
"""

from __future__ import annotations

import contextlib
import socket
import threading

CHUNK = 65536


class CutLink:
    def __init__(self, target: str | tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._marker: bytes | None = None
        self._down = False
        self._open: list[socket.socket] = []
        self.cut = threading.Event()  # set once the link has been cut
        threading.Thread(target=self._accept, daemon=True, name="cut-link").start()

    def cut_after_reply_to(self, marker: bytes) -> None:
        with self._lock:
            self._marker = marker

    def restore(self) -> None:
        with self._lock:
            self._down = False

    def close(self) -> None:
        self._listener.close()
        self._cut_all()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                down = self._down
            if down:
                client.close()  # refused, as a host behind a cut link
                continue
            server = _connect(self.target)
            with self._lock:
                self._open += [client, server]
            armed = threading.Event()  # this connection sent the marked request
            threading.Thread(
                target=self._requests, args=(client, server, armed), daemon=True
            ).start()
            threading.Thread(
                target=self._replies, args=(server, client, armed), daemon=True
            ).start()

    def _requests(
        self, client: socket.socket, server: socket.socket, armed: threading.Event
    ) -> None:
        while chunk := _receive(client):
            with self._lock:
                if self._marker is not None and self._marker in chunk:
                    armed.set()
            try:
                server.sendall(chunk)
            except OSError:
                return
        server.close()

    def _replies(
        self, server: socket.socket, client: socket.socket, armed: threading.Event
    ) -> None:
        while chunk := _receive(server):
            try:
                client.sendall(chunk)
            except OSError:
                return
            if armed.is_set():
                if chunk.startswith(b"-"):
                    armed.clear()  # an error reply (NOSCRIPT): the request did nothing yet
                    continue
                with self._lock:
                    self._marker, self._down = None, True
                self._cut_all()
                self.cut.set()
                return
        client.close()

    def _cut_all(self) -> None:
        with self._lock:
            connections, self._open = self._open, []
        for connection in connections:
            with contextlib.suppress(OSError):  # closed by its peer already
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()


def _connect(target: str | tuple[str, int]) -> socket.socket:
    if isinstance(target, str):
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.connect(target)
        return server
    return socket.create_connection(target)


def _receive(connection: socket.socket) -> bytes:
    try:
        return connection.recv(CHUNK)
    except OSError:
        return b""
