"""Fixtures for the stream tests: real servers and files (tests/support/stream_fixtures.py)."""

from __future__ import annotations

import cv2
import pytest

from tests.support.stream_fixtures import (  # noqa: F401 - fixtures are used by name
    media_server,
    media_server_factory,
    reader_factory,
    rtsp_server,
    rtsp_server_factory,
    silent_server,
    video_file,
)


@pytest.fixture
def ffmpeg_opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL handed to OpenCV's VideoCapture during the test (still really opened)."""
    opened: list[str] = []
    real_capture = cv2.VideoCapture

    def recording_capture(*args: object, **kwargs: object) -> cv2.VideoCapture:
        opened.append(str(args[0]) if args else "")
        return real_capture(*args, **kwargs)

    monkeypatch.setattr(cv2, "VideoCapture", recording_capture)
    return opened
