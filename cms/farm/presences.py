"""Closing the presences a camera's ended generation left open (its worker died, say).

A running ingest task sends a leave for every enter it made, also when it stops. A task
that cannot (kill -9, a lost machine, Redis down when it stopped) leaves enters open; once
its generation is no longer the camera's current one, reconcile closes them here: a leave
at the time the object was last seen in the zone, from the task's last checkpoint of its
open presences (farm_keys.write_presences), else at the enter's own time. The leave has
the key the task would have given it, so it is stored once whoever sends it first.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import redis
from django.db.models import F, OuterRef, Q, Subquery

from cms.farm import farm_keys
from cms.models import ObjectEvent, StreamAssignment
from cms.results import results_stream
from cms.results.object_event_message import ObjectEventMessage
from inference.objects import OpenPresence, attributes_json, leave_key_for

log = logging.getLogger(__name__)

MAX_PER_RUN = 5000


@dataclass(frozen=True)
class OpenEnter:
    """A stored enter without its leave (the fields of its ObjectEvent row)."""

    display_id: int
    camera_id: int
    generation: int
    key: str  # the message key: "<camera>:<display>:enter:..."
    track_id: int
    class_id: int
    class_name: str
    time: float
    box: tuple[float, float, float, float]
    zone: str

    @property
    def presence_key(self) -> str:
        """The tracker's own key, as the checkpoint has it."""
        return self.key.split(":", 2)[2]


def closing_leave(
    enter: OpenEnter, checkpoint: Mapping[tuple[int, str], OpenPresence]
) -> ObjectEventMessage:
    """The leave that closes ``enter``, at its last sighting in the checkpoint if there."""
    seen = checkpoint.get((enter.display_id, enter.presence_key))
    last_seen = max(seen.last_seen, enter.time) if seen else enter.time
    return ObjectEventMessage(
        display_id=enter.display_id,
        camera_id=enter.camera_id,
        generation=enter.generation,
        key=f"{enter.camera_id}:{enter.display_id}:{leave_key_for(enter.presence_key)}",
        type="leave",
        track_id=enter.track_id,
        class_id=enter.class_id,
        class_name=enter.class_name,
        time=last_seen,
        box=seen.box if seen else enter.box,
        zone=enter.zone,
        dwell_s=last_seen - enter.time,
        attributes=attributes_json(seen.attributes) if seen and seen.attributes else None,
    )


def close_ended_presences(r: redis.Redis) -> int:
    """Send the leaves of every open enter whose generation ended; returns how many.

    Until the results consumer stores them, a later run sends the same leaves again
    (same keys: stored once).
    """
    enters = _ended_enters()
    if not enters:
        return 0
    checkpoints: dict[tuple[int, int], dict[tuple[int, str], OpenPresence]] = {}
    leaves = []
    for enter in enters:
        run = (enter.camera_id, enter.generation)
        if run not in checkpoints:
            checkpoints[run] = farm_keys.read_presences(r, *run)
        leaves.append(closing_leave(enter, checkpoints[run]))
    results_stream.append_object_events(r, leaves)
    log.info("reconcile: closed %d presences of ended generations", len(leaves))
    return len(leaves)


def _ended_enters() -> list[OpenEnter]:
    """Open enters of a generation older than the camera's current one (the database's)."""
    current = StreamAssignment.objects.filter(camera_id=OuterRef("camera_id")).values("generation")
    rows = (
        ObjectEvent.objects.filter(open=True, type=ObjectEvent.Type.ENTER)
        .annotate(current=Subquery(current[:1]))
        .filter(Q(current__isnull=True) | Q(generation__lt=F("current")))
        .order_by("id")
        .values_list(
            "display_id",
            "camera_id",
            "generation",
            "key",
            "track_id",
            "class_id",
            "class_name",
            "time",
            "box",
            "zone",
        )
    )
    return [
        OpenEnter(d, c, g, key, track, class_id, name, time.timestamp(), _box(box), zone)
        for d, c, g, key, track, class_id, name, time, box, zone in rows[:MAX_PER_RUN]
        if key.count(":") >= 3
    ]


def _box(value: object) -> tuple[float, float, float, float]:
    if isinstance(value, list) and len(value) == 4:
        x1, y1, x2, y2 = (float(v) for v in value)
        return x1, y1, x2, y2
    return 0.0, 0.0, 0.0, 0.0
