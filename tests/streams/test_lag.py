"""No lag: a slow consumer of a live camera always gets a fresh frame, for a whole minute."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from streams import SourceSpec, StreamState
from tests.support.media import frame_age_ms
from tests.support.rtsp_server import RtspServer
from tests.support.stream_fixtures import WatchedReader

pytestmark = pytest.mark.slow

MINUTE = 60.0
CONSUMER_PERIOD = 0.5  # the consumer takes a frame twice a second


def test_a_2fps_consumer_of_a_25fps_camera_always_gets_a_frame_younger_than_250ms(
    rtsp_server: RtspServer, reader_factory: Callable[..., WatchedReader]
) -> None:
    # The age is read from the clock the server drew into each frame, so it covers
    # everything between the camera and the consumer: encoder, network, FFmpeg's
    # buffers and the reader. A frame waits at most 1/target_fps for its consumer.
    reader = reader_factory(SourceSpec(rtsp_server.url(), target_fps=10)).reader
    first = reader.wait_newer(None, timeout=15.0)
    assert first is not None

    ages: list[int] = []
    seqs: list[int] = []
    started = next_read = time.monotonic()
    while time.monotonic() - started < MINUTE:
        next_read += CONSUMER_PERIOD
        time.sleep(max(0.0, next_read - time.monotonic()))  # the consumer's own pace
        frame = reader.latest()
        assert frame is not None
        age = frame_age_ms(frame.image)
        assert age is not None, "the stamp did not decode"
        ages.append(age)
        seqs.append(frame.seq)

    assert len(ages) >= 110
    assert max(ages) < 250, sorted(ages)[-10:]
    assert seqs == sorted(set(seqs))  # a new frame at every read
    status = reader.status()
    assert status.state is StreamState.ONLINE
    assert status.reconnects == 0
    # The age stays where it started instead of growing with a backlog.
    early, late = sorted(ages[:20])[10], sorted(ages[-20:])[10]
    assert late < early + 50
