"""Compose as the deployment tests run it, and docker/.env.example filled in by an operator."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import DOCKER

ENV_EXAMPLE = DOCKER / ".env.example"


def compose_command() -> list[str]:
    """`docker compose` where the plugin exists, else Debian's `docker-compose`."""
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    if legacy := shutil.which("docker-compose"):
        return [legacy]
    pytest.skip(
        "neither `docker compose` nor `docker-compose` is installed "
        "(`make test` installs Debian's docker-compose when run as root)"
    )


def filled_env(tmp_path: Path) -> Path:
    """docker/.env.example with every required value filled in, as an operator would."""
    values = {
        "SIGHTLINE_DOMAIN": "sightline.example.com",
        "SECRET_KEY": "s" * 50,
        "POSTGRES_PASSWORD": "0123456789abcdef",
        "REDIS_PASSWORD": "fedcba9876543210",
        "SIGHTLINE_WORKER_SECRET": "0123456789abcdef0123",
        "FLOWER_BASIC_AUTH": "admin:0123456789",
    }
    return fill_example(ENV_EXAMPLE, values, tmp_path / "compose.env")


def fill_example(example: Path, values: dict[str, str], path: Path) -> Path:
    """`example` with each of `values` written on its empty ``NAME=`` line, saved at `path`."""
    text = example.read_text()
    for name, value in values.items():
        text, count = re.subn(rf"^{name}=$", f"{name}={value}", text, flags=re.MULTILINE)
        assert count == 1, f"{name}= is not an empty line of {example.name}"
    path.write_text(text)
    return path


def command(service: dict[str, Any]) -> list[str]:
    value = service.get("command", [])
    return value.split() if isinstance(value, str) else list(value)
