"""Operator logs (cms/logs.py): secrets masked in every format, ids on every record."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from cms import redis_connection
from cms.logs import (
    ContextFilter,
    JsonFormatter,
    PlainFormatter,
    SecretsFilter,
    log_context,
    set_process_context,
)
from cms.results import results_stream
from cms.results.consumer import ResultsConsumer
from cms.signals import detection_received
from streams import Frame
from tasks.publisher import ResultPublisher
from tests.factories import make_display
from tests.support.workers import REPO, CeleryWorker, child_env


def emit(formatter: logging.Formatter, build) -> str:
    """What one console handler (both filters, ``formatter``) writes for ``build(logger)``."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.addFilter(SecretsFilter())
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"tests.deploy.logs.{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        build(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_tracebacks_and_extras_are_masked_too():
    def build(logger):
        try:
            raise ConnectionError("cannot open rtsp://u:tb-secret@cam/x")
        except ConnectionError:
            logger.exception("camera failed", extra={"source": "http://cam/a?token=extra-secret"})

    for formatter in (PlainFormatter("%(message)s"), JsonFormatter()):
        out = emit(formatter, build)
        assert "tb-secret" not in out and "extra-secret" not in out
        assert "rtsp://u:***@cam/x" in out


def test_ids_from_the_context_and_from_extra():
    def build(logger):
        with log_context(camera_id=3, worker="ingest@gpu-1"):
            with log_context(display_id=7):
                logger.info("inner")
            logger.info("outer", extra={"display_id": 9})
        logger.info("outside")

    inner, outer, outside = (json.loads(line) for line in emit(JsonFormatter(), build).splitlines())
    assert (inner["camera_id"], inner["display_id"], inner["worker"]) == (3, 7, "ingest@gpu-1")
    assert (outer["camera_id"], outer["display_id"]) == (3, 9)
    assert "camera_id" not in outside and "display_id" not in outside


def test_a_context_belongs_to_its_own_thread():
    seen = {}

    def other_thread(logger):
        logger.info("other")

    def build(logger):
        with log_context(camera_id=1):
            thread = threading.Thread(target=other_thread, args=(logger,))
            thread.start()
            thread.join(10)
            logger.info("mine")

    for line in emit(JsonFormatter(), build).splitlines():
        record = json.loads(line)
        seen[record["message"]] = record.get("camera_id")
    assert seen == {"other": None, "mine": 1}


def test_the_process_context_names_the_worker(monkeypatch):
    monkeypatch.setattr("cms.logs._process_ids", {})
    set_process_context(worker="control@host-a")
    line = emit(PlainFormatter("%(levelname)s %(message)s"), lambda lg: lg.warning("hello"))
    assert line.strip() == "WARNING hello [worker=control@host-a]"


SCRIPT = textwrap.dedent(
    """
    import logging
    import django

    django.setup()
    from cms.logs import log_context

    log = logging.getLogger("tasks.camera_runner")
    with log_context(camera_id=3, display_id=7, worker="ingest@gpu-1"):
        log.warning("open rtsp://admin:s3cret-pw@10.0.0.5/live failed")
        log.warning("weights from http://web/models/1/weights?token=abc-secret-token")
    """
)


@pytest.mark.parametrize("log_format", ["json", "plain"])
def test_the_settings_wire_masking_and_ids_into_every_process(log_format, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO,
        env=child_env(LOG_FORMAT=log_format, SIGHTLINE_DATA_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "tasks.camera_runner" in line]
    assert len(lines) == 2, result.stderr
    assert "s3cret-pw" not in result.stderr and "abc-secret-token" not in result.stderr
    if log_format == "json":
        first, second = (json.loads(line) for line in lines)
        assert first["message"] == "open rtsp://admin:***@10.0.0.5/live failed"
        assert second["message"].endswith("?token=***")
        assert (first["camera_id"], first["display_id"], first["worker"]) == (3, 7, "ingest@gpu-1")
        assert first["level"] == "WARNING" and first["logger"] == "tasks.camera_runner"
    else:
        assert "rtsp://admin:***@10.0.0.5/live failed [camera_id=3 display_id=7" in lines[0]


def test_an_unknown_log_format_stops_the_process_with_its_name(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import cms.settings"],
        cwd=REPO,
        env=child_env(LOG_FORMAT="xml", SIGHTLINE_DATA_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT='xml'" in result.stderr


class Capture(logging.Handler):
    """Records as the console handler's context filter leaves them."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(ContextFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def capture():
    handler = Capture()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


@pytest.mark.django_db
def test_an_ingest_task_logs_with_its_camera_generation_and_worker(capture, redis_client):
    from celery.utils.nodenames import gethostname

    from cms.farm import farm_keys
    from cms.farm.commands import Assignment
    from tasks.ingest import ingest_camera

    # Camera 999 is at generation 4: the task of generation 3 finds itself stale and ends.
    farm_keys.publish_assignments(redis_client, [Assignment(999, "elsewhere", 4)])
    ended = ingest_camera.apply(args=(999, 3)).get()
    assert ended == "stale generation"
    record = next(r for r in capture.records if r.name == "tasks.ingest")
    assert (record.camera_id, record.generation) == (999, 3)
    assert record.worker == gethostname()  # the request's worker (eager: this host)


@pytest.mark.django_db(transaction=True)
def test_detection_receivers_log_with_the_display_and_camera(capture, redis_client, settings):
    settings.SIGHTLINE_RESULTS_BLOCK_MS = 50
    display = make_display()
    frame = Frame(np.zeros((2, 2, 3), np.uint8), 1, 1_700_000_000.0, 0.0)
    ResultPublisher(redis_client, camera_id=display.camera_id, generation=1).publish(
        display_id=display.id, model_id=display.model_id, frame=frame, objects=[]
    )

    def receiver(sender, **kwargs):
        logging.getLogger("tests.receiver").warning("got a detection")

    detection_received.connect(receiver)
    try:
        results_stream.ensure_group(redis_client)
        ResultsConsumer(redis_connection.client(), "logs-test").step()
    finally:
        detection_received.disconnect(receiver)
    record = next(r for r in capture.records if r.name == "tests.receiver")
    assert (record.display_id, record.camera_id) == (display.id, display.camera_id)


@pytest.mark.slow
def test_a_celery_worker_names_itself_in_its_records(tmp_path):
    worker = CeleryWorker(tmp_path, prefix="logs", env={"LOG_FORMAT": "json"}).start()
    worker.terminate()
    records = [json.loads(line) for line in worker.log().splitlines() if line.startswith("{")]
    ready = [r for r in records if r["message"].endswith("ready.")]
    assert ready and ready[0]["worker"] == worker.name
