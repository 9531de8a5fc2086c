"""Server-Sent Events for display clients: ``GET /api/v1/display/events/``.

An async Django view served by the ASGI server (uvicorn): an idle client costs a
coroutine and a Redis pub/sub subscription, not a thread. DRF views are sync, so the
display token is checked here with the same functions DRF's authentication uses.

Two kinds of events, in one id sequence (cms.models.take_event_ids): ``event: detection``
(a Detection) and ``event: object`` (an ObjectEvent: enter, leave, cross). No gap, no
duplicate: the stream subscribes to the display's live channel first, then replays from
both tables, merged by id, what the client missed (``id > Last-Event-ID``), then forwards
live messages whose id is greater than the last one sent. The results consumer stores a
row before publishing it, so every event id is a row's id and whatever was published
before the subscription is already in the tables; writers take ids in commit order, so a
row committed later never has a smaller id than one already replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
import redis
import redis.asyncio
from asgiref.sync import SyncToAsync, sync_to_async
from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed, Throttled

from cms import live
from cms.api import conf
from cms.api.auth import authenticate_display
from cms.api.serializers import MAX_BIGINT
from cms.api.throttling import allow_display
from cms.models import Detection, ObjectEvent

log = logging.getLogger(__name__)

REPLAY_BATCH = 500


class Refused(Exception):
    """The stream is not opened; ``response`` says why."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.response = JsonResponse({"detail": detail}, status=status, headers=headers)


@csrf_exempt  # token-authenticated, no cookies: a POST gets 405, not a CSRF page
async def display_events(request: HttpRequest) -> HttpResponseBase:
    """The display's live detections and object events as ``text/event-stream``."""
    if request.method != "GET":
        detail = f'Method "{request.method}" not allowed.'
        return JsonResponse({"detail": detail}, status=405, headers={"Allow": "GET"})
    try:
        display_id, last_id = await sync_to_async(open_stream)(request)
    except Refused as refused:
        return refused.response
    # Its own connection: a subscription holds one for as long as the client listens.
    # The health check pings an idle subscription, so a dead Redis ends the stream.
    client = redis.asyncio.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=5, health_check_interval=30
    )
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(live.events_channel(display_id))
    except redis.RedisError as exc:
        log.warning("event stream not opened, Redis unavailable: %s", exc)
        await _close(pubsub, client)
        return JsonResponse(
            {"detail": "The live state store (Redis) is unavailable; try again shortly."},
            status=503,
            headers={"Retry-After": "5"},
        )
    # UTF-8, as SSE requires: the events are forwarded as orjson wrote them (no \u escapes).
    response = StreamingHttpResponse(
        event_stream(display_id, last_id, pubsub, client),
        content_type="text/event-stream; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def open_stream(request: HttpRequest) -> tuple[int, int | None]:
    """(display id, id to resume after) for an event stream request, or Refused."""
    try:
        display = authenticate_display(request)
    except AuthenticationFailed as exc:
        raise Refused(401, str(exc.detail), {"WWW-Authenticate": 'Token realm="display"'}) from None
    except Throttled as exc:  # the client's address is locked out for failed tokens
        wait = exc.wait  # type: ignore[attr-defined]  # set by Throttled.__init__, not in the stubs
        raise Refused(429, str(exc.detail), {"Retry-After": str(wait)}) from None
    if display is None:
        raise Refused(
            401,
            "Authentication credentials were not provided.",
            {"WWW-Authenticate": 'Token realm="display"'},
        )
    allowed, wait = allow_display(display.id)
    if not allowed:
        raise Refused(429, "Request was throttled.", {"Retry-After": str(max(1, round(wait)))})
    return display.id, parse_last_event_id(request.headers.get("Last-Event-ID"))


def parse_last_event_id(value: str | None) -> int | None:
    """The Last-Event-ID header as an event id; None when absent or empty."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not value.isdecimal() or not value.isascii() or int(value) > MAX_BIGINT:
        raise Refused(400, "Last-Event-ID must be the id of an event (a non-negative integer).")
    return int(value)


async def event_stream(
    display_id: int,
    last_id: int | None,
    pubsub: redis.asyncio.client.PubSub,
    client: redis.asyncio.Redis,
) -> AsyncIterator[str]:
    """Subscribed already: replay what was missed, then live events and keepalives."""
    keepalive = conf.sse_keepalive_s()
    clock = asyncio.get_running_loop().time
    try:
        yield f"retry: {conf.sse_retry_ms()}\n\n"
        if last_id is not None:
            async for event in replay(display_id, last_id):
                last_id = event["id"]
                yield format_event(event)
        await sync_to_async(_close_connections)()
        _release_request_thread()
        last_write = clock()
        while True:
            wait = max(0.0, last_write + keepalive - clock())
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=wait)
            if message is None:
                if clock() - last_write >= keepalive:
                    yield ": keepalive\n\n"
                    last_write = clock()
                continue
            for event in parse_message(message.get("data")):
                if last_id is not None and event["id"] <= last_id:
                    continue  # already sent by the replay
                last_id = event["id"]
                yield format_event(event)
                last_write = clock()
    except redis.RedisError as exc:
        # The client reconnects (after `retry`) with Last-Event-ID and misses nothing.
        log.warning("event stream of display %s ended, Redis unavailable: %s", display_id, exc)
    finally:
        await _close(pubsub, client)


async def replay(display_id: int, after: int) -> AsyncIterator[dict[str, Any]]:
    """The display's events with an id greater than ``after``, oldest first, in batches."""
    while True:
        batch = await sync_to_async(missed_events)(display_id, after, REPLAY_BATCH)
        for event in batch:
            yield event
        if len(batch) < REPLAY_BATCH:
            return
        after = batch[-1]["id"]


def missed_events(display_id: int, after: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` of the display's detections and object events after ``after``, by id."""
    detections = Detection.objects.filter(display_id=display_id, id__gt=after).order_by("id")
    objects = ObjectEvent.objects.filter(display_id=display_id, id__gt=after).order_by("id")
    # The first ``limit`` of the merge are among the first ``limit`` of each table.
    merged = live.delivered_events(detections[:limit]) + live.delivered_object_events(
        objects[:limit]
    )
    merged.sort(key=lambda event: event["id"])
    return merged[:limit]


def parse_message(data: Any) -> list[dict[str, Any]]:
    """A live channel message (a JSON list of delivered events), oldest first, as published.

    Only the id is checked (the stream de-duplicates by it); a malformed event is logged
    and skipped, the rest of the message still counts.
    """
    try:
        events = orjson.loads(data)
    except (TypeError, orjson.JSONDecodeError) as exc:
        log.warning("skipped a malformed live message: %s", exc)
        return []
    parsed = []
    for event in events if isinstance(events, list) else [events]:
        if isinstance(event, dict) and type(event.get("id")) is int:
            parsed.append(event)
        else:
            log.warning("skipped a malformed live event: its id is not an integer")
    return parsed


def format_event(event: dict[str, Any]) -> str:
    """``event: detection`` or ``event: object`` (live.event_kind), with the event's id."""
    kind = live.event_kind(event)
    return f"id: {event['id']}\nevent: {kind}\ndata: {orjson.dumps(event).decode()}\n\n"


def _close_connections() -> None:
    """Close this thread's database connections, except one inside a transaction (a test's)."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def _release_request_thread() -> None:
    """Let the request's sync thread go while the stream idles.

    Django runs each ASGI request in a ThreadSensitiveContext: the first thread-sensitive
    sync call (middleware, signals) starts a thread for the request that lives until the
    request ends. For a stream open for hours that would be one idle thread per client,
    so once the sync work is done, that executor is shut down (its thread ends). A later
    sync call in the request (Django closing the response) starts a fresh one, which the
    context shuts down at the end as usual. The thread's database connection is
    closed first (_close_connections) so it does not outlive its thread.
    """
    # asgiref internals (3.x): should they change, this does nothing and
    # tests/api/test_events.py::test_idle_clients_do_not_hold_threads says so.
    context_var = getattr(SyncToAsync, "thread_sensitive_context", None)
    executors = getattr(SyncToAsync, "context_to_thread_executor", None)
    context = context_var.get(None) if context_var is not None else None
    if context is None or executors is None:
        return
    executor = executors.pop(context, None)
    if executor is not None:
        executor.shutdown(wait=False)


async def _close(pubsub: redis.asyncio.client.PubSub, client: redis.asyncio.Redis) -> None:
    # Shielded: closing runs to the end even when the request is being cancelled.
    with contextlib.suppress(redis.RedisError, OSError):
        await asyncio.shield(_close_now(pubsub, client))


async def _close_now(pubsub: redis.asyncio.client.PubSub, client: redis.asyncio.Redis) -> None:
    await pubsub.aclose()
    await client.aclose()
