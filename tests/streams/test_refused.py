"""Unsafe URLs never reach FFmpeg: refused by the reader, and blocked by FFmpeg too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from streams import SourceSpec, StreamReason, StreamState
from streams.net import Interrupter
from streams.sources.ffmpeg import PROTOCOL_WHITELISTS, capture_options, open_capture
from tests.streams.test_urls import REFUSED
from tests.support.media import MediaServer, frame_index, write_video
from tests.support.stream_fixtures import WatchedReader


@pytest.mark.parametrize("url", REFUSED.values(), ids=REFUSED.keys())
def test_every_refused_url_form_fails_the_reader_without_touching_ffmpeg(
    url: str, reader_factory: Callable[..., WatchedReader], ffmpeg_opens: list[str]
) -> None:
    watched = reader_factory(SourceSpec(url))

    status = watched.wait_status(lambda s: s.state is StreamState.FAILED, 3.0)

    assert status.reason is StreamReason.REFUSED
    assert status.reconnects == 0  # refused for good, not retried
    assert ffmpeg_opens == []


def test_networks_are_checked_by_the_reader_too(
    media_server: MediaServer, reader_factory: Callable[..., WatchedReader], ffmpeg_opens: list[str]
) -> None:
    watched = reader_factory(
        SourceSpec(media_server.url("/mjpeg")), denied_networks=["127.0.0.0/8"]
    )

    status = watched.wait_status(lambda s: s.state is StreamState.FAILED, 3.0)

    assert status.reason is StreamReason.REFUSED
    assert media_server.requests == []


def _hls(directory: Path, entry: str) -> None:
    (directory / "index.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
        f"#EXTINF:2.0,\n{entry}\n#EXT-X-ENDLIST\n"
    )


def test_ffmpeg_itself_cannot_follow_a_playlist_to_local_files(
    media_server: MediaServer, tmp_path: Path
) -> None:
    # The second line, should a playlist get past the reader's own check (a variant
    # playlist one level down, say): FFmpeg is told which protocols it may use.
    write_video(tmp_path / "seg0.ts", frames=25)
    _hls(tmp_path, f"file://{tmp_path}/seg0.ts")
    media_server.directory = tmp_path
    url = media_server.url("/files/index.m3u8")
    stop = Interrupter()

    blocked = open_capture(url, capture_options("http"), open_timeout=5, read_timeout=5, stop=stop)
    with_file = f"protocol_whitelist;{PROTOCOL_WHITELISTS['http']},file"
    unsafe = open_capture(url, with_file, open_timeout=5, read_timeout=5, stop=stop)

    assert blocked is None
    assert unsafe is not None  # what the whitelist prevents: FFmpeg reading a local file
    ok, image = unsafe.read()
    unsafe.release()
    assert ok and frame_index(image) == 0


def test_ffmpeg_options_whitelist_only_the_protocols_of_the_source() -> None:
    assert capture_options("rtsp", "udp") == (
        "protocol_whitelist;rtsp,rtsps,rtp,srtp,udp,tcp,tls|rtsp_transport;udp"
    )
    assert capture_options("http") == "protocol_whitelist;http,https,tcp,tls,crypto,httpproxy"
    assert capture_options("file") == "protocol_whitelist;file"
