"""One thread per source that keeps only the newest frame, and reconnects until stopped."""

from __future__ import annotations

import atexit
import contextvars
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable

import numpy as np

from streams.backoff import Backoff, BackoffPolicy
from streams.entities import (
    Frame,
    SourceSpec,
    StreamReason,
    StreamState,
    StreamStatus,
    can_transition,
)
from streams.errors import Interrupted, SourceConnectionError
from streams.net import Interrupter
from streams.redaction import redact_text, redact_url, split_credentials
from streams.sources import FrameSource, UrlPolicy, open_source
from streams.urls import Networks

logger = logging.getLogger(__name__)

StatusCallback = Callable[[StreamStatus], None]
FPS_WINDOW = 5.0  # seconds of decoded frames behind StreamStatus.fps

_started_readers: weakref.WeakSet[LatestFrameReader] = weakref.WeakSet()


@atexit.register
def _stop_readers_at_exit() -> None:
    """Let reader threads leave OpenCV before the interpreter finalises.

    A daemon thread that returns from a cv2 call after finalisation began is ended
    from inside a C++ destructor, which aborts the process ("terminate called without
    an active exception"). Stopping every reader and waiting out its timeouts (it can
    be inside an FFmpeg open) makes the exit clean.
    """
    readers = list(_started_readers)
    for reader in readers:
        reader._stop.set()
    bound = max((r.spec.open_timeout + r.spec.read_timeout for r in readers), default=0.0)
    deadline = time.monotonic() + bound + 1.0
    for reader in readers:
        reader._thread.join(max(0.0, deadline - time.monotonic()))


class _StatusBoard:
    """The reader's state machine and counters; tells the callback about every change."""

    def __init__(self, url: str, secrets: tuple[str, ...], on_status: StatusCallback | None):
        self.url = url
        self._secrets = secrets
        self._on_status = on_status
        self._lock = threading.Lock()
        self._state = StreamState.CONNECTING
        self._reason: StreamReason | None = None
        self._detail = ""
        self._decoded = 0
        self._skipped = 0
        self._reconnects = 0
        self._recent: deque[float] = deque()
        self._online_since = 0.0

    def move(self, state: StreamState, reason: StreamReason | None, detail: str) -> bool:
        """Go to `state`; True if state or reason changed. A move out of STOPPED is
        ignored (the thread may still be ending)."""
        detail = redact_text(detail, self._secrets)
        with self._lock:
            if self._state is StreamState.STOPPED:
                return False
            if state is not self._state and not can_transition(self._state, state):
                raise ValueError(f"a reader cannot go from {self._state.name} to {state.name}")
            changed = (state, reason) != (self._state, self._reason)
            self._state, self._reason, self._detail = state, reason, detail
            if state is StreamState.ONLINE:
                self._online_since = time.monotonic()
            status = self._snapshot() if changed else None
        if status is not None and self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:
                logger.exception("status callback failed for %s", self.url)
        return changed

    def decoded(self, at: float) -> None:
        with self._lock:
            self._decoded += 1
            self._recent.append(at)
            while self._recent and self._recent[0] < at - FPS_WINDOW:
                self._recent.popleft()

    def skipped(self) -> None:
        with self._lock:
            self._skipped += 1

    def reconnecting(self) -> None:
        with self._lock:
            self._reconnects += 1

    def snapshot(self) -> StreamStatus:
        with self._lock:
            return self._snapshot()

    def _snapshot(self) -> StreamStatus:
        now = time.monotonic()
        last = self._recent[-1] if self._recent else None
        window = min(FPS_WINDOW, now - self._online_since)
        recent = sum(1 for t in self._recent if t >= now - FPS_WINDOW)
        online = self._state is StreamState.ONLINE
        return StreamStatus(
            state=self._state,
            reason=self._reason,
            detail=self._detail,
            frames_decoded=self._decoded,
            frames_skipped=self._skipped,
            reconnects=self._reconnects,
            last_frame_age=None if last is None else now - last,
            url=self.url,
            fps=recent / window if online and window > 0.5 else 0.0,
        )


class LatestFrameReader:
    """Reads one source on its own thread and keeps only its newest frame.

    Memory stays bounded and a slow consumer never sees an old frame: frames it did
    not take are replaced, not queued. Frames beyond `spec.target_fps` are skipped
    as cheaply as the source allows (counted in frames_skipped). A lost or failing
    source is reopened until stop(), with `backoff` between attempts (state
    RECOVERING, with the reason: about every 2 s for the first minute, then less often,
    see BackoffPolicy); after `spec.failed_after` seconds without a frame it
    is shown FAILED, with the reason, and retried more slowly (the policy's
    `failed_maximum`) until frames arrive again. Two outcomes are final (state FAILED,
    no retry): a URL the rules refuse (REFUSED), and the end of a local file without
    `spec.loop` (ENDED).

    `allow_files`, `allowed_networks` and `denied_networks` are the caller's URL
    rules (see validate_stream_url); they are checked again at every (re)connect.
    `on_status` is called from the reader's thread on every change of state or reason.
    """

    def __init__(
        self,
        spec: SourceSpec,
        *,
        on_status: StatusCallback | None = None,
        backoff: BackoffPolicy | None = None,
        allow_files: bool = False,
        allowed_networks: Networks = (),
        denied_networks: Networks = (),
    ) -> None:
        self.spec = spec
        self._policy = UrlPolicy(allow_files, tuple(allowed_networks), tuple(denied_networks))
        self._stop = Interrupter()
        self._backoff = Backoff(backoff or BackoffPolicy())
        target = spec.snapshot_url or spec.url
        self._shown = redact_url(target)
        secrets = (spec.password, split_credentials(target)[2])
        self._board = _StatusBoard(self._shown, secrets, on_status)
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._handed_out: Frame | None = None  # the newest frame a consumer took
        # A local file read as fast as it is consumed, not in real time.
        self._on_demand = not spec.realtime and target.startswith("/")
        self._live_seq = 0
        self._failing_since: float | None = None  # monotonic; None while frames arrive
        self._context = contextvars.Context()
        self._thread = threading.Thread(
            target=lambda: self._context.run(self._run), name=f"stream {self._shown}", daemon=True
        )
        self._started = False

    # --- consumer side -------------------------------------------------------------

    def start(self) -> LatestFrameReader:
        if self._started:
            raise RuntimeError("a reader starts once; make a new one")
        self._started = True
        _started_readers.add(self)
        # The caller's context variables (e.g. the ids its log records carry) follow
        # the reader into its thread.
        self._context = contextvars.copy_context()
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop reading and release the source; True when the thread has ended.

        Returns within `timeout`. Sockets are shut down at once; an FFmpeg open in
        progress cannot be interrupted and ends by itself within open_timeout, then
        releases its capture.
        """
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._started:
            self._thread.join(timeout)
        with self._cond:
            self._latest = None
        self._board.move(StreamState.STOPPED, None, "stopped")
        return not self._thread.is_alive()

    def latest(self) -> Frame | None:
        """The newest frame, or None before the first one (and after stop())."""
        return self._latest

    def wait_newer(self, after_seq: int | None, timeout: float) -> Frame | None:
        """The newest frame if its seq differs from `after_seq` (any frame if None),
        else wait up to `timeout` seconds for one; None on timeout or stop."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                frame = self._latest
                if frame is not None and (after_seq is None or frame.seq != after_seq):
                    if self._handed_out is not frame:
                        self._handed_out = frame
                        self._cond.notify_all()  # an on-demand reader may go on
                    return frame
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return None
                self._cond.wait(remaining)

    def status(self) -> StreamStatus:
        return self._board.snapshot()

    @property
    def on_demand(self) -> bool:
        """Whether frames are decoded as they are taken (a local file read not in real time):
        none is ever skipped, and the next one is ready a decode after this one is taken."""
        return self._on_demand

    @property
    def alive(self) -> bool:
        """Whether the reader's thread is running."""
        return self._thread.is_alive()

    # --- the reader's thread -------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._read_until_lost()
            except Interrupted:
                return
            except SourceConnectionError as error:
                if not self._recover(error):
                    return
            except Exception as error:  # an OpenCV surprise must not end the camera for good
                logger.exception("unexpected error reading %s", self._shown)
                failure = SourceConnectionError(
                    StreamReason.UNSUPPORTED, f"unexpected {type(error).__name__}"
                )
                if not self._recover(failure):
                    return

    def _recover(self, error: SourceConnectionError) -> bool:
        """Report the failure and wait out the backoff; False when the reader should end."""
        if self._stop.is_set():
            return False
        if error.permanent:
            logger.warning("%s: %s (%s); giving up", self._shown, error.detail, error.reason.value)
            self._board.move(StreamState.FAILED, error.reason, error.detail)
            return False
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        failed = now - self._failing_since >= self.spec.failed_after
        # Wrong credentials do not mend within seconds, and cameras count failed logins.
        quick = error.reason is not StreamReason.AUTH
        delay = self._backoff.failed(now, slowly=failed, quick=quick)
        state = StreamState.FAILED if failed else StreamState.RECOVERING
        changed = self._board.move(state, error.reason, error.detail)
        # A camera down for hours logs its reason once, then each retry quietly.
        logger.log(
            logging.WARNING if changed else logging.DEBUG,
            "%s: %s (%s); retrying in %.1f s",
            self._shown,
            error.detail,
            error.reason.value,
            delay,
        )
        if self._stop.wait(delay):
            return False
        self._board.reconnecting()
        return True

    def _read_until_lost(self) -> None:
        source = open_source(self.spec, self._policy, self._stop)
        try:
            self._pump(source)
        finally:
            source.close()

    def _pump(self, source: FrameSource) -> None:
        """Deliver frames until the source fails (raises). Decodes the frame nearest to
        each due time, one every 1/target_fps seconds; the others are skipped."""
        interval = 1.0 / self.spec.target_fps
        last_arrival = next_due = time.monotonic()
        spacing = interval  # smoothed time between the source's frames
        online = False
        while True:
            self._stop.check()
            position = source.grab()
            now = time.monotonic()
            spacing = 0.8 * spacing + 0.2 * (now - last_arrival)
            last_arrival = now
            seq = position if position is not None else self._next_live_seq()
            # Decode this frame if it is nearer the due time than the next one will be.
            image = source.retrieve() if now + spacing / 2 >= next_due else None
            if image is None:
                self._board.skipped()
                continue
            next_due = max(next_due + interval, now)
            self._publish(image, seq, now)
            if not online:
                online = True
                self._failing_since = None
                self._backoff.connected(now)
                self._board.move(StreamState.ONLINE, None, "")
                logger.info("%s is online", self._shown)

    def _next_live_seq(self) -> int:
        seq = self._live_seq
        self._live_seq += 1
        return seq

    def _publish(self, image: np.ndarray, seq: int, monotonic: float) -> None:
        image.flags.writeable = False  # shared by every consumer of this camera
        frame = Frame(image=image, seq=seq, captured_at=time.time(), monotonic=monotonic)
        with self._cond:
            if self._stop.is_set():
                return
            self._latest = frame
            self._cond.notify_all()
            if self._on_demand:
                # Not realtime: the next frame is decoded only once a consumer took this one.
                while self._handed_out is not frame and not self._stop.is_set():
                    self._cond.wait(0.1)
        self._board.decoded(monotonic)
