"""Pytest fixtures for real stream sources: the RTSP server, the HTTP camera, video files.

Use them from any test folder by importing the names into that folder's conftest.py
(``from tests.support.stream_fixtures import rtsp_server, ...``), or for the whole
suite with ``pytest_plugins = ["tests.support.stream_fixtures"]`` in tests/conftest.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from streams import BackoffPolicy, LatestFrameReader, SourceSpec, StreamStatus
from tests.support.media import MediaServer, SilentServer, write_video
from tests.support.rtsp_server import RtspServer, unavailable_reason

T = TypeVar("T")
# Retry quickly in tests: 0.2 s doubling to 1 s.
FAST_BACKOFF = BackoffPolicy(initial=0.2, maximum=1.0)


def wait_for(condition: Callable[[], T | None], timeout: float, what: str = "condition") -> T:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class WatchedReader:
    """A started LatestFrameReader and every status its callback received."""

    def __init__(self, reader: LatestFrameReader) -> None:
        self.reader = reader
        self.statuses: list[StreamStatus] = []

    def wait_status(
        self, predicate: Callable[[StreamStatus], bool], timeout: float, what: str = "status"
    ) -> StreamStatus:
        """The reader's status once `predicate` holds for it."""

        def check() -> StreamStatus | None:
            status = self.reader.status()
            return status if predicate(status) else None

        return wait_for(check, timeout, f"{what} (last: {self.reader.status()})")


def _require_rtsp() -> None:
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"no RTSP test server: {reason}")


@pytest.fixture(scope="session")
def rtsp_server() -> Iterator[RtspServer]:
    """One live RTSP server for the session: 640x480 H.264 at 25 fps on /stream, no auth.

    Do not kill it; use rtsp_server_factory for a server a test may kill or restart.
    """
    _require_rtsp()
    server = RtspServer().start()
    yield server
    server.kill()


@pytest.fixture
def rtsp_server_factory() -> Iterator[Callable[..., RtspServer]]:
    """Start RTSP servers with any RtspServer options; all are killed after the test.

    ``server = rtsp_server_factory(username="u", password="p", fps=15, mounts=("/a",))``;
    ``server.kill(); server.start()`` restarts it on the same port.
    """
    _require_rtsp()
    servers: list[RtspServer] = []

    def start(**options: object) -> RtspServer:
        server = RtspServer(**options)  # type: ignore[arg-type]
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.kill()


@pytest.fixture
def media_server_factory() -> Iterator[Callable[..., MediaServer]]:
    """Start HTTP cameras (MJPEG, snapshot, web page, playlist); stopped after the test."""
    servers: list[MediaServer] = []

    def start(**options: object) -> MediaServer:
        server = MediaServer(**options)  # type: ignore[arg-type]
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def media_server(media_server_factory: Callable[..., MediaServer]) -> MediaServer:
    """An HTTP camera without credentials: 320x240 MJPEG at 25 fps and the other paths."""
    return media_server_factory()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    """A TCP port that accepts connections and never answers."""
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture
def video_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a stamped video file: ``video_file(frames=50, fps=25, name="clip.mp4")``."""

    def make(name: str = "clip.mp4", **options: object) -> Path:
        return write_video(tmp_path / name, **options)  # type: ignore[arg-type]

    return make


@pytest.fixture
def reader_factory() -> Iterator[Callable[..., WatchedReader]]:
    """Start LatestFrameReaders with fast backoff; every one is stopped after the test.

    ``watched = reader_factory(SourceSpec(url), allow_files=True)``; ``watched.reader``
    is the reader, ``watched.statuses`` what its status callback received.
    """
    readers: list[LatestFrameReader] = []

    def start(spec: SourceSpec, **options: object) -> WatchedReader:
        options.setdefault("backoff", FAST_BACKOFF)
        holder: list[WatchedReader] = []
        reader = LatestFrameReader(
            spec,
            on_status=lambda status: holder[0].statuses.append(status),
            **options,  # type: ignore[arg-type]
        )
        holder.append(WatchedReader(reader))
        readers.append(reader)
        reader.start()
        return holder[0]

    yield start
    for reader in readers:
        reader.stop()
