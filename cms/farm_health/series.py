"""The health series' Redis keys: their names, encoding, length and expiry.

- ``sightline:health:<range>:<kind>:<id>``  one series: a list of JSON points (cms.farm_health
  .sampling), oldest first, trimmed to the range's length on every write and expiring one
  range after its last write, so a removed camera's or worker's series goes by itself
- ``sightline:health:<range>:index``        sorted set of the range's series ("camera:12",
  "worker:ingest@gpu-1", "results") by last write, to list them without a SCAN
- ``sightline:health:counters``             the results counters at the last sample (rates)
- ``sightline:health:rolled``               the start of the last five-minute bucket rolled up
  into the day range; ``sightline:health:rolling:<bucket>`` claims a bucket's rollup
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast

import redis

from cms.farm_health.sampling import CounterReading, Point
from cms.redis_connection import PREFIX


@dataclass(frozen=True)
class Range:
    name: str
    step_s: int  # seconds between points
    points: int  # points kept

    @property
    def span_s(self) -> int:
        return self.step_s * self.points


HOUR = Range("hour", 10, 360)
DAY = Range("day", 300, 288)
RANGES = {r.name: r for r in (HOUR, DAY)}

COUNTERS = f"{PREFIX}:health:counters"
ROLLED = f"{PREFIX}:health:rolled"


def series_key(range_: Range, member: str) -> str:
    return f"{PREFIX}:health:{range_.name}:{member}"


def index_key(range_: Range) -> str:
    return f"{PREFIX}:health:{range_.name}:index"


def rolling_key(bucket: int) -> str:
    return f"{PREFIX}:health:rolling:{bucket}"


def member(kind: str, ident: object = None) -> str:
    """A series' name: its kind, and the camera id or worker name ("camera:12")."""
    return kind if ident is None else f"{kind}:{ident}"


def split_member(name: str) -> tuple[str, str]:
    kind, _, ident = name.partition(":")
    return kind, ident


def _ttl(range_: Range) -> int:
    # One range after the last write, plus a step so the oldest point is still read once.
    return range_.span_s + range_.step_s


def append(r: redis.Redis, range_: Range, points: Mapping[str, Point], now: float) -> None:
    """Add one point to each named series, trimmed and expiring, in one round trip."""
    if not points:
        return
    pipe = r.pipeline(transaction=False)
    for name, point in points.items():
        key = series_key(range_, name)
        pipe.rpush(key, json.dumps(point, separators=(",", ":")))
        pipe.ltrim(key, -range_.points, -1)
        pipe.expire(key, _ttl(range_))
    pipe.zadd(index_key(range_), dict.fromkeys(points, now))
    pipe.zremrangebyscore(index_key(range_), 0, now - _ttl(range_))
    pipe.expire(index_key(range_), _ttl(range_))
    pipe.execute()


def names(r: redis.Redis, range_: Range) -> list[str]:
    """The range's series written within its span."""
    raw = cast("list[bytes]", r.zrange(index_key(range_), 0, -1))
    return [n.decode() for n in raw]


def read(
    r: redis.Redis, range_: Range, wanted: Iterable[str] | None = None
) -> dict[str, list[Point]]:
    """Each series' points, oldest first; series that expired are left out."""
    wanted = names(r, range_) if wanted is None else list(wanted)
    pipe = r.pipeline(transaction=False)
    for name in wanted:
        pipe.lrange(series_key(range_, name), 0, -1)
    found = {}
    for name, raws in zip(wanted, cast("list[list[bytes]]", pipe.execute()), strict=True):
        if raws:
            found[name] = [json.loads(raw) for raw in raws]
    return found


def read_counters(r: redis.Redis) -> CounterReading | None:
    raw = cast("bytes | None", r.get(COUNTERS))
    if raw is None:
        return None
    t, stored, handled = json.loads(raw)
    return CounterReading(float(t), int(stored), int(handled))


def write_counters(r: redis.Redis, reading: CounterReading) -> None:
    # Kept as long as the hour series: a rate over a longer gap is no longer "now".
    r.set(COUNTERS, json.dumps([reading.t, reading.stored, reading.handled]), ex=_ttl(HOUR))


def rolled_through(r: redis.Redis) -> int | None:
    raw = cast("bytes | None", r.get(ROLLED))
    return None if raw is None else int(raw)


def claim_rollup(r: redis.Redis, bucket: int) -> bool:
    """Whether this caller rolls the bucket up (one sampler does, however many run)."""
    return bool(r.set(rolling_key(bucket), 1, nx=True, ex=_ttl(HOUR)))


def mark_rolled(r: redis.Redis, bucket: int) -> None:
    r.set(ROLLED, bucket, ex=_ttl(DAY))
