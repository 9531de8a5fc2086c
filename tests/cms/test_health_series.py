"""The health series: points from heartbeats, rates, rollups (pure), and their Redis keys
(trimmed, expiring, indexed) on the suite's real Redis."""

from __future__ import annotations

from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo, WorkerInfo
from cms.farm_health import series
from cms.farm_health.charts import charts
from cms.farm_health.sampling import (
    CAMERA,
    WORKER,
    CounterReading,
    bucket_start,
    camera_point,
    rate,
    results_point,
    rollup,
    worker_point,
)
from cms.farm_health.service import roll_up, sample_farm
from cms.results import results_stream
from streams import StreamState

GPU = WorkerInfo("gpu-1", "cuda:0", 8, (1, 2), 30.25, 40, 55.5, 61.0, last_seen=1.0)
CPU = WorkerInfo("cpu-1", "cpu", 4, (3,), 80, 20, last_seen=1.0)
GATE = StreamInfo(1, "gpu-1", 2, "h", StreamState.ONLINE, fps_in=5, fps_out=4.5, frame_age=0.12,
                  latency_ms=35.1234, reconnects=2, updated=1.0)  # fmt: skip


# --- pure ----------------------------------------------------------------------------------


def test_points_carry_each_figure_in_field_order_and_none_for_what_is_not_reported():
    assert camera_point(100, GATE) == [100, 5.0, 4.5, 0.12, 35.123, 2]
    fresh = StreamInfo(2, "gpu-1", 1, "h")
    assert camera_point(100, fresh) == [100, 0.0, 0.0, None, None, 0]
    assert worker_point(100, GPU) == [100, 30.25, 40.0, 55.5, 61.0, 2, 8]
    assert worker_point(100, CPU) == [100, 80.0, 20.0, None, None, 1, 4]


def test_throughput_is_the_counters_difference_per_second():
    before = CounterReading.of(100.0, {"delivered": 10, "suppressed": 5})
    now = CounterReading.of(110.0, {"delivered": 60, "suppressed": 25, "failed": 3})
    assert now.handled == 85
    assert rate(now, before) == (5.0, 7.0)
    assert rate(now, None) == (None, None)  # the first sample
    assert rate(before, now) == (None, None)  # counters went back: Redis lost them
    figures = {"length": 900, "lag": 12, "pending": 3, "dead": 1}
    assert results_point(110, figures, now, before) == [110, 5.0, 7.0, 900, 12, 3, 1]


def test_a_rollup_averages_rates_and_keeps_the_worst_frame_age_and_count():
    points = [
        [300, 4.0, 4.0, 0.1, 30.0, 1],
        [310, 6.0, None, 2.5, 40.0, 3],
        [320, 5.0, 5.0, 0.2, None, 3],
    ]
    assert rollup(CAMERA, 300, points) == [300, 5.0, 4.5, 2.5, 35.0, 3]
    assert rollup(WORKER, 300, [[300, 10, 20, None, None, 1, 4]]) == [
        300,
        10.0,
        20.0,
        None,
        None,
        1.0,
        4,
    ]
    assert rollup(CAMERA, 300, []) is None
    assert bucket_start(1234.5, 300) == 1200


def test_charts_name_cameras_align_times_and_leave_cpu_workers_out_of_gpu_charts():
    data = {
        "camera:1": [[10, 5, 4, 0.1, 30, 0], [20, 5, 5, 0.1, 31, 0]],
        "camera:9": [[20, 1, 1, None, None, 4]],
        "worker:gpu-1": [[10, 30, 40, 50, 60, 2, 8]],
        "worker:cpu-1": [[10, 80, 20, None, None, 1, 4]],
        "results": [[10, None, None, 0, 0, 0, 0], [20, 2.5, 3, 10, 1, 0, 1]],
    }
    drawn = charts(data, {1: "Gate"})
    by_id = {c["id"]: c for c in drawn["charts"]}
    fps = by_id["fps"]
    assert fps["unit"] == "fps" and fps["x"] == [10, 20]
    assert [s["label"] for s in fps["series"]] == [
        "camera 9 (deleted) in",
        "camera 9 (deleted) out",
        "Gate in",
        "Gate out",
    ]
    assert fps["series"][2]["values"] == [5, 5]
    assert fps["series"][0]["values"] == [None, 1]  # camera 9 started later
    assert [s["label"] for s in by_id["gpu"]["series"]] == ["gpu-1"]
    assert [s["label"] for s in by_id["cpu"]["series"]] == ["cpu-1", "gpu-1"]
    assert [s["label"] for s in by_id["load"]["series"]] == [
        "cpu-1 running", "cpu-1 capacity", "gpu-1 running", "gpu-1 capacity"]  # fmt: skip
    assert drawn["notes"] == ["cpu-1 reports no GPU (a CPU worker): not in the GPU charts."]
    assert by_id["throughput"]["series"][0] == {
        "label": "stored", "entity": 0, "line": 0, "values": [None, 2.5]}  # fmt: skip
    assert by_id["throughput"]["unit"] == "entries/s"
    assert "empty" not in by_id["gpu"]
    only_cpu = charts({"worker:cpu-1": data["worker:cpu-1"]}, {})
    gpu = next(c for c in only_cpu["charts"] if c["id"] == "gpu")
    assert gpu["series"] == [] and gpu["empty"] == "No worker reports a GPU."


# --- Redis -----------------------------------------------------------------------------------


def test_a_series_is_trimmed_to_its_range_and_expires_with_it(redis_client):
    small = series.Range("hour", 10, 3)
    for t in range(5):
        series.append(redis_client, small, {"camera:1": [t, 1.0]}, now=1000.0 + t)
    assert series.read(redis_client, small) == {"camera:1": [[2, 1.0], [3, 1.0], [4, 1.0]]}
    ttl = redis_client.ttl(series.series_key(small, "camera:1"))
    assert 0 < ttl <= small.span_s + small.step_s
    assert 0 < redis_client.ttl(series.index_key(small)) <= small.span_s + small.step_s
    # A series that expired (a removed camera) is not read, and its index entry goes later.
    redis_client.delete(series.series_key(small, "camera:1"))
    assert series.read(redis_client, small) == {}


def test_sampling_writes_a_point_per_camera_worker_and_the_results_path(redis_client):
    farm_keys.write_worker(redis_client, GPU)
    farm_keys.write_worker(redis_client, CPU)
    farm_keys.write_stream(redis_client, GATE)
    results_stream.count(redis_client, delivered=10)
    assert sample_farm(redis_client, now=1_000_000.0) == 4
    results_stream.count(redis_client, delivered=20, suppressed=10)
    sample_farm(redis_client, now=1_000_010.0)
    hour = series.read(redis_client, series.HOUR)
    assert sorted(hour) == ["camera:1", "results", "worker:cpu-1", "worker:gpu-1"]
    assert hour["camera:1"][-1] == [1_000_010, 5.0, 4.5, 0.12, 35.123, 2]
    assert hour["results"][0][1:3] == [None, None]
    assert hour["results"][1][1:3] == [2.0, 3.0]  # 20 stored, 30 handled in 10 s
    # An hour range's series lives an hour after its last write; a day's, a day.
    assert redis_client.ttl(series.series_key(series.HOUR, "camera:1")) > 3500


def test_finished_five_minute_buckets_are_rolled_up_once_into_the_day(redis_client):
    start = 1_000_200  # a bucket starts at 1_000_200 (a multiple of 300)
    farm_keys.write_stream(redis_client, GATE)
    for t in range(start, start + 300, 10):
        sample_farm(redis_client, now=float(t))
    assert series.read(redis_client, series.DAY) == {}  # the bucket has not ended yet
    sample_farm(redis_client, now=float(start + 300))
    day = series.read(redis_client, series.DAY)
    assert day["camera:1"] == [[start, 5.0, 4.5, 0.12, 35.123, 2]]
    assert roll_up(redis_client, float(start + 310)) == 0  # rolled once only
    assert len(series.read(redis_client, series.DAY)["camera:1"]) == 1
    assert 86000 < redis_client.ttl(series.series_key(series.DAY, "camera:1")) <= 86700


def test_memory_per_camera_series_stays_small(redis_client):
    """Documented in docs/admin.md: a full hour and day of one camera's points."""
    for t in range(series.HOUR.points):
        series.append(
            redis_client, series.HOUR, {"camera:1": camera_point(1_700_000_000 + t * 10, GATE)}, 0
        )
    for t in range(series.DAY.points):
        series.append(
            redis_client, series.DAY, {"camera:1": camera_point(1_700_000_000 + t * 300, GATE)}, 0
        )
    used = sum(
        redis_client.memory_usage(series.series_key(r, "camera:1"))
        for r in (series.HOUR, series.DAY)
    )
    print(f"one camera's hour and day: {used} bytes")
    assert used < 64 * 1024, used
