"""What waits on a worker's direct queue in the real Redis broker, as tests read it."""

from __future__ import annotations

import base64
import json

import redis
from celery.utils import worker_direct


def queued(redis_client: redis.Redis, worker: str) -> list[dict]:
    """The messages on the worker's direct queue, oldest first, body decoded."""
    raws = redis_client.lrange(worker_direct(worker).name, 0, -1)[::-1]
    messages = [json.loads(raw) for raw in raws]
    for message in messages:
        message["body"] = json.loads(base64.b64decode(message["body"]))
    return messages
