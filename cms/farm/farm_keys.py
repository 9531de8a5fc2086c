"""The farm's Redis key families: their names, encoding and expiry.

This module owns the keys below. Other families have their own owners: cms.live (a
display's latest result, live channel and policy memory), cms.results.results_stream
(the results stream, dead letters, counters), cms.farm_health.series (the health charts'
time series) and cms.api.throttling (display request counters); every key starts with
cms.redis_connection.PREFIX.

- ``sightline:worker:<name>``       worker heartbeat (JSON, expires after the worker timeout)
- ``sightline:workers``             sorted set of worker names by last heartbeat (discovery)
- ``sightline:stream:<camera>``     stream heartbeat of a running ingest task (JSON, expires)
- ``sightline:assignment:<camera>`` the current generation, worker and spec hash (fencing)
- ``sightline:spec:<camera>``       what a wanted camera runs (CameraSpec.to_bytes), written by
  reconcile before it starts the camera or publishes a new spec hash; the worker reads it
  (no database on ingest hosts). No credential: the worker asks the web server for those.
- ``sightline:worker-reports``      list of what workers learned for the database (class
  names, frame sizes: cms.farm.worker_reports), drained by the control worker
- ``sightline:snapshot:<camera>``   the newest frame of a running camera as JPEG (expires)
- ``sightline:presences:<camera>:<generation>`` a running task's open presences (JSON by
  display, rewritten every second; kept a day so the farm can close them after a kill -9)
- ``sightline:reconcile:*``         reconcile's lock, trigger flags, bookkeeping and report,
  and the version of desired state (a random token each noted change makes anew)

Not a key, but named here too: each ingest worker's heartbeat connection is named after
the worker (cms.farm.worker_connections owns that spelling).

Heartbeats expire, so a silent worker or task disappears by itself. Assignments are
copies of the database's record that reconcile republishes on every run, so after a
Redis restart they come back within one run; tasks ask the web server meanwhile (ingest
workers have no database), and keep the spec they run until reconcile rewrote theirs.
"""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import asdict, fields
from typing import Any, cast

import orjson
import redis
from django.conf import settings

from cms.farm.commands import Assignment
from cms.farm.desired import CameraSpec
from cms.farm.heartbeats import ModelBackend, StreamInfo, WorkerInfo
from cms.redis_connection import PREFIX
from inference.objects import OpenPresence
from streams.entities import StreamReason, StreamState

PRESENCES_TTL_S = 86400

WORKER_INDEX = f"{PREFIX}:workers"
RECONCILE_LOCK = f"{PREFIX}:reconcile:lock"
RECONCILE_DIRTY = f"{PREFIX}:reconcile:dirty"
RECONCILE_SCHEDULED = f"{PREFIX}:reconcile:scheduled"
RECONCILE_REPORT = f"{PREFIX}:reconcile:report"
RECONCILE_MISSING = f"{PREFIX}:reconcile:missing-since"
RECONCILE_EMPTY_SINCE = f"{PREFIX}:reconcile:no-heartbeats-since"
KNOWN_ONLINE = f"{PREFIX}:reconcile:known-online"
RECONCILE_RECHECK = f"{PREFIX}:reconcile:recheck"
DESIRED_VERSION = f"{PREFIX}:reconcile:desired-version"
WORKER_REPORTS = f"{PREFIX}:worker-reports"
# A control side that is down for long must not let the reports grow without bound.
WORKER_REPORTS_MAX = 10_000


def worker_key(name: str) -> str:
    return f"{PREFIX}:worker:{name}"


def stream_key(camera_id: int) -> str:
    return f"{PREFIX}:stream:{camera_id}"


def assignment_key(camera_id: int) -> str:
    return f"{PREFIX}:assignment:{camera_id}"


def spec_key(camera_id: int) -> str:
    return f"{PREFIX}:spec:{camera_id}"


def snapshot_key(camera_id: int) -> str:
    return f"{PREFIX}:snapshot:{camera_id}"


def _ttl() -> int:
    return max(1, round(settings.SIGHTLINE_WORKER_TIMEOUT_S))


def _dump(payload: Any) -> bytes:
    # orjson: compact JSON like json.dumps(separators=(",", ":")) (UTF-8, no \u escapes),
    # several times faster; reconcile encodes 20,000 fencing keys a run at scale. Numpy
    # scalars, which json took as the floats and ints they subclass, as numbers too: a
    # worker's figures may be computed with numpy.
    return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)


# --- worker heartbeats --------------------------------------------------------------


def write_worker(r: redis.Redis, info: WorkerInfo) -> None:
    pipe = r.pipeline(transaction=False)
    pipe.set(worker_key(info.name), _dump(asdict(info)), ex=_ttl())
    pipe.zadd(WORKER_INDEX, {info.name: info.last_seen})
    pipe.execute()


def remove_worker(r: redis.Redis, name: str) -> None:
    pipe = r.pipeline(transaction=False)
    pipe.delete(worker_key(name))
    pipe.zrem(WORKER_INDEX, name)
    pipe.execute()


def remove_crashed_worker(r: redis.Redis, name: str, started_at: float) -> bool:
    """Remove the heartbeat of the worker's process that started at ``started_at``; False
    when another process of that name heartbeats by now (it restarted: leave it)."""
    key = worker_key(name)
    with r.pipeline() as pipe:
        try:
            pipe.watch(key)  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
            raw = cast("bytes | None", pipe.get(key))
            if raw is None or orjson.loads(raw).get("started_at") != started_at:
                return False
            pipe.multi()
            pipe.delete(key)
            pipe.zrem(WORKER_INDEX, name)
            pipe.execute()
        except redis.WatchError:  # a heartbeat just now: judged again at the next look
            return False
    return True


def read_workers(r: redis.Redis) -> dict[str, WorkerInfo]:
    """Workers whose heartbeat has not expired."""
    names = [n.decode() for n in cast("list[bytes]", r.zrange(WORKER_INDEX, 0, -1))]
    if not names:
        return {}
    workers = {}
    gone = []
    raws = cast("list[bytes | None]", r.mget([worker_key(n) for n in names]))
    for name, raw in zip(names, raws, strict=True):
        if raw is None:
            gone.append(name)
            continue
        data = orjson.loads(raw)
        data["running"] = tuple(data.get("running", ()))
        data["models"] = tuple(data.get("models", ()))
        data["backends"] = tuple(ModelBackend.from_dict(b) for b in data.get("backends", ()))
        workers[name] = WorkerInfo(**_known_fields(WorkerInfo, data))
    # Forget names silent for a day so the index does not grow forever.
    r.zremrangebyscore(WORKER_INDEX, 0, time.time() - 86400)
    return workers


# --- stream heartbeats -----------------------------------------------------------------


def write_stream(r: redis.Redis, info: StreamInfo) -> None:
    r.set(stream_key(info.camera_id), encode_stream(info), ex=_ttl())


def encode_stream(info: StreamInfo) -> bytes:
    """A stream heartbeat as JSON: state and reason by their values ("" for no reason)."""
    reason = info.reason.value if info.reason is not None else ""
    return _dump({**asdict(info), "state": info.state.value, "reason": reason})


def decode_stream(raw: bytes | str) -> StreamInfo:
    """The StreamInfo of `encode_stream`'s JSON, state and reason back as their enums."""
    data = orjson.loads(raw)
    data["state"] = StreamState(data["state"])
    data["reason"] = StreamReason(data["reason"]) if data.get("reason") else None
    return StreamInfo(**_known_fields(StreamInfo, data))


def _known_fields(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without the keys ``cls`` does not know: a heartbeat from a newer worker still
    reads, so workers and web servers can be upgraded in any order (its new fields are
    ignored until this side knows them)."""
    names = _field_names(cls)
    return {name: value for name, value in data.items() if name in names}


@functools.cache
def _field_names(cls: type) -> frozenset[str]:
    """A dataclass' field names, found once: reconcile decodes 20,000 heartbeats a run."""
    return frozenset(f.name for f in fields(cls))


def delete_stream(r: redis.Redis, camera_id: int, generation: int) -> None:
    """Remove a stopped task's heartbeat unless a newer generation already wrote one."""
    raw = cast("bytes | None", r.get(stream_key(camera_id)))
    if raw is not None and orjson.loads(raw).get("generation") == generation:
        r.delete(stream_key(camera_id))


def read_streams(r: redis.Redis, camera_ids: list[int]) -> dict[int, StreamInfo]:
    streams = {}
    for start in range(0, len(camera_ids), 1000):
        chunk = camera_ids[start : start + 1000]
        raws = cast("list[bytes | None]", r.mget([stream_key(c) for c in chunk]))
        for camera_id, raw in zip(chunk, raws, strict=True):
            if raw is not None:
                streams[camera_id] = decode_stream(raw)
    return streams


def read_all_streams(r: redis.Redis) -> dict[int, StreamInfo]:
    keys = list(r.scan_iter(match=f"{PREFIX}:stream:*", count=1000))
    ids = [int(k.decode().rsplit(":", 1)[1]) for k in keys]
    return read_streams(r, ids)


# --- snapshots -----------------------------------------------------------------------------


def write_snapshot(r: redis.Redis, camera_id: int, jpeg: bytes) -> None:
    r.set(snapshot_key(camera_id), jpeg, ex=_ttl())


def read_snapshot(r: redis.Redis, camera_id: int) -> bytes | None:
    """The newest JPEG of a running camera, or None when it is not running."""
    return cast("bytes | None", r.get(snapshot_key(camera_id)))


# --- open presences (object events) ----------------------------------------------------------


def presences_key(camera_id: int, generation: int) -> str:
    return f"{PREFIX}:presences:{camera_id}:{generation}"


def write_presences(
    r: redis.Redis, camera_id: int, generation: int, presences: dict[int, list[OpenPresence]]
) -> None:
    """The task's open enters by display, each with when it was last seen in its zone."""
    payload = {str(d): [p.to_dict() for p in opened] for d, opened in presences.items()}
    r.set(presences_key(camera_id, generation), _dump(payload), ex=PRESENCES_TTL_S)


def read_presences(
    r: redis.Redis, camera_id: int, generation: int
) -> dict[tuple[int, str], OpenPresence]:
    """The last checkpoint's open presences by (display id, enter key); garbage is skipped."""
    raw = cast("bytes | None", r.get(presences_key(camera_id, generation)))
    if raw is None:
        return {}
    try:
        payload = orjson.loads(raw)
    except ValueError:
        return {}
    found = {}
    for display, opened in payload.items() if isinstance(payload, dict) else ():
        if not display.isdigit() or not isinstance(opened, list):
            continue
        for item in opened:
            try:
                presence = OpenPresence.from_dict(item)
            except ValueError:
                continue
            found[int(display), presence.key] = presence
    return found


def delete_presences(r: redis.Redis, camera_id: int, generation: int) -> None:
    r.delete(presences_key(camera_id, generation))


# --- assignments (fencing) ------------------------------------------------------------------


def fencing_value(assignment: Assignment) -> tuple[int, int, str, str]:
    """What an assignment's fencing key says: camera, generation, worker and spec hash."""
    a = assignment
    return a.camera_id, a.generation, a.worker, a.spec_hash


def publish_assignments(r: redis.Redis, assignments: list[Assignment]) -> None:
    """Write each assignment's fencing key: one MSET per 1,000 (reconcile republishes all
    of them every run, 20,000 at issue 17's scale), each sent as it is made: orjson's bytes
    take about 4 KiB of memory each while alive, 80 MiB for 20,000 held at once."""
    for start in range(0, len(assignments), 1000):
        chunk = assignments[start : start + 1000]
        r.mset(
            {
                assignment_key(a.camera_id): _dump([a.generation, a.worker, a.spec_hash])
                for a in chunk
            }
        )


def read_assignment(r: redis.Redis, camera_id: int) -> tuple[int, str, str] | None:
    """(generation, worker, spec hash) as last published, or None when Redis lost it."""
    return read_assignments(r, [camera_id])[0]


def read_assignments(r: redis.Redis, camera_ids: list[int]) -> list[tuple[int, str, str] | None]:
    if not camera_ids:
        return []
    raws = cast("list[bytes | None]", r.mget([assignment_key(c) for c in camera_ids]))
    return [None if raw is None else _assignment(raw) for raw in raws]


def _assignment(raw: bytes) -> tuple[int, str, str]:
    generation, worker, spec_hash = orjson.loads(raw)
    return int(generation), worker, spec_hash


# --- camera specs ------------------------------------------------------------------------------


def write_specs(r: redis.Redis, specs: list[CameraSpec]) -> None:
    """Store what each camera runs. No expiry: they are reconcile's copies of desired state,
    deleted when a camera stops being wanted and rewritten when Redis lost them. One MSET
    per 1,000 specs, each sent as it is made (see publish_assignments)."""
    for start in range(0, len(specs), 1000):
        r.mset({spec_key(spec.camera_id): spec.to_bytes() for spec in specs[start : start + 1000]})


def read_spec(r: redis.Redis, camera_id: int) -> CameraSpec | None:
    """The camera's spec as reconcile last wrote it; None when missing or unreadable."""
    raw = cast("bytes | None", r.get(spec_key(camera_id)))
    if raw is None:
        return None
    try:
        return CameraSpec.from_bytes(raw)
    except ValueError:
        return None


def missing_specs(r: redis.Redis, camera_ids: list[int]) -> list[int]:
    """The cameras among ``camera_ids`` whose spec key does not exist. Every reconcile asks:
    one multi-key EXISTS per 1,000 answers "none" (the usual case); only a short count
    looks key by key (one pipelined pass)."""
    chunks = [camera_ids[i : i + 1000] for i in range(0, len(camera_ids), 1000)]
    pipe = r.pipeline(transaction=False)
    for chunk in chunks:
        pipe.exists(*[spec_key(c) for c in chunk])
    if all(n == len(c) for n, c in zip(pipe.execute(), chunks, strict=True)):
        return []
    pipe = r.pipeline(transaction=False)
    for camera_id in camera_ids:
        pipe.exists(spec_key(camera_id))
    found = pipe.execute()
    return [c for c, exists in zip(camera_ids, found, strict=True) if not exists]


def delete_specs(r: redis.Redis, camera_ids: list[int]) -> None:
    if camera_ids:
        r.delete(*[spec_key(c) for c in camera_ids])


# --- worker reports -----------------------------------------------------------------------------


def push_worker_report(r: redis.Redis, raw: bytes) -> None:
    pipe = r.pipeline(transaction=False)
    pipe.rpush(WORKER_REPORTS, raw)
    pipe.ltrim(WORKER_REPORTS, -WORKER_REPORTS_MAX, -1)
    pipe.execute()


def pop_worker_reports(r: redis.Redis, count: int = 1000) -> list[bytes]:
    """Up to ``count`` reports, oldest first, removed from the list."""
    return cast("list[bytes]", r.lpop(WORKER_REPORTS, count) or [])


# --- reconcile bookkeeping -------------------------------------------------------------------


def read_missing_since(r: redis.Redis) -> dict[int, float]:
    missing = cast("dict[bytes, bytes]", r.hgetall(RECONCILE_MISSING))
    return {int(k): float(v) for k, v in missing.items()}


def write_missing_since(r: redis.Redis, missing: dict[int, float]) -> None:
    pipe = r.pipeline()
    pipe.delete(RECONCILE_MISSING)
    if missing:
        pipe.hset(RECONCILE_MISSING, mapping={str(k): v for k, v in missing.items()})
    pipe.execute()


def heartbeats_trustworthy(r: redis.Redis, workers: dict[str, WorkerInfo], now: float) -> bool:
    """Whether a missing heartbeat means a dead worker.

    Not while Redis has been up for less than one worker timeout (it restarted: workers
    write their heartbeats again one by one within seconds), nor while it holds no worker
    heartbeat at all for less than that (flushed): an empty Redis is not "every worker died".
    """
    timeout = settings.SIGHTLINE_WORKER_TIMEOUT_S
    server = cast("dict[str, Any]", r.info("server"))
    if int(server.get("uptime_in_seconds", timeout)) < timeout:
        return False
    if workers:
        r.delete(RECONCILE_EMPTY_SINCE)
        return True
    r.set(RECONCILE_EMPTY_SINCE, now, nx=True)
    since = float(cast("bytes | None", r.get(RECONCILE_EMPTY_SINCE)) or now)
    return now - since >= timeout


def note_desired_change(r: redis.Redis) -> None:
    """Give desired state a new version: the next reconcile reads the database again."""
    r.set(DESIRED_VERSION, uuid.uuid4().hex)


def desired_version(r: redis.Redis) -> bytes:
    """The version of desired state as last noted. A Redis without one (restarted, flushed)
    gets a new one now: random tokens, so no version ever comes back after a loss."""
    pipe = r.pipeline(transaction=False)
    pipe.set(DESIRED_VERSION, uuid.uuid4().hex, nx=True)
    pipe.get(DESIRED_VERSION)
    return cast("bytes", pipe.execute()[1])


def write_report(r: redis.Redis, report: dict[str, Any]) -> None:
    r.set(RECONCILE_REPORT, _dump(report))


def read_report(r: redis.Redis) -> dict[str, Any] | None:
    raw = cast("bytes | None", r.get(RECONCILE_REPORT))
    return None if raw is None else orjson.loads(raw)
