"""Every environment variable the docs and the compose file name is read by something, and
every one the code reads is documented.

"Read" means: cms/settings.py's env_* helpers, an ``os.environ`` lookup in the project's
Python code, a ``${VAR}`` in the Procfile or the images' shell scripts (entry point, build
scripts), an ``ARG`` of a Dockerfile, the TLS proxy's Caddyfile, or a program that is not ours
(listed below with the reason). A variable that
only docker compose reads (``${VAR}`` in a docker/compose*.yml file, set in docker/.env or, on
a GPU host, docker/gpu-host.env) must be named together with its env file, so nobody sets it
for a process that never sees it.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = r"[A-Z][A-Z0-9_]*[A-Z0-9]"  # DEBUG, REDIS_URL
# In prose a name needs an underscore, or `GET` and `JSON` would be taken for settings.
PROSE_NAME = r"[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]"

# Read by programs that are not Sightline's.
EXTERNAL = {
    "POSTGRES_DB": "the postgres image",
    "POSTGRES_USER": "the postgres image",
    "POSTGRES_PASSWORD": "the postgres image (and interpolated into DATABASE_URL)",
    "REDISCLI_AUTH": "redis-cli in the redis image's health check",
    "WEB_CONCURRENCY": "uvicorn: its number of worker processes",
    "FORWARDED_ALLOW_IPS": "uvicorn: proxies trusted for X-Forwarded-*",
    "CUDA_VISIBLE_DEVICES": "the CUDA runtime",
    "OMP_WAIT_POLICY": "OpenMP (torch's CPU threads)",
    "GOMP_SPINCOUNT": "GNU OpenMP (torch's CPU threads)",
    "INFERENCE_PRECISION_HINT": "OpenVINO: a compile property, named in docs/backends.md",
    "DJANGO_SETTINGS_MODULE": "Django",
    "YOLO_OFFLINE": "ultralytics (defaults set by inference/ultralytics_env.py)",
    "YOLO_AUTOINSTALL": "ultralytics (defaults set by inference/ultralytics_env.py)",
    "YOLO_CONFIG_DIR": "ultralytics (defaults set by inference/ultralytics_env.py)",
    "COMPOSE_PROJECT_NAME": "docker compose itself",
    "COMPOSE_PROFILES": "docker compose itself",
    "VIRTUAL_ENV": "Python's venv activation, set in the images",
    "PIP_INDEX_URL": "pip (the host's, filling the images' wheelhouse)",
}
# Shell variables of the docs' examples, not settings.
EXAMPLE_VARIABLES = {"STAFF_TOKEN", "DISPLAY_TOKEN", "PYTEST_ARGS"}

PYTHON_READS = [
    rf'\benv_[a-z]+\(\s*"({NAME})"',
    rf'environ\.get\(\s*"({NAME})"',
    rf'environ\[\s*"({NAME})"\s*\]',
    rf'environ\.setdefault\(\s*"({NAME})"',
    rf'getenv\(\s*"({NAME})"',
    rf'_ENV = "({NAME})"',
]
SHELL_READ = rf"\$\{{({NAME})"
# Each compose file and the example of the env file its variables are set in.
COMPOSE_FILES = {
    "compose.yml": ".env.example",
    "compose.control-host.yml": ".env.example",
    "compose.gpu-host.yml": "gpu-host.env.example",
}
ENV_FILES = ("docker/.env", "docker/gpu-host.env")


def names(pattern: str, text: str) -> set[str]:
    return set(re.findall(pattern, text))


def settings_reads() -> set[str]:
    text = (ROOT / "cms" / "settings.py").read_text()
    return names(PYTHON_READS[0], text)


def code_reads() -> set[str]:
    found: set[str] = set()
    # tests/support: settings of the test suite itself (SIGHTLINE_TEST_CACHE), documented in
    # the README's development section.
    # tests/deploy: the docker smoke test's SMOKE_KEEP_STACK, documented in docs/deploy.md.
    for package in (
        "cms",
        "tasks",
        "streams",
        "inference",
        "docker",
        "tests/support",
        "tests/deploy",
    ):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            for pattern in PYTHON_READS:
                found |= names(pattern, text)
    for path in ("Procfile", *sorted((ROOT / "docker").glob("*.sh"))):
        found |= names(SHELL_READ, (ROOT / path).read_text())
    for dockerfile in (ROOT / "docker").rglob("*Dockerfile"):
        found |= names(rf"(?m)^ARG ({NAME})", dockerfile.read_text())
    found |= names(rf"\{{\$({NAME})\}}", (ROOT / "docker" / "Caddyfile").read_text())
    return found


def compose_variables() -> set[str]:
    found: set[str] = set()
    for compose in COMPOSE_FILES:
        found |= names(SHELL_READ, (ROOT / "docker" / compose).read_text())
    return found


def doc_blocks() -> list[tuple[str, str]]:
    """(file, block) for every paragraph, table row and code block of the docs."""
    blocks = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        for code in re.findall(r"```.*?```", text, flags=re.S):
            blocks.append((path.name, code))
        prose = re.sub(r"```.*?```", "", text, flags=re.S)
        for paragraph in re.split(r"\n\s*\n", prose):
            lines = paragraph.splitlines()
            if lines and all(line.startswith("|") for line in lines):
                blocks.extend((path.name, line) for line in lines)
            else:
                blocks.append((path.name, paragraph))
    return blocks


def documented_names(text: str) -> set[str]:
    """Names written as code (`NAME`, `NAME=...`, NAME= in a code block) or SIGHTLINE_*."""
    return (
        names(rf"`({PROSE_NAME})(?:[=`,])", text)
        | names(rf"(?:^|\s)({PROSE_NAME})=", text)
        | names(r"\b(SIGHTLINE_[A-Z0-9_]*[A-Z0-9])\b", text)
    )


def test_every_variable_the_docs_name_is_read_and_compose_only_ones_say_where_they_go():
    read = code_reads() | set(EXTERNAL)
    compose_only = compose_variables() - read
    unread, misplaced = [], []
    for file, block in doc_blocks():
        for name in sorted(documented_names(block) - EXAMPLE_VARIABLES):
            if name in compose_only:
                if not any(env_file in block for env_file in ENV_FILES):
                    misplaced.append(f"{file}: {name} (a compose variable) in {block!r}")
            elif name not in read:
                unread.append(f"{file}: {name}")
    assert unread == [], "documented, but nothing reads them"
    assert misplaced == [], "only docker compose reads these: say which env file they go in"


def test_every_variable_compose_sets_or_reads_is_read_by_a_program():
    read = code_reads() | set(EXTERNAL)
    for compose_file, example_file in COMPOSE_FILES.items():
        compose = (ROOT / "docker" / compose_file).read_text()
        example = (ROOT / "docker" / example_file).read_text()
        environment_keys = names(rf"(?m)^\s+({NAME}):", compose)
        assert sorted(environment_keys - read) == [], compose_file
        # A compose variable that feeds no container setting is read by nothing.
        for name in names(SHELL_READ, compose) - read:
            assert re.search(rf"(?m)^#?\s*{name}=", example) or f"${{{name}:?" in compose, name


def test_every_setting_the_code_reads_is_in_configuration_md():
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    procfile = names(SHELL_READ, (ROOT / "Procfile").read_text())
    documented = names(rf"`({NAME})`", configuration)
    missing = sorted((settings_reads() | procfile) - documented)
    assert missing == [], "read by the code but not in docs/configuration.md"


def test_the_checks_find_what_they_look_for():
    # Guard against a pattern that silently matches nothing.
    assert {"SIGHTLINE_INGEST_CAPACITY", "REDIS_URL", "DEBUG"} <= settings_reads()
    assert {"WEB_PORT", "OPENCV_FFMPEG_CAPTURE_OPTIONS", "SIGHTLINE_DOMAIN"} <= code_reads()
    assert "SIGHTLINE_INGEST_CAPACITY_CPU" in compose_variables()
    assert "SIGHTLINE_INGEST_CAPACITY_CPU" not in code_reads()
