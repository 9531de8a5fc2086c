"""How a failing camera is reported: what the server said, and `failed` once it fails for long."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from streams import BackoffPolicy, SourceSpec, StreamReason, StreamState
from tests.support.media import closed_port
from tests.support.rtsp_server import MuteRtspServer
from tests.support.stream_fixtures import WatchedReader

pytestmark = pytest.mark.slow

Factory = Callable[..., WatchedReader]


class BusyRtspServer(MuteRtspServer):
    """A real RTSP server that describes the stream `described` times, then answers
    every request with 503 Service Unavailable (a camera at its session limit)."""

    def __init__(self, described: int = 0) -> None:
        self.described = described
        super().__init__()

    def _answer(self, method: str, url: str, headers: dict[str, str]) -> str:
        if method == "DESCRIBE" and self.described > 0:
            self.described -= 1
            return super()._answer(method, url, headers)
        return f"RTSP/1.0 503 Service Unavailable\r\nCSeq: {headers.get('cseq', '0')}\r\n\r\n"


@pytest.fixture
def busy_server_factory() -> Callable[..., BusyRtspServer]:
    servers: list[BusyRtspServer] = []

    def start(described: int = 0) -> BusyRtspServer:
        servers.append(BusyRtspServer(described))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize("described", [0, 1], ids=["to-the-probe", "to-ffmpeg-after-the-probe"])
def test_a_503_on_describe_is_reported_as_unavailable_with_the_servers_answer(
    described: int, busy_server_factory: Callable[..., BusyRtspServer], reader_factory: Factory
) -> None:
    server = busy_server_factory(described)
    watched = reader_factory(SourceSpec(server.url(), open_timeout=5))

    status = watched.wait_status(lambda s: s.reason is not None, 15.0, "a reason")

    assert status.state is StreamState.RECOVERING  # it may serve again later: retried
    assert status.reason is StreamReason.UNAVAILABLE
    assert status.detail == "the camera answered 503 Service Unavailable"
    assert "DESCRIBE" in server.requests


def test_a_camera_failing_longer_than_failed_after_is_failed_and_still_retried(
    reader_factory: Factory,
) -> None:
    spec = SourceSpec(f"rtsp://127.0.0.1:{closed_port()}/live", failed_after=1.5)
    backoff = BackoffPolicy(initial=0.1, maximum=0.2, failed_maximum=0.5)
    watched = reader_factory(spec, backoff=backoff)

    recovering = watched.wait_status(lambda s: s.state is StreamState.RECOVERING, 3.0)
    failed = watched.wait_status(lambda s: s.state is StreamState.FAILED, 5.0, "failed")
    retried = watched.wait_status(
        lambda s: s.reconnects >= failed.reconnects + 2, 5.0, "retries while failed"
    )

    assert recovering.reason is StreamReason.UNREACHABLE
    assert failed.reason is StreamReason.UNREACHABLE  # the reason stays shown
    assert retried.state is StreamState.FAILED
    assert [s.state for s in watched.statuses][:2] == [
        StreamState.RECOVERING,
        StreamState.FAILED,
    ]
