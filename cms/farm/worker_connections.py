"""Ingest workers' named Redis connections: the name's spelling, and reading who is connected.

Each ingest worker's heartbeat client is one connection named ``sightline-ingest:<worker>``
(CLIENT SETNAME, which redis-py sends again on every reconnect). It stays open for the
process' life, so it disappears from CLIENT LIST the moment the process dies. See
cms.farm.crash_detection for what the control worker concludes from that.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import quote, unquote

import redis

CLIENT_NAME_PREFIX = "sightline-ingest:"


def client_name(worker: str) -> str:
    """The connection name of ``worker``: Redis allows only '!'..'~' in a name (no spaces),
    so any other character, and '%', is percent-encoded (reversibly)."""
    return CLIENT_NAME_PREFIX + "".join(
        c if "!" <= c <= "~" and c != "%" else quote(c, safe="") for c in worker
    )


def worker_of(name: str) -> str | None:
    """The worker a connection name belongs to, or None for anyone else's connection."""
    if not name.startswith(CLIENT_NAME_PREFIX):
        return None
    return unquote(name.removeprefix(CLIENT_NAME_PREFIX))


def connected_workers(r: redis.Redis) -> dict[str, str]:
    """Workers with a named connection to the database ``r`` uses: name -> connection id.

    One CLIENT LIST TYPE normal: a line per client, 6 ms at 2,500 clients (500 workers
    and their other connections), 4 of them in Redis; read raw, as redis-py's parse of
    every line takes 15 ms more.
    """
    db = str(r.connection_pool.connection_kwargs.get("db", 0))
    # Raw: redis-py's client_list() would parse every line into a dict first.
    raw = cast("bytes", r.execute_command("CLIENT LIST TYPE normal"))  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
    return parse_client_list(raw.decode(errors="replace"), db=db)


def parse_client_list(text: str, *, db: str) -> dict[str, str]:
    """CLIENT LIST's named worker connections on database ``db``: worker -> connection id; a
    worker with two (a reconnect overlapping the old connection's close) gets its newest."""
    marker = f" name={CLIENT_NAME_PREFIX}"
    workers: dict[str, str] = {}
    for line in text.splitlines():
        if marker not in line:  # most clients: skipped without splitting the line
            continue
        fields = dict(item.partition("=")[::2] for item in line.split(" "))
        worker = worker_of(fields.get("name", ""))
        client_id = fields.get("id", "")
        if worker is None or fields.get("db") != db or not client_id.isdigit():
            continue
        if int(client_id) > int(workers.get(worker, "-1")):
            workers[worker] = client_id
    return workers


def redis_run(r: redis.Redis) -> tuple[str, float]:
    """Redis' (run_id, uptime in seconds): another run_id means it restarted."""
    server = cast("dict[str, Any]", r.info("server"))
    return str(server.get("run_id", "")), float(server.get("uptime_in_seconds", 0))
