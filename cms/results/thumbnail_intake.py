"""The results consumer's side of event thumbnails: what the workers left in Redis for a
batch's stored object events and delivered change-policy results goes to disk (cms.thumbnails).

Best effort and at least once like the messages: a thumbnail is taken from Redis, saved (an
atomic replace, so saving it again on a redelivery is harmless), and only then deleted from
Redis. A missing one is no thumbnail; a Redis or disk failure is logged, never a message's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import redis

from cms import thumbnails
from cms.results import results_stream
from cms.results.object_event_message import ObjectEventMessage
from cms.results.result_message import ResultMessage

log = logging.getLogger(__name__)


def wanted(
    events: Sequence[ObjectEventMessage], results: Sequence[ResultMessage]
) -> dict[results_stream.ThumbnailKey, float]:
    """(kind, key) -> the Unix time whose day folder the thumbnail goes in (pure)."""
    found: dict[results_stream.ThumbnailKey, float] = {}
    for event in events:
        found[("event", event.key)] = event.time
    for result in results:
        found[("detection", result.key)] = result.frame_time
    return found


def save_thumbnails(
    client: redis.Redis,
    events: Sequence[ObjectEventMessage],
    results: Sequence[ResultMessage],
) -> int:
    """Save the thumbnails Redis holds for ``events`` and ``results`` (the change-policy ones
    delivered); returns how many were saved."""
    if not thumbnails.capturing() or not (events or results):
        return 0
    times = wanted(events, results)
    try:
        taken = results_stream.take_thumbnails(client, list(times))
    except redis.RedisError as exc:
        log.warning("results: thumbnails not read: %s", exc)
        return 0
    saved = []
    for (kind, key), jpeg in taken.items():
        try:
            thumbnails.save(kind, key, jpeg, when=datetime.fromtimestamp(times[(kind, key)], UTC))
        except OSError as exc:
            # Kept in Redis until it expires: a disk that comes back in time still gets it.
            log.warning("results: thumbnail of %s %s not saved: %s", kind, key, exc)
            continue
        saved.append((kind, key))
    try:
        results_stream.drop_thumbnails(client, saved)
    except redis.RedisError as exc:  # they expire by themselves
        log.warning("results: thumbnails not dropped from Redis: %s", exc)
    return len(saved)
