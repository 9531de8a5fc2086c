"""A display's live state in Redis: its latest result and its live event channel.

- ``sightline:display:<id>:latest``  JSON of the newest delivered result (for /display/state/)
- ``sightline:display:<id>:events``  pub/sub channel: a JSON list of delivered events per message
- ``sightline:display:<id>:policy``  the event policy's memory (last delivered signature, time)

Pub/sub carries only the live push to connected clients; a client that was away
resyncs from the Detection table (event ids are Detection ids), so nothing is lost.
"""

from __future__ import annotations

from typing import Any, cast

import orjson
import redis

from cms import redis_connection

PREFIX = f"{redis_connection.PREFIX}:display"


def latest_key(display_id: int) -> str:
    return f"{PREFIX}:{display_id}:latest"


def events_channel(display_id: int) -> str:
    return f"{PREFIX}:{display_id}:events"


def write_latest(client: redis.Redis, display_id: int, state: dict[str, Any]) -> None:
    client.set(latest_key(display_id), _dump(state))


def read_latest(client: redis.Redis, display_id: int) -> dict[str, Any] | None:
    raw = cast("bytes | None", client.get(latest_key(display_id)))
    return None if raw is None else orjson.loads(raw)


def event_payload(detection: Any) -> dict[str, Any]:
    """The live event of a stored Detection (its id is the event id)."""
    return {
        "id": detection.id,
        "frame_seq": detection.frame_seq,
        "frame_time": detection.frame_time.isoformat(),
        "objects": detection.detected_objects,
        "generation": detection.generation,
    }


def push_delivered(client: redis.Redis, detections: list[Any], received_at: float) -> None:
    """Publish each delivered detection live and keep each display's newest as its state.

    One pipeline for the whole batch; a state never moves back to an older detection.
    """
    newest: dict[int, Any] = {}
    for detection in detections:
        if detection.id > getattr(newest.get(detection.display_id), "id", 0):
            newest[detection.display_id] = detection
    current: list[bytes | None] = []
    if newest:
        current = cast("list[bytes | None]", client.mget([latest_key(d) for d in newest]))
    events: dict[int, list[dict[str, Any]]] = {}
    for detection in detections:
        events.setdefault(detection.display_id, []).append(event_payload(detection))
    pipe = client.pipeline(transaction=False)
    for display_id, batch in events.items():  # one message per display per batch
        pipe.publish(events_channel(display_id), _dump(batch))
    for (display_id, detection), raw in zip(newest.items(), current, strict=True):
        if raw is None or orjson.loads(raw).get("detection_id", 0) < detection.id:
            state = {**event_payload(detection), "detection_id": detection.id}
            pipe.set(latest_key(display_id), _dump({**state, "received_at": received_at}))
    pipe.execute()


def _dump(payload: Any) -> bytes:
    return orjson.dumps(payload)  # the hot path of the results consumer: orjson, not json


def publish_events(client: redis.Redis, display_id: int, events: list[dict[str, Any]]) -> None:
    """Each event has ``id`` (the Detection id), ``frame_seq``, ``frame_time``, ``objects``."""
    client.publish(events_channel(display_id), _dump(events))


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
