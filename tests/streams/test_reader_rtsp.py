"""The reader against a real RTSP server (GStreamer), and against cameras that misbehave."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from streams import Frame, SourceSpec, StreamReason, StreamState
from tests.support.media import SilentServer, closed_port, frame_age_ms
from tests.support.rtsp_server import MuteRtspServer, RtspServer
from tests.support.stream_fixtures import WatchedReader, wait_for

pytestmark = pytest.mark.slow

Factory = Callable[..., WatchedReader]
ONLINE_WITHIN = 15.0  # opening costs about a second; generous for a busy 2-core machine


def _connections_to(port: int) -> list[object]:
    return [
        c
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    ]


def test_reader_delivers_fresh_frames_from_a_live_camera(
    rtsp_server: RtspServer, reader_factory: Factory
) -> None:
    watched = reader_factory(SourceSpec(rtsp_server.url(), target_fps=5))
    reader = watched.reader

    frame = reader.wait_newer(None, timeout=ONLINE_WITHIN)

    assert frame is not None
    assert frame.image.shape == (480, 640, 3)
    assert not frame.image.flags.writeable
    assert frame_age_ms(frame.image) < 250
    assert reader.status().state is StreamState.ONLINE
    later = reader.wait_newer(frame.seq, timeout=2.0)
    assert later is not None and later.seq > frame.seq


def test_frames_beyond_the_target_rate_are_skipped_and_counted(
    rtsp_server: RtspServer, reader_factory: Factory
) -> None:
    watched = reader_factory(SourceSpec(rtsp_server.url(), target_fps=5))
    watched.wait_status(lambda s: s.state is StreamState.ONLINE, ONLINE_WITHIN, "online")
    before = watched.reader.status()
    time.sleep(3.0)  # a measurement window, not a wait for an event
    after = watched.reader.status()

    decoded = (after.frames_decoded - before.frames_decoded) / 3.0
    skipped = (after.frames_skipped - before.frames_skipped) / 3.0
    assert 4.0 <= decoded <= 6.0  # target 5 fps
    assert 17.0 <= skipped <= 22.0  # the rest of the camera's 25 fps
    assert after.last_frame_age is not None and after.last_frame_age < 0.5


def test_reader_reconnects_after_server_restart(
    rtsp_server_factory: Callable[..., RtspServer], reader_factory: Factory
) -> None:
    server = rtsp_server_factory()
    watched = reader_factory(SourceSpec(server.url(), target_fps=10))
    reader = watched.reader
    before = reader.wait_newer(None, timeout=ONLINE_WITHIN)
    assert before is not None

    server.kill()  # like a camera losing power mid-stream
    watched.wait_status(lambda s: s.state is StreamState.RECOVERING, 10.0, "recovering")
    last = reader.latest()
    assert last is not None
    server.start()  # same port

    def newer() -> Frame | None:
        frame = reader.latest()
        return frame if frame is not None and frame.seq > last.seq else None

    after = wait_for(newer, ONLINE_WITHIN, "frames after the restart")
    assert frame_age_ms(after.image) < 250
    status = reader.status()
    assert status.state is StreamState.ONLINE
    assert status.reconnects >= 1
    states = [s.state for s in watched.statuses]
    assert states[:1] == [StreamState.ONLINE]
    assert StreamState.RECOVERING in states
    assert states[-1] is StreamState.ONLINE


def test_a_host_that_never_answers_is_recovering_with_timeout_within_the_timeout(
    silent_server: SilentServer, reader_factory: Factory
) -> None:
    started = time.monotonic()
    watched = reader_factory(
        SourceSpec(f"rtsp://127.0.0.1:{silent_server.port}/live", open_timeout=2.0)
    )

    status = watched.wait_status(
        lambda s: s.state is StreamState.RECOVERING, 2.0 + 1.5, "recovering"
    )

    assert status.reason is StreamReason.TIMEOUT
    assert time.monotonic() - started >= 1.9  # it waited for the timeout, not less
    assert watched.reader.latest() is None


def test_nothing_listening_is_unreachable_and_logged_once(
    reader_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="streams")
    watched = reader_factory(SourceSpec(f"rtsp://127.0.0.1:{closed_port()}/live"))

    status = watched.wait_status(lambda s: s.state is StreamState.RECOVERING, 3.0)
    watched.wait_status(lambda s: s.reconnects >= 3, 5.0, "three retries")

    assert status.reason is StreamReason.UNREACHABLE
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert [r.levelno for r in retries[:3]] == [logging.WARNING, logging.DEBUG, logging.DEBUG]


@pytest.mark.parametrize("auth", ["basic", "digest"])
def test_wrong_credentials_are_reported_as_auth_without_showing_the_password(
    auth: str,
    rtsp_server_factory: Callable[..., RtspServer],
    reader_factory: Factory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = rtsp_server_factory(username="viewer", password="right-one", auth=auth)
    wrong = "Wr0ng:p@ss/word"
    watched = reader_factory(SourceSpec(server.url(), username="viewer", password=wrong))

    status = watched.wait_status(lambda s: s.state is StreamState.RECOVERING, 5.0)

    assert status.reason is StreamReason.AUTH
    shown = " ".join([repr(status), *(repr(s) for s in watched.statuses), caplog.text])
    for form in (wrong, "Wr0ng%3Ap%40ss%2Fword", "p@ss"):
        assert form not in shown


def test_missing_credentials_are_reported_as_auth(
    rtsp_server_factory: Callable[..., RtspServer], reader_factory: Factory
) -> None:
    server = rtsp_server_factory(username="viewer", password="secret")
    watched = reader_factory(SourceSpec(server.url()))

    status = watched.wait_status(lambda s: s.state is StreamState.RECOVERING, 5.0)

    assert status.reason is StreamReason.AUTH


@pytest.mark.parametrize("auth", ["basic", "digest"])
def test_right_credentials_open_the_stream(
    auth: str, rtsp_server_factory: Callable[..., RtspServer], reader_factory: Factory
) -> None:
    password = "p@ss:w/rd %"  # characters that must be percent-encoded in a URL
    server = rtsp_server_factory(username="view er", password=password, auth=auth)
    watched = reader_factory(SourceSpec(server.url(), username="view er", password=password))

    assert watched.reader.wait_newer(None, timeout=ONLINE_WITHIN) is not None


def test_a_missing_stream_path_is_not_found(
    rtsp_server: RtspServer, reader_factory: Factory
) -> None:
    watched = reader_factory(SourceSpec(rtsp_server.url("/no-such-stream")))

    status = watched.wait_status(lambda s: s.state is StreamState.RECOVERING, 5.0)

    assert status.reason is StreamReason.NOT_FOUND


def test_a_web_server_behind_an_rtsp_url_is_unsupported(
    media_server: object, reader_factory: Factory
) -> None:
    port = media_server.port  # type: ignore[attr-defined]
    watched = reader_factory(SourceSpec(f"rtsp://127.0.0.1:{port}/live"))

    status = watched.wait_status(lambda s: s.state is StreamState.RECOVERING, 5.0)

    assert status.reason is StreamReason.UNSUPPORTED


def test_udp_transport_delivers_frames(rtsp_server: RtspServer, reader_factory: Factory) -> None:
    watched = reader_factory(SourceSpec(rtsp_server.url(), transport="udp"))

    frame = watched.reader.wait_newer(None, timeout=ONLINE_WITHIN)

    assert frame is not None
    assert frame_age_ms(frame.image) < 250


def test_stop_returns_within_two_seconds_and_releases_the_stream(
    rtsp_server: RtspServer, reader_factory: Factory
) -> None:
    reader = reader_factory(SourceSpec(rtsp_server.url())).reader
    assert reader.wait_newer(None, timeout=ONLINE_WITHIN) is not None
    assert _connections_to(rtsp_server.port)

    started = time.monotonic()
    finished = reader.stop()

    assert time.monotonic() - started < 2.0
    assert finished and not reader.alive
    assert reader.status().state is StreamState.STOPPED
    assert reader.latest() is None
    assert reader.wait_newer(None, timeout=1.0) is None
    assert not _connections_to(rtsp_server.port)


def test_stop_while_waiting_on_a_silent_host_returns_at_once(
    silent_server: SilentServer, reader_factory: Factory
) -> None:
    url = f"rtsp://127.0.0.1:{silent_server.port}/live"
    reader = reader_factory(SourceSpec(url, open_timeout=30.0)).reader
    wait_for(lambda: _connections_to(silent_server.port), 5.0, "the reader to connect")

    started = time.monotonic()
    finished = reader.stop()

    assert time.monotonic() - started < 2.0
    assert finished
    assert not _connections_to(silent_server.port)


@pytest.mark.parametrize("other", ["rtsp over tcp", "rtsp over udp", "file"])
def test_a_camera_that_never_sends_video_does_not_hold_up_the_others(
    other: str,
    rtsp_server: RtspServer,
    reader_factory: Factory,
    video_file: Callable[..., Path],
) -> None:
    # The mute camera answers RTSP, so FFmpeg's open waits its full timeout for video.
    # OpenCV runs FFmpeg opens one at a time unless told otherwise, and takes FFmpeg's
    # options from one environment variable: either could make the others wait.
    mute = MuteRtspServer()
    try:
        stuck = reader_factory(SourceSpec(mute.url(), open_timeout=6.0, read_timeout=1.0))
        wait_for(lambda: "PLAY" in mute.requests, 5.0, "FFmpeg to be waiting for video")
        started = time.monotonic()
        if other == "file":
            good = reader_factory(SourceSpec(str(video_file(frames=250))), allow_files=True)
        else:
            transport = other.rsplit(" ", 1)[1]
            good = reader_factory(SourceSpec(rtsp_server.url(), transport=transport))

        assert good.reader.wait_newer(None, timeout=5.0) is not None
        assert time.monotonic() - started < 5.0
        assert stuck.reader.latest() is None
    finally:
        mute.close()
