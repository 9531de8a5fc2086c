"""Heartbeats in Redis read back as written, and those of a newer worker read too."""

from __future__ import annotations

import json
import time

import numpy as np

from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo, WorkerInfo
from streams.entities import StreamReason, StreamState


def test_a_stream_heartbeat_with_fields_this_side_does_not_know_still_reads(redis_client):
    info = StreamInfo(
        camera_id=7, worker="ingest@a", generation=3, spec_hash="h",
        state=StreamState.RECOVERING, reason=StreamReason.UNREACHABLE, reconnects=2,
    )  # fmt: skip
    newer = {**json.loads(farm_keys.encode_stream(info)), "added_next_year": [1, 2]}
    redis_client.set(farm_keys.stream_key(7), json.dumps(newer))

    read = farm_keys.read_streams(redis_client, [7])[7]
    assert farm_keys.encode_stream(read) == farm_keys.encode_stream(info)


def test_a_worker_heartbeat_with_fields_this_side_does_not_know_still_reads(redis_client):
    info = WorkerInfo(
        name="ingest@b", device="cpu", capacity=4, running=(1,), last_seen=time.time()
    )
    farm_keys.write_worker(redis_client, info)
    raw = json.loads(redis_client.get(farm_keys.worker_key(info.name)))
    redis_client.set(farm_keys.worker_key(info.name), json.dumps({**raw, "npu_percent": 3}))

    assert farm_keys.read_workers(redis_client)[info.name] == info


def test_a_heartbeat_with_numpy_figures_reads_back_as_numbers(redis_client) -> None:
    info = StreamInfo(
        7,
        "gpu-1@rack",
        3,
        "abc",
        StreamState.ONLINE,
        fps_in=np.float32(9.5),
        frame_age=np.float64(0.25),
    )
    farm_keys.write_stream(redis_client, info)
    read = farm_keys.read_streams(redis_client, [7])[7]
    assert (read.fps_in, read.frame_age) == (9.5, 0.25)
