"""The event thumbnails' store on disk: save, load, prune by whole UTC days (cms.thumbnails)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cms import thumbnails
from tasks.control import prune_thumbnails

NOW = datetime.now(UTC)


@pytest.fixture
def store(settings, tmp_path):
    settings.SIGHTLINE_THUMBNAIL_DIR = tmp_path / "thumbnails"
    settings.SIGHTLINE_THUMBNAIL_DAYS = 2
    return settings.SIGHTLINE_THUMBNAIL_DIR


def files_under(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_a_saved_thumbnail_loads_by_kind_and_key(store):
    thumbnails.save("event", "3:7:enter:12:left", b"jpeg-1", when=NOW)
    thumbnails.save("detection", "3:7:enter:12:left", b"jpeg-2", when=NOW)

    assert thumbnails.load("event", "3:7:enter:12:left") == b"jpeg-1"
    assert thumbnails.load("detection", "3:7:enter:12:left") == b"jpeg-2"
    assert thumbnails.load("event", "3:7:enter:13:left") is None


def test_files_go_in_the_utc_day_of_when_under_a_hash_of_the_key(store):
    late_evening_west = datetime(2026, 11, 30, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    thumbnails.save("event", "k", b"x", when=late_evening_west)
    thumbnails.save("event", "naive", b"y", when=datetime(2026, 11, 30, 23, 59))

    names = files_under(store)
    assert [n.split("/")[:2] for n in names] == [["2026-11-30", "event"], ["2026-12-01", "event"]]
    assert all(len(n.split("/")[2]) == 64 + len(".jpg") for n in names)


UNSAFE_KEYS = ["../../etc/passwd", "a/b\\c:d", "", "x" * 5000, "\x00nul", "caf\u00e9 \U0001f600"]


@pytest.mark.parametrize("key", [*UNSAFE_KEYS, "\ud800"])
def test_keys_unsafe_for_paths_stay_inside_the_store(store, tmp_path, key):
    thumbnails.save("event", key, b"bytes", when=NOW)

    assert thumbnails.load("event", key) == b"bytes"
    assert [p for p in tmp_path.rglob("*") if p.is_file() and store not in p.parents] == []


def test_saving_a_key_again_replaces_it_and_leaves_no_temp_file(store):
    thumbnails.save("event", "k", b"first", when=NOW)
    thumbnails.save("event", "k", b"second", when=NOW)

    assert thumbnails.load("event", "k") == b"second"
    assert len(files_under(store)) == 1


def test_a_reader_never_sees_a_partly_written_thumbnail(store):
    big = [bytes([n]) * 2_000_000 for n in (1, 2)]
    thumbnails.save("event", "k", big[0], when=NOW)
    stop = threading.Event()
    seen = set()

    def read():
        while not stop.is_set():
            seen.add(thumbnails.load("event", "k"))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(30):
            thumbnails.save("event", "k", big[n % 2], when=NOW)
    finally:
        stop.set()
        reader.join(10)
    assert seen <= set(big)


def test_an_unknown_kind_is_refused_on_save_and_absent_on_load(store):
    with pytest.raises(ValueError, match="unknown thumbnail kind"):
        thumbnails.save("frame", "k", b"x", when=NOW)
    assert thumbnails.load("frame", "k") is None
    assert thumbnails.load("event", "k") is None  # nothing saved, no store folder yet


def test_prune_removes_whole_days_older_than_the_setting(store):
    today = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    for back in range(5):
        for n in range(back + 1):
            thumbnails.save("event", f"e{back}-{n}", b"x", when=today - timedelta(days=back))
    thumbnails.save("detection", "d3", b"x", when=today - timedelta(days=3))
    (store / "not-a-day").mkdir()
    (store / "not-a-day" / "keep.jpg").write_bytes(b"x")
    (store / "2026-13-45").mkdir()

    removed = thumbnails.prune(now=today)

    # days 3 and 4 back go (4 + 1 + 5 files); today, yesterday and the day before stay
    assert removed == 10
    days = sorted(p.name for p in store.iterdir())
    assert days == ["2026-11-29", "2026-11-30", "2026-12-01", "2026-13-45", "not-a-day"]
    assert thumbnails.prune(now=today) == 0


def test_load_treats_an_expired_day_as_gone_before_prune_runs(store, settings):
    thumbnails.save("event", "old", b"x", when=NOW - timedelta(days=3))
    thumbnails.save("event", "recent", b"y", when=NOW - timedelta(days=2))

    assert thumbnails.load("event", "old") is None
    assert thumbnails.load("event", "recent") == b"y"
    settings.SIGHTLINE_THUMBNAIL_DAYS = 0
    assert thumbnails.load("event", "recent") is None


def test_zero_days_keeps_nothing(store, settings):
    thumbnails.save("event", "k", b"x", when=NOW)
    settings.SIGHTLINE_THUMBNAIL_DAYS = 0

    assert not thumbnails.capturing()
    assert thumbnails.prune() == 1
    assert files_under(store) == []


def test_prune_of_a_store_that_was_never_made_removes_nothing(store):
    assert thumbnails.prune() == 0


def test_the_beat_task_prunes(store):
    thumbnails.save("event", "old", b"x", when=NOW - timedelta(days=30))
    thumbnails.save("event", "new", b"x", when=NOW)

    assert prune_thumbnails() == 1
    assert thumbnails.load("event", "new") == b"x"


@pytest.mark.parametrize(
    ("day", "days", "expired"),
    [
        (date(2026, 12, 1), 2, False),
        (date(2026, 11, 29), 2, False),
        (date(2026, 11, 28), 2, True),
        (date(2026, 12, 2), 2, False),  # a camera clock ahead
        (date(2026, 12, 1), 0, True),
    ],
)
def test_is_expired(day, days, expired):
    assert thumbnails.is_expired(day, date(2026, 12, 1), days) is expired


def test_prune_runs_hourly_from_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["prune-thumbnails"]
    assert entry["task"] == "tasks.control.prune_thumbnails"
    assert entry["schedule"] == 3600.0
