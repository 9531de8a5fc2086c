"""The display's event policy, applied before storing and pushing (pure).

- every:    every result is delivered.
- change:   a result is delivered when what it shows differs from the last delivered
            one: the tracked objects and their zones, or (without tracking) the classes
            and their counts.
- interval: at most one result per ``interval_ms``.
Under "change" and "interval", a result is also delivered when nothing was delivered
for ``beat_s``: the periodic "unchanged" beat that tells a client its state is fresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cms.models import Display

Signature = tuple[tuple[Any, ...], ...]


def signature(objects: Iterable[dict[str, Any]]) -> Signature:
    """What "changed" means for the on-change policy: for tracked objects (they carry a
    ``track_id``) which objects there are and their zones, so a parked car whose box
    jitters changes nothing; for untracked ones the classes and their counts."""
    counts: dict[str, int] = {}
    tracked = []
    for obj in objects:
        if "track_id" in obj:
            tracked.append((obj["class_name"], obj["track_id"], *obj.get("zones", ())))
        else:
            counts[obj["class_name"]] = counts.get(obj["class_name"], 0) + 1
    return tuple(sorted(counts.items())) + tuple(sorted(tracked))


@dataclass(frozen=True)
class PolicyState:
    signature: Signature
    delivered_at: float  # the frame time of the last delivered result


def should_deliver(
    policy: Display.Policy,
    *,
    interval_ms: int,
    beat_s: float,
    last: PolicyState | None,
    signature: Signature,
    frame_time: float,
) -> bool:
    if policy is Display.Policy.EVERY or last is None:
        return True
    since_last = frame_time - last.delivered_at
    if since_last >= beat_s:
        return True
    if policy is Display.Policy.CHANGE:
        return signature != last.signature
    if policy is Display.Policy.INTERVAL:
        return since_last * 1000 >= interval_ms
    raise ValueError(f"unknown event policy {policy!r}")
