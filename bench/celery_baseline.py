"""The baseline of bench/results.py: one Celery task per result, storing it like the consumer.

Run by the bench as ``celery -A bench.celery_baseline worker -Q bench``.
"""

from __future__ import annotations

from kombu import Queue

from tasks.celery import app

app.conf.task_queues = [Queue("bench")]
app.conf.task_create_missing_queues = True


@app.task(name="bench.store_one", ignore_result=True)
def store_one(raw: str) -> None:
    from cms import redis_connection
    from cms.results.processing import process_batch
    from cms.results.result_message import ENTRY_FIELD

    process_batch([("0-0", {ENTRY_FIELD.encode(): raw.encode()})], redis_connection.client())
