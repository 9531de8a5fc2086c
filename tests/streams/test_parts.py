"""Reading MJPEG parts the way cameras really send them; pacing."""

from __future__ import annotations

import io

import pytest

from streams.pacing import Pacer
from streams.sources.mjpeg import MultipartReader


def _stream(*parts: bytes, boundary: str = "frame", lengths: bool = True) -> io.BytesIO:
    out = b""
    for part in parts:
        out += f"--{boundary}\r\nContent-Type: image/jpeg\r\n".encode()
        if lengths:
            out += f"Content-Length: {len(part)}\r\n".encode()
        out += b"\r\n" + part + b"\r\n"
    return io.BytesIO(out + f"--{boundary}--\r\n".encode())


@pytest.mark.parametrize("lengths", [True, False])
def test_parts_are_read_with_or_without_content_length(lengths: bool) -> None:
    payloads = [b"\xff\xd8one\xff\xd9", b"\xff\xd8two\r\nwith a line\xff\xd9", b"\xff\xd8\xff\xd9"]
    reader = MultipartReader(_stream(*payloads, lengths=lengths), "frame")
    assert [reader.next_part() for _ in payloads] == payloads


def test_a_boundary_declared_with_dashes_still_matches() -> None:
    reader = MultipartReader(_stream(b"abc", boundary="--myboundary"), "--myboundary")
    assert reader.next_part() == b"abc"


def test_the_end_of_the_stream_is_reported() -> None:
    reader = MultipartReader(_stream(b"abc"), "frame")
    reader.next_part()
    with pytest.raises(EOFError):
        reader.next_part()


def test_pacer_plays_positions_at_wall_clock_speed() -> None:
    pacer = Pacer()
    assert pacer.delay(0.0, now=100.0) == 0.0
    assert pacer.delay(0.04, now=100.01) == pytest.approx(0.03)
    assert pacer.delay(0.08, now=100.10) == 0.0  # late: show it at once


def test_pacer_starts_over_after_a_jump_or_a_long_stall() -> None:
    pacer = Pacer()
    pacer.delay(0.0, now=0.0)
    assert pacer.delay(3600.0, now=0.1) == 0.0  # a discontinuity, not an hour's sleep
    assert pacer.delay(3600.04, now=0.1) == pytest.approx(0.04)
    assert pacer.delay(3600.08, now=10.0) == 0.0  # a stall: re-anchored, no rushing
    assert pacer.delay(3600.12, now=10.0) == pytest.approx(0.04)
