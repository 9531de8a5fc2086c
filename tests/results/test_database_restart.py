"""PostgreSQL restarted under load: the results consumer process waits, retries and loses nothing.

A private PostgreSQL server (tests.support.private_postgres; never the shared one) holds the
database of a real ``manage.py results`` process. The test publishes results into Redis the
way an ingest worker does (tasks.publisher.ResultPublisher, at a steady rate) for four kinds
of traffic whose fate is known: a display that stores every result, a display that stores
only changes (the rest is suppressed), a camera whose generation moved on (stale), and
malformed entries (dead letters). PostgreSQL is stopped (fast shutdown: connections cut,
open transactions rolled back) for a few seconds while they flow, and started again.

Then every message added is accounted for, once: added = stored + stale + suppressed +
dead-lettered, by the consumer's counters and by the rows in the database.

Not marked ``database``: the test process never opens the test database (the consumer's is
the private server), so it runs the same under ``.ci/run``'s PostgreSQL pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest
import redis

from cms.results import results_stream
from cms.results.result_message import ENTRY_FIELD
from streams import Frame
from tasks.publisher import ResultPublisher
from tests.farm.conftest import wait_for
from tests.support.private_postgres import PrivatePostgres, unavailable_reason
from tests.support.workers import REPO, child_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason())),
]

RATE_HZ = 40  # ticks a second; each tick publishes three results
OUTAGE_S = 4.0  # how long PostgreSQL stays down, at least

# Rows the test needs, made in the private database by the same code the admin uses.
SETUP = """
import json
from cms.models import Display, StreamAssignment
from tests.factories import make_camera, make_display, make_model
model = make_model()
live = make_camera()
every = make_display(camera=live, model=model, policy=Display.Policy.EVERY)
change = make_display(camera=live, model=model, policy=Display.Policy.CHANGE)
moved = make_display(model=model)  # its camera's generation is 2: results of 1 are stale
StreamAssignment.objects.create(camera=moved.camera, worker="elsewhere", generation=2)
print(json.dumps({"model": model.id, "camera": live.id, "every": every.id,
                  "change": change.id, "moved": moved.id, "moved_camera": moved.camera_id}))
"""


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


class Feeder(threading.Thread):
    """Publishes results at RATE_HZ like ingest workers, counting what it added per kind."""

    def __init__(self, client: redis.Redis, rows: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.client, self.rows = client, rows
        self.added: Counter[str] = Counter()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._feed()
        except BaseException as exc:
            self.error = exc

    def _feed(self) -> None:
        live = ResultPublisher(self.client, camera_id=self.rows["camera"], generation=1)
        old = ResultPublisher(self.client, camera_id=self.rows["moved_camera"], generation=1)
        seq = 0
        while not self.stop.wait(1 / RATE_HZ):
            seq += 1
            frame = Frame(np.zeros((2, 2, 3), np.uint8), seq, time.time(), 0.0)
            # The class changes every 10th frame: the change display stores those.
            objects = [person(class_id=(seq // 10) % 2)]
            for publisher, display in ((live, "every"), (live, "change"), (old, "moved")):
                publisher.publish(
                    display_id=self.rows[display],
                    model_id=self.rows["model"],
                    frame=frame,
                    objects=objects,
                )
                self.added[display] += 1
            if seq % 25 == 0:
                self.client.xadd(results_stream.results_stream(), {ENTRY_FIELD: b"{not json"})
                self.added["malformed"] += 1


def person(class_id: int) -> dict:
    name = ["person", "bicycle"][class_id]
    return {"class_id": class_id, "class_name": name, "confidence": 0.9, "box": [1.0, 2, 30, 40]}


def stored_rows(url: str, display_id: int) -> int:
    with psycopg.connect(url, connect_timeout=5) as connection:
        row = connection.execute(
            "SELECT count(*) FROM cms_detection WHERE display_id = %s", (display_id,)
        ).fetchone()
    assert row is not None
    return row[0]


def test_results_survive_a_postgresql_restart_under_load(
    postgres: PrivatePostgres, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # given: the consumer process on a migrated private database, results flowing
    env = child_env(
        DATABASE_URL=postgres.url,
        MEDIA_ROOT=str(tmp_path / "media"),
        SIGHTLINE_RESULTS_BLOCK_MS="100",
    )
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    rows = json.loads(manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
    log_path = tmp_path / "results.log"
    with log_path.open("wb") as log:
        consumer = subprocess.Popen(
            [sys.executable, "manage.py", "results", "--name", "restart-test"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    feeder = Feeder(redis_client, rows)

    def consumer_log() -> str:
        return log_path.read_text(errors="replace")

    try:
        feeder.start()
        wait_for(lambda: stored_rows(postgres.url, rows["every"]) > 20, 60, "results stored")

        # when: PostgreSQL stops while results keep coming, and starts again
        postgres.stop()
        down = time.monotonic()
        wait_for(
            lambda: consumer_log().count("retry ") >= 2 and time.monotonic() - down >= OUTAGE_S,
            30,
            "the consumer to retry through the outage",
        )
        added_while_down = sum(feeder.added.values())
        postgres.start()
        back = time.monotonic()
        wait_for(lambda: "recovered after" in consumer_log(), 30, "the consumer to recover")
        wait_for(
            lambda: sum(feeder.added.values()) > added_while_down + 2 * RATE_HZ,
            30,
            "results after the restart",
        )
        feeder.stop.set()
        feeder.join(10)
        assert feeder.error is None, feeder.error
        added = sum(feeder.added.values())

        # then: the stream drains and every message is accounted for exactly once
        def accounted() -> dict[str, int] | None:
            figures = results_stream.figures(redis_client)
            counters = figures["counters"]
            handled = sum(
                counters.get(name, 0)
                for name in ("delivered", "stale_dropped", "suppressed", "dead_lettered")
            )
            drained = figures["lag"] == 0 and figures["pending"] == 0 and handled >= added
            return counters if drained else None

        counters = wait_for(accounted, 60, "the stream to drain")
        # The batch in hand went in as soon as the database was back, not after the claim
        # idle time (30 s) that hands over a dead consumer's messages.
        assert time.monotonic() - back < 25
        stored_every = stored_rows(postgres.url, rows["every"])
        stored_change = stored_rows(postgres.url, rows["change"])
        assert stored_rows(postgres.url, rows["moved"]) == 0
        print("added", dict(feeder.added), "counters", counters)
        assert stored_every == feeder.added["every"], "every result of that display is stored"
        assert 0 < stored_change < feeder.added["change"]
        assert counters["delivered"] == stored_every + stored_change
        assert counters["suppressed"] == feeder.added["change"] - stored_change
        assert counters["stale_dropped"] == feeder.added["moved"]
        assert counters["dead_lettered"] == feeder.added["malformed"]
        assert redis_client.xlen(results_stream.dead_letter_stream()) == feeder.added["malformed"]
        assert not counters.get("orphaned")
        assert (
            counters["delivered"]
            + counters["stale_dropped"]
            + counters["suppressed"]
            + counters["dead_lettered"]
            == added
        )

        # and the consumer stayed up, said what it did, without a traceback per retry
        assert consumer.poll() is None, consumer_log()
        text = consumer_log()
        retries = text.count("retry ")
        assert 2 <= retries <= 12, text  # backoff: 0.5 s doubling, not a line per 0.1 s
        assert "Traceback" not in text, text
    finally:
        feeder.stop.set()
        consumer.terminate()
        consumer.wait(30)
        print(consumer_log()[-5000:])
