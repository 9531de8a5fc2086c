"""/metrics: the farm's state from Redis in Prometheus' text format."""

from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo, WorkerInfo
from cms.results import results_stream
from streams import StreamReason, StreamState
from tests.results.conftest import dead_letter_one


def samples(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def populate(redis_client) -> None:
    now = time.time()
    farm_keys.write_worker(
        redis_client, WorkerInfo("gpu-1", "cuda:0", 8, (1, 2), 40, 50, 20, 30, last_seen=now)
    )
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            1,
            "gpu-1",
            3,
            "h",
            StreamState.ONLINE,
            fps_in=5,
            fps_out=4.5,
            frame_age=0.12,
            latency_ms=35,
        ),
    )
    farm_keys.write_stream(
        redis_client,
        StreamInfo(2, "gpu-1", 1, "h", StreamState.RECOVERING, reason=StreamReason.TIMEOUT),
    )
    farm_keys.write_report(
        redis_client, {"duration_ms": 42.0, "commands": {"Start": 2}, "pending": {"9": "x"}}
    )
    dead_letter_one(redis_client, {b"r": b"x"}, "boom", 5)
    redis_client.xadd(results_stream.results_stream(), {"r": "{}"})  # not read yet: the lag


def test_metrics_report_workers_streams_reconcile_and_results(client, redis_client):
    populate(redis_client)
    found = samples(client)
    assert found[("sightline_workers_online", ())] == 1
    assert found[("sightline_worker_streams", (("worker", "gpu-1"),))] == 2
    assert found[("sightline_streams", (("state", "online"),))] == 1
    assert found[("sightline_streams", (("state", "recovering"),))] == 1
    assert found[
        ("sightline_stream_frame_age_seconds", (("camera", "1"), ("worker", "gpu-1")))
    ] == pytest.approx(0.12)
    assert found[
        ("sightline_stream_inference_latency_seconds", (("camera", "1"), ("worker", "gpu-1")))
    ] == pytest.approx(0.035)
    assert found[("sightline_reconcile_duration_seconds", ())] == pytest.approx(0.042)
    assert found[("sightline_reconcile_commands", (("kind", "Start"),))] == 2
    assert found[("sightline_cameras_pending", ())] == 1
    assert found[("sightline_results_lag", ())] == 1
    assert found[("sightline_results_dead_letters", ())] == 1


def test_metrics_token_is_required_when_set(client, settings, redis_client):
    settings.SIGHTLINE_METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert ok.status_code == 200
    assert b"sightline_redis_up 1.0" in ok.content


def test_alert_rules_use_only_metrics_that_exist(client, redis_client):
    import re
    from pathlib import Path

    import yaml

    rules = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "docker/prometheus/alerts.yml").read_text()
    )
    populate(redis_client)
    exported = {name for name, _ in samples(client)}  # what Prometheus stores
    for rule in rules["groups"][0]["rules"]:
        used = set(re.findall(r"sightline_[a-z_]+", rule["expr"]))
        assert used and used <= exported, (rule["alert"], used - exported)


def test_without_a_token_production_serves_metrics_on_loopback_only(client, settings):
    settings.DEBUG = False
    settings.SIGHTLINE_METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.5").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


def test_without_a_token_development_serves_metrics_to_anyone(client, settings):
    settings.DEBUG = True
    settings.SIGHTLINE_METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 200


def test_with_a_token_no_address_is_trusted(client, settings):
    settings.DEBUG = False
    settings.SIGHTLINE_METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 401
    ok = client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert ok.status_code == 200
