"""Basic and Digest authorization, checked against the RFCs' own examples."""

from __future__ import annotations

import base64

from streams.auth import Authorizer, Challenge, digest_header, parse_challenges


def test_digest_matches_the_rfc_2617_example() -> None:
    challenge = Challenge(
        "Digest",
        {
            "realm": "testrealm@host.com",
            "qop": "auth,auth-int",
            "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            "opaque": "5ccc069c403ebaf9f0171e9517f40e41",
        },
    )
    header = digest_header(
        challenge, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", 1, "0a4f113b"
    )
    assert 'response="6629fae49393a05397450978507c4ef1"' in header
    assert "nc=00000001" in header
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in header


def test_digest_matches_the_rfc_7616_sha256_example() -> None:
    challenge = Challenge(
        "Digest",
        {
            "realm": "http-auth@example.org",
            "qop": "auth",
            "algorithm": "SHA-256",
            "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            "opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
        },
    )
    header = digest_header(
        challenge,
        "Mufasa",
        "Circle of Life",
        "GET",
        "/dir/index.html",
        1,
        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )
    assert 'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"' in header


def test_challenges_are_parsed_from_one_or_several_headers() -> None:
    challenges = parse_challenges(
        ['Digest realm="cam", nonce="abc", qop="auth", Basic realm="cam"', 'Basic realm="x"']
    )
    assert [c.scheme for c in challenges] == ["Digest", "Basic", "Basic"]
    assert challenges[0].params == {"realm": "cam", "nonce": "abc", "qop": "auth"}


def test_digest_is_preferred_over_basic() -> None:
    authorizer = Authorizer("u", "p")
    assert authorizer.accept(parse_challenges(['Basic realm="c"', 'Digest realm="c", nonce="n"']))
    assert authorizer.header("DESCRIBE", "rtsp://h/s").startswith("Digest ")


def test_basic() -> None:
    authorizer = Authorizer("user", "p@ss:word")
    assert authorizer.accept(parse_challenges(['Basic realm="cam"']))
    token = authorizer.header("GET", "/").removeprefix("Basic ")
    assert base64.b64decode(token) == b"user:p@ss:word"


def test_no_credentials_or_unknown_schemes_answer_nothing() -> None:
    assert not Authorizer("", "").accept(parse_challenges(['Basic realm="cam"']))
    assert not Authorizer("u", "p").accept(parse_challenges(["Negotiate abc"]))
    assert not Authorizer("u", "p").accept(
        parse_challenges(['Digest realm="c", nonce="n", algorithm=SHA-512-256'])
    )
