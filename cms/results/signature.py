"""What "changed" means for the ``change`` event policy (pure, Django-free).

Both ends use it: the results consumer (cms.results.policy) decides from it which results it
delivers, and an ingest worker which results get a thumbnail (tasks.camera_thumbnails), so the
two agree on what a change is without the worker importing the policy's models.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Signature = tuple[tuple[Any, ...], ...]


def signature(objects: Iterable[dict[str, Any]]) -> Signature:
    """For tracked objects (they carry a ``track_id``) which objects there are and their
    zones, so a parked car whose box jitters changes nothing; for untracked ones the classes
    and their counts."""
    counts: dict[str, int] = {}
    tracked = []
    for obj in objects:
        if "track_id" in obj:
            tracked.append((obj["class_name"], obj["track_id"], *obj.get("zones", ())))
        else:
            counts[obj["class_name"]] = counts.get(obj["class_name"], 0) + 1
    return tuple(sorted(counts.items())) + tuple(sorted(tracked))
