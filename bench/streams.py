"""Streams benchmark: N concurrent sources read by LatestFrameReader in one process.

For each kind of source (live RTSP from the GStreamer test server, looping local
files) and each N, it prints the decoded fps per stream, the CPU per stream (this
process, % of one core), the RSS each added stream costs, and the frame age a
consumer sees (p50/p99). For RTSP the age is true age, read from the wall clock
the server drew into each frame; for files it is the time since the frame was
decoded. N=1 is the baseline measured in the same run.

Target (issue 3), on the 2-core development box: 8 RTSP streams of 640x480 at 15 fps,
frame age p99 under 150 ms, under 40 MB RSS per added stream.

    .venv/bin/python bench/streams.py [--streams 1,8] [--kinds rtsp,file] [--seconds 20]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streams import LatestFrameReader, SourceSpec, StreamState
from tests.support.media import frame_age_ms, write_video
from tests.support.rtsp_server import RtspServer, unavailable_reason

MB = 1024 * 1024


@dataclass
class Result:
    kind: str
    streams: int
    fps_per_stream: float
    cpu_per_stream: float  # % of one core
    first_stream_mb: float
    added_stream_mb: float  # average over streams 2..N (or the first when N=1)
    age_p50_ms: float
    age_p99_ms: float
    age_max_ms: float
    server_cpu: float | None  # % of one core, the RTSP server process
    reconnects: int


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def wait_online(reader: LatestFrameReader, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while reader.status().state is not StreamState.ONLINE:
        if time.monotonic() > deadline:
            raise SystemExit(f"a stream did not come online: {reader.status()}")
        time.sleep(0.05)


def run(kind: str, urls: list[str], args: argparse.Namespace, server: RtspServer | None) -> Result:
    process = psutil.Process()
    rss = [process.memory_info().rss]
    readers: list[LatestFrameReader] = []
    for url in urls:  # one at a time, to see what each added stream costs
        reader = LatestFrameReader(
            SourceSpec(url, target_fps=args.target_fps, loop=True), allow_files=True
        ).start()
        readers.append(reader)
        wait_online(reader)
        time.sleep(args.settle)
        rss.append(process.memory_info().rss)
    server_process = psutil.Process(server.pid) if server and server.pid else None

    before = [r.status() for r in readers]
    cpu_before = sum(process.cpu_times()[:2])
    server_before = sum(server_process.cpu_times()[:2]) if server_process else 0.0
    started = time.monotonic()
    ages: list[float] = []
    while time.monotonic() - started < args.seconds:
        time.sleep(random.uniform(0.02, 0.08))  # a consumer's reads, at random phases
        frame = random.choice(readers).latest()
        if frame is None:
            continue
        if kind == "rtsp":
            age = frame_age_ms(frame.image)
            if age is not None:
                ages.append(float(age))
        else:
            ages.append((time.time() - frame.captured_at) * 1000)
    elapsed = time.monotonic() - started
    cpu = sum(process.cpu_times()[:2]) - cpu_before
    server_cpu = sum(server_process.cpu_times()[:2]) - server_before if server_process else None
    after = [r.status() for r in readers]
    for reader in readers:
        reader.stop()

    n = len(readers)
    decoded = sum(a.frames_decoded - b.frames_decoded for a, b in zip(after, before, strict=True))
    steps = [(b - a) / MB for a, b in itertools.pairwise(rss)]
    return Result(
        kind=kind,
        streams=n,
        fps_per_stream=decoded / elapsed / n,
        cpu_per_stream=100 * cpu / elapsed / n,
        first_stream_mb=steps[0],
        added_stream_mb=statistics.mean(steps[1:]) if n > 1 else steps[0],
        age_p50_ms=percentile(ages, 50),
        age_p99_ms=percentile(ages, 99),
        age_max_ms=max(ages),
        server_cpu=100 * server_cpu / elapsed if server_cpu is not None else None,
        reconnects=sum(s.reconnects for s in after),
    )


def bench_rtsp(n: int, args: argparse.Namespace) -> Result:
    mounts = tuple(f"/cam{i}" for i in range(n))
    server = RtspServer(width=args.width, height=args.height, fps=args.fps, mounts=mounts)
    with server:
        return run("rtsp", [server.url(m) for m in mounts], args, server)


def bench_file(n: int, args: argparse.Namespace, folder: Path) -> Result:
    path = folder / f"clip-{args.width}x{args.height}-{args.fps}.mp4"
    if not path.exists():
        write_video(path, frames=args.fps * 10, fps=args.fps, width=args.width, height=args.height)
    return run("file", [str(path)] * n, args, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", default="1,8", help="comma-separated N values")
    parser.add_argument("--kinds", default="rtsp,file")
    parser.add_argument("--seconds", type=float, default=20.0, help="measurement window")
    parser.add_argument("--settle", type=float, default=1.5, help="seconds after each start")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--fps", type=int, default=15, help="the sources' frame rate")
    parser.add_argument("--target-fps", type=float, default=15.0, help="the readers' rate")
    args = parser.parse_args()
    counts = [int(v) for v in args.streams.split(",")]
    kinds = args.kinds.split(",")
    if "rtsp" in kinds and unavailable_reason():
        print(f"skipping rtsp: {unavailable_reason()}")
        kinds.remove("rtsp")

    print(
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; sources {args.width}x"
        f"{args.height} at {args.fps} fps, read at {args.target_fps:g} fps, "
        f"{args.seconds:g} s windows"
    )
    header = (
        f"{'kind':5} {'N':>3} {'fps/stream':>10} {'CPU/stream':>10} {'1st MB':>7} "
        f"{'MB/added':>8} {'age p50':>8} {'age p99':>8} {'age max':>8} {'server CPU':>10} "
        f"{'reconn':>6}"
    )
    print(header)
    with tempfile.TemporaryDirectory(prefix="sightline-bench-") as folder:
        for kind in kinds:
            for n in counts:
                if kind == "rtsp":
                    result = bench_rtsp(n, args)
                else:
                    result = bench_file(n, args, Path(folder))
                server = f"{result.server_cpu:9.0f}%" if result.server_cpu is not None else "-"
                print(
                    f"{result.kind:5} {result.streams:3d} {result.fps_per_stream:10.1f} "
                    f"{result.cpu_per_stream:9.1f}% {result.first_stream_mb:7.1f} "
                    f"{result.added_stream_mb:8.1f} {result.age_p50_ms:6.0f}ms "
                    f"{result.age_p99_ms:6.0f}ms {result.age_max_ms:6.0f}ms {server:>10} "
                    f"{result.reconnects:6d}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
