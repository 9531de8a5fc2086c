"""The reader against a real HTTP camera: MJPEG streams, snapshots, and wrong answers."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from streams import SourceSpec, StreamReason, StreamState
from tests.support.media import MediaServer, frame_age_ms, frame_index, write_video
from tests.support.stream_fixtures import WatchedReader

pytestmark = pytest.mark.slow

Factory = Callable[..., WatchedReader]


@pytest.mark.parametrize("content_length", [True, False])
def test_mjpeg_frames_arrive_fresh_at_the_target_rate(
    content_length: bool,
    media_server_factory: Callable[..., MediaServer],
    reader_factory: Factory,
) -> None:
    server = media_server_factory(content_length=content_length, fps=25)
    watched = reader_factory(SourceSpec(server.url("/mjpeg"), target_fps=5))
    reader = watched.reader

    first = reader.wait_newer(None, timeout=5.0)
    assert first is not None
    before = reader.status()
    time.sleep(2.0)  # a measurement window
    after = reader.status()
    frame = reader.latest()

    assert frame is not None and frame.image.shape == (240, 320, 3)
    assert frame_age_ms(frame.image) < 250
    assert 3.5 <= (after.frames_decoded - before.frames_decoded) / 2.0 <= 6.5
    assert after.frames_skipped > before.frames_skipped  # not decoded at all


def test_mjpeg_with_credentials(
    media_server_factory: Callable[..., MediaServer], reader_factory: Factory
) -> None:
    server = media_server_factory(username="cam", password="s3cret")
    good = reader_factory(SourceSpec(server.url("/mjpeg"), username="cam", password="s3cret"))
    bad = reader_factory(SourceSpec(server.url("/mjpeg"), username="cam", password="nope"))

    assert good.reader.wait_newer(None, timeout=5.0) is not None
    status = bad.wait_status(lambda s: s.state is StreamState.RECOVERING, 5.0)
    assert status.reason is StreamReason.AUTH


def test_a_stalled_mjpeg_stream_times_out_and_comes_back(
    media_server: MediaServer, reader_factory: Factory
) -> None:
    watched = reader_factory(SourceSpec(media_server.url("/mjpeg"), read_timeout=1.5))
    assert watched.reader.wait_newer(None, timeout=5.0) is not None

    media_server.stall()
    status = watched.wait_status(lambda s: s.state is StreamState.RECOVERING, 1.5 + 2.0)
    assert status.reason is StreamReason.TIMEOUT

    media_server.stalled.clear()
    watched.wait_status(lambda s: s.state is StreamState.ONLINE, 5.0, "online again")


def test_stop_interrupts_a_blocked_read(media_server: MediaServer, reader_factory: Factory) -> None:
    reader = reader_factory(SourceSpec(media_server.url("/mjpeg"), read_timeout=60.0)).reader
    assert reader.wait_newer(None, timeout=5.0) is not None
    media_server.stall()
    time.sleep(0.3)  # let the reader block on the silent socket

    started = time.monotonic()
    assert reader.stop()
    assert time.monotonic() - started < 2.0


def test_a_snapshot_url_is_polled_instead_of_the_stream(
    media_server: MediaServer, reader_factory: Factory
) -> None:
    spec = SourceSpec(
        "rtsp://192.0.2.1/never-opened",  # TEST-NET: would hang if it were opened
        snapshot_url=media_server.url("/snapshot.jpg"),
        snapshot_interval=0.2,
        target_fps=25,
    )
    watched = reader_factory(spec)
    reader = watched.reader
    first = reader.wait_newer(None, timeout=5.0)
    assert first is not None

    started = time.monotonic()
    frames = [first]
    while len(frames) < 6:
        frame = reader.wait_newer(frames[-1].seq, timeout=2.0)
        assert frame is not None
        assert frame_age_ms(frame.image) < 150
        frames.append(frame)
    per_frame = (time.monotonic() - started) / 5

    assert 0.15 <= per_frame <= 0.4  # every snapshot_interval, not as fast as possible
    assert reader.status().url == media_server.url("/snapshot.jpg")
    assert all(path == "/snapshot.jpg" for path in media_server.requests)


def test_a_url_answering_with_one_jpeg_is_polled_as_a_snapshot(
    media_server: MediaServer, reader_factory: Factory
) -> None:
    spec = SourceSpec(media_server.url("/snapshot.jpg"), snapshot_interval=0.1, target_fps=5)
    reader = reader_factory(spec).reader

    first = reader.wait_newer(None, timeout=5.0)
    assert first is not None
    second = reader.wait_newer(first.seq, timeout=2.0)
    assert second is not None
    assert frame_age_ms(second.image) < 250


def test_a_web_page_instead_of_video_is_unsupported(
    media_server: MediaServer, reader_factory: Factory
) -> None:
    watched = reader_factory(SourceSpec(media_server.url("/page")))

    status = watched.wait_status(lambda s: s.state is StreamState.RECOVERING, 5.0)

    assert status.reason is StreamReason.UNSUPPORTED
    assert "web page" in status.detail


def test_a_missing_page_is_not_found(media_server: MediaServer, reader_factory: Factory) -> None:
    watched = reader_factory(SourceSpec(media_server.url("/nope")))

    status = watched.wait_status(lambda s: s.state is StreamState.RECOVERING, 5.0)

    assert status.reason is StreamReason.NOT_FOUND


def test_a_playlist_pointing_at_local_files_is_refused_before_ffmpeg_sees_it(
    media_server: MediaServer, reader_factory: Factory, ffmpeg_opens: list[str]
) -> None:
    media_server.playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfile:///etc/passwd\n"
    watched = reader_factory(SourceSpec(media_server.url("/playlist.m3u8")))

    status = watched.wait_status(lambda s: s.state is StreamState.FAILED, 5.0)

    assert status.reason is StreamReason.REFUSED
    assert "playlist" in status.detail
    assert ffmpeg_opens == []
    assert media_server.requests == ["/playlist.m3u8"]


def test_hls_over_http_is_read_by_ffmpeg_at_its_own_pace(
    media_server: MediaServer, reader_factory: Factory, tmp_path: Path
) -> None:
    write_video(tmp_path / "seg0.ts", frames=50, fps=25)
    write_video(tmp_path / "seg1.ts", frames=50, fps=25, first=50)
    (tmp_path / "index.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
        "#EXTINF:2.0,\nseg0.ts\n#EXTINF:2.0,\nseg1.ts\n#EXT-X-ENDLIST\n"
    )
    media_server.directory = tmp_path
    reader = reader_factory(SourceSpec(media_server.url("/files/index.m3u8"), target_fps=25)).reader

    first = reader.wait_newer(None, timeout=10.0)
    assert first is not None
    started, start_index = time.monotonic(), frame_index(first.image)
    frame = first
    while frame_index(frame.image) < start_index + 25:
        frame = reader.wait_newer(frame.seq, timeout=2.0)
        assert frame is not None

    assert 0.7 <= time.monotonic() - started <= 1.6  # 25 frames at 25 fps, not decode speed
