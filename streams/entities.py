"""What the streams package hands out: source specs, frames, states and statuses."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from streams.redaction import redact_url

TRANSPORTS = ("tcp", "udp")


@dataclass(frozen=True)
class SourceSpec:
    """Where a camera's frames come from and how to read them.

    The source is chosen from the URL: ``rtsp://``/``rtsps://`` through FFmpeg (RTP over
    `transport`); ``http(s)://`` by what the server answers: an MJPEG stream
    (multipart/x-mixed-replace), a single JPEG (polled every `snapshot_interval`), or
    other video FFmpeg reads (HLS); an absolute path is a local video file (only where
    the caller allows files), replayed from the start when `loop` is set. A non-empty
    `snapshot_url` is polled every `snapshot_interval` instead of `url`.

    Credentials live in `username`/`password`, never in a log line: they are put into
    the URL only when the source is opened (credentials in `url` itself are used when
    `username` is empty). `open_timeout` bounds connecting and opening the stream;
    `read_timeout` bounds the wait for each frame. A source failing without a frame for
    `failed_after` seconds is shown FAILED (with the reason) and retried more slowly.
    """

    url: str
    username: str = ""
    password: str = ""
    target_fps: float = 5.0
    snapshot_url: str = ""
    snapshot_interval: float = 1.0
    transport: str = "tcp"
    loop: bool = False
    open_timeout: float = 10.0
    read_timeout: float = 10.0
    # Local files only: False reads the file as fast as the consumer takes frames (no
    # pacing, no frame decoded ahead of use) - for offline analysis of recordings.
    realtime: bool = True
    failed_after: float = 300.0

    def __post_init__(self) -> None:
        if not self.target_fps > 0:
            raise ValueError("target_fps must be greater than 0")
        if not self.snapshot_interval > 0:
            raise ValueError("snapshot_interval must be greater than 0")
        if self.transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}")
        if not (self.open_timeout > 0 and self.read_timeout > 0 and self.failed_after > 0):
            raise ValueError("timeouts must be greater than 0")

    def __repr__(self) -> str:  # the generated one would show the password
        return (
            f"SourceSpec(url={redact_url(self.url)!r}, username={self.username!r}, "
            f"password={'***' if self.password else ''!r}, target_fps={self.target_fps}, "
            f"snapshot_url={redact_url(self.snapshot_url)!r})"
        )


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded picture, BGR. The array is read-only: consumers share it.

    `seq` grows by one per frame the source delivered (skipped ones included), across
    reconnects; for a file it is the frame's index in the file (it restarts at 0 when a
    looping file starts again). `captured_at` is ``time.time()`` and `monotonic` is
    ``time.monotonic()``, both taken when the frame was decoded.
    """

    image: np.ndarray
    seq: int
    captured_at: float
    monotonic: float


class StreamState(enum.Enum):
    CONNECTING = "connecting"  # first attempt to open, no frame yet
    ONLINE = "online"  # frames are arriving
    RECOVERING = "recovering"  # lost or never reached: retrying with backoff
    # Gave up for good (StreamReason.REFUSED / ENDED), or failing for longer than
    # SourceSpec.failed_after: still retrying, more slowly, until frames arrive again.
    FAILED = "failed"
    STOPPED = "stopped"  # stop() was called


class StreamReason(enum.Enum):
    UNREACHABLE = "unreachable"  # no route, connection refused, name does not resolve, 5xx
    UNAVAILABLE = "unavailable"  # the server answered that it cannot serve it now (503, 453)
    AUTH = "auth"  # credentials missing or wrong
    NOT_FOUND = "not_found"  # no such stream path / file
    TIMEOUT = "timeout"  # nothing within open_timeout / read_timeout
    UNSUPPORTED = "unsupported"  # answered, but not with video we can decode
    ENDED = "ended"  # the stream or file ended
    REFUSED = "refused"  # the URL was refused by the safety rules; never opened


# The state machine, written down. A state may also "move" to itself with a new reason
# (RECOVERING for TIMEOUT, then RECOVERING for UNREACHABLE).
TRANSITIONS: dict[StreamState, frozenset[StreamState]] = {
    StreamState.CONNECTING: frozenset(
        {StreamState.ONLINE, StreamState.RECOVERING, StreamState.FAILED, StreamState.STOPPED}
    ),
    StreamState.ONLINE: frozenset(
        {StreamState.RECOVERING, StreamState.FAILED, StreamState.STOPPED}
    ),
    StreamState.RECOVERING: frozenset(
        {StreamState.ONLINE, StreamState.RECOVERING, StreamState.FAILED, StreamState.STOPPED}
    ),
    StreamState.FAILED: frozenset({StreamState.ONLINE, StreamState.STOPPED}),
    StreamState.STOPPED: frozenset(),
}


def can_transition(current: StreamState, new: StreamState) -> bool:
    """Whether the reader may move from `current` to `new` (see TRANSITIONS)."""
    return new in TRANSITIONS[current]


@dataclass(frozen=True)
class StreamStatus:
    """A reader's state with its reason and counters, as shown to operators.

    `detail` and `url` never contain a password. `last_frame_age` is seconds since the
    newest decoded frame (None before the first); `fps` is the decoded rate over the
    last few seconds; `reconnects` counts attempts to open the source again after a
    failure or a loss.
    """

    state: StreamState
    reason: StreamReason | None
    detail: str
    frames_decoded: int
    frames_skipped: int
    reconnects: int
    last_frame_age: float | None
    url: str
    fps: float = 0.0
