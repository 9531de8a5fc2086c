"""Sources decoded by FFmpeg through OpenCV: RTSP, HTTP video (HLS) and local files.

Two OpenCV facts shape this module:

- By default OpenCV serialises every FFmpeg open in the process behind one lock, so a
  camera that takes open_timeout to fail would hold up every other camera's
  reconnect. FFmpeg itself has been safe to open from several threads since 4.0, so
  OPENCV_FFMPEG_IS_THREAD_SAFE=1 is set unless the environment already says otherwise.
- OpenCV takes FFmpeg's options (protocol whitelist, RTSP transport) from one
  process-wide environment variable, OPENCV_FFMPEG_CAPTURE_OPTIONS, which it reads at
  the start of each open. `_OptionsGate` keeps the variable steady for an open until
  OpenCV has surely read it, so opens that need different options (a file, an RTSP
  camera over UDP) wait a moment for each other, never for a whole open timeout.

`grab()` decodes a frame; `retrieve()` converts it to BGR. Frames beyond the target
rate are grabbed but not retrieved: H.264 cannot skip decoding a frame others refer to,
but the colour conversion and the copy are saved.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from streams.entities import StreamReason
from streams.errors import SourceConnectionError
from streams.net import Interrupter
from streams.pacing import Pacer

OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
THREAD_SAFE_ENV = "OPENCV_FFMPEG_IS_THREAD_SAFE"
# Protocols FFmpeg may use for each kind of source, nested ones included: an HLS
# playlist fetched over http cannot reach file: segments, a local file cannot reach
# the network.
PROTOCOL_WHITELISTS = {
    "rtsp": "rtsp,rtsps,rtp,srtp,udp,tcp,tls",
    "http": "http,https,tcp,tls,crypto,httpproxy",
    "file": "file",
}
DECODER_THREADS = 1  # frame threading adds a frame of latency per thread; 1 keeps up to 1080p
CATCH_UP_LIMIT = 2.0  # seconds spent dropping frames FFmpeg buffered while opening
FALLBACK_FPS = 25.0


def capture_options(protocols: str, transport: str = "tcp") -> str:
    """The OPENCV_FFMPEG_CAPTURE_OPTIONS value for a source ("key;value|key;value")."""
    options = [f"protocol_whitelist;{PROTOCOL_WHITELISTS[protocols]}"]
    if protocols == "rtsp":
        options.append(f"rtsp_transport;{transport}")
    return "|".join(options)


class _OptionsGate:
    """Sets OPENCV_FFMPEG_CAPTURE_OPTIONS for an open and keeps it until OpenCV read it.

    With OpenCV's lock off, an open reads the variable within microseconds of its
    start, so the value is claimed for READ_GRACE seconds; opens with the same value
    never wait. With the lock on (OPENCV_FFMPEG_IS_THREAD_SAFE=0 in the environment),
    an open may read it only after others finished, so the value is held for the whole
    open. Should a read ever come late, the open gets the other source's whitelist and
    fails (to be retried): the whitelists never let a source reach more, only less.
    """

    READ_GRACE = 0.5

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._value: str | None = None
        self._claimed_until = 0.0
        self._holders = 0

    @contextmanager
    def options(
        self, value: str, *, whole_open: bool, timeout: float, stop: Interrupter
    ) -> Iterator[None]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._value != value and (
                self._holders or time.monotonic() < self._claimed_until
            ):
                stop.check()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SourceConnectionError(
                        StreamReason.TIMEOUT, "waited too long for other streams to open"
                    )
                self._cond.wait(min(remaining, 0.05))
            if self._value != value:
                os.environ[OPTIONS_ENV] = value
                self._value = value
            if whole_open:
                self._holders += 1
            else:
                self._claimed_until = max(self._claimed_until, time.monotonic() + self.READ_GRACE)
        try:
            yield
        finally:
            if whole_open:
                with self._cond:
                    self._holders -= 1
                    self._cond.notify_all()


_gate = _OptionsGate()


def open_capture(
    url: str,
    options: str,
    *,
    open_timeout: float,
    read_timeout: float,
    stop: Interrupter,
) -> cv2.VideoCapture | None:
    """An opened capture, or None when FFmpeg could not open `url` (it does not say why)."""
    os.environ.setdefault(THREAD_SAFE_ENV, "1")
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        max(1, int(open_timeout * 1000)),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        max(1, int(read_timeout * 1000)),
        cv2.CAP_PROP_N_THREADS,
        DECODER_THREADS,
    ]
    locked = os.environ.get(THREAD_SAFE_ENV) != "1"
    with _gate.options(options, whole_open=locked, timeout=open_timeout, stop=stop):
        capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
    if capture.isOpened():
        return capture
    capture.release()
    return None


def _source_fps(capture: cv2.VideoCapture) -> float:
    fps = capture.get(cv2.CAP_PROP_FPS)
    return fps if 0 < fps <= 240 else FALLBACK_FPS


class LiveCapture:
    """A network stream read through FFmpeg (RTSP, HLS).

    Right after opening, FFmpeg hands out the frames it buffered while it was probing
    the stream (up to a second of them): those are dropped without conversion until a
    grab has to wait for the camera, so the first frame shown is a live one.
    """

    def __init__(
        self,
        capture: cv2.VideoCapture,
        read_timeout: float,
        *,
        paced: bool,
        stop: Interrupter,
    ) -> None:
        self._capture = capture
        self._stop = stop
        self._read_timeout = read_timeout
        self._interval = 1.0 / _source_fps(capture)
        # A paced source (HTTP video, maybe not live) is played, not caught up with.
        self._catch_up_until = 0.0 if paced else time.monotonic() + CATCH_UP_LIMIT
        self._pacer = Pacer() if paced else None
        self._stale = False

    def grab(self) -> int | None:
        started = time.monotonic()
        if not self._capture.grab():
            waited = time.monotonic() - started
            if waited >= self._read_timeout * 0.9:
                raise SourceConnectionError(
                    StreamReason.TIMEOUT,
                    f"no frame for {self._read_timeout:g} s",
                )
            raise SourceConnectionError(StreamReason.ENDED, "the stream ended")
        now = time.monotonic()
        self._stale = False
        if self._catch_up_until:
            if now - started < self._interval * 0.3 and now < self._catch_up_until:
                self._stale = True  # buffered while opening, not live
            else:
                self._catch_up_until = 0.0
        if self._pacer is not None:
            position = self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            self._pacer.wait(position, now, self._stop)
        return None

    def retrieve(self) -> np.ndarray | None:
        if self._stale:
            return None
        ok, image = self._capture.retrieve()
        if not ok or image is None:
            raise SourceConnectionError(StreamReason.UNSUPPORTED, "a frame could not be decoded")
        return image

    def close(self) -> None:
        self._capture.release()


class FileCapture:
    """A local video file played at its own frame rate (unless not `paced`), from the start
    again if `loop`.

    Without `loop`, the end of the file is final (StreamReason.ENDED, permanent): a
    finished file is not reopened over and over.
    """

    def __init__(
        self,
        path: Path,
        *,
        loop: bool,
        open_timeout: float,
        read_timeout: float,
        stop: Interrupter,
        paced: bool = True,
    ) -> None:
        self._path = path
        self._loop = loop
        self._timeouts = (open_timeout, read_timeout)
        self._stop = stop
        self._capture = self._open()
        self._fps = _source_fps(self._capture)
        self._index = -1
        self._played = 0
        self._pacer = Pacer() if paced else None

    def _open(self) -> cv2.VideoCapture:
        if not self._path.is_file():
            raise SourceConnectionError(StreamReason.NOT_FOUND, "no such file")
        capture = open_capture(
            str(self._path),
            capture_options("file"),
            open_timeout=self._timeouts[0],
            read_timeout=self._timeouts[1],
            stop=self._stop,
        )
        if capture is None:
            raise SourceConnectionError(StreamReason.UNSUPPORTED, "not a video FFmpeg can read")
        return capture

    def grab(self) -> int | None:
        if not self._capture.grab():
            if self._index < 0 or not self._loop:
                raise SourceConnectionError(StreamReason.ENDED, "end of file", permanent=True)
            self._capture.release()
            self._capture = self._open()
            self._index = -1
            if not self._capture.grab():
                raise SourceConnectionError(StreamReason.ENDED, "no frames", permanent=True)
        self._index += 1
        self._played += 1  # the pace runs on across loops
        if self._pacer is not None:
            self._pacer.wait(self._played / self._fps, time.monotonic(), self._stop)
        return self._index

    def retrieve(self) -> np.ndarray | None:
        ok, image = self._capture.retrieve()
        if not ok or image is None:
            raise SourceConnectionError(
                StreamReason.UNSUPPORTED, f"frame {self._index} could not be decoded"
            )
        return image

    def close(self) -> None:
        self._capture.release()
