"""Reconnect benchmark: how soon cameras deliver frames again after their server returns.

N cameras on one GStreamer RTSP test server (a mount per camera, 640x480 at 25 fps),
read once with the reconnect schedule the workers use (quick retries for the first
minute of an outage) and once with the plain doubling it replaced (1 s doubling to
30 s), fresh readers each time. For each outage the server is killed (SIGKILL, like a
switch losing power) and started again on the same port after that many seconds; the
script prints how long after the return the cameras were back (the first new frame of
each: median and slowest). The two schedules take turns, one outage each, in one run.

Target (issue 17): after an outage of up to a minute, every camera back within 10 s.

    .venv/bin/python bench/reconnect.py [--cameras 4] [--outages 5,10,20,40,55]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streams import BackoffPolicy, LatestFrameReader, SourceSpec, StreamState
from tests.support.rtsp_server import RtspServer, unavailable_reason

SCHEDULES = {"quick first minute": BackoffPolicy(), "plain doubling": BackoffPolicy(quick_for=0)}
GIVE_UP = 120.0  # seconds after the return; the plain doubling can be 30 s (±20 %) apart


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)


def start_online(readers: list[LatestFrameReader]) -> None:
    for reader in readers:
        reader.start()
    wait_until(
        lambda: all(r.status().state is StreamState.ONLINE for r in readers),
        30.0,
        "every camera online",
    )


def outage_once(server: RtspServer, readers: list[LatestFrameReader], outage: float) -> list[float]:
    """Kill the server for `outage` s; seconds from its return to each camera's new frame."""
    server.kill()
    killed = time.monotonic()
    wait_until(
        lambda: all(r.status().state is not StreamState.ONLINE for r in readers),
        15.0,
        "every camera to notice the outage",
    )
    last = [r.latest() for r in readers]
    time.sleep(max(0.0, killed + outage - time.monotonic()))
    server.start()
    returned = time.monotonic()
    back: dict[int, float] = {}

    def all_back() -> bool:
        for index, reader in enumerate(readers):
            frame = reader.latest()
            if index not in back and frame is not None and frame is not last[index]:
                back[index] = time.monotonic() - returned
        return len(back) == len(readers)

    wait_until(all_back, GIVE_UP, "every camera to deliver again")
    return list(back.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=4, help="cameras per schedule")
    parser.add_argument("--outages", default="5,10,20,40,55", help="seconds, comma-separated")
    args = parser.parse_args()
    logging.getLogger("streams").setLevel(logging.ERROR)  # every retry would be shown
    if unavailable_reason():
        raise SystemExit(f"no RTSP test server: {unavailable_reason()}")
    outages = [float(v) for v in args.outages.split(",")]
    mounts = tuple(f"/cam{n}" for n in range(args.cameras))
    server = RtspServer(mounts=mounts)
    print(
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; {args.cameras} cameras, "
        "640x480 at 25 fps, one server"
    )
    print(f"{'outage':>7} {'schedule':20} {'back after: median':>19} {'slowest':>8}")
    with server:
        for outage in outages:
            for name, policy in SCHEDULES.items():
                # Fresh readers each time: the workers meet an outage after a long quiet
                # run, not straight after the last one.
                readers = [
                    LatestFrameReader(SourceSpec(server.url(m), target_fps=5), backoff=policy)
                    for m in mounts
                ]
                try:
                    start_online(readers)
                    back = outage_once(server, readers, outage)
                finally:
                    for reader in readers:
                        reader.stop()
                print(
                    f"{outage:6.0f}s {name:20} {statistics.median(back):17.1f} s "
                    f"{max(back):6.1f} s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
