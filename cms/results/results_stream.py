"""The results path's Redis keys: the results stream, its consumer group, dead letters, counters,
and the event thumbnails on their way from an ingest worker to the results consumer.

- ``sightline:thumb:<kind>:<key>``  the JPEG of an object event (kind ``event``, key the
  ObjectEvent's) or of a change-policy result (``detection``, the Detection's key), SET by the
  worker just before the message it belongs to, in the same round trip, and taken (GET, then
  DEL once saved to disk) by the consumer; it expires after THUMBNAIL_TTL_S, so a thumbnail
  nobody takes (a result the consumer suppressed, a consumer down for long) costs nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import redis
from django.conf import settings
from redis.typing import EncodableT, FieldT

from cms.redis_connection import PREFIX
from cms.results.object_event_message import ENTRY_FIELD as OBJECT_EVENT_FIELD
from cms.results.object_event_message import ObjectEventMessage
from cms.results.result_message import ENTRY_FIELD as RESULT_FIELD
from cms.results.result_message import ResultMessage

GROUP = "sightline-results"
COUNTERS = f"{PREFIX}:results:counters"
# Long enough for a consumer that is minutes behind; short enough that thumbnails nobody takes
# (at most one a second per change-policy display, see tasks.camera_thumbnails) stay few.
THUMBNAIL_TTL_S = 600
ThumbnailKey = tuple[str, str]  # (kind, the ObjectEvent's or Detection's key)
# Redis < 7 reports no group lag: it is counted then, up to this many entries.
LAG_COUNT_CAP = 10_000


def results_stream() -> str:
    return settings.SIGHTLINE_RESULTS_STREAM


def dead_letter_stream() -> str:
    return f"{settings.SIGHTLINE_RESULTS_STREAM}:dead"


def thumbnail_key(kind: str, key: str) -> str:
    return f"{PREFIX}:thumb:{kind}:{key}"


def append_result(
    client: redis.Redis, message: ResultMessage, *, thumbnail: bytes | None = None
) -> bool:
    """XADD a result, after its thumbnail's SET when it has one (one round trip).

    Raises redis.RedisError when the result was not taken; returns False when only the
    thumbnail was refused (a result never waits on its thumbnail).
    """
    entry: dict[FieldT, EncodableT] = {RESULT_FIELD: message.to_bytes()}
    if thumbnail is None:
        client.xadd(
            results_stream(), entry, maxlen=settings.SIGHTLINE_RESULTS_MAXLEN, approximate=True
        )
        return True
    pipe = client.pipeline(transaction=False)
    pipe.set(thumbnail_key("detection", message.key), thumbnail, ex=THUMBNAIL_TTL_S)
    pipe.xadd(results_stream(), entry, maxlen=settings.SIGHTLINE_RESULTS_MAXLEN, approximate=True)
    stored, added = pipe.execute(raise_on_error=False)
    if isinstance(added, Exception):
        raise added
    return not isinstance(stored, Exception)


def append_object_events(
    client: redis.Redis,
    messages: Sequence[ObjectEventMessage],
    *,
    thumbnails: Mapping[str, bytes] | None = None,
) -> int:
    """XADD object events in one round trip, in order, after the SETs of their thumbnails
    (by message key; set first, so the consumer finds them). Raises redis.RedisError when an
    event was not taken; returns how many thumbnails Redis refused (they are dropped)."""
    if not messages:
        return 0
    thumbnails = thumbnails or {}
    pipe = client.pipeline(transaction=False)
    for key, jpeg in thumbnails.items():
        pipe.set(thumbnail_key("event", key), jpeg, ex=THUMBNAIL_TTL_S)
    for message in messages:
        pipe.xadd(
            results_stream(),
            {OBJECT_EVENT_FIELD: message.to_bytes()},
            maxlen=settings.SIGHTLINE_RESULTS_MAXLEN,
            approximate=True,
        )
    replies = pipe.execute(raise_on_error=False)
    for reply in replies[len(thumbnails) :]:
        if isinstance(reply, Exception):
            raise reply
    return sum(isinstance(reply, Exception) for reply in replies[: len(thumbnails)])


def take_thumbnails(
    client: redis.Redis, wanted: Sequence[ThumbnailKey]
) -> dict[ThumbnailKey, bytes]:
    """The thumbnails Redis holds of ``wanted``, in one round trip; they stay until
    drop_thumbnails (a consumer that dies before saving them finds them again)."""
    if not wanted:
        return {}
    found = cast("list[bytes | None]", client.mget([thumbnail_key(*k) for k in wanted]))
    return {k: jpeg for k, jpeg in zip(wanted, found, strict=True) if jpeg is not None}


def drop_thumbnails(client: redis.Redis, taken: Iterable[ThumbnailKey]) -> None:
    keys = [thumbnail_key(*k) for k in taken]
    if keys:
        client.delete(*keys)


def ensure_group(client: redis.Redis) -> None:
    """Create the consumer group; from the stream's start, so nothing written before is lost."""
    try:
        client.xgroup_create(results_stream(), GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def count(client: redis.Redis, **increments: int) -> None:
    pipe = client.pipeline(transaction=False)
    for name, value in increments.items():
        if value:
            pipe.hincrby(COUNTERS, name, value)
    pipe.execute()


def counters(client: redis.Redis) -> dict[str, int]:
    values = cast("dict[bytes, bytes]", client.hgetall(COUNTERS))
    return {k.decode(): int(v) for k, v in values.items()}


def figures(client: redis.Redis) -> dict[str, Any]:
    """The results path's state: entries kept in the stream (``length``, acknowledged ones
    included up to its MAXLEN), not yet read by any consumer (``lag``), read but not
    acknowledged (``pending``), dead letters (``dead``), and the handled ``counters``."""
    stream = results_stream()
    pending = 0
    lag: int | None = 0
    if client.exists(stream):
        for group in cast("list[dict[str, Any]]", client.xinfo_groups(stream)):
            if group["name"] in (GROUP, GROUP.encode()):
                pending = group.get("pending") or 0
                lag = group.get("lag")
                if lag is None:  # Redis < 7 does not report it: count, up to a cap
                    last = group["last-delivered-id"]
                    last = last.decode() if isinstance(last, bytes) else last
                    lag = len(
                        cast(
                            "list[Any]",
                            client.xrange(stream, min=f"({last}", count=LAG_COUNT_CAP),
                        )
                    )
    return {
        "length": client.xlen(stream),
        "lag": lag,
        "pending": pending,
        "dead": client.xlen(dead_letter_stream()),
        "counters": counters(client),
    }


# Acknowledge, and only if that took the message out of the group's pending entries, move it
# to the dead letters and count it: all or nothing, and a second call for the same message
# (a retry after a lost reply) does nothing.
_DEAD_LETTER_SCRIPT = """
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
redis.call('HINCRBY', KEYS[3], 'dead_lettered', 1)
return 1
"""


def dead_letter(
    client: redis.Redis, message_id: str, fields: dict[bytes, bytes], error: str, deliveries: int
) -> bool:
    """Move a message still pending in the group to the dead-letter stream with its error,
    and acknowledge it. Returns False, changing nothing, for a message no longer pending
    (dead-lettered already, or acknowledged)."""
    entry: dict[str, EncodableT] = {
        "original_id": message_id,
        "error": error[:2000],
        "deliveries": deliveries,
        "failed_at": time.time(),
        "fields": json.dumps({k.decode(): v.decode(errors="replace") for k, v in fields.items()}),
    }
    arguments = [GROUP, message_id, *(part for pair in entry.items() for part in pair)]
    moved = client.register_script(_DEAD_LETTER_SCRIPT)(
        keys=[results_stream(), dead_letter_stream(), COUNTERS], args=arguments
    )
    return bool(moved)


def dead_letters(client: redis.Redis, count_: int = 200) -> list[dict[str, Any]]:
    """The newest dead letters, newest first."""
    entries = cast(
        "list[tuple[bytes, dict[bytes, bytes]]]",
        client.xrevrange(dead_letter_stream(), count=count_),
    )
    return [
        {"id": entry_id.decode(), **{k.decode(): v.decode(errors="replace") for k, v in f.items()}}
        for entry_id, f in entries
    ]


def replay_dead_letters(client: redis.Redis, ids: list[str]) -> int:
    """Put dead letters back on the results stream (as new entries) and remove them."""
    replayed = 0
    for entry_id in ids:
        found = cast(
            "list[tuple[bytes, dict[bytes, bytes]]]",
            client.xrange(dead_letter_stream(), entry_id, entry_id),
        )
        if not found:
            continue
        fields = json.loads(found[0][1][b"fields"])
        pipe = client.pipeline()
        pipe.xadd(
            results_stream(),
            fields,
            maxlen=settings.SIGHTLINE_RESULTS_MAXLEN,
            approximate=True,
        )
        pipe.xdel(dead_letter_stream(), entry_id)
        pipe.execute()
        replayed += 1
    return replayed
