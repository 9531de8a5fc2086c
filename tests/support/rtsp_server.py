"""A real RTSP server for the tests: GStreamer's gst-rtsp-server, in a subprocess.

`RtspServer` (imported by the tests, standard library only) starts this file as a
script under Debian's own ``/usr/bin/python3``, which has the GObject bindings the
project's virtualenv lacks. Each mount serves live H.264 from an ``appsrc`` fed with
frames that carry a wall-clock stamp (tests/support/stamp.py), sensor-like grain and
a moving cross, so decoders do real work and tests can measure true frame age.
`MuteRtspServer` (in-process) answers RTSP but never sends a frame.

The server can be killed (SIGKILL, like a camera losing power) and started again on
the same port. It exits by itself when its parent goes away (stdin closes).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

if __package__:
    from tests.support import stamp
else:  # run as a script by /usr/bin/python3: this file's folder is on sys.path
    import stamp  # type: ignore[no-redef]

SYSTEM_PYTHON = "/usr/bin/python3"
DEBIAN_PACKAGES = (
    "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base "
    "gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly"
)
_PROBE = (
    "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0');"
    "from gi.repository import Gst, GstRtspServer; Gst.init(None);"
    "missing = [n for n in ('x264enc', 'rtph264pay', 'appsrc')"
    " if Gst.ElementFactory.find(n) is None];"
    "print(' '.join(missing))"
)


@functools.cache
def unavailable_reason() -> str:
    """Empty when the RTSP test server can run here, else why not and what to install."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found; install the Debian packages {DEBIAN_PACKAGES}"
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    if probe.returncode != 0:
        return (
            f"GStreamer's RTSP server is not usable from {SYSTEM_PYTHON} "
            f"({probe.stderr.strip().splitlines()[-1:]}); install the Debian packages "
            f"{DEBIAN_PACKAGES}"
        )
    if probe.stdout.strip():
        return f"GStreamer elements missing: {probe.stdout.strip()}; install {DEBIAN_PACKAGES}"
    return ""


@dataclass
class RtspServer:
    """A test RTSP server process. `start()` once; `kill()` and `start()` again to restart.

    The first start binds a port the OS chooses; later starts reuse it, so a reader
    keeps its URL across a restart.
    """

    width: int = 640
    height: int = 480
    fps: int = 25
    mounts: tuple[str, ...] = ("/stream",)
    username: str = ""
    password: str = ""
    auth: str = "basic"  # or "digest"
    port: int = 0
    host: str = "127.0.0.1"
    _proc: subprocess.Popen[str] | None = field(default=None, repr=False)
    _log: Path | None = field(default=None, repr=False)

    def url(self, mount: str | None = None, *, with_credentials: bool = False) -> str:
        mount = mount or self.mounts[0]
        userinfo = f"{quote(self.username, safe='')}:{quote(self.password, safe='')}@"
        userinfo = userinfo if with_credentials else ""
        return f"rtsp://{userinfo}{self.host}:{self.port}{mount}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = 30.0) -> RtspServer:
        if self._proc is not None:
            raise RuntimeError("already running")
        command = [
            SYSTEM_PYTHON,
            str(Path(__file__).resolve()),
            f"--port={self.port}",
            f"--width={self.width}",
            f"--height={self.height}",
            f"--fps={self.fps}",
            f"--auth={self.auth}",
            *(f"--mount={m}" for m in self.mounts),
        ]
        env = dict(os.environ)
        if self.username:
            env["RTSP_TEST_USERNAME"] = self.username
            env["RTSP_TEST_PASSWORD"] = self.password
        # Its stderr goes to a file: a killed server's last words must not interleave
        # with pytest's output, but a server that fails to start shows them.
        self._log = Path(tempfile.mkstemp(prefix="rtsp-server-", suffix=".log")[1])
        with self._log.open("w") as log:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=env,
            )
        try:
            self.port = self._wait_ready(timeout)
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_ready(self, timeout: float) -> int:
        assert self._proc is not None and self._proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._proc.stdout], [], [], 0.1)
            if ready:
                line = self._proc.stdout.readline()
                if line.startswith("READY "):
                    return int(line.split()[1])
                if not line and self._proc.poll() is not None:
                    break
        raise RuntimeError(
            f"RTSP test server did not start (exit code {self._proc.poll()}):\n"
            + self._log.read_text(errors="replace")[-3000:]
        )

    def kill(self) -> None:
        """SIGKILL, like a camera losing power; returns when the process is gone."""
        if self._proc is None:
            return
        self._proc.kill()
        self._proc.wait(timeout=10)
        for pipe in (self._proc.stdin, self._proc.stdout):
            if pipe:
                pipe.close()
        self._proc = None

    def __enter__(self) -> RtspServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()


class MuteRtspServer:
    """Answers RTSP like a camera (OPTIONS, DESCRIBE, SETUP, PLAY), then sends nothing.

    FFmpeg's open then waits for video until its open timeout: the camera that would
    hold up every other camera's open if OpenCV serialised them. Runs in-process.
    """

    SDP = (
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=mute\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
        "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
        "a=fmtp:96 packetization-mode=1\r\na=control:track1\r\n"
    )

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self.requests: list[str] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def url(self, path: str = "/mute") -> str:
        return f"rtsp://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader, contextlib.suppress(OSError):
            while True:
                lines = []
                while line := reader.readline().decode("latin-1").strip():
                    lines.append(line)
                if not lines or " " not in lines[0]:
                    return  # closed, or not a request (RTCP over the connection)
                method, url = lines[0].split(" ")[:2]
                self.requests.append(method)
                headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
                headers = {k.strip().lower(): v.strip() for k, v in headers.items()}
                conn.sendall(self._answer(method, url, headers).encode("latin-1"))

    def _answer(self, method: str, url: str, headers: dict[str, str]) -> str:
        extra, body = "", ""
        if method == "OPTIONS":
            extra = "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n"
        elif method == "DESCRIBE":
            body = self.SDP
            extra = f"Content-Type: application/sdp\r\nContent-Base: {url}/\r\n"
        elif method == "SETUP":
            extra = f"Transport: {headers.get('transport', '')}\r\nSession: 4242\r\n"
        elif method in ("PLAY", "TEARDOWN"):
            extra = "Session: 4242\r\n"
        return (
            f"RTSP/1.0 200 OK\r\nCSeq: {headers.get('cseq', '0')}\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        )

    def close(self) -> None:
        self._sock.close()


# --- the server itself: runs under /usr/bin/python3 ------------------------------------


class _Feeder:
    """Pushes stamped I420 frames into one media's appsrc at the frame rate, until stopped."""

    def __init__(self, appsrc: object, width: int, height: int, fps: int) -> None:
        self.appsrc = appsrc
        self.width, self.height, self.fps = width, height, fps
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        # Low, changing noise like a camera sensor's, so the encoder and the decoders
        # do the work real footage makes them do (flat test frames cost almost nothing).
        grain_levels = bytes(72 + (value % 6) * 3 for value in range(256))
        self._grain = os.urandom(width * height * 2).translate(grain_levels)

    def frame(self, index: int) -> bytes:
        """I420: stamp rows, then sensor-like grain with a moving bright cross."""
        w, h = self.width, self.height
        light = bytes([200])
        band = max(8, w // 12)
        x = (index * 6) % (w - band)
        y = stamp.ROWS + (index * 4) % (h - stamp.ROWS - band)
        start = (index * 7919 % h) * w  # a different slice of grain every frame
        grain = self._grain[start : start + w * h]
        rows = [stamp.stamp_row(w, int(time.time() * 1000)) * stamp.ROWS]
        for row in range(stamp.ROWS, h):
            if y <= row < y + band:
                rows.append(light * w)
            else:
                line = grain[row * w : (row + 1) * w]
                rows.append(line[:x] + light * band + line[x + band :])
        return b"".join(rows) + bytes([128]) * (w * h // 2)

    def _run(self) -> None:
        from gi.repository import Gst

        interval = 1.0 / self.fps
        next_at = time.monotonic()
        index = 0
        while not self.stopped.is_set():
            buffer = Gst.Buffer.new_wrapped(self.frame(index))
            if self.appsrc.emit("push-buffer", buffer) != Gst.FlowReturn.OK:
                return
            index += 1
            next_at += interval
            delay = next_at - time.monotonic()
            if delay < -interval:  # fell behind (a busy machine): drop, do not burst
                next_at = time.monotonic()
            elif delay > 0:
                self.stopped.wait(delay)


def _serve(args: argparse.Namespace) -> None:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    gi.require_version("GstRtsp", "1.0")
    from gi.repository import GLib, Gst, GstRtsp, GstRtspServer

    Gst.init(None)
    loop = GLib.MainLoop()
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    username = os.environ.get("RTSP_TEST_USERNAME", "")
    password = os.environ.get("RTSP_TEST_PASSWORD", "")

    caps = f"video/x-raw,format=I420,width={args.width},height={args.height},framerate={args.fps}/1"
    launch = (
        f"( appsrc name=src is-live=true do-timestamp=true format=time caps={caps} "
        "max-buffers=2 leaky-type=downstream "
        f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={args.fps} "
        "! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    feeders: list[_Feeder] = []

    def on_configure(_factory: object, media: object) -> None:
        appsrc = media.get_element().get_by_name_recurse_up("src")
        feeder = _Feeder(appsrc, args.width, args.height, args.fps)
        feeders.append(feeder)
        media.connect("unprepared", lambda _media: feeder.stopped.set())
        feeder.thread.start()

    mounts = server.get_mount_points()
    for mount in args.mount:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.connect("media-configure", on_configure)
        if username:
            permissions = GstRtspServer.RTSPPermissions()
            permissions.add_permission_for_role("viewer", "media.factory.access", True)
            permissions.add_permission_for_role("viewer", "media.factory.construct", True)
            factory.set_permissions(permissions)
        mounts.add_factory(mount, factory)

    if username:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "viewer")
        if args.auth == "digest":
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
            auth.add_digest(username, password, token)
        else:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(username, password), token)
        server.set_auth(auth)

    if server.attach(None) == 0:
        print("FAILED to bind", flush=True)
        sys.exit(1)

    def on_stdin(_fd: object, _condition: object) -> bool:
        loop.quit()  # parent went away (or closed our stdin): stop
        return False

    GLib.io_add_watch(sys.stdin.fileno(), GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, on_stdin)
    print(f"READY {server.get_bound_port()}", flush=True)
    try:
        loop.run()
    finally:
        for feeder in feeders:
            feeder.stopped.set()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--auth", choices=("basic", "digest"), default="basic")
    parser.add_argument("--mount", action="append", default=[])
    args = parser.parse_args(argv)
    args.mount = args.mount or ["/stream"]
    _serve(args)


if __name__ == "__main__":
    main()
