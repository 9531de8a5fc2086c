"""Get a model's weights onto local disk: an HTTP(S) URL, a local path or an ultralytics name.

Downloads land in the cache as `<sha256><suffix>`: written to a temporary file in the
cache dir, hashed while written, renamed into place only when the hash matches, so a
reader never sees a partial file and two processes fetching at once both end correct.
The suffix is kept because ultralytics picks the runtime (.pt, .onnx, .torchscript)
from it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from inference.entities import WEIGHT_SUFFIXES, ModelSource
from inference.errors import WeightsFetchError
from inference.ultralytics_env import configure_ultralytics

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
STALL_SECONDS = 30.0  # a connection that sends nothing for this long is given up
DEFAULT_SUFFIX = ".pt"
_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?["']?([^"';]+)""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LocalWeights:
    """Weights on local disk and their sha256."""

    path: Path
    sha256: str


def fetch_weights(source: ModelSource, cache_dir: Path, *, timeout: float = 300.0) -> LocalWeights:
    """Make `source`'s weights available locally and verified; raise WeightsFetchError if not.

    `timeout` bounds a whole download (connect, headers and body); a connection that
    stalls gives up sooner, after STALL_SECONDS without data.
    """
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        if source.path:
            return _local(source)
        if source.hub_name:
            return _hub(source, cache_dir)
        return _url(source, cache_dir, timeout)
    except OSError as exc:  # permissions, a full disk, a file where the cache dir should be
        raise WeightsFetchError(
            f"model {source.label!r}: cannot read or write weights: {type(exc).__name__}: {exc}"
        ) from exc


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's contents."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def redact_url(url: str) -> str:
    """The URL without credentials or query string (a signed token is a credential)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _local(source: ModelSource) -> LocalWeights:
    path = Path(source.path or "").expanduser()
    if not path.is_file():
        raise WeightsFetchError(f"model {source.label!r}: weights file {path} does not exist")
    actual = sha256_of(path)
    if source.sha256 and actual != source.sha256:
        raise WeightsFetchError(
            f"model {source.label!r}: {path} has sha256 {actual}, expected {source.sha256}"
        )
    return LocalWeights(path, actual)


def _hub(source: ModelSource, cache_dir: Path) -> LocalWeights:
    """An ultralytics release asset by name, downloaded by ultralytics into our cache."""
    configure_ultralytics()
    from ultralytics.utils.downloads import GITHUB_ASSETS_NAMES, attempt_download_asset

    name = source.hub_name or ""
    if name not in GITHUB_ASSETS_NAMES:
        raise WeightsFetchError(
            f"model {source.label!r}: {name!r} is not an ultralytics model name (e.g. yolo11n.pt)"
        )
    target = cache_dir / "hub" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        path = Path(attempt_download_asset(target))
    except Exception as exc:
        raise WeightsFetchError(
            f"model {source.label!r}: downloading {name} failed: {type(exc).__name__}: {exc}"
        ) from exc
    if not path.is_file() or path.stat().st_size == 0:
        raise WeightsFetchError(
            f"model {source.label!r}: could not download {name} (is the internet reachable?)"
        )
    actual = sha256_of(path)
    if source.sha256 and actual != source.sha256:
        path.unlink(missing_ok=True)
        raise WeightsFetchError(
            f"model {source.label!r}: {name} has sha256 {actual}, expected {source.sha256}"
        )
    return LocalWeights(path, actual)


def _url(source: ModelSource, cache_dir: Path, timeout: float) -> LocalWeights:
    url = source.url or ""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise WeightsFetchError(f"model {source.label!r}: only http(s) weight URLs are fetched")
    if source.sha256 and (cached := _cached(cache_dir, source)) is not None:
        return cached
    for attempt in (1, 2):
        tmp, actual, suffix = _download(source, cache_dir, timeout)
        if not source.sha256 or actual == source.sha256:
            final = cache_dir / f"{actual}{source.suffix or suffix}"
            os.replace(tmp, final)
            return LocalWeights(final, actual)
        tmp.unlink(missing_ok=True)
        logger.warning(
            "model %r: download %d from %s has sha256 %s, expected %s",
            source.label,
            attempt,
            redact_url(url),
            actual,
            source.sha256,
        )
    raise WeightsFetchError(
        f"model {source.label!r}: weights from {redact_url(url)} have sha256 {actual}, "
        f"expected {source.sha256} (downloaded twice; deleted)"
    )


def _cached(cache_dir: Path, source: ModelSource) -> LocalWeights | None:
    """A verified cache hit, or None; a cached file that no longer matches is deleted."""
    suffixes = (source.suffix,) if source.suffix else WEIGHT_SUFFIXES
    for suffix in suffixes:
        path = cache_dir / f"{source.sha256}{suffix}"
        if not path.is_file():
            continue
        if sha256_of(path) == source.sha256:
            return LocalWeights(path, source.sha256)
        logger.warning("model %r: cached %s is corrupt; deleting it", source.label, path.name)
        path.unlink(missing_ok=True)
    return None


def _download(source: ModelSource, cache_dir: Path, timeout: float) -> tuple[Path, str, str]:
    """Stream the URL into a temporary file in the cache; return it, its sha256 and suffix."""
    url = source.url or ""
    shown = redact_url(url)
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"User-Agent": "sightline-inference"})  # noqa: S310 - scheme checked
    fd, name = tempfile.mkstemp(dir=cache_dir, prefix=".fetch-", suffix=".part")
    tmp = Path(name)
    digest = hashlib.sha256()
    try:
        stall = min(timeout, STALL_SECONDS)
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=stall) as resp:  # noqa: S310
            while chunk := resp.read(CHUNK_BYTES):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"download took longer than {timeout:g} s")
                digest.update(chunk)
                out.write(chunk)
            suffix = _suffix(url, resp.headers.get("Content-Disposition", ""))
    except urllib.error.HTTPError as exc:
        tmp.unlink(missing_ok=True)
        raise WeightsFetchError(_http_message(source, shown, exc.code)) from exc
    except (urllib.error.URLError, OSError) as exc:  # TimeoutError is an OSError
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise WeightsFetchError(
            f"model {source.label!r}: fetching weights from {shown} failed: {reason}"
        ) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp, digest.hexdigest(), suffix


def _http_message(source: ModelSource, shown: str, status: int) -> str:
    if status == 403:
        why = "the signed link is expired or invalid; a fresh assignment brings a new one"
    elif status == 404:
        why = "the server has no such model"
    else:
        why = "the server refused the download"
    return f"model {source.label!r}: weights URL {shown} answered HTTP {status} ({why})"


def _suffix(url: str, disposition: str) -> str:
    """The weights format from the URL path or the server's filename, else .pt."""
    candidates = [urllib.parse.urlsplit(url).path]
    if match := _FILENAME.search(disposition):
        candidates.insert(0, urllib.parse.unquote(match.group(1)))
    for candidate in candidates:
        suffix = Path(candidate).suffix.lower()
        if suffix in WEIGHT_SUFFIXES:
            return suffix
    return DEFAULT_SUFFIX
