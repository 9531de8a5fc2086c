"""docker/entrypoint.sh: one image, every process by its Procfile name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import DOCKER
from tests.support.workers import child_env

ENTRYPOINT = DOCKER / "entrypoint.sh"


def run_entrypoint(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    environment = child_env(**env)
    # The image puts its virtual environment first on PATH; so does this.
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    return subprocess.run(
        [str(ENTRYPOINT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        cwd="/",  # it finds the Procfile from its own location
    )


@pytest.mark.parametrize(
    ("role", "usage"),
    [("web", "Usage: python -m uvicorn"), ("results", "usage: manage.py results")],
)
def test_a_role_runs_its_procfile_line_with_extra_arguments(role, usage):
    result = run_entrypoint(role, "--help")
    assert result.returncode == 0, result.stderr
    assert usage in result.stdout


def test_any_other_command_runs_as_given():
    result = run_entrypoint("python", "-c", "print('as given')")
    assert result.returncode == 0 and result.stdout.strip() == "as given"


def test_no_command_is_a_usage_error():
    result = run_entrypoint()
    assert result.returncode == 64
    assert "usage:" in result.stderr


def test_migrate_prepares_a_production_database_and_static_files(tmp_path):
    result = run_entrypoint(
        "migrate",
        timeout=180,
        DEBUG="false",
        ALLOWED_HOSTS="sightline.test",
        SIGHTLINE_DATA_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "admin" / "css" / "base.css").is_file()
    assert (tmp_path / "db.sqlite3").stat().st_size > 0
