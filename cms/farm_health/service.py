"""Sampling the farm into its health series (every 10 s from beat), and reading them back.

The loads and writes around the pure parts: heartbeats and the results path's figures in
(cms.farm.farm_keys, cms.results.results_stream), points out (cms.farm_health.series).
"""

from __future__ import annotations

import time
from typing import Any

import redis

from cms.farm import farm_keys
from cms.farm_health import series
from cms.farm_health.charts import charts
from cms.farm_health.sampling import (
    CAMERA,
    RESULTS,
    WORKER,
    CounterReading,
    Point,
    bucket_start,
    camera_point,
    results_point,
    rollup,
    worker_point,
)
from cms.models import Camera
from cms.results import results_stream


def sample_farm(r: redis.Redis, now: float | None = None) -> int:
    """Append one point per running camera, live worker and the results path to the hour
    series, and roll finished five-minute buckets up into the day; returns the points written."""
    now = time.time() if now is None else now
    t = int(now)
    workers = farm_keys.read_workers(r)
    streams = farm_keys.read_all_streams(r)
    figures = results_stream.figures(r)
    reading = CounterReading.of(now, figures["counters"])
    points: dict[str, Point] = {
        series.member(CAMERA, camera_id): camera_point(t, info)
        for camera_id, info in streams.items()
    }
    points.update({series.member(WORKER, name): worker_point(t, w) for name, w in workers.items()})
    points[series.member(RESULTS)] = results_point(t, figures, reading, series.read_counters(r))
    series.append(r, series.HOUR, points, now)
    series.write_counters(r, reading)
    roll_up(r, now)
    return len(points)


def roll_up(r: redis.Redis, now: float) -> int:
    """Roll every finished bucket not rolled yet (within the hour the samples are kept) into
    one day point per series; returns the buckets rolled."""
    step = series.DAY.step_s
    current = bucket_start(now, step)
    oldest = current - series.HOUR.span_s
    done = series.rolled_through(r)
    first = oldest if done is None else max(done + step, oldest)
    buckets = range(first, current, step)
    if not buckets:
        return 0
    hour = series.read(r, series.HOUR)
    rolled = 0
    for bucket in buckets:
        if not series.claim_rollup(r, bucket):
            continue
        points = {}
        for name, samples in hour.items():
            inside = [p for p in samples if bucket <= p[0] < bucket + step]
            point = rollup(series.split_member(name)[0], bucket, inside)
            if point is not None:
                points[name] = point
        series.append(r, series.DAY, points, now)
        series.mark_rolled(r, bucket)
        rolled += 1
    return rolled


def health_series(r: redis.Redis, range_: series.Range) -> dict[str, Any]:
    """The range's charts with camera names from the database; raises redis.RedisError."""
    data = series.read(r, range_)
    camera_ids = [
        int(ident)
        for kind, ident in map(series.split_member, data)
        if kind == CAMERA and ident.isdigit()
    ]
    names = {
        pk: name for pk, name in Camera.objects.filter(pk__in=camera_ids).values_list("pk", "name")
    }
    return {
        "range": range_.name,
        "step_s": range_.step_s,
        "span_s": range_.span_s,
        "now": time.time(),
        **charts(data, names),
    }
