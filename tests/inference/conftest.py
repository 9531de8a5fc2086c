"""Fixtures for inference tests: real untrained YOLO weights, frames, a weights server."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from inference import PredictOptions, UltralyticsDetector
from tests.support.models import (
    UNTRAINED_CONFIDENCE,
    asset_frame,
    build_classifier_weights,
    build_detection_weights,
)

IMGSZ = 320
"""Small input size keeps the suite fast on two CPU cores; equivalence holds at any size."""


@pytest.fixture(scope="session")
def detection_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded, untrained yolov8n detection model saved as .pt (COCO class names)."""
    return build_detection_weights(tmp_path_factory.mktemp("weights") / "yolov8n-det.pt")


@pytest.fixture(scope="session")
def other_detection_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second detection model (another seed, so another sha256)."""
    return build_detection_weights(tmp_path_factory.mktemp("weights") / "other.pt", seed=1)


@pytest.fixture(scope="session")
def classifier_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A yolov8n classification model saved as .pt."""
    return build_classifier_weights(tmp_path_factory.mktemp("weights") / "yolov8n-cls.pt")


@pytest.fixture(scope="session")
def bus() -> np.ndarray:
    return asset_frame("bus.jpg")


@pytest.fixture(scope="session")
def zidane() -> np.ndarray:
    return asset_frame("zidane.jpg")


@pytest.fixture(scope="session")
def options() -> PredictOptions:
    """Options that make untrained weights produce boxes."""
    return PredictOptions(confidence=UNTRAINED_CONFIDENCE, imgsz=IMGSZ)


@pytest.fixture(scope="session")
def detector(detection_weights: Path) -> UltralyticsDetector:
    """One loaded CPU detector shared by the session (loading costs about a second)."""
    return UltralyticsDetector(detection_weights, name="yolov8n", version="1", imgsz=IMGSZ)


SECRET = b"test-signing-key"


def sign(path: str, expires: float) -> str:
    """A token like the CMS's: expiry plus an HMAC over path and expiry."""
    mac = hmac.new(SECRET, f"{path}:{int(expires)}".encode(), hashlib.sha256).hexdigest()
    return f"{int(expires)}.{mac}"


@dataclass
class WeightsServer:
    """A real HTTP server that serves weights only for a valid, unexpired signed token."""

    base_url: str
    files: dict[str, bytes] = field(default_factory=dict)
    corrupt_next: int = 0  # serve this many corrupted bodies before good ones
    stall: threading.Event | None = None  # hold responses until set
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, name: str, *, expires_in: float = 3600.0, token: str | None = None) -> str:
        path = f"/models/{name}/weights"
        return f"{self.base_url}{path}?token={token or sign(path, time.time() + expires_in)}"

    def downloads(self, name: str) -> int:
        with self.lock:
            return sum(1 for p in self.requests if p == f"/models/{name}/weights")


def _handler(server: WeightsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            with server.lock:
                server.requests.append(parts.path)
            if server.stall is not None:
                server.stall.wait(30)
            token = parse_qs(parts.query).get("token", [""])[0]
            expires = token.partition(".")[0]
            valid = expires.isdigit() and hmac.compare_digest(
                sign(parts.path, float(expires)), token
            )
            if not valid or int(expires) < time.time():
                self.send_error(403, "bad or expired signature")
                return
            name = parts.path.removeprefix("/models/").removesuffix("/weights")
            body = server.files.get(name)
            if body is None:
                self.send_error(404)
                return
            with server.lock:
                if server.corrupt_next > 0:
                    server.corrupt_next -= 1
                    body = body[:-1] + bytes([body[-1] ^ 0xFF])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            filename = name if "." in name else f"{name}.pt"
            self.send_header("Content-Disposition", f'attachment; filename="{filename}"')
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def weights_server() -> Iterator[WeightsServer]:
    """A local HTTP server on a free port; `server.files[name] = bytes` to publish."""
    state = WeightsServer(base_url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        if state.stall is not None:
            state.stall.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
