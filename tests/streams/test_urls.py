"""URL rules: what may be opened (how URLs are shown without passwords: test_redaction.py)."""

from __future__ import annotations

import pytest

from streams import UnsafeURLError, validate_stream_url
from streams.urls import check_playlist

ACCEPTED = [
    "rtsp://camera.local:554/Streaming/Channels/101",
    "RTSP://10.0.0.5/live",
    "rtsps://10.0.0.5:322/live?channel=1",
    "http://10.0.0.5/mjpg/video.mjpg",
    "https://cam.example.com/snapshot.jpg",
    "rtsp://admin:secret@10.0.0.5/live",
    "rtsp://[fe80::1]:554/live",
]

# Every form FFmpeg would use to reach something other than a network camera.
REFUSED = {
    "file URL": "file:///etc/passwd",
    "file URL without slashes": "file:/etc/passwd",
    "concat": "concat:/etc/passwd|/etc/shadow",
    "concatf": "concatf:/tmp/list.txt",
    "subfile": "subfile,,start,0,end,0,,:/etc/passwd",
    "subfile with scheme": "subfile:/etc/passwd",
    "pipe": "pipe:0",
    "fd": "fd:3",
    "data": "data:video/mp4;base64,AAAA",
    "cache": "cache:http://10.0.0.5/live.m3u8",
    "async": "async:http://10.0.0.5/live.m3u8",
    "crypto": "crypto+file:///etc/passwd",
    "hls+file": "hls+file:///tmp/list.m3u8",
    "tee": "tee:file:///tmp/a|file:///tmp/b",
    "udp": "udp://0.0.0.0:1234",
    "tcp": "tcp://10.0.0.5:1234",
    "gopher": "gopher://10.0.0.5/",
    "unknown scheme": "ftp://10.0.0.5/video.mp4",
    "local path without the setting": "/var/videos/demo.mp4",
    "relative path": "videos/demo.mp4",
    "relative parent path": "../etc/passwd",
    "Windows path": "C:\\videos\\demo.mp4",
    "no host": "rtsp:///live",
    "no slashes": "rtsp:10.0.0.5/live",
    "empty": "",
    "spaces": "rtsp://10.0.0.5/live stream",
    "newline (header injection)": "rtsp://10.0.0.5/live\r\nX-Injected: 1",
    "NUL": "http://10.0.0.5/\x00",
    "bad port": "rtsp://10.0.0.5:99999/live",
    "bad host": "http://exa_mple!.com/",
}


@pytest.mark.parametrize("url", ACCEPTED)
def test_camera_urls_are_accepted(url: str) -> None:
    validate_stream_url(url)


@pytest.mark.parametrize("url", REFUSED.values(), ids=REFUSED.keys())
def test_unsafe_urls_are_refused_with_a_message(url: str) -> None:
    with pytest.raises(UnsafeURLError) as excinfo:
        validate_stream_url(url)
    assert str(excinfo.value)  # a sentence for the admin form
    assert isinstance(excinfo.value, ValueError)


def test_pseudo_protocols_are_named_in_the_message() -> None:
    with pytest.raises(UnsafeURLError, match="'concat:' is refused"):
        validate_stream_url("concat:/etc/passwd|/etc/shadow")


def test_local_files_need_the_setting() -> None:
    with pytest.raises(UnsafeURLError, match="SIGHTLINE_ALLOW_FILE_SOURCES"):
        validate_stream_url("/var/videos/demo.mp4")
    validate_stream_url("/var/videos/demo.mp4", allow_files=True)


def test_file_urls_stay_refused_when_files_are_allowed() -> None:
    with pytest.raises(UnsafeURLError, match="absolute path"):
        validate_stream_url("file:///var/videos/demo.mp4", allow_files=True)


def test_local_paths_may_not_climb_out() -> None:
    with pytest.raises(UnsafeURLError):
        validate_stream_url("/var/videos/../../etc/passwd", allow_files=True)


def test_denied_networks_refuse_matching_hosts() -> None:
    denied = ["127.0.0.0/8", "169.254.0.0/16"]
    with pytest.raises(UnsafeURLError, match="denied"):
        validate_stream_url("http://169.254.169.254/latest/meta-data", denied_networks=denied)
    validate_stream_url("rtsp://10.0.0.5/live", denied_networks=denied)


def test_allowed_networks_refuse_hosts_outside_them() -> None:
    allowed = ["10.0.0.0/8"]
    validate_stream_url("rtsp://10.1.2.3/live", allowed_networks=allowed)
    with pytest.raises(UnsafeURLError, match="outside the allowed"):
        validate_stream_url("rtsp://192.168.1.2/live", allowed_networks=allowed)


def test_host_names_are_resolved_before_the_network_check() -> None:
    # "localhost" and the numeric forms inet_aton accepts all reach 127.0.0.1.
    for url in ("http://localhost/", "http://2130706433/", "http://0x7f.1/"):
        with pytest.raises(UnsafeURLError, match="denied"):
            validate_stream_url(url, denied_networks=["127.0.0.0/8"])


def test_an_unresolvable_host_cannot_pass_an_allowlist() -> None:
    with pytest.raises(UnsafeURLError, match="does not resolve"):
        validate_stream_url("rtsp://no-such-host.invalid/live", allowed_networks=["10.0.0.0/8"])


def test_ipv4_mapped_ipv6_addresses_are_checked_as_ipv4() -> None:
    with pytest.raises(UnsafeURLError):
        validate_stream_url("http://[::ffff:127.0.0.1]/", denied_networks=["127.0.0.0/8"])


def test_a_bad_network_setting_is_a_configuration_error() -> None:
    with pytest.raises(ValueError) as excinfo:
        validate_stream_url("rtsp://10.0.0.5/", allowed_networks=["not-a-network"])
    assert not isinstance(excinfo.value, UnsafeURLError)


def test_playlists_pointing_at_http_are_fine() -> None:
    playlist = '#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="key.bin"\nseg1.ts\n/abs/seg2.ts\n'
    check_playlist(playlist, "http://10.0.0.5/live/index.m3u8")


@pytest.mark.parametrize(
    "entry",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "data:video/mp2t;base64,AAAA",
        "concat:/etc/passwd|/etc/shadow",
        '#EXT-X-MAP:URI="file:///etc/passwd"',
        '#EXT-X-KEY:METHOD=AES-128,URI="file:///etc/key"',
    ],
)
def test_playlists_pointing_at_local_files_are_refused(entry: str) -> None:
    with pytest.raises(UnsafeURLError, match="playlist"):
        check_playlist(f"#EXTM3U\n#EXTINF:2,\n{entry}\n", "http://10.0.0.5/index.m3u8")
