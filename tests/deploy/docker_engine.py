"""A Docker engine for the docker smoke test: the one that runs, or dockerd started here.

`engine()` yields once `docker info` answers: with the running engine as it is, or with a
`dockerd` this process started (root only) and stops again afterwards. Where neither can be
had, the test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


def docker_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        result = subprocess.run([docker, "info"], capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def why_dockerd_cannot_start() -> str | None:
    """None where this process can start dockerd, else the reason it cannot."""
    if shutil.which("docker") is None:
        return "no docker client (apt-get install docker.io)"
    if shutil.which("dockerd") is None:
        return "no dockerd and no running Docker engine (apt-get install docker.io)"
    if os.geteuid() != 0:
        return "no running Docker engine, and dockerd needs root"
    return None


@contextmanager
def engine(log: Path) -> Iterator[None]:
    """A Docker engine that answers for the duration of the block (see the module doc)."""
    if docker_answers():
        yield
        return
    reason = why_dockerd_cannot_start()
    if reason:
        pytest.skip(f"docker smoke test: {reason}")
    with log.open("ab") as out:
        process = subprocess.Popen(
            ["dockerd"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not docker_answers():
            if process.poll() is not None:
                pytest.skip(
                    f"docker smoke test: dockerd exited with {process.returncode}: "
                    f"{log.read_text(errors='replace')[-2000:]}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"dockerd did not answer within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.5)
        yield
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # dockerd stops its containers, then exits
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)
