"""docker/: a farm across hosts, as compose resolves it: the control host (compose.yml plus
compose.control-host.yml) and a GPU host (compose.gpu-host.yml, one project per GPU).

What an operator relies on: a GPU host runs ingest workers only, with no database and no
published port; the control host publishes Redis on its private address and nothing else new.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.compose_files import command, compose_command, fill_example, filled_env
from tests.deploy.conftest import DOCKER
from tests.support.workers import REPO

COMPOSE = DOCKER / "compose.yml"
CONTROL_HOST = DOCKER / "compose.control-host.yml"
GPU_HOST = DOCKER / "compose.gpu-host.yml"
GPU_ENV_EXAMPLE = DOCKER / "gpu-host.env.example"
GPU_HOST_VALUES = {
    "SIGHTLINE_HOST_NAME": "rack1",
    "SIGHTLINE_DOMAIN": "sightline.example.com",
    "SECRET_KEY": "s" * 50,
    "REDIS_HOST": "10.20.0.2",
    "REDIS_PASSWORD": "fedcba9876543210",
    "SIGHTLINE_WORKER_SECRET": "0123456789abcdef0123",
}


def resolved(
    env_file: Path, *files: Path, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`compose config` of `files` with `env_file`: the services as compose would run them."""
    arguments = [arg for path in files for arg in ("-f", str(path))]
    return subprocess.run(
        [*compose_command(), "--env-file", str(env_file), *arguments, "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", **(extra or {})},
    )


def gpu_host_env(tmp_path: Path) -> Path:
    """docker/gpu-host.env.example with every required value filled in."""
    return fill_example(GPU_ENV_EXAMPLE, GPU_HOST_VALUES, tmp_path / "gpu-host.env")


def gpu_host_services(tmp_path: Path, gpu: str) -> dict[str, dict[str, Any]]:
    result = resolved(gpu_host_env(tmp_path), GPU_HOST, extra={"SIGHTLINE_GPU": gpu})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def test_a_gpu_host_runs_only_ingest_workers_with_no_database_and_no_port(tmp_path):
    services = gpu_host_services(tmp_path, "0")
    assert list(services) == ["ingest"]
    ingest = services["ingest"]
    assert command(ingest) == ["ingest"]
    assert ingest["image"].endswith("-cuda")
    assert not ingest.get("ports")
    environment = ingest["environment"]
    assert "DATABASE_URL" not in environment
    assert environment["REDIS_URL"] == "redis://:fedcba9876543210@10.20.0.2:6379/0"
    assert environment["SIGHTLINE_WEB_URL"] == "https://sightline.example.com"
    assert environment["SIGHTLINE_WORKER_SECRET"] == GPU_HOST_VALUES["SIGHTLINE_WORKER_SECRET"]
    assert "ingest" in " ".join(ingest["healthcheck"]["test"])


def test_each_gpu_gets_its_own_device_and_worker_name_and_the_host_one_model_cache(tmp_path):
    first, third = gpu_host_services(tmp_path, "0"), gpu_host_services(tmp_path, "2")
    for services, gpu in ((first, "0"), (third, "2")):
        ingest = services["ingest"]
        devices = ingest["deploy"]["resources"]["reservations"]["devices"]
        assert devices == [{"driver": "nvidia", "device_ids": [gpu], "capabilities": ["gpu"]}]
        assert ingest["hostname"] == f"rack1-gpu{gpu}"  # the worker is ingest@rack1-gpu<N>
        assert ingest["environment"]["SIGHTLINE_DEVICE"] == "cuda:0"  # the one GPU it sees
    volumes = yaml.safe_load(GPU_HOST.read_text())["volumes"]
    assert volumes["models"]["name"] == "sightline-models"  # not per project


def test_a_gpu_host_refuses_to_start_while_a_setting_is_missing():
    result = resolved(GPU_ENV_EXAMPLE, GPU_HOST)
    assert result.returncode != 0
    assert "in docker/gpu-host.env" in result.stderr + result.stdout


def test_no_secret_is_written_in_the_gpu_host_files():
    text = GPU_HOST.read_text()
    for name in ("SECRET_KEY", "REDIS_PASSWORD", "SIGHTLINE_WORKER_SECRET"):
        assert re.search(rf"\${{{name}:\?", text), f"{name} is not required from the env file"
    for name in GPU_HOST_VALUES:
        assert re.search(rf"^{name}=$", GPU_ENV_EXAMPLE.read_text(), re.MULTILINE), name
    ignored = (DOCKER / ".gitignore").read_text().split()
    assert "*.env" in ignored  # docker/gpu-host.env
    assert "**/*.env" in (REPO / ".dockerignore").read_text().split()


def test_the_control_host_publishes_redis_on_its_private_address_only(tmp_path):
    env = filled_env(tmp_path)
    result = resolved(env, COMPOSE, CONTROL_HOST, extra={"REDIS_PRIVATE_ADDRESS": "10.20.0.2"})
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    # Ingest workers start only by profile: with COMPOSE_PROFILES empty, none runs here.
    ingest = [name for name, s in services.items() if command(s) == ["ingest"]]
    assert ingest and all(services[name].get("profiles") for name in ingest)
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert set(published) == {"proxy", "flower", "redis"}
    (redis_port,) = published["redis"]
    shown = redis_port if isinstance(redis_port, str) else redis_port.get("host_ip")
    assert "10.20.0.2" in str(shown)  # never 0.0.0.0
    assert "--requirepass" in command(services["redis"])
    assert "postgres" not in published
