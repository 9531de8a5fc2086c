"""Hostile requests against a real uvicorn: parse failures are 400s, static traversal a 404,
and oversized or anonymous uploads are refused before their body is read.

The server runs tests.api.limits_settings (64 KB requests, 2 MB uploads, DEBUG on) with its
own temporary directory, so a spooled file left behind by a refusal shows.
"""

from __future__ import annotations

import http.client
import io
import json
import select
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import torch
from rest_framework.authtoken.models import Token

from cms.request_limits import (
    Limits,
    announced_length,
    body_limit,
    caller_refusal,
    credentials,
    is_upload,
    too_large,
)
from tests.api.asgi_server import AsgiServer, wait_for
from tests.api.conftest import display_with_token

KB, MB = 1024, 1024 * 1024
HEARTBEAT = "/api/v1/display/heartbeat/"
MODELS = "/api/v1/models/"


# --- the decisions, pure --------------------------------------------------------------------

LIMITS = Limits(request_bytes=64 * KB, upload_bytes=2 * MB)


@pytest.mark.parametrize(
    "method, path, upload",
    [
        ("POST", "/api/v1/models/", True),
        ("PUT", "/api/v1/models/3/", True),
        ("PATCH", "/api/v1/models/3/", True),
        ("POST", "/admin/cms/detectionmodel/add/", True),
        ("GET", "/api/v1/models/", False),
        ("DELETE", "/api/v1/models/3/", False),
        ("POST", "/api/v1/cameras/", False),
        ("POST", "/api/v1/display/heartbeat/", False),
        ("POST", "/api/v1/modelsx/", False),
    ],
)
def test_only_weights_uploads_get_the_upload_limit(method, path, upload):
    assert is_upload(method, path) is upload
    assert body_limit(method, path, LIMITS) == (2 * MB if upload else 64 * KB)


def test_a_body_up_to_the_limit_passes_and_one_byte_more_is_a_413():
    assert too_large(64 * KB, 64 * KB) is None
    refusal = too_large(64 * KB + 1, 64 * KB)
    assert refusal is not None and refusal.status == 413


def test_uploads_need_an_active_staff_caller():
    assert caller_refusal(authenticated=False, staff=False).status == 401  # type: ignore[union-attr]
    assert caller_refusal(authenticated=True, staff=False).status == 403  # type: ignore[union-attr]
    assert caller_refusal(authenticated=True, staff=True) is None


def test_headers_give_the_announced_length_and_the_credentials():
    headers = [
        (b"content-length", b"1234"),
        (b"authorization", b"Token abc123"),
        (b"cookie", b"csrftoken=x; sessionid=s3ss10n"),
    ]
    assert announced_length(headers) == 1234
    assert announced_length([(b"transfer-encoding", b"chunked")]) is None
    assert credentials(headers) == ("abc123", "s3ss10n")
    assert credentials([(b"authorization", b"Bearer abc123")]) == ("", "")


# --- against the server -----------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def spool_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("spool")


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory, spool_dir):
    with django_db_blocker.unblock():
        server = AsgiServer(
            tmp_path_factory.mktemp("uvicorn") / "uvicorn.log",
            settings_module="tests.api.limits_settings",
            env={
                "DEBUG": "true",
                "TMPDIR": str(spool_dir),
                "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
            },
        ).start()
    yield server
    server.stop()


@pytest.fixture
def staff_token(superuser) -> str:
    return Token.objects.create(user=superuser).key


def connect(server: AsgiServer) -> socket.socket:
    parts = urlsplit(server.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, response.read()


def headers_only(server: AsgiServer, method: str, path: str, headers: dict[str, str]):
    """Send the request line and headers, never the body; the server's answer."""
    with connect(server) as sock:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {urlsplit(server.url).netloc}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return read_response(sock)


def chunked_until_answered(
    server: AsgiServer, path: str, headers: dict[str, str], *, give_up_after: int
) -> tuple[int, bytes, int]:
    """Stream a chunked body until the server answers; (status, body, bytes sent)."""
    chunk = b"[" + b"0," * 4000 + b"0]"
    sent = 0
    with connect(server) as sock:
        lines = [f"POST {path} HTTP/1.1", f"Host: {urlsplit(server.url).netloc}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append("Transfer-Encoding: chunked")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while sent < give_up_after:
            if select.select([sock], [], [], 0.01)[0]:
                break  # answered
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
        status, body = read_response(sock)
        return status, body, sent


def leftovers(spool_dir: Path) -> list[str]:
    return sorted(p.name for p in spool_dir.iterdir())


def assert_no_leftovers(spool_dir: Path) -> None:
    # The server removes its files once the response is out: poll briefly for that.
    try:
        wait_for(lambda: not leftovers(spool_dir), timeout=5)
    except TimeoutError:
        pytest.fail(f"temporary files left behind: {leftovers(spool_dir)}")


def torch_archive(size: int) -> bytes:
    buffer = io.BytesIO()
    torch.save({"weights": torch.zeros(size // 4, dtype=torch.float32)}, buffer)
    return buffer.getvalue()


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytestmark_db
@pytest.mark.parametrize(
    "body, content_type",
    [
        (nested(1000), "application/json"),
        (nested(20_000), "application/json"),
        (b'{"version": "\xc3\x28"}', "application/json"),  # not UTF-8
        ("\ufeff{}".encode("utf-16"), "application/json"),  # UTF-16 with BOM
        (b'{"version": ', "application/json"),
    ],
    ids=["1000-deep", "20000-deep", "bad-utf8", "utf16-bom", "cut"],
)
def test_a_body_that_does_not_parse_is_a_400_with_the_error_shape(
    server, staff_token, body, content_type
):
    _, display_token = display_with_token(name="Lobby")
    for path, token in ((HEARTBEAT, display_token), ("/api/v1/cameras/", staff_token)):
        response = requests.post(
            server.url + path,
            data=body,
            headers={"Authorization": f"Token {token}", "Content-Type": content_type},
            timeout=10,
        )
        assert response.status_code == 400, (path, response.text[:300])
        assert set(response.json()) == {"detail"}, response.text[:300]


@pytestmark_db
def test_json_900_deep_parses_and_is_refused_by_validation(server):
    _, display_token = display_with_token(name="Lobby")
    response = requests.post(
        server.url + HEARTBEAT,
        data=nested(900),
        headers={"Authorization": f"Token {display_token}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2F..%2Fdata%2Fsecret_key",
        "/static/../../data/secret_key",
        "/static/%2e%2e/%2e%2e/data/secret_key",
        "/static/..%5C..%5Cdata%5Csecret_key",
        "/static/admin/..%2F..%2F..%2F..%2Fcms%2Fsettings.py",
        "/static/%2Fetc%2Fpasswd",
        "/static/..",
    ],
)
def test_a_static_path_outside_the_static_roots_is_a_404(server, path):
    with connect(server) as sock:
        host = urlsplit(server.url).netloc
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        status, body = read_response(sock)
    assert status == 404, body[:300]
    assert b"SECRET" not in body


def test_static_files_are_still_served(server):
    assert requests.get(server.url + "/static/admin/css/base.css", timeout=10).status_code == 200


@pytestmark_db
def test_an_anonymous_200_mb_upload_is_refused_before_its_body_is_sent(server, spool_dir):
    started = time.monotonic()
    status, body = headers_only(
        server,
        "POST",
        MODELS,
        {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(200 * MB)},
    )
    assert status == 401
    assert "detail" in json.loads(body)
    assert time.monotonic() - started < 5
    assert_no_leftovers(spool_dir)


@pytestmark_db
def test_an_upload_by_a_display_or_a_non_staff_user_is_refused_unread(server, make_user):
    _, display_token = display_with_token(name="Lobby")
    user_token = Token.objects.create(user=make_user(staff=False)).key
    announced = {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(MB)}
    for token, expected in ((display_token, 401), (user_token, 403), ("nonsense", 401)):
        status, _ = headers_only(
            server, "POST", MODELS, {**announced, "Authorization": f"Token {token}"}
        )
        assert status == expected, token


@pytestmark_db
def test_a_staff_upload_larger_than_the_upload_limit_is_a_413_unread(server, staff_token):
    status, body = headers_only(
        server,
        "PUT",
        MODELS + "1/",
        {
            "Authorization": f"Token {staff_token}",
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(3 * MB),
        },
    )
    assert status == 413
    assert "detail" in json.loads(body)


@pytestmark_db
def test_an_oversized_json_post_is_a_413_unread(server):
    _, display_token = display_with_token(name="Lobby")
    status, body = headers_only(
        server,
        "POST",
        HEARTBEAT,
        {
            "Authorization": f"Token {display_token}",
            "Content-Type": "application/json",
            "Content-Length": str(65 * KB),
        },
    )
    assert status == 413
    assert "detail" in json.loads(body)


@pytestmark_db
def test_a_chunked_body_growing_past_the_limit_is_cut_with_a_413(server, spool_dir, staff_token):
    _, display_token = display_with_token(name="Lobby")
    auth = {"Authorization": f"Token {display_token}", "Content-Type": "application/json"}
    status, body, sent = chunked_until_answered(server, HEARTBEAT, auth, give_up_after=2 * MB)
    assert status == 413, body[:300]
    assert sent < MB  # cut soon after 64 KB, not read to the end

    upload = {
        "Authorization": f"Token {staff_token}",
        "Content-Type": "multipart/form-data; boundary=x",
    }
    status, body, sent = chunked_until_answered(server, MODELS, upload, give_up_after=20 * MB)
    assert status == 413, body[:300]
    assert sent < 10 * MB
    assert_no_leftovers(spool_dir)


@pytestmark_db
def test_a_staff_upload_within_the_limit_still_works_and_leaves_no_file(
    server, spool_dir, staff_token
):
    weights = torch_archive(int(1.5 * MB))
    assert 64 * KB < len(weights) < 2 * MB
    response = requests.post(
        server.url + MODELS,
        data={"name": "people", "version": "1"},
        files={"weights": ("people.pt", weights)},
        headers={"Authorization": f"Token {staff_token}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text[:500]
    assert_no_leftovers(spool_dir)


@pytestmark_db
def test_a_refused_extension_leaves_no_spooled_file(server, spool_dir, staff_token):
    response = requests.post(
        server.url + MODELS,
        data={"name": "people", "version": "1"},
        files={"weights": ("people.txt", b"x" * int(1.5 * MB))},
        headers={"Authorization": f"Token {staff_token}"},
        timeout=30,
    )
    assert response.status_code == 400, response.text[:500]
    assert "weights" in response.json()
    assert_no_leftovers(spool_dir)
