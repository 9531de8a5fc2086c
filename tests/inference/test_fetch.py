from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from inference import ModelSource, WeightsFetchError, fetch_weights, sha256_of
from tests.inference.conftest import sha256_hex, sign


@pytest.fixture
def published(weights_server, detection_weights):
    """The detection weights published by the server as model "7"."""
    data = detection_weights.read_bytes()
    weights_server.files["7"] = data
    return data


def source_for(url: str, data: bytes, **kwargs) -> ModelSource:
    return ModelSource(name="people", version="2", sha256=sha256_hex(data), url=url, **kwargs)


def test_signed_url_download_is_verified_and_cached_by_sha256(weights_server, published, tmp_path):
    source = source_for(weights_server.url("7"), published)

    weights = fetch_weights(source, tmp_path)

    assert weights.path == tmp_path / f"{sha256_hex(published)}.pt"
    assert weights.path.read_bytes() == published
    assert weights.sha256 == sha256_hex(published)
    assert [p.name for p in tmp_path.iterdir()] == [weights.path.name]  # no temporary left


def test_cached_weights_are_not_downloaded_again(weights_server, published, tmp_path):
    fetch_weights(source_for(weights_server.url("7"), published), tmp_path)

    # A fresh assignment brings a fresh signed URL; the weights are the same.
    again = fetch_weights(source_for(weights_server.url("7", expires_in=60), published), tmp_path)

    assert again.path.read_bytes() == published
    assert weights_server.downloads("7") == 1


def test_corrupt_cache_entry_is_replaced(weights_server, published, tmp_path):
    source = source_for(weights_server.url("7"), published)
    cached = fetch_weights(source, tmp_path).path
    cached.write_bytes(b"bit rot")

    assert fetch_weights(source, tmp_path).path.read_bytes() == published
    assert weights_server.downloads("7") == 2


def test_expired_signed_url_is_a_clear_error_naming_the_model(weights_server, published, tmp_path):
    source = source_for(weights_server.url("7", expires_in=-5), published)

    with pytest.raises(WeightsFetchError, match=r"'people 2'.*HTTP 403.*expired or invalid"):
        fetch_weights(source, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_tampered_signed_url_is_refused(weights_server, published, tmp_path):
    good = weights_server.url("7")
    path = "/models/8/weights"  # a token for another model, pasted onto this one
    tampered = good.split("?")[0] + "?token=" + sign(path, time.time() + 3600)

    with pytest.raises(WeightsFetchError, match="HTTP 403") as caught:
        fetch_weights(source_for(tampered, published), tmp_path)
    assert "token" not in str(caught.value)  # the signature is a credential: never shown


def test_missing_model_is_a_clear_error(weights_server, published, tmp_path):
    with pytest.raises(WeightsFetchError, match=r"'people 2'.*HTTP 404.*no such model"):
        fetch_weights(source_for(weights_server.url("99"), published), tmp_path)


def test_sha256_mismatch_is_downloaded_again_once(weights_server, published, tmp_path):
    weights_server.corrupt_next = 1

    weights = fetch_weights(source_for(weights_server.url("7"), published), tmp_path)

    assert weights.path.read_bytes() == published
    assert weights_server.downloads("7") == 2


def test_persistent_sha256_mismatch_is_reported_and_nothing_is_kept(
    weights_server, published, tmp_path
):
    weights_server.corrupt_next = 5

    with pytest.raises(WeightsFetchError, match=r"'people 2'.*sha256.*downloaded twice"):
        fetch_weights(source_for(weights_server.url("7"), published), tmp_path)
    assert weights_server.downloads("7") == 2
    assert list(tmp_path.iterdir()) == []


def test_unknown_sha256_takes_the_hash_of_what_arrived(weights_server, published, tmp_path):
    source = ModelSource(name="people", url=weights_server.url("7"))

    weights = fetch_weights(source, tmp_path)

    assert weights.sha256 == sha256_hex(published)


def test_suffix_comes_from_the_servers_file_name_or_the_source(weights_server, published, tmp_path):
    weights_server.files["ts.torchscript"] = published
    source = ModelSource(name="m", url=weights_server.url("ts.torchscript"))
    from_header = fetch_weights(source, tmp_path)
    explicit = ModelSource(name="m", url=weights_server.url("7"), suffix=".onnx")

    assert from_header.path.suffix == ".torchscript"
    assert fetch_weights(explicit, tmp_path / "other").path.suffix == ".onnx"


def test_stalled_server_times_out_with_a_clear_error(weights_server, published, tmp_path):
    weights_server.stall = threading.Event()
    started = time.monotonic()

    with pytest.raises(WeightsFetchError, match=r"'people 2'.*failed"):
        fetch_weights(source_for(weights_server.url("7"), published), tmp_path, timeout=0.5)
    assert time.monotonic() - started < 10
    assert list(tmp_path.iterdir()) == []


def test_unreachable_server_is_a_clear_error(published, tmp_path):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = source_for(f"http://127.0.0.1:{port}/models/7/weights?token=x", published)

    with pytest.raises(WeightsFetchError, match=r"'people 2'.*failed"):
        fetch_weights(source, tmp_path, timeout=5)


def test_only_http_urls_are_fetched(tmp_path, detection_weights):
    with pytest.raises(WeightsFetchError, match="only http"):
        fetch_weights(ModelSource(name="m", url=f"file://{detection_weights}"), tmp_path)


def test_local_path_is_used_in_place_and_verified(detection_weights, tmp_path):
    sha = sha256_of(detection_weights)

    weights = fetch_weights(ModelSource(name="m", path=str(detection_weights)), tmp_path)

    assert (weights.path, weights.sha256) == (detection_weights, sha)
    wrong = ModelSource(name="m", sha256="0" * 64, path=str(detection_weights))
    with pytest.raises(WeightsFetchError, match=r"'m'.*expected 0000"):
        fetch_weights(wrong, tmp_path)
    with pytest.raises(WeightsFetchError, match="does not exist"):
        fetch_weights(ModelSource(name="m", path=str(tmp_path / "nope.pt")), tmp_path)


def test_ultralytics_model_name_is_downloaded_by_ultralytics_into_the_cache(
    monkeypatch, detection_weights, tmp_path
):
    import ultralytics.utils.downloads as downloads

    requested = []

    def fake_hub(url: str, file: Path, **kwargs) -> None:  # the internet is out of reach here
        requested.append(url)
        Path(file).write_bytes(detection_weights.read_bytes())

    monkeypatch.setattr(downloads, "safe_download", fake_hub)

    weights = fetch_weights(ModelSource(name="coco", hub_name="yolo11n.pt"), tmp_path)

    assert requested and requested[0].endswith("/yolo11n.pt")
    assert weights.path == tmp_path / "hub" / "yolo11n.pt"
    assert weights.sha256 == sha256_of(detection_weights)


def test_failed_hub_download_is_a_clear_error(monkeypatch, tmp_path):
    import ultralytics.utils.downloads as downloads

    def offline(url: str, file: Path, **kwargs) -> None:
        raise ConnectionError("no route to host")

    monkeypatch.setattr(downloads, "safe_download", offline)

    with pytest.raises(WeightsFetchError, match=r"'coco'.*yolo11n\.pt failed.*no route"):
        fetch_weights(ModelSource(name="coco", hub_name="yolo11n.pt"), tmp_path)


def test_unknown_ultralytics_name_is_refused_without_network(tmp_path):
    with pytest.raises(WeightsFetchError, match="not an ultralytics model name"):
        fetch_weights(ModelSource(name="m", hub_name="my-own.pt"), tmp_path)


def test_unwritable_cache_is_a_fetch_error(weights_server, published, tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache dir should be")

    with pytest.raises(WeightsFetchError, match=r"'people 2'.*cannot read or write weights"):
        fetch_weights(source_for(weights_server.url("7"), published), blocker)
