"""Redaction (streams/redaction.py): credentials split out of URLs, secrets masked in text."""

from __future__ import annotations

import pytest

from streams.redaction import (
    mask_secrets,
    redact_text,
    redact_url,
    split_credentials,
    with_credentials,
)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:s3cret@10.0.0.5/live", "rtsp://admin:***@10.0.0.5/live"),
        ("rtsp://admin:p%40ss@10.0.0.5:554/live", "rtsp://admin:***@10.0.0.5:554/live"),
        ("rtsp://admin@10.0.0.5/live", "rtsp://admin@10.0.0.5/live"),
        ("http://10.0.0.5/snap.cgi?user=a&pwd=s3cret", "http://10.0.0.5/snap.cgi?user=a&pwd=***"),
        ("http://10.0.0.5/a?password=x&token=y", "http://10.0.0.5/a?password=***&token=***"),
        ("/var/videos/demo.mp4", "/var/videos/demo.mp4"),
        ("", ""),
    ],
)
def test_redact_url_masks_passwords(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_text_masks_plain_and_encoded_secrets() -> None:
    text = "failed rtsp://u:p%40ss@h/ with p@ss"
    assert redact_text(text, ["p@ss"]) == "failed rtsp://u:***@h/ with ***"


def test_credentials_are_percent_encoded_into_the_url() -> None:
    url = with_credentials("rtsp://10.0.0.5:554/live", "ad min", "p@ss:w/rd%")
    assert url == "rtsp://ad%20min:p%40ss%3Aw%2Frd%25@10.0.0.5:554/live"
    assert split_credentials(url) == ("rtsp://10.0.0.5:554/live", "ad min", "p@ss:w/rd%")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("open rtsp://admin:s3cret@10.0.0.5:554/live failed", "rtsp://admin:***@10.0.0.5:554/live"),
        ("redis://:p@ss@redis:6379/0", "redis://:***@redis:6379/0"),
        ("postgres://sightline:pw@db:5432/sightline", "postgres://sightline:***@db:5432/sightline"),
        ("GET /models/3/weights?token=abc.def:ghi HTTP/1.1", "/models/3/weights?token=*** HTTP"),
        ("http://cam/snap.jpg?user=bob&pwd=hunter2&x=1", "?user=bob&pwd=***&x=1"),
        ("http://cam/a?key=k1&auth=a1", "?key=***&auth=***"),
        ("password=hunter2 user=bob", "password=*** user=bob"),
        ("display_token=abc123", "display_token=***"),
        ("FLOWER_BASIC_AUTH=admin:pw", "FLOWER_BASIC_AUTH=***"),
        ("Authorization: Token 0123abcd", "Authorization: Token ***"),
        ("{'HTTP_AUTHORIZATION': 'Basic YWRtaW46cHc='}", "'HTTP_AUTHORIZATION': 'Basic ***'"),
        (
            "{'password': 'pw', 'cookie_secret': 'cs'}",
            "{'password': '***', 'cookie_secret': '***'}",
        ),
    ],
)
def test_secrets_in_free_text_are_masked(text: str, masked: str) -> None:
    assert masked in mask_secrets(text)


@pytest.mark.parametrize(
    "text",
    [
        "camera 3 generation 7 ended: stale generation",
        "rtsp://cameras.example.com:8554/cam1",
        "http://host:8080/path?monkey=1",
        "reconcile: {'started': 3, 'stopped': 0}",
    ],
)
def test_text_without_secrets_is_left_alone(text: str) -> None:
    assert mask_secrets(text) == text


@pytest.mark.parametrize(
    ("url", "split"),
    [
        (
            "rtsp://viewer:s3cret@cam.example.com:554/live",
            ("rtsp://cam.example.com:554/live", "viewer", "s3cret"),
        ),
        ("rtsp://u:p%40ss%3A1@10.0.0.5/live", ("rtsp://10.0.0.5/live", "u", "p@ss:1")),
        ("rtsp://u:p@ss@10.0.0.5/live", ("rtsp://10.0.0.5/live", "u", "p@ss")),
        ("rtsp://admin:pw@[fe80::1]:8554/x?a=1", ("rtsp://[fe80::1]:8554/x?a=1", "admin", "pw")),
        ("rtsp://admin@[::1]/x", ("rtsp://[::1]/x", "admin", "")),
        (
            "http://:token@Cam.Example.com/snap.jpg",
            ("http://Cam.Example.com/snap.jpg", "", "token"),
        ),
        ("rtsp://cam.example.com/a@b", ("rtsp://cam.example.com/a@b", "", "")),
        ("/var/videos/demo.mp4", ("/var/videos/demo.mp4", "", "")),
    ],
)
def test_split_credentials_keeps_host_and_port_as_written(
    url: str, split: tuple[str, str, str]
) -> None:
    assert split_credentials(url) == split


def test_split_credentials_refuses_a_url_it_cannot_parse() -> None:
    with pytest.raises(ValueError):
        split_credentials("rtsp://u:pw@[::1/x")


def test_credentials_put_back_into_an_ipv6_url_are_split_again() -> None:
    url = with_credentials("rtsp://[fe80::1]:8554/live", "ad min", "p@ss")
    assert url == "rtsp://ad%20min:p%40ss@[fe80::1]:8554/live"
    assert split_credentials(url) == ("rtsp://[fe80::1]:8554/live", "ad min", "p@ss")


def test_a_known_password_is_masked_with_the_free_text_rules() -> None:
    text = mask_secrets("open rtsp://u:p@ss@h/ failed (token=abc); p@ss refused")
    assert redact_text(text, ["p@ss"]) == "open rtsp://u:***@h/ failed (token=***); *** refused"
