"""MJPEG over HTTP (multipart/x-mixed-replace) and JPEG snapshot polling.

JPEG parts are read as bytes and decoded only when a frame is due, so skipping frames
beyond the target rate costs no decoding at all.
"""

from __future__ import annotations

import http.client
import time
from typing import BinaryIO

import cv2
import numpy as np

from streams.classify import describe_os_error, reason_for_os_error
from streams.entities import StreamReason
from streams.errors import SourceConnectionError
from streams.net import Interrupter
from streams.sources.http import HttpCamera, read_body

MAX_PART = 16 * 1024 * 1024
MAX_LINE = 8192
MAX_HEADER_LINES = 50
MAX_BAD_FRAMES = 25  # undecodable parts in a row before the stream counts as unsupported


class MultipartReader:
    """The parts of a multipart/x-mixed-replace body, one at a time.

    Tolerates what cameras actually send: boundaries with or without the leading
    "--", parts with or without Content-Length, blank lines between parts.
    """

    def __init__(self, stream: BinaryIO, boundary: str) -> None:
        self._stream = stream
        bare = boundary.encode("latin-1").removeprefix(b"--")
        self._delimiters = {b"--" + bare, bare, b"----" + bare}
        self._pending_headers = False  # the boundary of the next part was already read

    def next_part(self) -> bytes:
        """The next part's body; EOFError when the stream ends."""
        if not self._pending_headers:
            self._skip_to_boundary()
        self._pending_headers = False
        length = self._read_headers()
        if length is not None:
            if length > MAX_PART:
                raise ValueError(f"a part of {length} bytes is larger than {MAX_PART}")
            body = self._stream.read(length)
            if len(body) < length:
                raise EOFError("the stream ended inside a part")
            return body
        return self._read_until_boundary()

    def _line(self) -> bytes:
        line = self._stream.readline(MAX_LINE)
        if not line:
            raise EOFError("the stream ended")
        return line

    def _is_boundary(self, line: bytes) -> bool:
        stripped = line.strip()
        return stripped in self._delimiters or stripped.removesuffix(b"--") in self._delimiters

    def _skip_to_boundary(self) -> None:
        skipped = 0
        while not self._is_boundary(self._line()):
            skipped += 1
            if skipped > MAX_PART // MAX_LINE:
                raise ValueError("no multipart boundary found")

    def _read_headers(self) -> int | None:
        length = None
        for _ in range(MAX_HEADER_LINES):
            line = self._line().strip()
            if not line:
                return length
            key, _, value = line.partition(b":")
            if key.strip().lower() == b"content-length" and value.strip().isdigit():
                length = int(value.strip())
        raise ValueError("too many part headers")

    def _read_until_boundary(self) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            line = self._stream.readline(MAX_LINE)
            if not line:
                raise EOFError("the stream ended inside a part")
            if self._is_boundary(line):
                self._pending_headers = True
                body = b"".join(chunks)
                return body[:-2] if body.endswith(b"\r\n") else body.rstrip(b"\n")
            chunks.append(line)
            size += len(line)
            if size > MAX_PART:
                raise ValueError(f"a part is larger than {MAX_PART} bytes")


def decode_jpeg(data: bytes) -> np.ndarray | None:
    """BGR image from JPEG (or PNG) bytes; None when they do not decode."""
    if not data:
        return None
    return cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)


class MjpegSource:
    """Frames from an MJPEG answer already opened by `camera`."""

    def __init__(
        self,
        camera: HttpCamera,
        response: http.client.HTTPResponse,
        boundary: str,
        stop: Interrupter,
    ) -> None:
        self._camera = camera
        self._response = response
        self._parts = MultipartReader(response, boundary)
        self._stop = stop
        self._bad_in_a_row = 0
        self._data = b""

    def grab(self) -> int | None:
        try:
            self._data = self._parts.next_part()
        except EOFError:
            self._stop.check()
            raise SourceConnectionError(StreamReason.ENDED, "the stream ended") from None
        except ValueError as error:
            raise SourceConnectionError(StreamReason.UNSUPPORTED, f"{error}") from None
        except (OSError, http.client.HTTPException) as error:
            self._stop.check()
            raise SourceConnectionError(
                reason_for_os_error(error), f"{describe_os_error(error)}"
            ) from None
        return None

    def retrieve(self) -> np.ndarray | None:
        image = decode_jpeg(self._data)
        if image is None:
            self._bad_in_a_row += 1
            if self._bad_in_a_row >= MAX_BAD_FRAMES:
                raise SourceConnectionError(StreamReason.UNSUPPORTED, "the parts are not images")
            return None
        self._bad_in_a_row = 0
        return image

    def close(self) -> None:
        self._response.close()
        self._camera.close()


class SnapshotSource:
    """A JPEG fetched from `camera` every `interval` seconds.

    `first` is the body of an answer already fetched (when the URL was sniffed).
    """

    def __init__(
        self,
        camera: HttpCamera,
        interval: float,
        stop: Interrupter,
        first: bytes | None = None,
    ) -> None:
        self._camera = camera
        self._interval = interval
        self._stop = stop
        self._first = first
        self._data = b""
        self._next_at = time.monotonic()

    def grab(self) -> int | None:
        data, self._first = self._first, None
        if data is None:
            delay = self._next_at - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                self._stop.check()
            data = self.fetch()
        self._next_at = max(self._next_at + self._interval, time.monotonic())
        self._data = data
        return None

    def retrieve(self) -> np.ndarray | None:
        image = decode_jpeg(self._data)
        if image is None:
            raise SourceConnectionError(StreamReason.UNSUPPORTED, "the snapshot is not an image")
        return image

    def fetch(self) -> bytes:
        response = self._camera.get()
        try:
            return read_body(response, MAX_PART, self._stop)
        finally:
            response.close()

    def close(self) -> None:
        self._camera.close()
