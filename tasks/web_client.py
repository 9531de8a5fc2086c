"""The ingest worker's client of the web server's internal endpoints (cms.internal_api).

An ingest worker has no database: its camera's source (credentials included) and where its
models' weights are come from the web server at SIGHTLINE_WEB_URL, asked with the worker
secret. Timeouts on every request and two retries for what may pass (no answer, a 5xx);
a 4xx is an answer. No response body goes into an exception or a log line: a camera
source's body holds its password.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urljoin

import requests
from django.conf import settings

from cms.worker_secret import authorization_header

log = logging.getLogger(__name__)

RETRIES = 2
RETRY_DELAY_S = 0.5


class WebError(Exception):
    """The web server did not give the answer; ``status`` is its HTTP status, if it answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotAssigned(WebError):
    """409: the camera is not (any more) this worker's at this generation."""


class NotFound(WebError):
    """404: no such camera, model or assignment."""


def camera_source(camera_id: int, generation: int, worker: str) -> dict[str, Any]:
    """The camera's source fields (url, username, password, fps, snapshot_url,
    snapshot_interval); NotAssigned when it is not this worker's at ``generation``."""
    return _get(
        f"/internal/v1/cameras/{camera_id}/source",
        {"generation": generation, "worker": worker},
    )


def camera_assignment(camera_id: int, *, retries: int = RETRIES) -> tuple[int, str, str] | None:
    """(generation, worker, spec hash) as the database has it; None when it has none.
    A caller that asks again soon anyway passes ``retries=0``: no waiting between tries."""
    try:
        data = _get(f"/internal/v1/cameras/{camera_id}/assignment", {}, retries=retries)
    except NotFound:
        return None
    return int(data["generation"]), str(data["worker"]), str(data["spec_hash"])


def model_source(model_id: int) -> dict[str, Any]:
    """What loads the model; its ``weights_url`` (signed, expiring) made absolute."""
    data = _get(f"/internal/v1/models/{model_id}/source", {})
    if data.get("weights_url"):
        data["weights_url"] = urljoin(_base(), data["weights_url"])
    return data


def _base() -> str:
    return settings.SIGHTLINE_WEB_URL.rstrip("/") + "/"


def _get(path: str, params: dict[str, Any], *, retries: int = RETRIES) -> dict[str, Any]:
    url = urljoin(_base(), path.lstrip("/"))
    headers = {"Authorization": authorization_header()}
    for attempt in range(retries + 1):
        try:
            response = requests.get(
                url,
                params=params,
                headers=headers,
                timeout=settings.SIGHTLINE_WEB_TIMEOUT_S,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            # The exception's text names the URL (no secret in it) and the cause only.
            error = WebError(f"GET {path}: {type(exc).__name__}")
        else:
            status = response.status_code
            if status == 200:
                try:
                    data = response.json()
                except ValueError:
                    data = None
                if isinstance(data, dict):
                    return data
                raise WebError(f"GET {path}: not a JSON object", status)
            if status == 409:
                raise NotAssigned(f"GET {path}: not assigned to this worker", status)
            if status == 404:
                raise NotFound(f"GET {path}: not found", status)
            error = WebError(f"GET {path}: HTTP {status}", status)
            if status < 500:
                raise error  # 403 (a wrong secret), 400: trying again changes nothing
        if attempt < retries:
            log.info("%s, retrying", error)
            time.sleep(RETRY_DELAY_S * 2**attempt)
    raise error
