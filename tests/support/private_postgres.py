"""A PostgreSQL server of the test's own, to stop and start at will.

Never the shared server at 127.0.0.1:5432 (CI and other sessions use it): initdb makes a
fresh cluster in a temp dir, on a port from the OS, with trust authentication on
127.0.0.1 only. PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user (runuser) and its dir belongs to that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.deploy.conftest import free_port


def find_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin dir (Debian's layout), or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    return Path(found[-1]).parent if found else None


def unavailable_reason() -> str | None:
    """Why a private server cannot be started here, or None when it can."""
    if find_bin_dir() is None:
        return "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root without runuser to start PostgreSQL as another user"
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run PostgreSQL as"
    return None


class PrivatePostgres:
    """initdb once, then start / stop (fast shutdown) as often as the test likes."""

    def __init__(self) -> None:
        bin_dir = find_bin_dir()
        assert bin_dir is not None, unavailable_reason()
        self.bin_dir = bin_dir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="sightline-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-N")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server and return once it accepts connections (pg_ctl -w)."""
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        """Fast shutdown: open transactions are rolled back, clients disconnected."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs, and delete its files."""
        subprocess.run(
            [*self._as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
             "-w", "stop"],
            capture_output=True,
            check=False,
        )  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)

    def server_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as_user, str(self.bin_dir / program), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n"
                f"{self.server_log()[-3000:]}"
            )
