"""The admin's live wall with 50 cameras refreshing every second, in headless Chromium.

No real cameras: this process writes what 50 running cameras' ingest tasks would keep in
Redis (stream and worker heartbeats, a 640x480 JPEG snapshot per camera renewed every
SIGHTLINE_SNAPSHOT_INTERVAL_S, 2 s by default, and each display's latest result with a
few boxes, renewed every second), 45 of them online and 5 recovering. The web process is
uvicorn as in the Procfile; the page is the wall, all 50 tiles. Over a window it measures:

- the page's CPU: Chromium's renderer processes' CPU time (psutil, over the browser's
  child processes), and every Chromium process together (browser, GPU, network, renderer);
- the web process's CPU;
- the page's requests (frames fetched, of them 304), the metadata poll's duration, and
  the main thread's worst delay (a 50 ms timer's lateness: the page stays responsive).

    .venv/bin/python bench/live_wall.py [--cameras 50] [--seconds 30] [--screenshot wall.png]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.farm import farm_environment, wait  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PASSWORD = "bench-pass-123"
RECOVERING = 5  # cameras of the wall whose stream is down (placeholders)
FRAMES = 20  # distinct JPEGs the cameras cycle through


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--screenshot", help="write a PNG of the wall here after the window")
    args = parser.parse_args()
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        sys.exit("bench/live_wall.py needs Debian's chromium and chromium-driver packages")
    with farm_environment("sightline-bench-wall-") as scratch:
        run(args, scratch)


def run(args: argparse.Namespace, scratch: Path) -> None:
    import psutil
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from cms import redis_connection

    cameras = make_rows(args.cameras)
    get_user_model().objects.create_superuser("operator", "", PASSWORD)
    client = redis_connection.client()
    stop = threading.Event()
    writer = threading.Thread(target=write_farm_state, args=(client, cameras, stop), daemon=True)
    writer.start()
    port = free_port()
    web = start_web(scratch, port)
    driver = None
    try:
        wait(lambda: _answers(port), 60, "the web process")
        driver = start_browser()
        log_in(driver, f"http://127.0.0.1:{port}")
        driver.get(f"http://127.0.0.1:{port}/admin/live/")
        running = args.cameras - min(RECOVERING, args.cameras)
        wait(lambda: loaded_tiles(driver) >= running, 120, f"{running} tiles with their frame")
        time.sleep(3)  # one more snapshot round before counting
        browser = psutil.Process(driver.service.process.pid)
        web_process = psutil.Process(web.pid)
        driver.execute_script(LAG_PROBE)
        before_browser, before_web = cpu_by_kind(browser), cpu_seconds(web_process)
        started = time.perf_counter()
        time.sleep(args.seconds)
        elapsed = time.perf_counter() - started
        after_browser, after_web = cpu_by_kind(browser), cpu_seconds(web_process)
        page = driver.execute_script(PAGE_FIGURES, args.seconds * 1000)
        tiles = len(driver.find_elements("css selector", ".wall-tile"))
        if args.screenshot:
            driver.save_screenshot(args.screenshot)
    finally:
        stop.set()
        if driver is not None:
            driver.quit()
        web.terminate()
        web.wait(20)
        writer.join(5)

    def per_s(kind: str) -> float:
        return (after_browser.get(kind, 0.0) - before_browser.get(kind, 0.0)) / elapsed * 100

    renderer = per_s("renderer")
    chromium = sum(per_s(kind) for kind in set(after_browser) | set(before_browser))
    web_cpu = (after_web - before_web) / elapsed * 100
    print(
        f"{tiles} tiles ({args.cameras - RECOVERING} running, {RECOVERING} recovering), "
        f"wall refresh 1 s, snapshots every {settings.SIGHTLINE_SNAPSHOT_INTERVAL_S:g} s, "
        f"{args.seconds:g} s window, {os.cpu_count()} CPUs"
    )
    print(f"{'page CPU (Chromium renderer)':<40}{renderer:>7.1f} % of one core")
    print(f"{'all Chromium processes':<40}{chromium:>7.1f} % of one core")
    print(f"{'web process (uvicorn)':<40}{web_cpu:>7.1f} % of one core")
    print(
        f"{'frame requests':<40}{page['frames'] / args.seconds:>7.1f} /s "
        f"({page['not_modified'] / max(1, page['frames']) * 100:.0f} % answered 304)"
    )
    print(f"{'metadata poll (state.json)':<40}{page['polls'] / args.seconds:>7.1f} /s, "
          f"{page['poll_ms']:.1f} ms mean")  # fmt: skip
    print(f"{'main thread, worst timer delay':<40}{page['worst_lag_ms']:>7.0f} ms")


# --- the rows and the farm's state --------------------------------------------------------


def make_rows(count: int) -> list[tuple[int, int]]:
    """``count`` cameras, each watched by a display with a zone and a line: (camera, display)."""
    from cms.models import Camera, DetectionModel, Display, StreamAssignment

    model = DetectionModel.objects.create(name="yolo11n", hub_name="yolo11n.pt")
    zones = [{"name": "door", "polygon": [[40, 300], [300, 300], [300, 470], [40, 470]]}]
    lines = [{"name": "gate", "points": [[320, 100], [620, 140]]}]
    cameras = []
    for i in range(count):
        camera = Camera.objects.create(
            name=f"camera {i:02d}", identifier=f"camera-{i}", url=f"rtsp://cam{i}.example/s"
        )
        display = Display.objects.create(
            name=f"display {i:02d}",
            identifier=f"display-{i}",
            camera=camera,
            model=model,
            zones=zones,
            lines=lines,
        )
        StreamAssignment.objects.create(camera=camera, worker=f"bench-{i % 2}@rack", generation=1)
        cameras.append((camera.id, display.id))
    return cameras


def frames() -> list[bytes]:
    """Distinct 640x480 JPEGs like a camera's (texture, shapes, a timestamp)."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    base = rng.integers(0, 60, (480, 640, 3), dtype=np.uint8)
    jpegs = []
    for n in range(FRAMES):
        image = base.copy()
        cv2.rectangle(image, (40 + 10 * n, 120), (200 + 10 * n, 400), (40, 160, 220), -1)
        cv2.circle(image, (480, 240 + 4 * n), 60, (200, 80, 40), -1)
        cv2.putText(image, f"frame {n}", (20, 40), cv2.FONT_HERSHEY_SIMPLEX, 1, (255,) * 3, 2)
        jpegs.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
    return jpegs


def write_farm_state(client: Any, cameras: list[tuple[int, int]], stop: threading.Event) -> None:
    """What the cameras' ingest tasks would write, as they would write it (cms.farm.farm_keys,
    cms.live), until ``stop``."""
    import orjson
    from django.conf import settings

    from cms import live
    from cms.farm import farm_keys
    from cms.farm.heartbeats import StreamInfo, WorkerInfo
    from streams import StreamReason, StreamState

    jpegs = frames()
    interval = settings.SIGHTLINE_SNAPSHOT_INTERVAL_S or 2.0
    tick = 0
    while not stop.is_set():
        now = time.time()
        for w in range(2):
            running = tuple(camera for camera, _ in cameras[w::2])
            farm_keys.write_worker(
                client, WorkerInfo(f"bench-{w}@rack", "cpu", 32, running, 30, 40, last_seen=now)
            )
        renew = tick % max(1, round(interval)) == 0
        for i, (camera, display) in enumerate(cameras):
            down = i >= len(cameras) - RECOVERING
            state = StreamState.RECOVERING if down else StreamState.ONLINE
            info = StreamInfo(
                camera,
                f"bench-{i % 2}@rack",
                1,
                "h",
                state,
                reason=StreamReason.UNREACHABLE if down else None,
                fps_in=0 if down else 5,
                fps_out=0 if down else 5,
                frame_age=None if down else 0.05,
                reconnects=tick if down else 0,
                last_error="connection refused" if down else "",
                updated=now,
            )
            farm_keys.write_stream(client, info)
            if down:
                continue
            if renew:
                farm_keys.write_snapshot(client, camera, jpegs[(i + tick) % len(jpegs)])
            shift = 20 * (tick % 10)
            objects = [
                {"box": [60 + shift + 40 * k, 150, 140 + shift + 40 * k, 400], "class_id": k % 3,
                 "class_name": ("person", "car", "bus")[k % 3], "confidence": 0.9 - 0.1 * k}
                for k in range(5)
            ]  # fmt: skip
            client.set(
                live.latest_key(display),
                orjson.dumps({"id": tick, "frame_time": datetime.now(UTC).isoformat(),
                              "objects": objects}),
            )  # fmt: skip
        tick += 1
        stop.wait(max(0.0, 1.0 - (time.time() - now)))


# --- the web process and the browser --------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def start_web(scratch: Path, port: int) -> subprocess.Popen[bytes]:
    from django.conf import settings

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}"}
    log = (scratch / "web.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "cms.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--lifespan", "off", "--no-access-log"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def start_browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--window-size=1600,1200",
    ):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def log_in(driver: Any, base: str) -> None:
    driver.get(f"{base}/admin/login/")
    driver.find_element("name", "username").send_keys("operator")
    driver.find_element("name", "password").send_keys(PASSWORD)
    driver.find_element("css selector", "input[type=submit]").click()
    wait(lambda: "/admin/login/" not in driver.current_url, 30, "the login")


def loaded_tiles(driver: Any) -> int:
    return len(driver.find_elements("css selector", '.wall-tile[data-frame="loaded"]'))


def cpu_seconds(process: Any) -> float:
    times = process.cpu_times()
    return times.user + times.system


def cpu_by_kind(chromedriver: Any) -> dict[str, float]:
    """CPU seconds of the browser's processes by kind (``--type=renderer``, ``gpu-process``,
    ``utility``; "browser" for the main one), chromedriver itself left out."""
    import psutil

    kinds: dict[str, float] = {}
    for child in chromedriver.children(recursive=True):
        try:
            kind = next(
                (a.split("=", 1)[1] for a in child.cmdline() if a.startswith("--type=")), "browser"
            )
            kinds[kind] = kinds.get(kind, 0.0) + cpu_seconds(child)
        except psutil.NoSuchProcess:
            continue
    return kinds


# A 50 ms timer that records how late it fires: the main thread's worst delay.
LAG_PROBE = """
window.benchLag = 0;
performance.clearResourceTimings();
performance.setResourceTimingBufferSize(100000);
let expected = performance.now() + 50;
(function tick() {
  const now = performance.now();
  window.benchLag = Math.max(window.benchLag, now - expected);
  expected = now + 50;
  setTimeout(tick, 50);
})();
"""

PAGE_FIGURES = """
const entries = performance.getEntriesByType("resource");
const frames = entries.filter((e) => e.name.includes("/frame.jpg"));
const polls = entries.filter((e) => e.name.includes("/state.json"));
return {
  frames: frames.length,
  // A revalidated frame (304) reports the cached response's 200, but only its headers
  // travelled: fewer bytes transferred than the body's size.
  not_modified: frames.filter((e) => e.transferSize < e.encodedBodySize).length,
  polls: polls.length,
  poll_ms: polls.reduce((sum, e) => sum + e.duration, 0) / Math.max(1, polls.length),
  worst_lag_ms: window.benchLag,
};
"""


if __name__ == "__main__":
    main()
