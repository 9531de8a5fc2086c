"""Cameras that come back after a short outage are used within seconds (issue 17).

The old schedule (1 s doubling to 30 s, no quick first minute) retried about 1, 3, 7,
15, 31 and 61 s into an outage, each delay ±20 %: after the issue's 10 s outage it
happened to be back in 6-9 s here, but its 5th retry comes at most 37.2 s in and its
6th at least 48.8 s in, so after a 38 s outage it is back more than 10 s after the
return whatever its jitter. Both outages are tested.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from streams import BackoffPolicy, Frame, SourceSpec, StreamReason, StreamState
from tests.support.media import closed_port
from tests.support.rtsp_server import RtspServer
from tests.support.stream_fixtures import WatchedReader, wait_for

pytestmark = pytest.mark.slow

Factory = Callable[..., WatchedReader]
CAMERAS = 4
BACK_WITHIN = 10.0
ONLINE_WITHIN = 15.0  # opening costs about a second; generous for a busy 2-core machine


@pytest.mark.parametrize("outage", [10.0, 38.0], ids=["10s", "38s"])
def test_four_cameras_deliver_again_within_10_s_of_their_server_returning(
    outage: float, rtsp_server_factory: Callable[..., RtspServer], reader_factory: Factory
) -> None:
    # Given four cameras on one server, read with the schedule the workers use.
    mounts = tuple(f"/cam{i}" for i in range(CAMERAS))
    server = rtsp_server_factory(mounts=mounts)
    cameras = [
        reader_factory(SourceSpec(server.url(m), target_fps=5), backoff=BackoffPolicy())
        for m in mounts
    ]
    for camera in cameras:
        camera.wait_status(lambda s: s.state is StreamState.ONLINE, ONLINE_WITHIN, "online")

    # When the server dies (like a switch losing power) and returns on the same port
    # `outage` seconds later,
    server.kill()
    killed = time.monotonic()
    for camera in cameras:
        camera.wait_status(lambda s: s.state is StreamState.RECOVERING, 10.0, "recovering")
    last = [camera.reader.latest() for camera in cameras]
    # The outage itself, not a wait for an event: the readers retry meanwhile.
    time.sleep(max(0.0, killed + outage - time.monotonic()))
    server.start()
    returned = time.monotonic()

    # then every camera delivers new frames within BACK_WITHIN seconds of its return.
    def newer(index: int) -> Callable[[], Frame | None]:
        def check() -> Frame | None:
            frame, before = cameras[index].reader.latest(), last[index]
            fresh = frame is not None and (before is None or frame.seq > before.seq)
            return frame if fresh else None

        return check

    back_after = []
    for index in range(CAMERAS):
        wait_for(newer(index), returned + BACK_WITHIN - time.monotonic(), f"camera {index} back")
        back_after.append(time.monotonic() - returned)
    print(f"back after {', '.join(f'{t:.1f}' for t in back_after)} s")
    for camera in cameras:
        status = camera.reader.status()
        assert status.state is StreamState.ONLINE
        assert status.reconnects >= 1


def test_wrong_credentials_are_not_retried_quickly_while_a_lost_camera_is(
    rtsp_server_factory: Callable[..., RtspServer], reader_factory: Factory
) -> None:
    # Wrong credentials do not mend within seconds, and cameras count failed logins:
    # retries 1, 3, 7, 15 s in (each ±20 %), against every 2 s for a camera not there.
    server = rtsp_server_factory(username="viewer", password="right-one")
    started = time.monotonic()
    wrong = reader_factory(
        SourceSpec(server.url(), username="viewer", password="wrong"), backoff=BackoffPolicy()
    )
    missing = reader_factory(
        SourceSpec(f"rtsp://127.0.0.1:{closed_port()}/live"), backoff=BackoffPolicy()
    )

    time.sleep(max(0.0, started + 11.5 - time.monotonic()))  # a window to count retries in

    assert wrong.reader.status().reason is StreamReason.AUTH
    assert missing.reader.status().reason is StreamReason.UNREACHABLE
    assert wrong.reader.status().reconnects <= 3  # the 4th is due 12 s in at the earliest
    assert missing.reader.status().reconnects >= 5  # the 5th is due 10.8 s in at the latest
