"""The `results` process: a consumer-group reader of the results stream, at least once.

Each step claims messages that another (dead) consumer left pending for longer than
the claim idle time (XAUTOCLAIM; failed messages of this consumer come back the same
way), reads new ones in a batch (XREADGROUP COUNT/BLOCK), processes them and
acknowledges only what every receiver handled. A message that fails
SIGHTLINE_RESULTS_MAX_DELIVERIES times, or cannot be parsed, goes to the dead letters.

An outage (the database or Redis unreachable: PostgreSQL restarted, a failover) is not
a message failure: the batch stays in hand, unacknowledged and uncounted, and is
processed again after a backoff (0.5 s doubling to 10 s), before anything new is read;
one warning a retry, no traceback. Storing is idempotent (by key), so a batch whose
commit went through just before the outage is stored once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any, cast

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections

from cms.results import results_stream
from cms.results.processing import BatchOutcome, process_batch
from streams.backoff import BackoffPolicy

log = logging.getLogger(__name__)

Entry = tuple[str, dict[bytes, bytes]]
_OUTAGE = (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError)
# Retries of a batch through an outage: quick at first (a restart takes seconds), then
# no more than one attempt (and one warning) every 10 s.
OUTAGE_BACKOFF = BackoffPolicy(initial=0.5, maximum=10.0, failed_maximum=10.0, quick_for=0)


class ResultsConsumer:
    def __init__(self, client: redis.Redis, name: str) -> None:
        self.client = client
        self.name = name
        self.batch_size = settings.SIGHTLINE_RESULTS_BATCH
        self.block_ms = settings.SIGHTLINE_RESULTS_BLOCK_MS
        self.claim_idle_ms = settings.SIGHTLINE_RESULTS_CLAIM_IDLE_MS
        self.max_deliveries = settings.SIGHTLINE_RESULTS_MAX_DELIVERIES
        self._claim_cursor = "0-0"
        # Entries read but not yet handled because of an outage: retried before new ones,
        # and once the receivers have handled them, the outcome still to write to Redis.
        self._in_hand: list[Entry] = []
        self._outcome: BatchOutcome | None = None

    def run(self, stop: threading.Event) -> None:
        results_stream.ensure_group(self.client)
        log.info("results consumer %s ready on %s", self.name, results_stream.results_stream())
        failures = 0
        since = 0.0
        rand = random.Random()
        while not stop.is_set():
            try:
                self.step()
            except _OUTAGE as exc:
                failures += 1
                since = since or time.monotonic()
                delay = OUTAGE_BACKOFF.delay(failures, rand.random())
                log.warning(
                    "results consumer: %s: %s; %d entries in hand, retry %d in %.1f s",
                    type(exc).__name__,
                    str(exc).strip().splitlines()[0] if str(exc).strip() else "",
                    len(self._in_hand),
                    failures,
                    delay,
                )
                close_old_connections()
                stop.wait(delay)
                continue
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # Redis restarted without its data: the stream and the group went with it.
                log.warning("results consumer: %s; creating the group again", exc)
                results_stream.ensure_group(self.client)
                continue
            if failures:
                log.info(
                    "results consumer: recovered after %d retries (%.1f s)",
                    failures,
                    time.monotonic() - since,
                )
                failures, since = 0, 0.0

    def step(self) -> int:
        """Claim, read and process one batch; returns the number of entries handled.

        Raises an outage error (database or Redis) with the batch kept in hand: the next
        step goes on with the same entries, and reads nothing new until they are done. A
        batch the receivers handled before Redis went away is not handled again: only its
        acknowledgements, dead letters and counts are written, each once.
        """
        entries = self._in_hand or self._claim() + self._read_new()
        if not entries:
            return 0
        self._in_hand = entries
        if self._outcome is None:
            self._outcome = self._process(entries)
        self._settle(self._outcome, dict(entries))
        self._in_hand, self._outcome = [], None
        return len(entries)

    def _settle(self, outcome: BatchOutcome, by_id: dict[str, dict[bytes, bytes]]) -> None:
        """Write a processed batch's outcome to Redis. Safe to repeat after an outage: an
        acknowledgement is idempotent and `dead_letter` moves a message only once."""
        if outcome.done:
            self.client.xack(results_stream.results_stream(), results_stream.GROUP, *outcome.done)
        for message_id, error in outcome.malformed.items():
            if results_stream.dead_letter(self.client, message_id, by_id[message_id], error, 1):
                log.warning("results: malformed message %s: %s", message_id, error)
        self._handle_failures(outcome.failed, by_id)
        results_stream.count(
            self.client,
            delivered=outcome.delivered,
            stale_dropped=outcome.stale,
            suppressed=outcome.suppressed,
            orphaned=outcome.orphaned,
            failed=len(outcome.failed),
            object_events_delivered=outcome.events_delivered,
        )

    def _claim(self) -> list[Entry]:
        next_cursor, claimed, *_ = cast(
            "list[Any]",
            self.client.xautoclaim(
                results_stream.results_stream(),
                results_stream.GROUP,
                self.name,
                min_idle_time=self.claim_idle_ms,
                start_id=self._claim_cursor,
                count=self.batch_size,
            ),
        )
        self._claim_cursor = next_cursor.decode() if isinstance(next_cursor, bytes) else next_cursor
        return [(_id(message_id), fields) for message_id, fields in claimed if fields]

    def _read_new(self) -> list[Entry]:
        response = cast(
            "list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]] | None",
            self.client.xreadgroup(
                results_stream.GROUP,
                self.name,
                {results_stream.results_stream(): ">"},
                count=self.batch_size,
                block=self.block_ms,
            ),
        )
        return [(_id(m), f) for _, messages in response or [] for m, f in messages]

    def _process(self, entries: list[Entry]) -> BatchOutcome:
        try:
            return process_batch(entries, self.client)
        except _OUTAGE:
            raise
        except Exception:
            log.exception("results: batch failed, isolating the message that fails")
        # One by one, so one poison message does not hold back the rest of the batch.
        total = BatchOutcome()
        for entry in entries:
            try:
                single = process_batch([entry], self.client)
            except _OUTAGE:
                raise
            except Exception as exc:
                total.failed[entry[0]] = f"{type(exc).__name__}: {exc}"
                continue
            total.done += single.done
            total.failed.update(single.failed)
            total.malformed.update(single.malformed)
            total.delivered += single.delivered
            total.stale += single.stale
            total.suppressed += single.suppressed
            total.orphaned += single.orphaned
            total.events_delivered += single.events_delivered
        return total

    def _handle_failures(self, failed: dict[str, str], by_id: dict[str, dict]) -> None:
        """Failed messages stay pending (claimed again later) until they fail too often."""
        for message_id, error in failed.items():
            pending = cast(
                "list[dict[str, Any]]",
                self.client.xpending_range(
                    results_stream.results_stream(), results_stream.GROUP, message_id, message_id, 1
                ),
            )
            if not pending:
                continue  # dead-lettered already, by a step that Redis cut off before it ended
            deliveries = pending[0]["times_delivered"]
            log.warning("results: message %s failed (%d): %s", message_id, deliveries, error)
            if deliveries >= self.max_deliveries:
                results_stream.dead_letter(
                    self.client, message_id, by_id[message_id], error, deliveries
                )


def _id(message_id: bytes | str) -> str:
    return message_id.decode() if isinstance(message_id, bytes) else message_id
