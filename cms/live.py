"""A display's live state in Redis: its latest result and its live event channel.

- ``sightline:display:<id>:latest``  the newest delivered event (for /display/state/)
- ``sightline:display:<id>:events``  pub/sub channel: a JSON list of delivered events per message
- ``sightline:display:<id>:policy``  the event policy's memory (last delivered signature, time)

Pub/sub carries only the live push to connected clients; a client that was away
resyncs from the Detection and ObjectEvent tables (event ids are their ids, from one
sequence: cms.models.take_event_ids), so nothing is lost. A delivered event has one
shape (``delivered_events``, ``delivered_object_events``) wherever it is read: the live
push, the SSE replay and the /display/detections/ and /display/object-events/ items.
A live message is a JSON list of both kinds in id order; an object event is the one
with a ``type`` (``event_kind``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, cast

import orjson
import redis
from django.utils import timezone

from cms import redis_connection

PREFIX = f"{redis_connection.PREFIX}:display"


def latest_key(display_id: int) -> str:
    return f"{PREFIX}:{display_id}:latest"


def events_channel(display_id: int) -> str:
    return f"{PREFIX}:{display_id}:events"


def read_latest(client: redis.Redis, display_id: int) -> dict[str, Any] | None:
    raw = cast("bytes | None", client.get(latest_key(display_id)))
    return None if raw is None else orjson.loads(raw)


def read_latest_many(client: redis.Redis, display_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The newest result of each of these displays that has one (one MGET); an unreadable
    value is left out, never an error."""
    if not display_ids:
        return {}
    raws = cast("list[bytes | None]", client.mget([latest_key(d) for d in display_ids]))
    found = {}
    for display_id, raw in zip(display_ids, raws, strict=True):
        if raw is not None:
            try:
                value = orjson.loads(raw)
            except ValueError:
                continue
            if isinstance(value, dict):
                found[display_id] = value
    return found


def delivered_events(detections: Iterable[Any]) -> list[dict[str, Any]]:
    """Stored Detections as delivered events (an event's id is its Detection's id).

    The one shape of a delivered event: the live push, the SSE replay and the
    /display/detections/ items all come from here. ``session_id`` is there only for a
    result inside a display session (absent, not null, outside one), like the display's
    state, which is its newest delivered event.
    """
    zone = timezone.get_current_timezone()  # once: it costs more than formatting a time
    delivered = []
    for detection in detections:
        item = {
            "id": detection.id,
            "frame_seq": detection.frame_seq,
            "frame_time": api_time(detection.frame_time, zone),
            "generation": detection.generation,
            "objects": api_objects(detection.detected_objects, zone),
        }
        if detection.session_id:
            item["session_id"] = detection.session_id
        delivered.append(item)
    return delivered


def api_objects(objects: list[dict[str, Any]], zone: tzinfo) -> list[dict[str, Any]]:
    """Stored objects as the API shows them: a tracked object's first_seen as an ISO time."""
    if not any("first_seen" in obj for obj in objects):
        return objects  # the common case: nothing to copy
    shown = []
    for obj in objects:
        if "first_seen" in obj:
            first_seen = datetime.fromtimestamp(obj["first_seen"], UTC)
            obj = {**obj, "first_seen": api_time(first_seen, zone)}
        shown.append(obj)
    return shown


# What each type of object event carries besides the common fields.
_EVENT_FIELDS = {
    "enter": ("zone",),
    "leave": ("zone", "dwell_s"),
    "cross": ("line", "direction"),
}


def delivered_object_events(events: Iterable[Any]) -> list[dict[str, Any]]:
    """Stored ObjectEvents as delivered events: id, type, track_id, class_id, class_name,
    time, box, and zone (enter, leave), dwell_s (leave), line and direction (cross),
    attributes when the object had any, and session_id inside a display session."""
    zone = timezone.get_current_timezone()
    delivered = []
    for event in events:
        item = {
            "id": event.id,
            "type": event.type,
            "track_id": event.track_id,
            "class_id": event.class_id,
            "class_name": event.class_name,
            "time": api_time(event.time, zone),
            "box": event.box,
        }
        for name in _EVENT_FIELDS[event.type]:
            item[name] = getattr(event, name)
        if event.attributes:
            item["attributes"] = event.attributes
        if event.session_id:
            item["session_id"] = event.session_id
        delivered.append(item)
    return delivered


def event_kind(event: dict[str, Any]) -> str:
    """ "object" for a delivered object event (it has a ``type``), else "detection"."""
    return "object" if "type" in event else "detection"


def api_time(value: datetime, zone: tzinfo) -> str:
    """A time as DRF's DateTimeField renders it: ISO 8601 in ``zone``, UTC as "Z"."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def push_delivered(
    client: redis.Redis, detections: list[Any], object_events: Sequence[Any] = ()
) -> None:
    """Publish each delivered detection and object event live, in id order per display,
    and keep each display's newest detection as its state.

    One pipeline for the whole batch; a state never moves back to an older detection.
    """
    events: dict[int, list[dict[str, Any]]] = {}
    newest: dict[int, dict[str, Any]] = {}
    for detection, event in zip(detections, delivered_events(detections), strict=True):
        events.setdefault(detection.display_id, []).append(event)
        if event["id"] > newest.get(detection.display_id, {}).get("id", 0):
            newest[detection.display_id] = event
    if object_events:
        pushed = delivered_object_events(object_events)
        for row, event in zip(object_events, pushed, strict=True):
            events.setdefault(row.display_id, []).append(event)
        for batch in events.values():
            batch.sort(key=lambda e: e["id"])  # a live client drops ids below the last sent
    current: list[bytes | None] = []
    if newest:
        current = cast("list[bytes | None]", client.mget([latest_key(d) for d in newest]))
    pipe = client.pipeline(transaction=False)
    for display_id, batch in events.items():  # one message per display per batch
        pipe.publish(events_channel(display_id), _dump(batch))
    for (display_id, event), raw in zip(newest.items(), current, strict=True):
        if raw is None or orjson.loads(raw).get("id", 0) < event["id"]:
            pipe.set(latest_key(display_id), _dump(event))
    pipe.execute()


def _dump(payload: Any) -> bytes:
    return orjson.dumps(payload)  # the hot path of the results consumer: orjson, not json


def policy_key(display_id: int) -> str:
    return f"{PREFIX}:{display_id}:policy"


def read_policy_states(client: redis.Redis, display_ids: list[int]) -> dict[int, Any]:
    """The last delivered signature and frame time per display, as stored by the consumer."""
    if not display_ids:
        return {}
    raws = cast("list[bytes | None]", client.mget([policy_key(d) for d in display_ids]))
    return {d: orjson.loads(raw) for d, raw in zip(display_ids, raws, strict=True) if raw}


def write_policy_states(client: redis.Redis, states: dict[int, Any]) -> None:
    if states:
        client.mset({policy_key(d): _dump(state) for d, state in states.items()})
