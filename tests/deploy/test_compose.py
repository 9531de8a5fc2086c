"""docker/: the compose file as compose itself reads it, and the facts an operator relies on.

Compose validates the file (`docker compose config -q`, or Debian's v1 `docker-compose`
where the plugin is missing); the structural checks read the YAML with PyYAML, which
resolves the file's anchors and merge keys the same way.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.compose_files import ENV_EXAMPLE, command, compose_command, filled_env
from tests.deploy.conftest import DOCKER
from tests.support.workers import REPO

COMPOSE = DOCKER / "compose.yml"
REQUIRED = (
    "SIGHTLINE_DOMAIN", "SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD",
    "SIGHTLINE_WORKER_SECRET",
)  # fmt: skip
PROCESSES = ("web", "control", "ingest", "beat", "results", "flower")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_AUTH|_KEY", re.IGNORECASE)
OWN_IMAGE = "${SIGHTLINE_IMAGE:-sightline}"


def run_compose(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*compose_command(), "--env-file", str(env_file), "-f", str(COMPOSE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


# --- compose's own validation -------------------------------------------------------------


def test_compose_accepts_the_file_with_the_example_settings_filled_in(tmp_path):
    result = run_compose(filled_env(tmp_path), "config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_while_a_secret_is_missing():
    # The example as shipped: every secret empty, so compose stops and names one.
    result = run_compose(ENV_EXAMPLE, "config", "-q")
    assert result.returncode != 0
    assert "in docker/.env" in result.stderr + result.stdout


# --- what an operator relies on -----------------------------------------------------------


def test_every_process_of_the_procfile_runs_as_a_service(services):
    procfile = [line.split(":", 1)[0] for line in (REPO / "Procfile").read_text().splitlines()]
    assert sorted(procfile) == sorted(PROCESSES)
    commands = {command(s)[0] for s in services.values() if command(s)}
    assert set(PROCESSES) <= commands


def test_beat_runs_exactly_once(services):
    beats = [name for name, s in services.items() if command(s)[:1] == ["beat"]]
    assert beats == ["beat"]
    assert services["beat"]["deploy"]["replicas"] == 1


def test_ingest_workers_get_no_database_url_but_the_worker_secret(services):
    for name in ("ingest", "ingest-cpu"):
        environment = services[name]["environment"]
        assert "DATABASE_URL" not in environment, name
        assert environment["SIGHTLINE_WORKER_SECRET"].startswith("${SIGHTLINE_WORKER_SECRET")
        assert environment["SIGHTLINE_WEB_URL"]
    assert services["web"]["environment"]["SIGHTLINE_WORKER_SECRET"].startswith("${")
    assert "DATABASE_URL" in services["web"]["environment"]


def test_the_gpu_ingest_worker_reserves_one_gpu_and_uses_the_cuda_image(services):
    ingest = services["ingest"]
    assert command(ingest) == ["ingest"]
    assert ingest["build"]["dockerfile"] == "docker/Dockerfile.cuda"
    assert ingest["image"].endswith("-cuda")
    devices = ingest["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert ingest["environment"]["SIGHTLINE_DEVICE"].startswith("cuda")


def test_every_long_running_service_has_a_healthcheck(services):
    for name, service in services.items():
        if service.get("restart") == "no":
            continue  # one-shot (migrate)
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name


def test_sightline_processes_wait_for_migrations_and_redis(services):
    for name, service in services.items():
        if not service.get("image", "").startswith(OWN_IMAGE) or name in ("migrate", "flower"):
            continue
        depends = service["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_no_sightline_service_runs_as_root(services):
    own = [s for s in services.values() if s.get("image", "").startswith(OWN_IMAGE)]
    assert len(own) >= len(PROCESSES)
    for service in own:
        assert str(service.get("user", "10001")).split(":")[0] not in ("root", "0")
    for dockerfile in ("Dockerfile", "Dockerfile.cuda"):
        users = re.findall(r"^USER\s+(\S+)", (DOCKER / dockerfile).read_text(), re.MULTILINE)
        assert users, dockerfile
        assert users[-1].split(":")[0] not in ("root", "0"), dockerfile


def test_no_secret_is_written_in_the_compose_file(services):
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) and value:
                assert str(value).startswith("${"), f"{name}: {key} is written inline"
    # Passwords inside URLs (DATABASE_URL, REDIS_URL) are interpolated as well.
    for match in re.finditer(r"://[^:/@\s]*:([^@\s]+)@", COMPOSE.read_text()):
        assert match.group(1).startswith("${"), match.group(0)
    # And the example leaves every secret empty, so no sample value reaches production.
    example = ENV_EXAMPLE.read_text()
    for name in (*REQUIRED, "FLOWER_BASIC_AUTH"):
        assert re.search(rf"^{name}=$", example, re.MULTILINE), name


def test_only_the_proxy_is_public_and_flower_listens_on_loopback(services):
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert set(published) == {"proxy", "flower"}
    assert all(str(p).startswith("127.0.0.1:") for p in published["flower"])


def test_redis_has_a_password_and_an_append_only_file(services):
    redis = services["redis"]
    args = command(redis)
    assert args[args.index("--requirepass") + 1].startswith("${REDIS_PASSWORD")
    assert args[args.index("--appendonly") + 1] == "yes"
    assert "redis-cli" in " ".join(redis["healthcheck"]["test"])
    assert redis["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD")


def test_data_and_the_model_cache_are_volumes(services):
    mounts = {name: [str(v) for v in s.get("volumes", [])] for name, s in services.items()}
    assert "postgres-data:/var/lib/postgresql" in mounts["postgres"]
    assert "redis-data:/data" in mounts["redis"]
    assert "media:/data/media" in mounts["web"]
    # the control worker validates uploaded weights (found by the docker smoke test)
    assert "media:/data/media:ro" in mounts["control"]
    assert "models:/data/models" in mounts["ingest"]
    assert "static:/data/static" in mounts["migrate"]
    assert "static:/srv/static:ro" in mounts["proxy"]
    # event thumbnails: written by the results consumer, pruned by control, read by web
    assert "thumbnails:/data/thumbnails" in mounts["results"]
    assert "thumbnails:/data/thumbnails" in mounts["control"]
    assert "thumbnails:/data/thumbnails:ro" in mounts["web"]


# --- the images ---------------------------------------------------------------------------


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.cuda"])
def test_images_are_multi_stage_with_init_and_healthcheck(dockerfile):
    text = (DOCKER / dockerfile).read_text()
    assert len(re.findall(r"^FROM\s", text, re.MULTILINE)) >= 2
    assert "COPY --from=builder /opt/venv /opt/venv" in text
    assert 'ENTRYPOINT ["/usr/bin/tini", "--", "/app/docker/entrypoint.sh"]' in text
    assert re.search(r"^HEALTHCHECK\s", text, re.MULTILINE)


def test_dockerignore_keeps_secrets_and_local_state_out_of_images():
    ignored = (REPO / ".dockerignore").read_text().split()
    for pattern in ("**/.env", ".git", ".venv", "data"):
        assert pattern in ignored


def test_the_cpu_image_installs_cpu_torch_and_no_test_tools():
    pinned = re.search(r"^torch===(\S+)", (REPO / "requirements.txt").read_text(), re.MULTILINE)
    assert pinned, "requirements.txt pins torch with ==="
    cpu = requirements_for("cpu")
    assert f"torch=={pinned.group(1)}+cpu" in cpu
    assert any(re.fullmatch(r"torchvision==\S+\+cpu", line) for line in cpu)
    assert not any(line.startswith(("pytest", "ruff", "schemathesis")) for line in cpu)
    assert any(line.startswith("ultralytics==") for line in cpu)
    cuda = requirements_for("cuda")
    assert f"torch==={pinned.group(1)}" in cuda


def requirements_for(variant: str) -> list[str]:
    result = subprocess.run(
        [str(DOCKER / "install-requirements.sh"), variant, "--print"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [line.strip() for line in result.stdout.splitlines()]


def test_the_proxy_limits_request_bodies_as_the_web_process_does(services):
    from cms.request_limits import UPLOAD_PREFIXES

    limits = ("SIGHTLINE_MAX_UPLOAD_MB", "SIGHTLINE_MAX_REQUEST_KB")
    for name in limits:
        assert services["proxy"]["environment"][name] == services["web"]["environment"][name]
    caddyfile = (DOCKER / "Caddyfile").read_text()
    assert "max_size {$SIGHTLINE_MAX_UPLOAD_MB}MiB" in caddyfile
    assert "max_size {$SIGHTLINE_MAX_REQUEST_KB}KiB" in caddyfile
    upload_paths = " ".join(f"{prefix}*" for prefix in UPLOAD_PREFIXES)
    assert f"@uploads path {upload_paths}" in caddyfile
    assert f"@not_uploads not path {upload_paths}" in caddyfile
