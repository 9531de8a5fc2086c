"""Event thumbnails on disk: a JPEG per object event (and per delivered detection of a
``change``-policy display), kept for SIGHTLINE_THUMBNAIL_DAYS whole UTC days.

Layout: ``SIGHTLINE_THUMBNAIL_DIR/<YYYY-MM-DD>/<kind>/<sha256 of the key>.jpg``, the day being
the UTC day of the event (or the detection's frame). A day per folder makes pruning a handful
of ``rmtree`` calls instead of a scan of every file; the key is hashed because event and
detection keys hold characters a file name must not (``/``, ``:``, anything a client sent).

Rule of expiry (load and prune agree): a day folder is kept while its day is no older than
``today - SIGHTLINE_THUMBNAIL_DAYS``, so a thumbnail lives between N and N+1 days; 0 keeps none.
The ingest workers make the JPEGs (tasks.camera_thumbnails) and the results consumer saves
them here (cms.results.thumbnail_intake); docs/admin.md, "Event thumbnails".
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.conf import settings

KINDS = ("event", "detection")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def save(kind: str, key: str, jpeg: bytes, *, when: datetime) -> None:
    """Store ``jpeg`` as the thumbnail of ``key`` (an ObjectEvent's or a Detection's key) in
    the folder of ``when``'s UTC day; saving the same key again replaces it atomically.
    A naive ``when`` is taken as UTC. Raises ValueError for an unknown kind, OSError when
    the disk refuses."""
    if kind not in KINDS:
        raise ValueError(f"unknown thumbnail kind {kind!r}: one of {', '.join(KINDS)}")
    folder = _root() / _day(when).isoformat() / kind
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _file_name(key)
    # Temp file + rename in the same folder: a reader sees the old file or the new one,
    # never half of one. No fsync: after a power cut a thumbnail may be lost, which is
    # what a missing thumbnail already means.
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".jpg")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(jpeg)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def load(kind: str, key: str) -> bytes | None:
    """The thumbnail's JPEG bytes; None when there is none: never made, expired (even before
    prune ran), pruned, or an unknown kind."""
    if kind not in KINDS:
        return None
    name = _file_name(key)
    today = _day(datetime.now(UTC))
    for day, folder in sorted(_day_folders(), reverse=True):
        if is_expired(day, today, settings.SIGHTLINE_THUMBNAIL_DAYS):
            continue
        try:
            return (folder / kind / name).read_bytes()
        except FileNotFoundError:
            continue
    return None


def prune(*, now: datetime | None = None) -> int:
    """Delete the day folders older than SIGHTLINE_THUMBNAIL_DAYS; returns the files removed.
    Folders that are not days are left alone."""
    today = _day(now or datetime.now(UTC))
    removed = 0
    for day, folder in _day_folders():
        if is_expired(day, today, settings.SIGHTLINE_THUMBNAIL_DAYS):
            removed += sum(1 for path in folder.rglob("*") if path.is_file())
            shutil.rmtree(folder, ignore_errors=True)
    return removed


def capturing() -> bool:
    """Whether thumbnails are made at all (SIGHTLINE_THUMBNAIL_DAYS > 0)."""
    return settings.SIGHTLINE_THUMBNAIL_DAYS > 0


def is_expired(day: date, today: date, days: int) -> bool:
    """Whether the folder of ``day`` is past keeping on ``today`` when thumbnails live
    ``days`` days (pure). A day ahead of today (a camera clock ahead) is kept; 0 keeps none."""
    if days <= 0:
        return True
    return day < today - timedelta(days=days)


def _day_folders() -> list[tuple[date, Path]]:
    try:
        entries = list(_root().iterdir())
    except FileNotFoundError:
        return []
    folders = []
    for entry in entries:
        if entry.is_dir() and _DAY.match(entry.name):
            try:
                folders.append((date.fromisoformat(entry.name), entry))
            except ValueError:  # 2026-13-45: not ours
                continue
    return folders


def _day(when: datetime) -> date:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).date()


def _file_name(key: str) -> str:
    # surrogatepass: a key is whatever a message carried; it must never make this raise.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest() + ".jpg"


def _root() -> Path:
    return Path(settings.SIGHTLINE_THUMBNAIL_DIR)
