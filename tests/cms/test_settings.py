"""Settings read the environment through helpers that fail loudly, naming the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from cms.environment import (
    env_bool,
    env_database,
    env_float,
    env_int,
    env_list,
    env_networks,
    redis_broker_url,
)
from tests.support.workers import REPO


@pytest.mark.parametrize("value, expected", [("1", True), ("off", False), ("YES", True)])
def test_env_bool_reads_common_spellings(value, expected):
    assert env_bool("DEBUG", False, environ_={"DEBUG": value}) is expected


@pytest.mark.parametrize(
    "reader, value",
    [
        (lambda env: env_bool("DEBUG", True, environ_=env), "maybe"),
        (lambda env: env_int("DEBUG", 1, environ_=env), "ten"),
        (lambda env: env_int("DEBUG", 1, minimum=1, environ_=env), "0"),
        (lambda env: env_float("DEBUG", 1.0, minimum=0, environ_=env), "-2"),
        (lambda env: env_float("DEBUG", 1.0, greater_than=0, environ_=env), "0"),
        (lambda env: env_float("DEBUG", 1.0, environ_=env), "nan"),
        (lambda env: env_database("DEBUG", "sqlite://", environ_=env), "nosuchdb://x"),
        (lambda env: env_networks("DEBUG", environ_=env), "10.0.0.0/8,not-a-net"),
    ],
)
def test_bad_values_raise_naming_the_variable(reader, value):
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        reader({"DEBUG": value})


@pytest.mark.parametrize("reader", [env_int, env_float])
def test_a_minimum_is_inclusive_for_integers_and_numbers(reader):
    assert reader("X", 5, minimum=0, environ_={"X": "0"}) == 0
    with pytest.raises(ImproperlyConfigured, match=r"X=.*at least 0"):
        reader("X", 5, minimum=0, environ_={"X": "-1"})


def test_a_number_below_a_minimum_is_refused_however_close():
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_float("X", 5.0, minimum=0, environ_={"X": "-0.5"})


def test_greater_than_excludes_the_bound():
    assert env_float("X", 5.0, greater_than=0, environ_={"X": "0.001"}) == 0.001
    with pytest.raises(ImproperlyConfigured, match="greater than 0"):
        env_float("X", 5.0, greater_than=0, environ_={"X": "0"})


def test_defaults_apply_when_unset():
    assert env_int("X", 7, environ_={}) == 7
    assert env_list("X", ["a"], environ_={}) == ["a"]
    assert env_list("X", [], environ_={"X": " a, ,b "}) == ["a", "b"]


def test_database_url_parsing():
    config = env_database(
        "DATABASE_URL", "postgres://u:p@db.example.com:5433/sightline", environ_={}
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.example.com", 5433, "sightline")


def test_broker_url_spells_unix_sockets_for_kombu():
    assert redis_broker_url("unix:///tmp/r.sock") == "redis+socket:///tmp/r.sock"
    assert redis_broker_url("redis://h:6379/1") == "redis://h:6379/1"


def run_manage(*args: str, env: dict[str, str], tmp_path) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "SIGHTLINE_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "variable, value",
    [
        ("DEBUG", "perhaps"),
        ("DATABASE_URL", "nosuchdb://x"),
        ("LOG_LEVEL", "LOUD"),
        ("SIGHTLINE_SNAPSHOT_INTERVAL_S", "-0.5"),
        ("SIGHTLINE_WORKER_TIMEOUT_S", "0"),
    ],
)
def test_process_refuses_to_start_with_a_bad_value(tmp_path, variable, value):
    result = run_manage("check", env={variable: value}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert variable in result.stderr


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = run_manage("check", env={"DEBUG": "false"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_development_key_is_generated_once_and_kept(tmp_path):
    assert run_manage("check", env={}, tmp_path=tmp_path).returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    assert run_manage("check", env={}, tmp_path=tmp_path).returncode == 0
    assert (tmp_path / "secret_key").read_text() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    production = {
        "DEBUG": "false",
        "SECRET_KEY": "k" * 20 + "-production-secret-key-with-enough-entropy-0123456789",
        "ALLOWED_HOSTS": "signage.example.com",
    }
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production, tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_env_choice_reads_a_known_value_and_refuses_others():
    from cms.environment import env_choice

    choices = ("auto", "torch")
    assert env_choice("X", "auto", choices, environ_={}) == "auto"
    assert env_choice("X", "auto", choices, environ_={"X": " Torch "}) == "torch"
    with pytest.raises(ImproperlyConfigured, match="X='tflite' must be one of auto, torch"):
        env_choice("X", "auto", choices, environ_={"X": "tflite"})
