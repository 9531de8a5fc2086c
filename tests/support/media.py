"""Test media: stamped frames, video files, and a real HTTP camera (MJPEG, snapshot, pages).

Every frame made here carries a stamp (tests/support/stamp.py): the wall-clock time in
ms for live sources, the frame index for files, so a test can tell how old a frame is
or which frame of a file it got.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import cv2
import numpy as np

from tests.support import stamp


def stamped_frame(width: int, height: int, value: int, *, motion: int = 0) -> np.ndarray:
    """A BGR frame with `value` stamped in its top rows and a bar at `motion` pixels."""
    image = np.full((height, width, 3), 40, dtype=np.uint8)
    bar = max(8, width // 12)
    x = (motion * 6) % max(1, width - bar)
    image[stamp.ROWS :, x : x + bar] = 200
    row = np.frombuffer(stamp.stamp_row(width, value), dtype=np.uint8)
    image[: stamp.ROWS, :, :] = row[None, :, None]
    return image


def read_value(image: np.ndarray, near: int) -> int | None:
    """The stamp of a decoded frame; `near` resolves the modulo (now in ms, or 0 for an index)."""
    samples = [float(image[r, c].mean()) for r, c in stamp.sample_points(image.shape[1])]
    return stamp.read_stamp(samples, near)


def frame_age_ms(image: np.ndarray) -> int | None:
    """How long ago, in ms, the source made this (live, wall-clock stamped) frame."""
    now = int(time.time() * 1000)
    made = read_value(image, now)
    return None if made is None else now - made


def frame_index(image: np.ndarray) -> int | None:
    """Which frame of a file written by write_video() this is."""
    return read_value(image, 0)


def write_video(
    path: Path,
    *,
    frames: int = 50,
    fps: float = 25.0,
    width: int = 320,
    height: int = 240,
    first: int = 0,
) -> Path:
    """A real video file whose frames are stamped first, first + 1, ...

    MPEG-4 video in .mp4 or .ts (MPEG-TS, an HLS segment), MJPG in .avi.
    """
    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if path.suffix == ".avi" else "mp4v"))
    writer = cv2.VideoWriter(str(path), fourcc, fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    try:
        for index in range(first, first + frames):
            writer.write(stamped_frame(width, height, index, motion=index))
    finally:
        writer.release()
    return path


def jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()


class MediaServer:
    """A real HTTP camera on 127.0.0.1 (port from the OS), served from a thread.

    Paths: /mjpeg (multipart/x-mixed-replace, stamped with wall-clock time, at `fps`),
    /snapshot.jpg (one stamped JPEG), /page (an HTML page), /playlist.m3u8 (the text
    in `playlist`), /files/NAME (NAME from the folder `directory`, e.g. HLS segments).
    With `username`, every path needs HTTP Basic credentials.
    `stall()` freezes the MJPEG streams (connections stay open, nothing is sent);
    `requests` lists every path asked for.
    """

    def __init__(
        self,
        *,
        width: int = 320,
        height: int = 240,
        fps: float = 25.0,
        username: str = "",
        password: str = "",
        content_length: bool = True,
        boundary: str = "sightlineframe",
    ) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.username, self.password = username, password
        self.content_length = content_length
        self.boundary = boundary
        self.playlist = "#EXTM3U\n"
        self.directory: Path | None = None
        self.requests: list[str] = []
        self.stalled = threading.Event()
        self.closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str, *, with_credentials: bool = False) -> str:
        userinfo = f"{quote(self.username, safe='')}:{quote(self.password, safe='')}@"
        userinfo = userinfo if with_credentials else ""
        return f"http://{userinfo}127.0.0.1:{self.port}{path}"

    def start(self) -> MediaServer:
        self._thread.start()
        return self

    def stall(self) -> None:
        self.stalled.set()

    def stop(self) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def frame_jpeg(self, motion: int = 0) -> bytes:
        image = stamped_frame(self.width, self.height, int(time.time() * 1000), motion=motion)
        return jpeg(image)


def _handler_for(media: MediaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet test output

        def do_GET(self) -> None:
            media.requests.append(self.path)
            if media.username and not self._authorized():
                self._send(
                    401, "text/plain", b"who are you?", {"WWW-Authenticate": 'Basic realm="cam"'}
                )
                return
            path = self.path.split("?", 1)[0]
            if path == "/mjpeg":
                self._mjpeg()
            elif path == "/snapshot.jpg":
                self._send(200, "image/jpeg", media.frame_jpeg())
            elif path == "/page":
                page = b"<!doctype html><html><body><h1>Camera login</h1></body></html>"
                self._send(200, "text/html; charset=utf-8", page)
            elif path == "/playlist.m3u8":
                self._send(200, "application/vnd.apple.mpegurl", media.playlist.encode())
            elif path.startswith("/files/") and media.directory is not None:
                self._file(media.directory, path.removeprefix("/files/"))
            else:
                self._send(404, "text/plain", b"no such thing")

        def _file(self, directory: Path, name: str) -> None:
            file = directory / name
            if "/" in name or not file.is_file():
                self._send(404, "text/plain", b"no such file")
                return
            types = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t"}
            self._send(200, types.get(file.suffix, "application/octet-stream"), file.read_bytes())

        def _authorized(self) -> bool:
            token = base64.b64encode(f"{media.username}:{media.password}".encode()).decode()
            return self.headers.get("Authorization", "") == f"Basic {token}"

        def _send(
            self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _mjpeg(self) -> None:
            self.send_response(200)
            self.send_header(
                "Content-Type", f"multipart/x-mixed-replace; boundary={media.boundary}"
            )
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            interval = 1.0 / media.fps
            next_at = time.monotonic()
            index = 0
            try:
                while not media.closing.is_set():
                    if media.stalled.is_set():
                        media.closing.wait(0.05)
                        continue
                    body = media.frame_jpeg(index)
                    head = f"--{media.boundary}\r\nContent-Type: image/jpeg\r\n"
                    if media.content_length:
                        head += f"Content-Length: {len(body)}\r\n"
                    self.wfile.write(head.encode() + b"\r\n" + body + b"\r\n")
                    self.wfile.flush()
                    index += 1
                    next_at += interval
                    media.closing.wait(max(0.0, next_at - time.monotonic()))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the reader went away

    return Handler


class SilentServer:
    """Accepts TCP connections and never says a word: a camera that hangs."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]

    def close(self) -> None:
        self._sock.close()


def closed_port() -> int:
    """A port nothing listens on (bound by the OS, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
