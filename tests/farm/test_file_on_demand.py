"""A video file read on demand (not realtime) through a real farm: several of its frames are
in flight at once, to share forward passes, and still every frame is published once, in order."""

from __future__ import annotations

from itertools import pairwise

import pytest

from tests.farm.conftest import FARM_VIDEO_FRAMES, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_file_read_on_demand_publishes_every_frame_once_and_in_order(farm_factory):
    farm = farm_factory(SIGHTLINE_FILE_SOURCES_REALTIME="0", SIGHTLINE_INFERENCE_BACKEND="torch")
    farm.control()
    farm.ingest(capacity=1)
    camera = farm.camera("replay", fps=10_000)  # as fast as the worker goes
    display = farm.display("replay", camera)

    # two passes through the clip (it loops), with frames submitted ahead of their results
    results = wait_for(
        lambda: found if len(found := farm.results_for(display)) >= 2 * FARM_VIDEO_FRAMES else None,
        180,
        "two passes through the clip",
    )
    seqs = [r.frame_seq for r in results]
    follows = [
        later == earlier + 1 or (later == 0 and earlier == FARM_VIDEO_FRAMES - 1)
        for earlier, later in pairwise(seqs)
    ]
    assert all(follows), f"frames skipped, repeated or out of order: {seqs}"
    # a result's time is its frame's: they advance with the frames
    times = [r.frame_time for r in results]
    assert times == sorted(times)
