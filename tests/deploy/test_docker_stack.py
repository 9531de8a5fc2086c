"""The images built and the compose stack run in Docker, end to end (`pytest -m docker`).

`make images` builds the CPU and CUDA images with no package index (docs/deploy.md,
"Building on a closed network"); docker/compose.yml then runs with PostgreSQL and Redis (the
official images, or images of Debian's packages where those cannot be pulled:
stack/compose.debian-services.yml) and the CPU ingest worker, without the TLS proxy
(stack/compose.smoke.yml says what else differs). Through the web container's REST API the
test creates a camera (a generated video mounted into the ingest container), a model (a real,
untrained yolov8n) and a display, and waits for detections in the display's state. Then
`docker compose down -v` must leave no container, network or volume behind, and no image,
layer or log may hold a secret of the run.

Facts of the run (image sizes, start times, idle memory, build and total time) are printed and
written to build/docker-smoke-facts.json for docs/deploy.md.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from tests.deploy.compose_files import compose_command
from tests.deploy.conftest import DOCKER, free_port
from tests.deploy.docker_engine import engine
from tests.support.models import UNTRAINED_CONFIDENCE, asset_frame, build_detection_weights
from tests.support.workers import REPO

pytestmark = [pytest.mark.docker, pytest.mark.timeout(3600)]

STACK = Path(__file__).with_name("stack")
FACTS = REPO / "build" / "docker-smoke-facts.json"
IMAGE, CUDA_IMAGE = "sightline:latest", "sightline:latest-cuda"
OFFICIAL_SERVICE_IMAGES = ("postgres:18-alpine", "redis:7.4-alpine")
DEBIAN_SERVICE_IMAGES = {
    "sightline-smoke/postgres:15": "postgres.Dockerfile",
    "sightline-smoke/redis:7": "redis.Dockerfile",
}
DEBIAN_IMAGE = "local/debian:bookworm"
# What runs: everything of docker/compose.yml but the proxy (no image here) and the GPU worker.
SERVICES = (
    "postgres", "redis", "migrate", "web", "control", "beat", "results", "ingest-cpu", "flower",
)  # fmt: skip
HEALTHY_TIMEOUT_S = 600.0
DETECTIONS_TIMEOUT_S = 600.0
HOST = "localhost"  # in the smoke stack's ALLOWED_HOSTS


@dataclass
class Stack:
    """One compose project of the test: its command line, secrets and the facts it measured."""

    project: str
    files: list[Path]
    env_file: Path
    web_port: int
    secrets: dict[str, str]
    facts: dict[str, Any] = field(default_factory=dict)

    def compose(self, *args: str, timeout: float = 600.0) -> str:
        command = [*compose_command(), "--project-name", self.project]
        command += ["--env-file", str(self.env_file)]
        for path in self.files:
            command += ["--file", str(path)]
        # The CPU ingest worker's profile, also where compose reads no COMPOSE_* from the file.
        env = {**os.environ, "COMPOSE_PROFILES": "cpu"}
        return run([*command, *args], timeout=timeout, cwd=DOCKER, env=env)

    def api(self, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method,
            f"http://127.0.0.1:{self.web_port}{path}",
            headers={"Host": HOST, "Authorization": f"Token {token}"},
            timeout=30,
            **kwargs,
        )


def run(
    command: list[str],
    *,
    timeout: float = 600.0,
    cwd: Path = REPO,
    env: dict[str, str] | None = None,
) -> str:
    """stdout of the command; its output in the failure when it fails."""
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited with {result.returncode}:\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result.stdout


def docker(*args: str, timeout: float = 600.0) -> str:
    return run(["docker", *args], timeout=timeout)


def image_exists(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True).returncode == 0


def can_pull(name: str) -> bool:
    try:
        pulled = subprocess.run(["docker", "pull", "-q", name], capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False
    return pulled.returncode == 0


def write_asset_video(path: Path, asset: str, *, frames: int = 25, fps: float = 5.0) -> Path:
    """An MPEG-4 video of one of ultralytics' test images, drifting a pixel a frame: the
    untrained model finds boxes in a real photo, not in a flat synthetic frame."""
    import cv2

    image = asset_frame(asset)
    height, width = (image.shape[0] // 2) & ~1, (image.shape[1] // 2) & ~1
    image = cv2.resize(image, (width, height))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened(), f"OpenCV cannot write {path}"
    try:
        for index in range(frames):
            writer.write(np.roll(image, index, axis=1))
    finally:
        writer.release()
    return path


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with engine(tmp_path_factory.mktemp("dockerd") / "dockerd.log"):
        yield


@pytest.fixture(scope="module")
def images(docker_engine: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`make images`, then the service images the stack needs; how long the build took."""
    log = tmp_path_factory.mktemp("build") / "make-images.log"
    started = time.monotonic()
    with log.open("w") as out:
        built = subprocess.run(
            ["make", "images"], cwd=REPO, stdout=out, stderr=subprocess.STDOUT, timeout=3000
        )
    assert built.returncode == 0, f"make images failed:\n{log.read_text()[-6000:]}"
    facts: dict[str, Any] = {"make_images_s": round(time.monotonic() - started, 1)}
    service_files = []
    if not all(image_exists(name) or can_pull(name) for name in OFFICIAL_SERVICE_IMAGES):
        started = time.monotonic()
        if not image_exists(DEBIAN_IMAGE):
            run([str(DOCKER / "build-base.sh")], timeout=1200)
        for name, dockerfile in DEBIAN_SERVICE_IMAGES.items():
            docker(
                "build", "-q", "-f", str(STACK / dockerfile),
                "--build-arg", f"DEBIAN_IMAGE={DEBIAN_IMAGE}", "-t", name, str(STACK),
            )  # fmt: skip
        service_files.append(STACK / "compose.debian-services.yml")
        facts["service_images_s"] = round(time.monotonic() - started, 1)
    facts["service_images"] = "debian" if service_files else "official"
    return {"facts": facts, "files": service_files}


@pytest.fixture
def stack(images: dict[str, Any], tmp_path: Path) -> Iterator[Stack]:
    """The stack's settings (fresh secrets, free ports, the camera's video); down at the end."""
    videos = tmp_path / "videos"
    videos.mkdir()
    write_asset_video(videos / "smoke.mp4", "bus.jpg")
    # Read by the container's unprivileged user (uid 10001).
    videos.chmod(0o755)
    (videos / "smoke.mp4").chmod(0o644)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(40),
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "REDIS_PASSWORD": secrets.token_hex(16),
        "SIGHTLINE_WORKER_SECRET": secrets.token_hex(20),
        "FLOWER_PASSWORD": secrets.token_hex(12),
    }
    web_port = free_port()
    env = {
        "SIGHTLINE_DOMAIN": HOST,
        **{k: v for k, v in values.items() if k != "FLOWER_PASSWORD"},
        "FLOWER_BASIC_AUTH": f"admin:{values['FLOWER_PASSWORD']}",
        "COMPOSE_PROFILES": "cpu",
        "FLOWER_HOST_PORT": str(free_port()),
        "SMOKE_WEB_PORT": str(web_port),
        "SMOKE_VIDEO_DIR": str(videos),
        "WEB_CONCURRENCY": "1",
        "SIGHTLINE_INGEST_CAPACITY_CPU": "1",
        "LOG_FORMAT": "plain",
    }
    env_file = tmp_path / "smoke.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    env_file.chmod(0o600)
    result = Stack(
        project=f"sightline-smoke-{secrets.token_hex(3)}",
        files=[DOCKER / "compose.yml", STACK / "compose.smoke.yml", *images["files"]],
        env_file=env_file,
        web_port=web_port,
        secrets=values,
        facts=dict(images["facts"]),
    )
    try:
        yield result
    finally:
        if os.environ.get("SMOKE_KEEP_STACK") != "1":
            result.compose("down", "--volumes", "--remove-orphans", "--timeout", "30")


# --- the test -------------------------------------------------------------------------------


def test_the_compose_stack_runs_and_delivers_detections(stack: Stack, tmp_path: Path) -> None:
    # Given the images: no secret of this run in any layer, and no root process.
    for image in (IMAGE, CUDA_IMAGE):
        assert docker("image", "inspect", "--format", "{{.Config.User}}", image).strip() == (
            "10001:10001"
        )
    stack.facts["image_sizes_mb"] = {
        image: round(int(docker("image", "inspect", "--format", "{{.Size}}", image)) / 1e6)
        for image in (IMAGE, CUDA_IMAGE)
    }

    # When the stack comes up
    started = time.monotonic()
    try:
        stack.compose("up", "--detach", "--no-build", *SERVICES, timeout=900)
    except AssertionError as failed:
        logs = stack.compose("logs", "--no-color", "--tail", "60")
        raise AssertionError(f"{failed}\n--- logs ---\n{logs}") from None
    stack.facts["start_times_s"] = wait_until_healthy(stack)
    stack.facts["up_to_all_healthy_s"] = round(time.monotonic() - started, 1)
    stack.facts["idle_memory_mb"] = memory_by_service(stack)

    # and an operator creates a camera, a model and a display through the REST API
    operator = operator_token(stack)
    stack.secrets["API_TOKEN"] = operator
    created = time.monotonic()
    display_token = create_display(stack, operator, tmp_path)
    stack.secrets["DISPLAY_TOKEN"] = display_token

    # Then the display's state shows detections
    state = wait_for_detections(stack, display_token)
    stack.facts["first_detections_s"] = round(time.monotonic() - created, 1)
    assert state["running"] is True and state["objects"], state
    assert all(0 < o["confidence"] <= 1 for o in state["objects"]), state["objects"][:3]

    # and no secret is in an image, a layer, a log, or an ingest worker's settings
    assert_no_secret_in_images(stack)
    assert_no_secret_in_logs(stack)
    ingest = containers(stack)["ingest-cpu"]
    ingest_env = "\n".join(ingest["Config"]["Env"])
    assert "DATABASE_URL" not in ingest_env
    assert stack.secrets["POSTGRES_PASSWORD"] not in json.dumps(ingest)

    # and `down -v` leaves nothing behind
    stack.compose("down", "--volumes", "--remove-orphans", "--timeout", "30")
    label = f"label=com.docker.compose.project={stack.project}"
    assert docker("ps", "--all", "--quiet", "--filter", label).split() == []
    assert docker("network", "ls", "--quiet", "--filter", label).split() == []
    assert docker("volume", "ls", "--quiet", "--filter", label).split() == []
    record(stack.facts)


# --- steps ----------------------------------------------------------------------------------


def containers(stack: Stack) -> dict[str, dict[str, Any]]:
    """`docker inspect` of the project's containers by service name."""
    label = f"label=com.docker.compose.project={stack.project}"
    ids = docker("ps", "--all", "--quiet", "--filter", label).split()
    if not ids:
        return {}
    found = json.loads(docker("inspect", *ids))
    return {c["Config"]["Labels"]["com.docker.compose.service"]: c for c in found}


def wait_until_healthy(stack: Stack) -> dict[str, float]:
    """Seconds from each container's start to its first healthy check (migrate: to its exit)."""
    start_times: dict[str, float] = {}
    deadline = time.monotonic() + HEALTHY_TIMEOUT_S
    while time.monotonic() < deadline:
        now = time.time()
        for service, container in containers(stack).items():
            state = container["State"]
            if service in start_times:
                continue
            if service == "migrate":
                if state["Status"] == "exited":
                    assert state["ExitCode"] == 0, stack.compose("logs", "--no-color", "migrate")
                    start_times[service] = seconds(state["FinishedAt"]) - seconds(
                        state["StartedAt"]
                    )
            elif state.get("Health", {}).get("Status") == "healthy":
                start_times[service] = now - seconds(state["StartedAt"])
            elif state["Status"] in ("exited", "dead") or state.get("Restarting"):
                logs = stack.compose("logs", "--no-color", "--tail", "80", service)
                raise AssertionError(f"{service} stopped ({state['Status']}):\n{logs}")
        if set(start_times) == set(SERVICES):
            return {service: round(start_times[service], 1) for service in SERVICES}
        time.sleep(0.5)
    waiting = sorted(set(SERVICES) - set(start_times))
    logs = stack.compose("logs", "--no-color", "--tail", "40", *waiting)
    raise AssertionError(f"not healthy within {HEALTHY_TIMEOUT_S:.0f} s: {waiting}\n{logs}")


def seconds(docker_time: str) -> float:
    """A Docker timestamp (RFC 3339 with nanoseconds) as seconds since the epoch."""
    whole, _, fraction = docker_time.rstrip("Z").partition(".")
    stamp = datetime.fromisoformat(whole + "+00:00").timestamp()
    return stamp + float(f"0.{fraction or '0'}")


def memory_by_service(stack: Stack) -> dict[str, float]:
    """Each running container's memory now (`docker stats --no-stream`), in MiB."""
    running = {c["Id"]: s for s, c in containers(stack).items() if c["State"]["Running"]}
    lines = docker("stats", "--no-stream", "--no-trunc", "--format", "{{json .}}", *running)
    memory = {}
    for line in lines.splitlines():
        row = json.loads(line)
        used = row["MemUsage"].split("/")[0].strip()
        memory[running[row["ID"]]] = round(mebibytes(used), 1)
    return memory


def mebibytes(size: str) -> float:
    for unit, factor in (("GiB", 1024.0), ("MiB", 1.0), ("KiB", 1 / 1024), ("B", 1 / 1024**2)):
        if size.endswith(unit):
            return float(size[: -len(unit)]) * factor
    raise ValueError(f"not a docker stats size: {size!r}")


def operator_token(stack: Stack) -> str:
    """An API token of a superuser made in the web container (no password at all)."""
    script = (
        "from django.contrib.auth import get_user_model\n"
        "from rest_framework.authtoken.models import Token\n"
        "user = get_user_model().objects.create_superuser('smoke', None, None)\n"
        "print(Token.objects.create(user=user).key)\n"
    )
    out = stack.compose("exec", "-T", "web", "python", "manage.py", "shell", "-c", script)
    return out.strip().splitlines()[-1]


def create_display(stack: Stack, operator: str, tmp_path: Path) -> str:
    """A camera on the mounted video, an untrained yolov8n, an untracked display of both:
    the display's token."""
    camera = stack.api(
        "POST", "/api/v1/cameras/", operator,
        json={"name": "Smoke", "identifier": "smoke", "url": "/videos/smoke.mp4", "fps": 5},
    )  # fmt: skip
    assert camera.status_code == 201, camera.text
    weights = build_detection_weights(tmp_path / "weights" / "smoke.pt")
    with weights.open("rb") as upload:
        model = stack.api(
            "POST", "/api/v1/models/", operator,
            # A small image size: inference on these CPUs shares them with the whole stack.
            data={
                "name": "yolov8n-untrained",
                "confidence": str(UNTRAINED_CONFIDENCE),
                "imgsz": "320",
            },
            files={"weights": ("smoke.pt", upload, "application/octet-stream")},
        )  # fmt: skip
    assert model.status_code == 201, model.text
    display = stack.api(
        "POST", "/api/v1/displays/", operator,
        json={
            "name": "Smoke", "identifier": "smoke",
            "camera": camera.json()["id"], "model": model.json()["id"],
            # Each frame's boxes as they are: a tracker keeps none of an untrained
            # model's (their scores are far below its track thresholds).
            "tracking": False,
        },
    )  # fmt: skip
    assert display.status_code == 201, display.text
    return str(display.json()["token"])


def wait_for_detections(stack: Stack, display_token: str) -> dict[str, Any]:
    deadline = time.monotonic() + DETECTIONS_TIMEOUT_S
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = stack.api("GET", "/api/v1/display/state/", display_token)
        assert response.status_code == 200, response.text
        state = response.json()
        if state.get("objects"):
            return state
        time.sleep(1.0)
    logs = stack.compose("logs", "--no-color", "--tail", "60", "ingest-cpu", "control", "results")
    raise AssertionError(f"no detections within {DETECTIONS_TIMEOUT_S:.0f} s: {state}\n{logs}")


def assert_no_secret_in_images(stack: Stack) -> None:
    used = {c["Config"]["Image"] for c in containers(stack).values()} | {IMAGE, CUDA_IMAGE}
    for image in sorted(used):
        text = docker("history", "--no-trunc", image) + docker("image", "inspect", image)
        leaked = [name for name, value in stack.secrets.items() if value in text]
        assert not leaked, f"{image}: {leaked} in docker history or docker image inspect"


def assert_no_secret_in_logs(stack: Stack) -> None:
    logs = stack.compose("logs", "--no-color")
    leaked = [name for name, value in stack.secrets.items() if value in logs]
    assert not leaked, f"{leaked} in the containers' logs"


def record(facts: dict[str, Any]) -> None:
    FACTS.parent.mkdir(parents=True, exist_ok=True)
    FACTS.write_text(json.dumps(facts, indent=2) + "\n")
    print(f"\ndocker smoke facts ({FACTS}):\n{json.dumps(facts, indent=2)}")
