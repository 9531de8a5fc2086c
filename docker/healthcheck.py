"""Container health checks: ``python docker/healthcheck.py [ROLE]``.

Exit 0 when the container's process is healthy, 1 with the reason on stdout (Docker
keeps it in ``docker inspect``) when it is not. Without ROLE, the role is the one the
container was started with (PID 1 is ``tini -- /app/docker/entrypoint.sh ROLE``), so
one Dockerfile HEALTHCHECK serves every process; other commands count as healthy.

- web      GET /admin/login/ answers 200, asked the way the TLS proxy asks (a Host
           from ALLOWED_HOSTS, ``X-Forwarded-Proto: https``, so no HTTPS redirect)
- flower   GET /healthcheck answers 200 (Flower serves it without basic auth)
- control  the Celery worker ``control@<hostname>`` answers a ping through the broker
- ingest   the worker ``ingest@<hostname>`` has a live heartbeat in Redis (it expires
           after SIGHTLINE_WORKER_TIMEOUT_S, so a hung heartbeat thread shows)
- results  a results consumer ``<hostname>-<pid>`` read the stream within the last
           minute, or nothing waits on the stream
- beat     beat wrote its schedule file within the last 10 minutes (it syncs every 3)
"""

from __future__ import annotations

import glob
import http.client
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")

HTTP_TIMEOUT_S = 5.0
RESULTS_MAX_IDLE_MS = 60_000
BEAT_MAX_AGE_S = 600.0


class Unhealthy(Exception):
    """The check failed; the message says why."""


def check_web() -> str:
    host = _allowed_host()
    status = _http_status(
        int(os.environ.get("WEB_PORT", "8000")),
        "/admin/login/",
        {"Host": host, "X-Forwarded-Proto": "https"},
    )
    if status != 200:
        raise Unhealthy(f"GET /admin/login/ (Host: {host}) answered {status}")
    return "web answers"


def check_flower() -> str:
    status = _http_status(int(os.environ.get("FLOWER_PORT", "5555")), "/healthcheck", {})
    if status != 200:
        raise Unhealthy(f"GET /healthcheck answered {status}")
    return "flower answers"


def check_control() -> str:
    from tasks import app

    name = f"control@{socket.gethostname()}"
    if not app.control.ping(destination=[name], timeout=HTTP_TIMEOUT_S):
        raise Unhealthy(f"{name} did not answer a ping")
    return f"{name} answers"


def check_ingest() -> str:
    from cms import redis_connection
    from cms.farm import farm_keys

    name = f"ingest@{socket.gethostname()}"
    if not redis_connection.client().exists(farm_keys.worker_key(name)):
        raise Unhealthy(f"{name} has no live heartbeat in Redis")
    return f"{name} heartbeats"


def check_results() -> str:
    from cms import redis_connection
    from cms.results import results_stream

    client = redis_connection.client()
    stream, prefix = results_stream.results_stream(), f"{socket.gethostname()}-"
    consumers = client.xinfo_consumers(stream, results_stream.GROUP)
    idle = [c["idle"] for c in consumers if _text(c["name"]).startswith(prefix)]
    if idle and min(idle) <= RESULTS_MAX_IDLE_MS:
        return f"a consumer {prefix}* read {min(idle)} ms ago"
    # Before Redis 7.2 a read that finds nothing does not reset "idle": a quiet stream
    # is healthy as long as nothing waits for this group.
    last = _text(client.xinfo_stream(stream)["last-generated-id"])
    group = next(g for g in client.xinfo_groups(stream) if _text(g["name"]) == results_stream.GROUP)
    if _text(group["last-delivered-id"]) == last:
        return "nothing waits on the results stream"
    raise Unhealthy(f"results wait and no consumer {prefix}* read within a minute")


def check_beat() -> str:
    from django.conf import settings

    path = settings.CELERY_BEAT_SCHEDULE_FILENAME
    # shelve's dbm backend decides the suffix (none, .db, .dat/.dir).
    mtimes = [os.path.getmtime(p) for p in glob.glob(f"{glob.escape(path)}*")]
    if not mtimes:
        raise Unhealthy(f"no beat schedule file {path}*")
    age = time.time() - max(mtimes)
    if age > BEAT_MAX_AGE_S:
        raise Unhealthy(f"beat last wrote {path} {age:.0f} s ago")
    return f"beat wrote its schedule {age:.0f} s ago"


CHECKS: dict[str, Callable[[], str]] = {
    "web": check_web,
    "flower": check_flower,
    "control": check_control,
    "ingest": check_ingest,
    "results": check_results,
    "beat": check_beat,
}


def container_role(cmdline: Path = Path("/proc/1/cmdline")) -> str | None:
    """The role given to docker/entrypoint.sh by PID 1, None for any other command."""
    try:
        args = cmdline.read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None
    for index, arg in enumerate(args[:-1]):
        if arg.endswith("entrypoint.sh"):
            return args[index + 1]
    return None


def _allowed_host() -> str:
    for entry in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = entry.strip().lstrip(".")
        if host and "*" not in host:
            return host
    return "localhost"


def _http_status(port: int, path: str, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT_S)
    try:
        connection.request("GET", path, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")  # Docker keeps it in the container's health log


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def main(argv: list[str]) -> int:
    role = argv[1] if len(argv) > 1 else container_role()
    check = CHECKS.get(role or "")
    if check is None:
        _say(f"no health check for {role or 'this command'}")
        return 0
    try:
        _say(check())
    except Exception as exc:  # any failure (refused, timeout, Redis down) is "unhealthy"
        from streams.redaction import mask_secrets

        _say(f"unhealthy: {mask_secrets(str(exc))}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
