"""The web server restarted while cameras run: ingest carries on, display clients resume.

Every farm process here is real and separate: the web process (uvicorn, started as the
image starts it, ``docker/entrypoint.sh web``), the control and ingest Celery workers, and
the results consumer (``manage.py results``), all on the test's database and Redis.

The farm is pointed at the restartable web process (SIGHTLINE_WEB_URL), not at pytest's
live server: ingest workers fetch a camera's source (and its weights, by signed URL) from
it when a camera starts, so "ingest unaffected" means something only when the web server
they were given is the one that goes away. A camera that is already running needs the web
server no more: while it is down the camera keeps its worker and generation, and results
keep being stored and published (the results consumer needs only Redis and the database).

The display client is a real HTTP client reading the event stream as a browser's
EventSource does (tests.support.event_source): when the stream breaks it waits the
server's ``retry:`` delay, connects again with ``Last-Event-ID``, and gets the events it
missed from the database, then live ones.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cms.api.services import rotate_display_token
from cms.models import Detection, ObjectEvent, StreamAssignment
from tests.deploy.conftest import DOCKER, free_port, wait_for_http
from tests.farm.conftest import wait_for
from tests.support.event_source import EventSourceClient
from tests.support.workers import REPO, child_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

EVENTS = "/api/v1/display/events/"


class WebProcess:
    """The `web` process on a fixed port, to stop and start again on the same port."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = child_env(WEB_HOST="127.0.0.1", WEB_PORT=str(self.port), **env)
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env['PATH']}"
        self.log_dir = log_dir
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.log_dir / f"web-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(DOCKER / "entrypoint.sh"), "web"],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for_http(self.port, "/admin/login/", self.process, self.log)

    def stop(self) -> int:
        assert self.process is not None
        self.process.terminate()
        return self.process.wait(30)

    def logs(self) -> str:
        return "\n".join(
            (self.log_dir / f"web-{n}.log").read_text(errors="replace")[-3000:]
            for n in range(1, self.starts + 1)
        )


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebProcess]:
    # Short keepalives and retry delay, so the test does not wait on the defaults (15 s, 3 s).
    server = WebProcess(
        tmp_path, {"SIGHTLINE_SSE_KEEPALIVE_S": "1", "SIGHTLINE_SSE_RETRY_MS": "500"}
    )
    yield server
    if server.process is not None and server.process.poll() is None:
        server.stop()
    print(server.logs())  # shown by pytest only when the test failed


@pytest.fixture
def results_process(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(30)


def event_ids(display_id: int, after: int, up_to: int) -> list[int]:
    """The display's stored event ids (detections and object events) in (after, up_to]."""
    ids = [
        *Detection.objects.filter(display_id=display_id, id__gt=after, id__lte=up_to)
        .order_by("id")
        .values_list("id", flat=True),
        *ObjectEvent.objects.filter(display_id=display_id, id__gt=after, id__lte=up_to)
        .order_by("id")
        .values_list("id", flat=True),
    ]
    return sorted(ids)


def last_stored(display_id: int) -> int:
    return (
        Detection.objects.filter(display_id=display_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )


def test_a_restarted_web_server_leaves_cameras_running_and_clients_resume_without_a_gap(
    farm_factory, web, results_process, tmp_path
):
    # given: the farm on a web server of its own, a camera running, a display client reading
    farm = farm_factory(SIGHTLINE_WEB_URL=web.url, SIGHTLINE_RESULTS_BLOCK_MS="100")
    web.env.update(
        SIGHTLINE_WORKER_SECRET=farm.env["SIGHTLINE_WORKER_SECRET"],
        MEDIA_ROOT=farm.env["MEDIA_ROOT"],
        SIGHTLINE_ALLOW_FILE_SOURCES="1",
    )
    web.start()
    farm.control()
    ingest = farm.ingest(capacity=1)
    log = (tmp_path / "results.log").open("wb")
    results_process.append(
        subprocess.Popen(
            [sys.executable, "manage.py", "results"],
            cwd=REPO,
            env=child_env(**farm.env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    )
    camera = farm.camera("lobby", fps=4)
    display = farm.display("d-lobby", camera)
    token = rotate_display_token(display)
    wait_for(lambda: farm.running_on(camera) == ingest.name, 90, "the camera on the worker")
    generation = StreamAssignment.objects.get(camera=camera).generation
    wait_for(lambda: last_stored(display.id), 60, "results stored")
    # Connected before, as a display that was already showing: it resumes from there.
    start = last_stored(display.id)
    client = EventSourceClient(web.url + EVENTS, token, last_event_id=start)
    client.start()
    try:
        wait_for(lambda: len(client.events) >= 5, 30, "events on the first connection")

        # when: the web server stops (SIGTERM, as a restart does) for a while. A crash
        # (SIGKILL) cuts the connection too; the client's side is the same: it reconnects.
        assert web.stop() is not None
        stopped_at = last_stored(display.id)
        seen_before = len(client.events)
        wait_for(lambda: last_stored(display.id) > stopped_at + 10, 30, "results while down")
        # then: the camera never noticed, and the client could not read anything meanwhile
        assert farm.running_on(camera) == ingest.name
        assert StreamAssignment.objects.get(camera=camera).generation == generation
        assert len(client.events) == seen_before
        assert client.failed_attempts >= 1, "the client tried to reconnect while it was down"

        web.start()  # on the same port
        back_at = last_stored(display.id)
        wait_for(lambda: client.connections == 2, 30, "the client to reconnect")
        wait_for(
            lambda: (client.ids() or [0])[-1] > back_at + 5, 30, "live events after the restart"
        )
    finally:
        client.close()

    # and: every event stored since the first connect arrived once, in order, no gap
    received = client.ids()
    assert received == event_ids(display.id, start, received[-1])
    assert client.resumed_from == [start, client.events[seen_before - 1].id]
    by_connection = {event.connection for event in client.events}
    assert by_connection == {1, 2}
    second = [e.id for e in client.events if e.connection == 2]
    assert second[0] <= stopped_at + 10 < second[-1], "the second connection replayed the gap"
    assert farm.running_on(camera) == ingest.name
    assert StreamAssignment.objects.get(camera=camera).generation == generation
    assert "Traceback" not in ingest.log()
