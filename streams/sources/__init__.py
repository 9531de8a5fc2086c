"""Choosing and opening the source for a SourceSpec."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from streams.classify import HTTP_MJPEG, HTTP_PLAYLIST, HTTP_SNAPSHOT, http_kind
from streams.classify import multipart_boundary as boundary_of
from streams.entities import SourceSpec, StreamReason
from streams.errors import SourceConnectionError, UnsafeURLError
from streams.net import Interrupter
from streams.redaction import split_credentials, with_credentials
from streams.sources.base import FrameSource
from streams.sources.ffmpeg import FileCapture, LiveCapture, capture_options, open_capture
from streams.sources.http import HttpCamera, read_body
from streams.sources.mjpeg import MAX_PART as MAX_SNAPSHOT
from streams.sources.mjpeg import MjpegSource, SnapshotSource
from streams.sources.rtsp_probe import probe_rtsp
from streams.urls import Networks, check_playlist, validate_stream_url

MAX_PLAYLIST = 1024 * 1024

__all__ = ["FrameSource", "UrlPolicy", "open_source"]


@dataclass(frozen=True)
class UrlPolicy:
    """What the caller allows: local files, and the networks cameras may be in."""

    allow_files: bool = False
    allowed_networks: Networks = ()
    denied_networks: Networks = ()

    def check(self, url: str) -> None:
        """Raise SourceConnectionError(REFUSED, permanent) for a URL the rules refuse."""
        try:
            validate_stream_url(
                url,
                allow_files=self.allow_files,
                allowed_networks=self.allowed_networks,
                denied_networks=self.denied_networks,
            )
        except UnsafeURLError as error:
            raise SourceConnectionError(StreamReason.REFUSED, str(error), permanent=True) from None


def open_source(spec: SourceSpec, policy: UrlPolicy, stop: Interrupter) -> FrameSource:
    """Validate the spec's URL (again: DNS may have changed) and open the right source."""
    target = spec.snapshot_url or spec.url
    policy.check(target)
    if target.startswith("/"):
        return FileCapture(
            Path(target),
            loop=spec.loop,
            open_timeout=spec.open_timeout,
            read_timeout=spec.read_timeout,
            stop=stop,
            paced=spec.realtime,
        )
    url, username, password = split_credentials(target)
    if spec.username:
        username, password = spec.username, spec.password
    scheme = urlsplit(url).scheme.lower()
    if spec.snapshot_url:
        if scheme not in ("http", "https"):
            raise SourceConnectionError(
                StreamReason.REFUSED, "a snapshot URL must be http:// or https://", permanent=True
            )
        camera = HttpCamera(url, username, password, **_timeouts(spec), stop=stop)
        return SnapshotSource(camera, _snapshot_interval(spec), stop)
    if scheme in ("rtsp", "rtsps"):
        probe_rtsp(url, username, password, timeout=spec.open_timeout, stop=stop)
        return _open_ffmpeg(spec, url, username, password, "rtsp", stop)
    return _open_http(spec, url, username, password, stop)


def _timeouts(spec: SourceSpec) -> dict[str, float]:
    return {"open_timeout": spec.open_timeout, "read_timeout": spec.read_timeout}


def _snapshot_interval(spec: SourceSpec) -> float:
    return max(spec.snapshot_interval, 1.0 / spec.target_fps)


def _open_http(
    spec: SourceSpec, url: str, username: str, password: str, stop: Interrupter
) -> FrameSource:
    """Ask the server what it serves: MJPEG, a snapshot, a playlist or other video."""
    camera = HttpCamera(url, username, password, **_timeouts(spec), stop=stop)
    response = camera.get()
    content_type = response.getheader("Content-Type", "")
    kind = http_kind(content_type)
    if kind == HTTP_MJPEG:
        boundary = boundary_of(content_type)
        if boundary:
            return MjpegSource(camera, response, boundary, stop)
        kind = None
    try:
        if kind == HTTP_SNAPSHOT:
            first = read_body(response, MAX_SNAPSHOT, stop)
            response.close()  # read in full: the connection stays for the next poll
            return SnapshotSource(camera, _snapshot_interval(spec), stop, first=first)
        if kind is None:
            media_type = content_type.split(";", 1)[0].strip() or "no content type"
            what = "a web page" if "html" in media_type else media_type
            raise SourceConnectionError(
                StreamReason.UNSUPPORTED, f"the server sent {what} ({media_type}), not video"
            )
        head = response.read(64)
        if kind == HTTP_PLAYLIST or http_kind(content_type, head) == HTTP_PLAYLIST:
            body = head + read_body(response, MAX_PLAYLIST, stop)
            try:
                check_playlist(body.decode("utf-8", "replace"), url)
            except UnsafeURLError as error:
                raise SourceConnectionError(
                    StreamReason.REFUSED, str(error), permanent=True
                ) from None
    except BaseException:
        response.close()
        camera.close()
        raise
    response.close()
    camera.close()
    return _open_ffmpeg(spec, url, username, password, "http", stop)


def _open_ffmpeg(
    spec: SourceSpec, url: str, username: str, password: str, protocols: str, stop: Interrupter
) -> LiveCapture:
    started = time.monotonic()
    capture = open_capture(
        with_credentials(url, username, password),
        capture_options(protocols, spec.transport),
        **_timeouts(spec),
        stop=stop,
    )
    if capture is not None and stop.is_set():
        capture.release()
    stop.check()
    if capture is None:
        if time.monotonic() - started >= spec.open_timeout * 0.9:
            raise SourceConnectionError(
                StreamReason.TIMEOUT, f"no video within {spec.open_timeout:g} s"
            )
        if protocols == "rtsp":
            # FFmpeg does not say why. The server may have refused FFmpeg what it gave
            # the probe a moment before (busy, a session limit): ask it again.
            probe_rtsp(url, username, password, timeout=spec.open_timeout, stop=stop)
        raise SourceConnectionError(StreamReason.UNSUPPORTED, "FFmpeg could not open the stream")
    return LiveCapture(capture, spec.read_timeout, paced=protocols == "http", stop=stop)
