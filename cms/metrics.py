"""Prometheus metrics of the whole farm, read from Redis at scrape time.

The farm's state already lives in Redis (heartbeats, the reconcile report, the results
stream), so one scrape of the web process sees every worker and stream without a
metrics server per process.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterator

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from cms import redis_connection
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo
from cms.results import results_stream
from streams.entities import StreamState

# A running task's stream is in one of these (STOPPED ones no longer heartbeat).
STREAM_STATES = (
    StreamState.CONNECTING,
    StreamState.ONLINE,
    StreamState.RECOVERING,
    StreamState.FAILED,
)


class FarmCollector:
    def collect(self) -> Iterator[Metric]:
        r = redis_connection.client()
        try:
            workers = farm_keys.read_workers(r)
            streams = farm_keys.read_all_streams(r)
            report = farm_keys.read_report(r) or {}
            results = results_stream.figures(r)
        except redis.RedisError:
            up = GaugeMetricFamily("sightline_redis_up", "Whether Redis answered the scrape")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("sightline_redis_up", "Whether Redis answered the scrape")
        up.add_metric([], 1)
        yield up
        yield from _worker_metrics(workers)
        yield from _stream_metrics(streams)
        yield from _reconcile_metrics(report)
        yield from _results_metrics(results)


def _worker_metrics(workers: dict) -> Iterator[Metric]:
    online = GaugeMetricFamily("sightline_workers_online", "Ingest workers heartbeating")
    online.add_metric([], len(workers))
    yield online
    gauges = {
        "capacity": GaugeMetricFamily(
            "sightline_worker_capacity", "Streams a worker can run", labels=["worker"]
        ),
        "running": GaugeMetricFamily(
            "sightline_worker_streams", "Streams a worker runs", labels=["worker"]
        ),
        "cpu": GaugeMetricFamily("sightline_worker_cpu_percent", "CPU %", labels=["worker"]),
        "memory": GaugeMetricFamily(
            "sightline_worker_memory_percent", "Memory %", labels=["worker"]
        ),
        "gpu_memory": GaugeMetricFamily(
            "sightline_worker_gpu_memory_percent", "GPU memory %", labels=["worker"]
        ),
    }
    for name, worker in workers.items():
        gauges["capacity"].add_metric([name], worker.capacity)
        gauges["running"].add_metric([name], len(worker.running))
        gauges["cpu"].add_metric([name], worker.cpu_percent)
        gauges["memory"].add_metric([name], worker.memory_percent)
        if worker.gpu_memory_percent is not None:
            gauges["gpu_memory"].add_metric([name], worker.gpu_memory_percent)
    yield from gauges.values()


def _stream_metrics(streams: dict[int, StreamInfo]) -> Iterator[Metric]:
    by_state = GaugeMetricFamily("sightline_streams", "Running streams by state", labels=["state"])
    counts = Counter(s.state for s in streams.values())
    for state in STREAM_STATES:
        by_state.add_metric([state.value], counts.get(state, 0))
    yield by_state
    labels = ["camera", "worker"]
    fps_in = GaugeMetricFamily(
        "sightline_stream_fps_in", "Frames decoded per second", labels=labels
    )
    fps_out = GaugeMetricFamily(
        "sightline_stream_fps_out", "Frames inferred per second", labels=labels
    )
    age = GaugeMetricFamily(
        "sightline_stream_frame_age_seconds", "Age of the newest frame", labels=labels
    )
    latency = GaugeMetricFamily(
        "sightline_stream_inference_latency_seconds", "Inference time per frame", labels=labels
    )
    reconnects = CounterMetricFamily("sightline_stream_reconnects", "Reconnects", labels=labels)
    for camera_id, s in streams.items():
        key = [str(camera_id), s.worker]
        fps_in.add_metric(key, s.fps_in)
        fps_out.add_metric(key, s.fps_out)
        reconnects.add_metric(key, s.reconnects)
        if s.frame_age is not None:
            age.add_metric(key, s.frame_age)
        if s.latency_ms is not None:
            latency.add_metric(key, s.latency_ms / 1000)
    yield from (fps_in, fps_out, age, latency, reconnects)


def _reconcile_metrics(report: dict) -> Iterator[Metric]:
    duration = GaugeMetricFamily(
        "sightline_reconcile_duration_seconds", "Last reconcile's duration"
    )
    commands = GaugeMetricFamily(
        "sightline_reconcile_commands", "Commands of the last reconcile", labels=["kind"]
    )
    pending = GaugeMetricFamily("sightline_cameras_pending", "Cameras waiting for a worker")
    if report:
        duration.add_metric([], report.get("duration_ms", 0) / 1000)
        for kind in ("Start", "Stop", "UpdateSpec"):
            commands.add_metric([kind], report.get("commands", {}).get(kind, 0))
        pending.add_metric([], len(report.get("pending", {})))
    yield from (duration, commands, pending)


def _results_metrics(results: dict) -> Iterator[Metric]:
    lag = GaugeMetricFamily("sightline_results_lag", "Results not yet read by any consumer")
    lag.add_metric([], results["lag"])
    pending = GaugeMetricFamily("sightline_results_pending", "Results read but not acknowledged")
    pending.add_metric([], results["pending"])
    dead = GaugeMetricFamily("sightline_results_dead_letters", "Results in the dead letters")
    dead.add_metric([], results["dead"])
    handled = CounterMetricFamily(
        "sightline_results", "Results handled by the consumers", labels=["outcome"]
    )
    for outcome, value in sorted(results["counters"].items()):
        handled.add_metric([outcome], value)
    yield from (lag, pending, dead, handled)


_registry = CollectorRegistry()
_registry.register(FarmCollector())


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for the bearer of SIGHTLINE_METRICS_TOKEN when it is set.

    Without a token, development (DEBUG on) answers anyone; production answers only a
    client on the loopback interface (a scraper on the same host), never the network.
    """
    token = settings.SIGHTLINE_METRICS_TOKEN
    if token:
        if request.headers.get("Authorization") != f"Bearer {token}":
            return HttpResponse(
                "Authorization: Bearer <SIGHTLINE_METRICS_TOKEN> required.", status=401
            )
    elif not settings.DEBUG and not _is_loopback(request.META.get("REMOTE_ADDR", "")):
        return HttpResponse(
            "Metrics are served to other hosts only with SIGHTLINE_METRICS_TOKEN set.", status=403
        )
    return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
