"""Thumbnails of the frames object events and detections were found in, boxes drawn.

MINIMAL stand-in with the store's agreed interface (the timeline reads it); the thumbnail
store proper is built separately and replaces this module. Files under
``MEDIA_ROOT/thumbnails/<kind>/``, named by a hash of the row's key (keys hold ``:`` and
other characters a file name should not).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

from django.conf import settings

KINDS = ("event", "detection")


def _path(kind: str, key: str) -> Path:
    if kind not in KINDS:
        raise ValueError(f"unknown thumbnail kind {kind!r}")
    name = hashlib.sha256(key.encode()).hexdigest() + ".jpg"
    return Path(settings.MEDIA_ROOT) / "thumbnails" / kind / name


def save(kind: str, key: str, jpeg: bytes, *, when: datetime) -> None:
    """Store the JPEG of the row ``key`` of ``kind`` (its frame, box(es) drawn)."""
    path = _path(kind, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a reader never sees half a JPEG.
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as out:
        out.write(jpeg)
    stamp = when.timestamp()
    os.utime(tmp, (stamp, stamp))
    os.replace(tmp, path)


def load(kind: str, key: str) -> bytes | None:
    """The stored JPEG of the row ``key`` of ``kind``, or None when there is none."""
    try:
        return _path(kind, key).read_bytes()
    except FileNotFoundError:
        return None
