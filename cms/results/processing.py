"""One batch of stream entries: parse, drop stale, apply the event policy, store, push, signal.

Pure decisions (parsing, policy) live in their own modules; this one does the I/O of a
batch: one query for the displays, one transaction that takes the batch's event ids,
inserts its detections and object events and adds the batch to its zone minutes
(cms.results.zone_minutes), one query per kind for the stored rows, and one
Redis pipeline for the live push and each display's latest state. Then
``detection_received`` and ``object_event`` go to the receivers, one message at a time.

Event thumbnails (cms.results.thumbnail_intake): after the transaction, the JPEGs the workers
left in Redis for the batch's object events and delivered change-policy results are saved
to disk, one MGET and one DEL for the batch.

Display sessions (cms.display_sessions.batch): in the same transaction, one query for the
sessions of the batch's displays; each row is stored with the ``session_id`` of the session
its frame was in, and the open sessions' summaries are patched. ``session_updated`` is sent
after the receivers, throttled to once a second per session.

Fencing: a result or object event of a generation older than its camera's current one is
dropped, except a leave whose enter (same display, generation, track and zone) is stored:
that enter was delivered, so its leave must be too (every stored enter gets its leave,
also the one the old generation's worker or the farm sends after the generation moved).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q

from cms import live
from cms.display_sessions import signalling
from cms.display_sessions.batch import BatchSessions
from cms.farm import farm_keys
from cms.logs import log_context
from cms.models import (
    Detection,
    Display,
    DisplaySession,
    ObjectEvent,
    StreamAssignment,
    take_event_ids,
)
from cms.results import object_event_message, result_message, thumbnail_intake, zone_minutes
from cms.results.object_event_message import ObjectEventMessage, enter_key_of
from cms.results.policy import PolicyState, should_deliver
from cms.results.result_message import MalformedResult, ResultMessage
from cms.results.signature import signature
from cms.signals import detection_received, object_event

log = logging.getLogger(__name__)

Received = tuple[str, ResultMessage]  # (stream message id, its result)
ReceivedEvent = tuple[str, ObjectEventMessage]


@dataclass
class BatchOutcome:
    done: list[str] = field(default_factory=list)  # to acknowledge
    failed: dict[str, str] = field(default_factory=dict)  # message id -> error (retry)
    malformed: dict[str, str] = field(default_factory=dict)  # message id -> error (dead letter)
    delivered: int = 0
    stale: int = 0
    suppressed: int = 0
    orphaned: int = 0  # for a display that no longer exists
    events_delivered: int = 0  # object events


_RESULT_FIELD = result_message.ENTRY_FIELD.encode()
_EVENT_FIELD = object_event_message.ENTRY_FIELD.encode()


def parse_entry(fields: dict[bytes, bytes]) -> ResultMessage | ObjectEventMessage:
    """A stream entry's message, a result or an object event; MalformedResult otherwise."""
    if _EVENT_FIELD in fields and _RESULT_FIELD not in fields:
        return ObjectEventMessage.from_entry(fields)
    return ResultMessage.from_entry(fields)


def process_batch(
    entries: Iterable[tuple[str, dict[bytes, bytes]]], client: redis.Redis
) -> BatchOutcome:
    outcome = BatchOutcome()
    received: list[Received] = []
    events: list[ReceivedEvent] = []
    for message_id, fields in entries:
        try:
            message = parse_entry(fields)
        except MalformedResult as exc:
            outcome.malformed[message_id] = str(exc)
            continue
        if isinstance(message, ObjectEventMessage):
            events.append((message_id, message))
        else:
            received.append((message_id, message))
    messages: list[ResultMessage | ObjectEventMessage] = [m for _, m in received]
    messages += [m for _, m in events]
    current = _current_generations(client, {m.camera_id for m in messages})
    received = _drop_stale(received, current, outcome)
    events = _drop_stale_events(events, current, outcome)
    displays = Display.objects.select_related("camera", "model").in_bulk(
        {m.display_id for m in messages}
    )
    received = _for_existing(received, displays, outcome)
    events = _for_existing(events, displays, outcome)
    fresh = [r for _, r in received]  # max_count sees every fresh result, not only delivered
    deliver, policy_states = _apply_policy(received, displays, client, outcome)
    stored, stored_events, sessions_changed = _store_all(deliver, events, fresh, displays)
    # Before the receivers and the live push: whoever they tell finds the thumbnail on disk.
    thumbnail_intake.save_thumbnails(
        client,
        [e for _, e in events],
        [r for _, r in deliver if displays[r.display_id].policy == Display.Policy.CHANGE],
    )
    live.push_delivered(
        client,
        [stored[r.key] for _, r in deliver],
        [stored_events[e.key] for _, e in events],
    )
    failed_displays = set()
    for message_id, result in deliver:
        display = displays[result.display_id]
        # Receivers' records (and Django's report of a failing one) name the display.
        with log_context(camera_id=result.camera_id, display_id=result.display_id):
            responses = detection_received.send_robust(
                sender=Detection,
                display=display,
                camera=display.camera,
                model=display.model,
                result=result,
                detection=stored[result.key],
            )
        if _failed(responses, message_id, outcome):
            failed_displays.add(result.display_id)
            continue
        outcome.delivered += 1
        outcome.done.append(message_id)
    for message_id, message in events:
        display = displays[message.display_id]
        with log_context(camera_id=message.camera_id, display_id=message.display_id):
            responses = object_event.send_robust(
                sender=ObjectEvent,
                display=display,
                camera=display.camera,
                event=stored_events[message.key],
                message=message,
            )
        if not _failed(responses, message_id, outcome):
            outcome.events_delivered += 1
            outcome.done.append(message_id)
    signalling.send_changes(client, sessions_changed)
    # Remember what was delivered; a display with a failure is decided again on retry.
    live.write_policy_states(
        client,
        {
            display_id: [state.signature, state.delivered_at]
            for display_id, state in policy_states.items()
            if state is not None and display_id not in failed_displays
        },
    )
    return outcome


def _failed(responses: list[tuple[Any, Any]], message_id: str, outcome: BatchOutcome) -> bool:
    """Whether a receiver raised; the message is then retried (outcome.failed).

    A receiver that met a database outage raises it again: that is no fault of the message
    and must not count towards its dead-lettering; the consumer retries the whole batch.
    """
    for _, error in responses:
        if isinstance(error, (OperationalError, InterfaceError)):
            raise error
    errors = [f"{getattr(r, '__name__', r)}: {e!r}" for r, e in responses if e is not None]
    if errors:
        outcome.failed[message_id] = "; ".join(errors)
    return bool(errors)


M = TypeVar("M", ResultMessage, ObjectEventMessage)


def _for_existing(
    received: list[tuple[str, M]], displays: dict[int, Display], outcome: BatchOutcome
) -> list[tuple[str, M]]:
    """Messages for a display that no longer exists are acknowledged and counted."""
    wanted = []
    for message_id, message in received:
        if message.display_id in displays:
            wanted.append((message_id, message))
        else:
            outcome.orphaned += 1
            outcome.done.append(message_id)
    return wanted


def _current_generations(client: redis.Redis, camera_ids: set[int]) -> dict[int, int]:
    """Each camera's current generation: from Redis, or the database where Redis lost it."""
    current = {}
    missing = []
    ordered = sorted(camera_ids)
    for camera_id, published in zip(
        ordered, farm_keys.read_assignments(client, ordered), strict=True
    ):
        if published is None:
            missing.append(camera_id)
        else:
            current[camera_id] = published[0]
    if missing:  # Redis lost the fencing keys (restart): the database has them
        current.update(
            StreamAssignment.objects.filter(camera_id__in=missing).values_list(
                "camera_id", "generation"
            )
        )
    return current


def _drop_stale(
    received: list[Received], current: dict[int, int], outcome: BatchOutcome
) -> list[Received]:
    """Results from a generation that is no longer current are dropped (and counted)."""
    fresh = []
    for message_id, result in received:
        if result.generation < current.get(result.camera_id, 0):
            outcome.stale += 1
            outcome.done.append(message_id)
        else:
            fresh.append((message_id, result))
    return fresh


def _drop_stale_events(
    events: list[ReceivedEvent], current: dict[int, int], outcome: BatchOutcome
) -> list[ReceivedEvent]:
    """Stale object events are dropped, except a leave that closes a stored enter."""
    stale = [
        (message_id, e) for message_id, e in events if e.generation < current.get(e.camera_id, 0)
    ]
    if not stale:
        return events
    closing = _leaves_with_a_stored_enter([e for _, e in stale if e.type == "leave"])
    dropped = {message_id for message_id, e in stale if e.key not in closing}
    outcome.stale += len(dropped)
    outcome.done.extend(dropped)
    return [(message_id, e) for message_id, e in events if message_id not in dropped]


def _leaves_with_a_stored_enter(leaves: list[ObjectEventMessage]) -> set[str]:
    """The keys of the leaves whose enter (display, generation, track, zone) is stored."""
    if not leaves:
        return set()
    which = Q()
    for leave in leaves:
        which |= Q(
            display_id=leave.display_id, generation=leave.generation, track_id=leave.track_id
        )
    entered = set(
        ObjectEvent.objects.filter(which, type=ObjectEvent.Type.ENTER).values_list(
            "display_id", "generation", "track_id", "zone"
        )
    )
    return {
        leave.key
        for leave in leaves
        if (leave.display_id, leave.generation, leave.track_id, leave.zone) in entered
    }


def _apply_policy(
    received: list[Received],
    displays: dict[int, Display],
    client: redis.Redis,
    outcome: BatchOutcome,
) -> tuple[list[Received], dict[int, PolicyState | None]]:
    display_ids = {r.display_id for _, r in received}
    stored = live.read_policy_states(client, sorted(display_ids))
    states: dict[int, PolicyState | None] = {
        d: PolicyState(tuple(tuple(p) for p in s[0]), s[1]) if s else None
        for d, s in ((d, stored.get(d)) for d in display_ids)
    }
    deliver = []
    for message_id, result in received:
        display = displays[result.display_id]
        classes = signature(result.objects)
        if should_deliver(
            Display.Policy(display.policy),
            interval_ms=display.policy_interval_ms,
            beat_s=settings.SIGHTLINE_RESULTS_BEAT_S,
            last=states[result.display_id],
            signature=classes,
            frame_time=result.frame_time,
        ):
            deliver.append((message_id, result))
            states[result.display_id] = PolicyState(classes, result.frame_time)
        else:
            outcome.suppressed += 1
            outcome.done.append(message_id)
    return deliver, states


def _store_all(
    deliver: list[Received],
    events: list[ReceivedEvent],
    fresh: list[ResultMessage],
    displays: dict[int, Display],
) -> tuple[dict[str, Detection], dict[str, ObjectEvent], list[DisplaySession]]:
    """Store the batch's results and object events, their ids taken in stream order, and
    add the batch to the zone minutes (from ``fresh``, every fresh result received) and to
    its open display sessions' summaries (the sessions changed are returned).

    One transaction: the ids are taken (which orders writers, see take_event_ids), both
    kinds inserted, tagged with their display session, and the zone minutes and session
    summaries updated. A redelivered message's key already exists and is left alone (the id
    it was given is skipped: ids may have gaps, never repeats), so only the events inserted
    now are added to the zone minutes (a summary's merge is idempotent).
    """
    if not deliver and not events and not fresh:
        return {}, {}, []
    ordered: list[tuple[str, ResultMessage | ObjectEventMessage]] = sorted(
        [*deliver, *events], key=lambda entry: _stream_order(entry[0])
    )
    with transaction.atomic():
        ids = dict(zip((m.key for _, m in ordered), take_event_ids(len(ordered)), strict=True))
        sessions = BatchSessions.load(
            displays,
            [(r.display_id, r.frame_time) for r in fresh]
            + [(e.display_id, e.time) for _, e in events],
        )
        stored = _store([r for _, r in deliver], [ids[r.key] for _, r in deliver], sessions)
        stored_events = _store_events(
            [e for _, e in events], [ids[e.key] for _, e in events], sessions
        )
        zone_minutes.add(zone_minutes.tally(fresh, _inserted(events, ids, stored_events)))
        changed = sessions.patch_summaries(fresh)
    return stored, stored_events, changed


def _inserted(
    events: list[ReceivedEvent], ids: dict[str, int], stored: dict[str, ObjectEvent]
) -> list[ObjectEventMessage]:
    """The events this batch inserted: a row holds the id the batch gave its key only if
    the batch inserted it (a key twice in the batch is one row, counted once)."""
    new = {e.key: e for _, e in events if stored[e.key].id == ids[e.key]}
    return list(new.values())


def _stream_order(message_id: str) -> tuple[int, int]:
    milliseconds, _, seq = message_id.partition("-")
    return int(milliseconds), int(seq or 0)


def _store(
    results: list[ResultMessage], ids: list[int], sessions: BatchSessions
) -> dict[str, Detection]:
    """Insert the results with their ids; a redelivered result's key is left alone."""
    if not results:
        return {}
    rows = [
        Detection(
            id=row_id,
            display_id=r.display_id,
            camera_id=r.camera_id,
            model_id=r.model_id,
            generation=r.generation,
            frame_seq=r.frame_seq,
            frame_time=datetime.fromtimestamp(r.frame_time, UTC),
            detected_objects=r.objects,  # the one rename: Detection.objects is the manager
            key=r.key,
            session_id=sessions.session_id_of(r.display_id, r.frame_time),
        )
        for r, row_id in zip(results, ids, strict=True)
    ]
    Detection.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return Detection.objects.in_bulk([r.key for r in results], field_name="key")


def _store_events(
    events: list[ObjectEventMessage], ids: list[int], sessions: BatchSessions
) -> dict[str, ObjectEvent]:
    """Insert the object events with their ids; a redelivered event's key is left alone."""
    if not events:
        return {}
    rows = [
        ObjectEvent(
            id=row_id,
            display_id=e.display_id,
            camera_id=e.camera_id,
            generation=e.generation,
            key=e.key,
            type=e.type,
            track_id=e.track_id,
            class_id=e.class_id,
            class_name=e.class_name,
            time=datetime.fromtimestamp(e.time, UTC),
            box=list(e.box),
            zone=e.zone or "",
            dwell_s=e.dwell_s,
            line=e.line or "",
            direction=e.direction or "",
            attributes=e.attributes or {},
            session_id=sessions.session_id_of(e.display_id, e.time),
            open=e.type == "enter",
        )
        for e, row_id in zip(events, ids, strict=True)
    ]
    ObjectEvent.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    closed = [key for e in events if e.type == "leave" and (key := enter_key_of(e.key))]
    if closed:
        ObjectEvent.objects.filter(key__in=closed, open=True).update(open=False)
    return ObjectEvent.objects.in_bulk([e.key for e in events], field_name="key")
