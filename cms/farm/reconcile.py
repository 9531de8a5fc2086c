"""Reconcile: desired (database) + actual (heartbeats) -> plan (pure) -> apply.

One run at a time (a Redis lock). A trigger that arrives while a run is in progress
marks the state dirty, which makes exactly one more run afterwards.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import redis
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import QuerySet

from cms import display_secondary, redis_connection
from cms.farm import crash_detection, farm_keys, presences, worker_connections
from cms.farm.commands import Assignment, Command, Start, Stop, UpdateSpec
from cms.farm.desired import (
    CameraRow,
    CameraSpec,
    DisplayRow,
    LineSpec,
    ModelSpec,
    SecondarySpec,
    ZoneSpec,
    desired_state,
    line_specs,
    zone_specs,
)
from cms.farm.heartbeats import WorkerInfo
from cms.farm.planner import PlanSettings, plan
from cms.farm.task_sender import (
    INGEST_CAMERA,
    RECONCILE,
    START_CAMERAS,
    send_to_workers,
    sender,
)
from cms.models import Camera, DetectionModel, Display, StreamAssignment, crop_box

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 120


def plan_settings() -> PlanSettings:
    return PlanSettings(
        start_grace_s=settings.SIGHTLINE_START_GRACE_S,
        lost_after_s=settings.SIGHTLINE_WORKER_TIMEOUT_S,
        rebalance_threshold=settings.SIGHTLINE_REBALANCE_THRESHOLD,
    )


def model_spec(model: Any) -> ModelSpec:
    return ModelSpec(
        id=model.id,
        name=model.name,
        version=model.version,
        sha256=model.sha256,
        confidence=model.confidence,
        iou=model.iou,
        imgsz=model.imgsz,
        classes=tuple(model.classes) if model.classes else None,
        backend=model.backend,
    )


def load_desired(camera_ids: list[int] | None = None) -> dict[int, CameraSpec]:
    """Desired state read from the database (all cameras, or just the given ones).

    Only enabled rows count: an enabled camera, with its enabled displays whose model is
    enabled and can run (not found invalid, not a non-detection model). A display's
    secondary model that is disabled, deleted, or cannot run as one (weights that do not
    load, not a classify model) is left out of its spec: the display runs its primary model
    and the other secondary models without it.

    What is built from rows that read exactly as in the previous call is that call's
    (`_memo`): desired state stays a pure function of the rows, but a reconcile with nothing
    to change no longer decodes 100,000 displays and hashes 20,000 specs again.
    """
    cameras = Camera.objects.filter(enabled=True)
    displays = Display.objects.filter(enabled=True, camera__enabled=True, model__enabled=True)
    if camera_ids is not None:
        cameras = cameras.filter(id__in=camera_ids)
        displays = displays.filter(camera_id__in=camera_ids)
    usable = DetectionModel.objects.filter(DetectionModel.usable(), enabled=True)
    models = {m.id: model_spec(m) for m in usable}
    classifiers = DetectionModel.objects.filter(DetectionModel.usable_as_secondary(), enabled=True)
    secondary_models = {m.id: model_spec(m) for m in classifiers}
    if camera_ids is not None:  # a few cameras: not what the next full load will read
        return _desired(_DesiredMemo(), cameras, displays, models, secondary_models)
    with _memo_lock:
        return _desired(_memo, cameras, displays, models, secondary_models)


def _desired(
    memo: _DesiredMemo,
    cameras: QuerySet[Camera],
    displays: QuerySet[Display],
    models: dict[int, ModelSpec],
    secondary_models: dict[int, ModelSpec],
) -> dict[int, CameraSpec]:
    key = settings.SECRET_KEY.encode()
    memo.start(models, secondary_models, key)
    camera_raws, convert = _raw_rows(
        cameras, "id", "url", "username", "password", "snapshot_url", "snapshot_interval", "fps"
    )
    camera_rows = [memo.camera(raw, convert) for raw in camera_raws]
    by_camera: dict[int, list[DisplayRow]] = {}
    display_raws, convert = _raw_rows(displays, *_DISPLAY_COLUMNS)
    for raw in display_raws:
        if raw[2] in models:
            row = memo.display(raw, convert, models[raw[2]], secondary_models)
            by_camera.setdefault(row.camera_id, []).append(row)
    desired = {}
    for camera in camera_rows:
        rows = by_camera.get(camera.id)
        if rows:
            desired[camera.id] = memo.spec(camera, tuple(rows), key)
    memo.forget_unused()
    return desired


_DISPLAY_COLUMNS = (
    "id",
    "camera_id",
    "model_id",
    "policy",
    "policy_interval_ms",
    "tracking",
    "zones",
    "lines",
    "min_seen_s",
    "max_lost_s",
    "secondary",
    "crop_x1",
    "crop_y1",
    "crop_x2",
    "crop_y2",
)

RawRow = tuple[Any, ...]


def _raw_rows(
    queryset: QuerySet[Any], *columns: str
) -> tuple[Iterator[RawRow], Callable[[RawRow], tuple[Any, ...]]]:
    """The query's rows as the database driver returns them (hashable: JSON columns are
    text on SQLite and PostgreSQL alike), and the function that converts one into the row
    ``values_list(*columns)`` would give (JSON decoded, booleans, ...: Django's converters)."""
    query = queryset.values_list(*columns)
    compiler = query.query.get_compiler(using=query.db)
    sql, params = compiler.as_sql()
    fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
    converters = list(compiler.get_converters(fields).items())
    db = connections[query.db]
    # Most values repeat ("[]" zones, no secondary models): each is decoded once per load.
    # Shared, so read-only: the rows' consumers only read them.
    decoded: dict[tuple[int, Any], Any] = {}

    def convert(raw: RawRow) -> tuple[Any, ...]:
        row = list(raw)
        for index, (functions, expression) in converters:
            value = row[index]
            known = decoded.get((index, value), decoded)
            if known is decoded:
                known = value
                for function in functions:
                    known = function(known, expression, db)
                decoded[index, value] = known
            row[index] = known
        return tuple(row)

    def rows() -> Iterator[RawRow]:
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(5000):
                yield from batch

    return rows(), convert


class _DesiredMemo:
    """What load_desired built from each row and each camera, by the rows' raw values.

    Valid for one set of models (their specs are in every display's) and one secret key (the
    source hashes'): with others it starts empty. Each call keeps only what it used, so rows
    deleted since are forgotten. A row's warnings (zones that do not parse, ...) are logged
    again each time it is used, as they were without the memo.
    """

    def __init__(self) -> None:
        self.made_with: tuple[dict[int, ModelSpec], dict[int, ModelSpec], bytes] = ({}, {}, b"")
        self._cameras: dict[RawRow, CameraRow] = {}
        self._displays: dict[RawRow, tuple[DisplayRow, tuple[str, ...]]] = {}
        self._specs: dict[int, tuple[CameraRow, tuple[DisplayRow, ...], CameraSpec]] = {}
        self._used: tuple[dict[RawRow, Any], dict[RawRow, Any], dict[int, Any]] = ({}, {}, {})

    def start(
        self, models: dict[int, ModelSpec], secondary_models: dict[int, ModelSpec], key: bytes
    ) -> None:
        """Begin a load with these models and source-hash key (others than last time: start
        empty, as every spec could differ)."""
        if (models, secondary_models, key) != self.made_with:
            self._cameras, self._displays, self._specs = {}, {}, {}
            self.made_with = (models, secondary_models, key)
        self._used = ({}, {}, {})

    def camera(self, raw: RawRow, convert: Callable[[RawRow], tuple[Any, ...]]) -> CameraRow:
        row = self._cameras.get(raw)
        if row is None:
            row = CameraRow(*convert(raw))
        self._used[0][raw] = row
        return row

    def display(
        self,
        raw: RawRow,
        convert: Callable[[RawRow], tuple[Any, ...]],
        model: ModelSpec,
        secondary_models: dict[int, ModelSpec],
    ) -> DisplayRow:
        found = self._displays.get(raw)
        if found is None:
            found = _display_row(convert(raw), model, secondary_models)
        for warning in found[1]:
            log.warning("%s", warning)
        self._used[1][raw] = found
        return found[0]

    def spec(self, camera: CameraRow, rows: tuple[DisplayRow, ...], key: bytes) -> CameraSpec:
        """The camera's spec: the last one when built from the same rows (the same objects,
        found by identity first, so comparing them costs next to nothing)."""
        last = self._specs.get(camera.id)
        if last is not None and last[0] == camera and last[1] == rows:
            spec = last[2]
        else:
            spec = desired_state([camera], rows, key=key)[camera.id]
        self._used[2][camera.id] = (camera, rows, spec)
        return spec

    def forget_unused(self) -> None:
        self._cameras, self._displays, self._specs = self._used
        self._used = ({}, {}, {})


# The control process's. Reconcile runs one at a time anyway (a Redis lock); the lock here
# keeps any other thread calling load_desired from sharing the memo mid-load.
_memo = _DesiredMemo()
_memo_lock = threading.Lock()


def _display_row(
    values: tuple[Any, ...], model: ModelSpec, secondary_models: dict[int, ModelSpec]
) -> tuple[DisplayRow, tuple[str, ...]]:
    """One row of load_desired's display query (its columns in that order) as a DisplayRow,
    with the warnings to log about it; ``secondary_models`` are the models that can run as
    secondary ones, by id."""
    display_id, camera_id, _, policy, interval_ms, tracking, zones, lines, seen, lost = values[:10]
    warnings: list[str] = []
    zone_rows, line_rows = _geometry(display_id, zones, lines, warnings)
    row = DisplayRow(
        id=display_id,
        camera_id=camera_id,
        model=model,
        crop=crop_box(values[11:]),
        policy=policy,
        policy_interval_ms=interval_ms,
        tracking=tracking,
        zones=zone_rows,
        lines=line_rows,
        min_seen_s=seen,
        max_lost_s=lost,
        secondary=_secondary(display_id, values[10], secondary_models, warnings),
    )
    return row, tuple(warnings)


def _secondary(
    display_id: int, value: object, models: dict[int, ModelSpec], warnings: list[str]
) -> tuple[SecondarySpec, ...]:
    """A display's stored secondary list as specs, in order, each model that cannot run now
    left out (see load_desired). Display.clean() checked the list; a row written around it
    that does not pass the same check runs without secondary models (a warning added)."""
    problems = display_secondary.shape_errors(value)
    if problems:
        warnings.append(f"display {display_id}: secondary models ignored, {problems[0]}")
        return ()
    assert isinstance(value, list)  # shape_errors said so
    return tuple(
        SecondarySpec(
            model=models[item["model"]],
            # [] like null, as a model's own class filter: every class.
            classes=tuple(item["classes"]) if item["classes"] else None,
            min_size=item["min_size"],
            every_s=item["every_s"],
        )
        for item in display_secondary.with_defaults(value)
        if item["model"] in models
    )


def _geometry(
    display_id: int, zones: object, lines: object, warnings: list[str]
) -> tuple[tuple[ZoneSpec, ...], tuple[LineSpec, ...]]:
    """A display's stored zones and lines as specs. Display.clean() checked them; a row
    written around it (a shell, a queryset update) that does not parse runs without them
    (a warning added)."""
    try:
        return zone_specs(zones), line_specs(lines)
    except ValueError as exc:
        warnings.append(f"display {display_id}: zones or lines ignored, {exc}")
        return (), ()


def load_assignments() -> dict[int, Assignment]:
    rows = StreamAssignment.objects.values_list(
        "camera_id", "worker", "generation", "spec_hash", "assigned_at"
    )
    return {
        camera_id: Assignment(
            camera_id, worker, generation, spec_hash, at.timestamp() if at else 0.0
        )
        for camera_id, worker, generation, spec_hash, at in rows.iterator(chunk_size=5000)
    }


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the block (restored as it was).

    A reconcile at 20,000 cameras allocates millions of small objects (rows, specs,
    heartbeats) while the process holds the last run's desired state (the memo): every full
    collection walks all of them, and those pauses were 40 % of a full reconcile and half
    of one with nothing to change. Reference counting frees a run's garbage anyway; the few
    cycles wait for the collector's next pass after the run.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class _Loaded:
    """Desired state as a reconcile last read it, and the version it read it at."""

    version: bytes
    at: float  # time.monotonic()
    desired: dict[int, CameraSpec]


_last_loaded: _Loaded | None = None


def current_desired(r: redis.Redis) -> tuple[dict[int, CameraSpec], bool]:
    """Desired state for a reconcile, and whether it was read from the database this time.

    Read again when a change was noted since the last read (farm_keys.note_desired_change:
    by request_reconcile, so by every save and delete of the rows it depends on, a model
    checked, an operator's "reconcile now") and at least every SIGHTLINE_DESIRED_RELOAD_S,
    like an informer's cache with a periodic resync. At 20,000 cameras the read is most of a
    reconcile with nothing to change. A write that goes around request_reconcile (raw SQL,
    a queryset update in a shell), or whose request found Redis down, is seen by the next
    periodic read.
    """
    global _last_loaded
    version = farm_keys.desired_version(r)  # first: a change committed after it notes anew
    last = _last_loaded
    if (
        last is not None
        and last.version == version
        and time.monotonic() - last.at < settings.SIGHTLINE_DESIRED_RELOAD_S
    ):
        return last.desired, False
    at = time.monotonic()
    desired = load_desired()
    _last_loaded = _Loaded(version, at, desired)
    return desired, True


def reconcile_once(r: redis.Redis | None = None) -> dict[str, Any]:
    """One full pass; returns the report it also stores in Redis."""
    with cyclic_gc_paused():
        return _reconcile_once(r or redis_connection.client())


def _reconcile_once(r: redis.Redis) -> dict[str, Any]:
    started = time.monotonic()
    now = time.time()
    desired, desired_read = current_desired(r)
    assignments = load_assignments()
    workers = farm_keys.read_workers(r)
    trusted = farm_keys.heartbeats_trustworthy(r, workers, now)
    streams = farm_keys.read_streams(r, sorted(assignments))
    result = plan(
        desired,
        assignments,
        streams,
        workers,
        now=now,
        missing_since=farm_keys.read_missing_since(r),
        trust_worker_absence=trusted,
        settings=plan_settings(),
    )
    # Before any start is sent or new spec hash published: the worker reads its spec here.
    specs_written = write_specs(r, desired, result.commands)
    applied, published = apply_plan(result.commands, r, now, workers)
    unwanted = [c.camera_id for c in result.commands if isinstance(c, Stop)]
    farm_keys.delete_specs(r, [c for c in unwanted if c not in desired])
    _record_pending(result.pending)
    if result.recheck_at is not None:
        _reconcile_again_at(r, result.recheck_at, now)
    # Republish every assignment: after a Redis restart this restores the fencing keys
    # (those apply_plan published moments ago excepted).
    current = load_assignments() if result.commands else assignments
    farm_keys.publish_assignments(
        r, [a for a in current.values() if farm_keys.fencing_value(a) not in published]
    )
    farm_keys.write_missing_since(r, result.missing_since)
    closed = presences.close_ended_presences(r)
    report = {
        "finished_at": datetime.now(UTC).isoformat(),
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
        "commands": dict(applied),
        "desired": len(desired),
        "desired_read": desired_read,
        "workers": len(workers),
        "pending": {str(k): v for k, v in result.pending.items()},
        "heartbeats_trusted": trusted,
        "presences_closed": closed,
        "specs_written": specs_written,
    }
    farm_keys.write_report(r, report)
    if result.commands:
        log.info("reconcile: %s", report)
    return report


def write_specs(r: redis.Redis, desired: dict[int, CameraSpec], commands: list[Command]) -> int:
    """Store in Redis the spec of every camera the plan starts or changes in place, and of
    every wanted camera whose spec Redis lost (a restart); returns how many were written."""
    changed = {c.camera_id for c in commands if isinstance(c, Start | UpdateSpec)}
    missing = farm_keys.missing_specs(r, [c for c in desired if c not in changed])
    wanted = sorted((changed & desired.keys()) | set(missing))
    farm_keys.write_specs(r, [desired[c] for c in wanted])
    return len(wanted)


def apply_plan(
    commands: list[Command], r: redis.Redis, now: float, workers: dict[str, WorkerInfo]
) -> tuple[Counter[str], set[tuple[int, int, str, str]]]:
    """Carry out a plan's commands (``workers``: the online workers it was made for);
    returns how many of each kind took effect, and the fencing values it published
    (farm_keys.fencing_value).

    Claims happen in one transaction, each guarded by the generation the plan saw, so
    a concurrent reconcile that got there first makes ours a no-op. Fencing keys are
    published and start messages sent only after the commit.
    """
    updates = [c for c in commands if isinstance(c, UpdateSpec)]
    moves = [c for c in commands if not isinstance(c, UpdateSpec)]
    at = datetime.fromtimestamp(now, UTC)
    with transaction.atomic():
        for update in updates:
            StreamAssignment.objects.filter(
                camera_id=update.camera_id, generation=update.generation
            ).update(spec_hash=update.spec_hash)
        won = _claim(moves, at)
    claimed = [
        (move, Assignment(move.camera_id, _worker(move), move.previous_generation + 1,
                          _spec_hash(move), now))
        for move in moves
        if move.camera_id in won
    ]  # fmt: skip
    if len(claimed) < len(moves):
        log.info("reconcile: %d cameras changed under us, skipped", len(moves) - len(claimed))
    farm_keys.publish_assignments(r, [assignment for _, assignment in claimed])
    if log.isEnabledFor(logging.DEBUG):
        for move, assignment in claimed:
            log.debug(
                "%s camera %s%s generation %s (%s)",
                type(move).__name__.lower(),
                move.camera_id,
                f" on {assignment.worker}" if assignment.worker else "",
                assignment.generation,
                move.reason,
            )
    # One message per worker with its cameras (the worker sends itself a task per camera):
    # 20,000 sends from here cost a full reconcile at scale more than a second. By name: the
    # control worker never imports the ingest code (and torch). A start waiting longer than
    # the grace is superseded by a later reconcile anyway.
    starts: dict[str, list[list[int]]] = {}
    for move, assignment in claimed:
        if isinstance(move, Start):
            starts.setdefault(assignment.worker, []).append([move.camera_id, assignment.generation])
    lists = {w: cameras for w, cameras in starts.items() if _takes_start_lists(workers, w)}
    expires_s = settings.SIGHTLINE_START_GRACE_S
    send_to_workers(
        START_CAMERAS, [(w, [cameras]) for w, cameras in lists.items()], expires_s=expires_s
    )
    singles = [(w, pair) for w, pairs in starts.items() if w not in lists for pair in pairs]
    send_to_workers(INGEST_CAMERA, singles, expires_s=expires_s)
    if claimed:
        reasons = Counter(f"{type(m).__name__.lower()} ({m.reason})" for m, _ in claimed)
        log.info("reconcile applied: %s", dict(reasons))
    applied = Counter(type(c).__name__ for c in updates) + Counter(
        type(move).__name__ for move, _ in claimed
    )
    return applied, {farm_keys.fencing_value(assignment) for _, assignment in claimed}


def _takes_start_lists(workers: dict[str, WorkerInfo], name: str) -> bool:
    """Whether the worker takes start_cameras (a worker from before it, upgraded after the
    control worker, does not: it would refuse the task as unknown)."""
    worker = workers.get(name)
    return worker is not None and worker.start_lists


def _claim(moves: list[Start | Stop], at: datetime) -> set[int]:
    """Move each camera to its next generation if it still has the one the plan saw.

    Returns the cameras this run claimed: those now stamped with this run's time. One
    statement run for every move (executemany): SQLite reuses it, psycopg pipelines it.
    """
    if not moves:
        return set()
    table = connection.ops.quote_name(StreamAssignment._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        # A camera at generation 0 may have no row yet; one at a later generation has one.
        # Plain SQL: bulk_create's 20,000 model instances cost more than the statement.
        cursor.executemany(
            f"INSERT INTO {table} (camera_id, generation, worker, spec_hash, pending_reason) "  # noqa: S608
            "VALUES (%s, 0, '', '', '') ON CONFLICT (camera_id) DO NOTHING",
            [(m.camera_id,) for m in moves if m.previous_generation == 0],
        )
        cursor.executemany(
            f"UPDATE {table} SET generation = generation + 1, worker = %s, spec_hash = %s, "  # noqa: S608
            "assigned_at = %s, pending_reason = '' WHERE camera_id = %s AND generation = %s",
            [(_worker(m), _spec_hash(m), stamp, m.camera_id, m.previous_generation) for m in moves],
        )
    expected = {m.camera_id: m.previous_generation + 1 for m in moves}
    stamped = StreamAssignment.objects.filter(camera_id__in=list(expected), assigned_at=at)
    return {c for c, g in stamped.values_list("camera_id", "generation") if expected[c] == g}


def _worker(move: Start | Stop) -> str:
    return move.worker if isinstance(move, Start) else ""


def _spec_hash(move: Start | Stop) -> str:
    return move.spec_hash if isinstance(move, Start) else ""


def _record_pending(pending: dict[int, str]) -> None:
    """Keep each camera's 'pending because ...' in the database for the admin and API."""
    StreamAssignment.objects.exclude(camera_id__in=list(pending)).exclude(pending_reason="").update(
        pending_reason=""
    )
    if not pending:
        return
    StreamAssignment.objects.bulk_create(
        [StreamAssignment(camera_id=camera_id) for camera_id in pending], ignore_conflicts=True
    )
    by_reason: dict[str, list[int]] = {}
    for camera_id, reason in pending.items():
        by_reason.setdefault(reason, []).append(camera_id)
    for reason, camera_ids in by_reason.items():  # a few distinct reasons, not one per camera
        StreamAssignment.objects.filter(camera_id__in=camera_ids).exclude(
            pending_reason=reason
        ).update(pending_reason=reason)


def _reconcile_again_at(r: redis.Redis, at: float, now: float) -> None:
    """Schedule one reconcile at ``at`` (a verdict waits for a heartbeat due by then).

    At most one such run is scheduled at a time; a change meanwhile still reconciles at once.
    """
    delay = max(1.0, at - now)
    if r.set(farm_keys.RECONCILE_RECHECK, at, nx=True, px=int(delay * 1000)):
        sender.send_task(RECONCILE, countdown=delay, expires=delay + 30)


def run_reconcile() -> int:
    """Reconcile under the lock, once more for each batch of triggers that came meanwhile.

    Returns the number of passes run (0 when another process holds the lock).
    """
    r = redis_connection.client()
    r.delete(farm_keys.RECONCILE_SCHEDULED)
    passes = 0
    while True:
        lock = r.lock(farm_keys.RECONCILE_LOCK, timeout=LOCK_TIMEOUT_S)
        if not lock.acquire(blocking=False):
            r.set(farm_keys.RECONCILE_DIRTY, 1)  # the holder runs once more
            return passes
        try:
            while True:
                r.delete(farm_keys.RECONCILE_DIRTY)
                reconcile_once(r)
                passes += 1
                if not r.exists(farm_keys.RECONCILE_DIRTY):
                    break
        finally:
            lock.release()
        # A trigger between our last check and the release found the lock still held.
        if not r.exists(farm_keys.RECONCILE_DIRTY):
            return passes


def request_reconcile(reason: str, *, desired_changed: bool = True) -> None:
    """Ask for a reconcile soon; a burst of requests makes one run (debounced). Unless told
    only the workers changed, the run reads desired state from the database again."""
    try:
        r = redis_connection.client()
        if desired_changed:
            farm_keys.note_desired_change(r)
        r.set(farm_keys.RECONCILE_DIRTY, 1)
        if r.set(farm_keys.RECONCILE_SCHEDULED, reason, nx=True, ex=10):
            sender.send_task(
                RECONCILE, countdown=settings.SIGHTLINE_RECONCILE_DEBOUNCE_S, expires=30
            )
    except redis.RedisError as exc:
        # The change is committed; beat's periodic reconcile picks it up.
        log.warning("could not trigger reconcile (%s): %s", reason, exc)


def reconcile_if_workers_changed() -> str | None:
    """Request a reconcile when the online ingest workers changed since the last look: one
    went offline, joined, or restarted (same name, new process). Returns the change, if any.
    """
    r = redis_connection.client()
    # A worker is known by name and start: a restart under the same name is a change too.
    online = {f"{w.started_at:.3f} {name}" for name, w in farm_keys.read_workers(r).items()}
    known = {m.decode() for m in cast("set[bytes]", r.smembers(farm_keys.KNOWN_ONLINE))}
    if online == known:
        return None
    pipe = r.pipeline()
    pipe.delete(farm_keys.KNOWN_ONLINE)
    if online:
        pipe.sadd(farm_keys.KNOWN_ONLINE, *online)
    pipe.execute()
    names_now = {m.partition(" ")[2] for m in online}
    names_before = {m.partition(" ")[2] for m in known}
    gone, joined = names_before - names_now, names_now - names_before
    restarted = {m.partition(" ")[2] for m in online - known} - joined
    change = (
        "; ".join(
            f"workers {what}: {sorted(names)}"
            for what, names in (("offline", gone), ("joined", joined), ("restarted", restarted))
            if names
        )
        or "workers changed"
    )
    request_reconcile(change, desired_changed=False)
    return change


def reconcile_if_workers_crashed(
    memory: crash_detection.Memory,
) -> tuple[crash_detection.Memory, str | None]:
    """Look at the ingest workers' named connections once; a worker whose process is gone
    (cms.farm.crash_detection) is deregistered and a reconcile requested at once, so its
    cameras move without waiting for its heartbeat to expire. Returns the memory for the
    next look and what was done, if anything. Fencing keeps a wrong verdict harmless: a
    worker thought dead that still runs gets its results refused and its tasks stopped.
    """
    r = redis_connection.client()
    run_id, uptime = worker_connections.redis_run(r)
    look = crash_detection.Look(
        at=time.time(),
        online={name: w.started_at for name, w in farm_keys.read_workers(r).items()},
        connected=worker_connections.connected_workers(r),
        run_id=run_id,
        uptime_s=uptime,
    )
    verdict = crash_detection.judge(memory, look)
    if verdict.note:
        log.info("%s: crashed workers are judged by heartbeats until reconnected", verdict.note)
    crashed = [
        name
        for name, started_at in verdict.crashed
        if farm_keys.remove_crashed_worker(r, name, started_at)
    ]
    if not crashed:
        return verdict.memory, None
    change = f"workers crashed (their connection closed): {crashed}"
    request_reconcile(change, desired_changed=False)
    return verdict.memory, change


def restart_camera(camera_id: int) -> None:
    """Stop the camera's current task (fencing it) so the next reconcile starts it afresh."""
    with transaction.atomic():
        assignment = StreamAssignment.objects.select_for_update().filter(camera_id=camera_id)
        row = assignment.first()
        if row is None or not row.worker:
            return
        assignment.update(generation=row.generation + 1, worker="", spec_hash="")
    farm_keys.publish_assignments(
        redis_connection.client(), [Assignment(camera_id, "", row.generation + 1)]
    )
    request_reconcile(f"camera {camera_id} restarted by an operator", desired_changed=False)
