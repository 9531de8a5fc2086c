"""The results path, side by side in one run.

- messages/s from XADD to receivers without storage (the Detection insert replaced by
  unsaved rows: Redis, parsing, policy, live push and signal dispatch only);
- messages/s with storage on SQLite, and on PostgreSQL when one answers at DATABASE_URL
  or 127.0.0.1:5432;
- latency from XADD to a receiver (p50, p99) at 1,000 msg/s, with storage;
- the baseline: one Celery task per result through the same Redis, storing the row.

Targets: >= 20,000 msg/s without storage, >= 5,000 with, p99 <= 20 ms at 1,000 msg/s,
and >= 10x the one-task-per-result approach. Each scenario runs in a fresh process on a
fresh database.

    .venv/bin/python bench/results.py [--messages 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DISPLAYS = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scenario:
        print(json.dumps(run_scenario(args.scenario, args.messages)))
        return

    postgres = os.environ.get(
        "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/sightline_bench"
    )
    scenarios = [
        ("consumer, no storage", "nostore", None),
        ("consumer, storage on SQLite", "store", None),
        (
            "consumer, storage on PostgreSQL",
            "store",
            _fresh(postgres) if _answers(postgres) else "",
        ),
        ("latency at 1,000 msg/s (SQLite)", "latency", None),
        ("one Celery task per result (SQLite)", "celery", None),
    ]
    figures = {}
    for label, scenario, database in scenarios:
        if database == "":
            print(f"{label:<40} skipped: no PostgreSQL at {postgres}")
            continue
        figures[label] = result = spawn(scenario, args.messages, database)
        if scenario == "latency":
            print(f"{label:<40} p50 {result['p50_ms']:.1f} ms   p99 {result['p99_ms']:.1f} ms")
        else:
            print(f"{label:<40} {result['rate']:>9,.0f} msg/s  ({result['messages']} messages)")

    print()
    nostore = figures["consumer, no storage"]["rate"]
    store = figures["consumer, storage on SQLite"]["rate"]
    celery = figures["one Celery task per result (SQLite)"]["rate"]
    p99 = figures["latency at 1,000 msg/s (SQLite)"]["p99_ms"]
    checks = [
        ("without storage >= 20,000 msg/s", nostore, nostore / 20000),
        ("with storage (SQLite) >= 5,000 msg/s", store, store / 5000),
        ("p99 latency <= 20 ms", p99, 20 / p99 if p99 else float("inf")),
        ("stream consumer / Celery per result >= 10", store / celery, store / celery / 10),
    ]
    for label, value, ratio in checks:
        verdict = "ok" if ratio >= 1 else "MISSED"
        print(f"{label:<44} {value:>10,.1f}   ratio to target {ratio:.2f}  {verdict}")


def spawn(scenario: str, messages: int, database: str | None) -> dict:
    scratch = tempfile.mkdtemp(prefix="sightline-bench-results-")
    env = {**os.environ, "SIGHTLINE_DATA_DIR": scratch, "LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    if database:
        env["DATABASE_URL"] = database
    out = subprocess.run(
        [sys.executable, __file__, "--scenario", scenario, "--messages", str(messages)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"scenario {scenario} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fresh(url: str) -> str:
    """Drop and create the bench's PostgreSQL database, so every run starts empty."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


def _answers(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or 5432), timeout=2).close()
    except OSError:
        return False
    return True


# --- inside a scenario process ---------------------------------------------------------


def run_scenario(scenario: str, messages: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
    from cms.embedded_redis import EmbeddedRedis

    redis_server = None
    if not os.environ.get("REDIS_URL"):
        redis_server = EmbeddedRedis(Path(os.environ["SIGHTLINE_DATA_DIR"]) / "redis").start()
        os.environ["REDIS_URL"] = redis_server.url
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        displays = make_displays()
        runner = {
            "nostore": lambda: consume(displays, messages, store=False),
            "store": lambda: consume(displays, messages, store=True),
            "latency": lambda: latency(displays, rate=1000, seconds=5),
            "celery": lambda: celery_per_result(displays, min(messages, 2000)),
        }[scenario]
        return runner()
    finally:
        if redis_server:
            redis_server.stop()


def make_displays() -> list:
    from cms.models import Camera, DetectionModel, Display

    model = DetectionModel.objects.create(name="bench", hub_name="yolov8n.pt")
    camera = Camera.objects.create(name="bench", identifier="bench", url="rtsp://10.0.0.1/s")
    return [
        Display.objects.create(name=f"d{i}", identifier=f"d{i}", camera=camera, model=model)
        for i in range(DISPLAYS)
    ]


def result_fields(display, seq: int, sent_at: float) -> dict[str, bytes]:
    """A stream entry as tasks.publisher writes it."""
    from cms.results.result_message import ENTRY_FIELD, ResultMessage

    objects = [
        {"class_id": 0, "class_name": "person", "confidence": 0.91, "box": [10.5, 20, 110, 220]},
        {"class_id": 2, "class_name": "car", "confidence": 0.77, "box": [300, 40, 420, 200]},
    ]
    message = ResultMessage(
        display_id=display.id,
        camera_id=display.camera_id,
        model_id=display.model_id,
        generation=1,
        frame_seq=seq,
        frame_time=sent_at,
        objects=objects,
        key=f"{display.camera_id}-1-{display.id}-{seq}",
    )
    return {ENTRY_FIELD: message.to_bytes()}


def fill(client, displays, messages: int) -> None:
    from django.conf import settings

    pipe = client.pipeline(transaction=False)
    for seq in range(messages):
        pipe.xadd(
            settings.SIGHTLINE_RESULTS_STREAM,
            result_fields(displays[seq % DISPLAYS], seq, time.time()),
        )
        if seq % 1000 == 999:
            pipe.execute()
    pipe.execute()


def consume(displays, messages: int, *, store: bool) -> dict:
    from datetime import UTC, datetime

    from cms import redis_connection
    from cms.models import Detection
    from cms.results import processing, results_stream
    from cms.results.consumer import ResultsConsumer

    if not store:
        # Unsaved rows with their ids: everything but the insert (the baseline of the path).

        def unsaved(results, ids):
            return {
                r.key: Detection(
                    id=row_id, display_id=r.display_id, camera_id=r.camera_id,
                    model_id=r.model_id, generation=r.generation, frame_seq=r.frame_seq,
                    frame_time=datetime.fromtimestamp(r.frame_time, UTC),
                    detected_objects=r.objects, key=r.key,
                )
                for r, row_id in zip(results, ids, strict=True)
            }  # fmt: skip

        processing._store = unsaved
    client = redis_connection.client()
    results_stream.ensure_group(client)
    fill(client, displays, messages)
    consumer = ResultsConsumer(client, "bench")
    consumer.block_ms = 1
    started = time.perf_counter()
    handled = 0
    while handled < messages:
        handled += consumer.step()
    elapsed = time.perf_counter() - started
    if store:
        assert Detection.objects.count() == messages
    return {"rate": messages / elapsed, "messages": messages}


def latency(displays, *, rate: int, seconds: float) -> dict:
    from django.conf import settings

    from cms import redis_connection
    from cms.results import results_stream
    from cms.results.consumer import ResultsConsumer
    from cms.signals import detection_received

    client = redis_connection.client()
    results_stream.ensure_group(client)
    delays: list[float] = []

    def measure(sender, *, result, **kwargs) -> None:
        delays.append(time.time() - result.frame_time)

    detection_received.connect(measure)
    stop = threading.Event()
    consumer = ResultsConsumer(redis_connection.client(), "bench")
    consumer.block_ms = 100
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    total = int(rate * seconds)
    started = time.perf_counter()
    producer = redis_connection.client()
    for seq in range(total):
        delay = started + seq / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        producer.xadd(
            settings.SIGHTLINE_RESULTS_STREAM,
            result_fields(displays[seq % DISPLAYS], seq, time.time()),
        )
    deadline = time.monotonic() + 30
    while len(delays) < total and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(10)
    delays.sort()
    return {
        "p50_ms": delays[len(delays) // 2] * 1000,
        "p99_ms": delays[int(len(delays) * 0.99)] * 1000,
        "messages": len(delays),
    }


def celery_per_result(displays, messages: int) -> dict:
    """The approach the stream consumer replaces: a Celery task stores each result."""
    from kombu import Queue

    from cms.models import Detection
    from cms.results.result_message import ENTRY_FIELD
    from tasks.celery import app

    queue = Queue("bench")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = open(Path(os.environ["SIGHTLINE_DATA_DIR"]) / "worker.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "bench.celery_baseline", "worker",
            "--pool", "threads", "--concurrency", "4", "--queues", "bench",
            "--hostname", "bench@%h", "--without-mingle", "--without-gossip",
        ],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5) and time.monotonic() < deadline:
            pass
        started = time.perf_counter()
        with app.producer_or_acquire() as producer:
            for seq in range(messages):
                fields = result_fields(displays[seq % DISPLAYS], seq, time.time())
                raw = fields[ENTRY_FIELD].decode()
                app.send_task("bench.store_one", args=[raw], queue=queue, producer=producer)
        while Detection.objects.count() < messages:
            if time.perf_counter() - started > 300:
                raise TimeoutError("the Celery baseline did not finish")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(30)
    return {"rate": messages / elapsed, "messages": messages}


if __name__ == "__main__":
    main()
