"""Local video files: played at their own rate, looped on request, final at the end."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from streams import Frame, SourceSpec, StreamReason, StreamState
from tests.support.media import frame_index
from tests.support.stream_fixtures import WatchedReader

Factory = Callable[..., WatchedReader]


def _frames(watched: WatchedReader, count: int) -> list[Frame]:
    frames: list[Frame] = []
    while len(frames) < count:
        frame = watched.reader.wait_newer(frames[-1].seq if frames else None, timeout=3.0)
        assert frame is not None, watched.reader.status()
        frames.append(frame)
    return frames


def test_a_file_is_played_at_its_own_rate_with_seq_as_frame_index(
    video_file: Callable[..., Path], reader_factory: Factory
) -> None:
    path = video_file(frames=50, fps=25)
    watched = reader_factory(SourceSpec(str(path), target_fps=25), allow_files=True)

    started = time.monotonic()
    frames = _frames(watched, 25)
    elapsed = time.monotonic() - started

    assert [frame_index(f.image) for f in frames] == [f.seq for f in frames]
    assert frames[0].seq <= 1
    assert 0.7 <= elapsed <= 1.6  # 24 frame intervals at 25 fps, not decode speed


def test_frames_beyond_the_target_rate_are_skipped_but_seq_stays_the_index(
    video_file: Callable[..., Path], reader_factory: Factory
) -> None:
    path = video_file(frames=100, fps=25)
    watched = reader_factory(SourceSpec(str(path), target_fps=5), allow_files=True)

    frames = _frames(watched, 5)

    assert [frame_index(f.image) for f in frames] == [f.seq for f in frames]
    gaps = [b.seq - a.seq for a, b in itertools.pairwise(frames)]
    assert all(4 <= gap <= 6 for gap in gaps), gaps
    assert watched.reader.status().frames_skipped >= 12


def test_a_looping_file_starts_again_at_frame_zero(
    video_file: Callable[..., Path], reader_factory: Factory
) -> None:
    path = video_file(frames=10, fps=25)
    watched = reader_factory(SourceSpec(str(path), target_fps=25, loop=True), allow_files=True)

    seqs = [f.seq for f in _frames(watched, 25)]

    restart = seqs.index(0, 1)
    assert seqs[restart - 1] == 9
    assert seqs[restart : restart + 3] == [0, 1, 2]
    status = watched.reader.status()
    assert status.state is StreamState.ONLINE
    assert status.reconnects == 0


def test_the_end_of_a_file_without_loop_is_final(
    video_file: Callable[..., Path], reader_factory: Factory
) -> None:
    path = video_file(frames=10, fps=25)
    watched = reader_factory(SourceSpec(str(path), target_fps=25), allow_files=True)

    status = watched.wait_status(lambda s: s.state is StreamState.FAILED, 5.0)

    assert status.reason is StreamReason.ENDED
    assert status.frames_decoded == 10
    assert status.reconnects == 0
    assert not watched.reader.alive
    assert [s.state for s in watched.statuses] == [StreamState.ONLINE, StreamState.FAILED]


def test_an_mjpg_avi_plays_too(video_file: Callable[..., Path], reader_factory: Factory) -> None:
    path = video_file(name="clip.avi", frames=10, fps=25)
    watched = reader_factory(SourceSpec(str(path), target_fps=25), allow_files=True)

    assert [frame_index(f.image) for f in _frames(watched, 3)] == [0, 1, 2]


def test_files_are_refused_unless_the_caller_allows_them(
    video_file: Callable[..., Path], reader_factory: Factory, ffmpeg_opens: list[str]
) -> None:
    watched = reader_factory(SourceSpec(str(video_file())))

    status = watched.wait_status(lambda s: s.state is StreamState.FAILED, 3.0)

    assert status.reason is StreamReason.REFUSED
    assert "SIGHTLINE_ALLOW_FILE_SOURCES" in status.detail
    assert ffmpeg_opens == []


def test_a_missing_file_is_not_found_and_retried(tmp_path: Path, reader_factory: Factory) -> None:
    watched = reader_factory(SourceSpec(str(tmp_path / "missing.mp4")), allow_files=True)

    status = watched.wait_status(lambda s: s.state is StreamState.RECOVERING, 3.0)

    assert status.reason is StreamReason.NOT_FOUND
    watched.wait_status(lambda s: s.reconnects >= 1, 3.0, "a retry")


def test_a_file_that_is_not_video_is_unsupported(tmp_path: Path, reader_factory: Factory) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("not a video at all\n" * 100)
    watched = reader_factory(SourceSpec(str(path)), allow_files=True)

    status = watched.wait_status(lambda s: s.state is StreamState.RECOVERING, 5.0)

    assert status.reason is StreamReason.UNSUPPORTED


@pytest.mark.parametrize("loop", [False, True])
def test_stop_ends_a_file_reader_within_two_seconds(
    loop: bool, video_file: Callable[..., Path], reader_factory: Factory
) -> None:
    path = video_file(frames=250, fps=25)
    reader = reader_factory(SourceSpec(str(path), loop=loop), allow_files=True).reader
    assert reader.wait_newer(None, timeout=3.0) is not None

    started = time.monotonic()
    assert reader.stop()
    assert time.monotonic() - started < 2.0
