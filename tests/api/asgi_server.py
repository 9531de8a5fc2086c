"""A real ASGI server (uvicorn) running Sightline in its own process, and an SSE client."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from tests.support.workers import REPO, child_env


class AsgiServer:
    """``uvicorn cms.asgi:application`` on a socket bound here, so the port is free and known."""

    def __init__(
        self,
        log_path: Path,
        settings_module: str = "tests.api.server_settings",
        env: dict[str, str] | None = None,
    ) -> None:
        self.log_path = log_path
        self.settings_module = settings_module
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 60.0) -> AsgiServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        args = [
            sys.executable, "-m", "uvicorn", "cms.asgi:application",
            "--fd", str(sock.fileno()), "--lifespan", "off", "--no-access-log",
            "--log-level", "warning",
        ]  # fmt: skip
        env = child_env(DJANGO_SETTINGS_MODULE=self.settings_module, **self.env)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=(sock.fileno(),),
            )  # fmt: skip
        sock.close()  # the child holds its own copy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited early:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/api/v1/display/", timeout=2).status_code == 401:
                    return self
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or busy starting
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"uvicorn did not answer within {timeout} s:\n{self.log()}")

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def threads(self) -> int:
        """How many threads the server process runs now."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(
            next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:"))
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class EventStream:
    """A Server-Sent Events client reading one stream line by line, with deadlines.

    The server sends a keepalive comment every half second (tests.api.server_settings), so
    no read blocks for long; ``timeout`` bounds every wait.
    """

    def __init__(self, url: str, token: str, *, last_event_id: int | None = None) -> None:
        headers = {"Authorization": f"Token {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.response = requests.get(url, headers=headers, stream=True, timeout=(5, 10))
        self.status_code = self.response.status_code
        self._lines: Iterator[str] = self.response.iter_lines(decode_unicode=True)
        self.comments: list[str] = []

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.response.close()

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait for the ``retry:`` field the server sends once it is subscribed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if next(self._lines).startswith("retry:"):
                return
        raise TimeoutError("the stream never said it was ready")

    def next_event(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next event (``id``, ``event``, ``data`` parsed as JSON), skipping comments."""
        deadline = time.monotonic() + timeout
        fields: dict[str, str] = {}
        while time.monotonic() < deadline:
            line = next(self._lines)
            if line == "":
                if "data" in fields:
                    return {
                        "id": int(fields["id"]),
                        "event": fields.get("event", "message"),
                        "data": json.loads(fields["data"]),
                    }
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        raise TimeoutError("no event before the deadline")

    def no_event_for(self, seconds: float) -> bool:
        """True when only comments arrive for ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            line = next(self._lines)
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
            elif line:
                return False
        return True


def wait_for(
    predicate: Any, timeout: float = 10.0, interval: float = 0.05, message: Any = None
) -> Any:
    """Poll ``predicate`` until it returns something truthy; TimeoutError at the deadline.

    ``message`` (a callable) describes the state when the deadline passes.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(message() if message else "condition not met before the deadline")
